"""Schema evolution: whatever was ever published still reads, and versions change additively.

`history/` keeps every past version of a committed schema or example message that differs
from today's (named `<EventType>.v<N>@<commit>.json`). A breaking change is a new version
with an upcaster (`ReferralEscalated` v2, `VisitCompleted` v2), never an edit of a published one.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from carenet_contracts import CONTRACTS, CURRENT, ContractError, parse_message
from carenet_contracts.casework import VisitCompleted, VisitCompletedV1
from carenet_contracts.common import MedicationAdherence
from carenet_contracts.routing import EscalationCause, ReferralEscalated, ReferralEscalatedV1
from carenet_contracts.schema import SCHEMA_DIR

HERE = Path(__file__).parent
MESSAGES = HERE / "messages"
HISTORY = HERE / "history"
REPOSITORY = HERE.parents[1]
ANNOTATIONS = frozenset({"title", "description", "default", "examples"})

OLD_MESSAGES = sorted([*MESSAGES.glob("*.json"), *(HISTORY / "messages").glob("*.json")])
OLD_SCHEMAS = sorted((HISTORY / "schemas").glob("*.json"))


def name_of(path: Path) -> str:
    """`PatientRouted.v1` for `PatientRouted.v1@809f896.json` or `PatientRouted.v1.json`."""
    return path.stem.split("@")[0]


def todays_schema(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((SCHEMA_DIR / f"{name}.json").read_text())
    return loaded


def breaking_changes(old: Any, new: Any, path: str = "$") -> list[str]:
    """What in `new` refuses a document that `old` accepted (conservatively)."""
    if not isinstance(old, dict) or not isinstance(new, dict):
        if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
            return [
                p
                for i, (o, n) in enumerate(zip(old, new, strict=True))
                for p in breaking_changes(o, n, f"{path}/{i}")
            ]
        return [] if old == new else [f"{path}: {old!r} became {new!r}"]
    problems: list[str] = []
    for key in (old.keys() | new.keys()) - ANNOTATIONS:
        before, after, where = old.get(key), new.get(key), f"{path}/{key}"
        if after is None:
            continue  # a keyword removed only loosens
        if key in ("properties", "$defs"):
            for name, schema in (before or {}).items():
                if name not in after:
                    problems.append(f"{where}/{name} was removed")
                else:
                    problems += breaking_changes(schema, after[name], f"{where}/{name}")
        elif key == "required":
            problems += [f"{where}: {f!r} became required" for f in set(after) - set(before or [])]
        elif key == "enum" and before is not None:
            problems += [f"{where}: {v!r} was removed" for v in before if v not in after]
        elif before is None:
            problems.append(f"{where}: {after!r} was added")
        else:
            problems += breaking_changes(before, after, where)
    return problems


def restricted_to(schema: dict[str, Any], message: dict[str, Any]) -> dict[str, Any]:
    """The message with only the data fields the (old) schema knew."""
    data_ref = schema["properties"]["data"]["$ref"].rsplit("/", 1)[-1]
    known = schema["$defs"][data_ref]["properties"]
    return {**message, "data": {k: v for k, v in message["data"].items() if k in known}}


@pytest.mark.parametrize("path", OLD_MESSAGES, ids=lambda p: p.stem)
def test_every_message_ever_committed_reads_with_todays_schema_and_model(path: Path) -> None:
    raw = json.loads(path.read_text())
    jsonschema.validate(raw, todays_schema(name_of(path)))
    envelope = parse_message(path.read_bytes())
    assert type(envelope.data) is CURRENT[raw["event_type"]]  # one shape for every consumer
    assert (str(envelope.event_id), envelope.sequence) == (raw["event_id"], raw["sequence"])


@pytest.mark.parametrize("path", OLD_SCHEMAS, ids=lambda p: p.stem)
def test_a_message_of_every_past_schema_still_reads(path: Path) -> None:
    """Today's example cut down to a past schema's fields is a message of that time."""
    old = json.loads(path.read_text())
    then = restricted_to(old, json.loads((MESSAGES / f"{name_of(path)}.json").read_text()))
    jsonschema.validate(then, old)
    jsonschema.validate(then, todays_schema(name_of(path)))
    parse_message(json.dumps(then).encode())


@pytest.mark.parametrize("path", OLD_SCHEMAS, ids=lambda p: p.stem)
def test_each_committed_schema_only_changed_additively(path: Path) -> None:
    assert breaking_changes(json.loads(path.read_text()), todays_schema(name_of(path))) == []


@pytest.mark.parametrize(
    ("change", "found"),
    [
        (lambda s: s["$defs"]["PatientRouted"]["required"].append("new_field"), "required"),
        (lambda s: s["$defs"]["PatientRouted"]["properties"].pop("rule_set_version"), "removed"),
        (lambda s: s["$defs"]["DiagnosisCategory"]["enum"].remove("schizophrenia"), "removed"),
        (lambda s: s["properties"]["sequence"].update(type="string"), "became"),
        (
            lambda s: s["$defs"]["PatientRouted"]["properties"]["routed_by"].update(maxLength=9),
            "added",
        ),
    ],
)
def test_a_breaking_change_is_found(change: Any, found: str) -> None:
    new = todays_schema("PatientRouted.v1")
    change(new)
    assert found in " ".join(breaking_changes(todays_schema("PatientRouted.v1"), new))


def test_the_history_holds_every_past_version_in_git() -> None:
    """A changed schema or example keeps its past version in `history/` (skipped without git)."""
    git = shutil.which("git")
    if git is None or not (REPOSITORY / ".git").exists():
        pytest.skip("not a git checkout")

    def run(*args: str) -> str:
        return subprocess.run(
            [git, *args], cwd=REPOSITORY, capture_output=True, text=True, check=True
        ).stdout

    kept = {json.dumps(json.loads(p.read_text()), sort_keys=True) for p in HISTORY.rglob("*.json")}
    missing = []
    for commit in run(
        "rev-list", "HEAD", "--", "contracts/schemas", "contracts/tests/messages"
    ).split():
        for line in run(
            "ls-tree", "-r", commit, "contracts/schemas", "contracts/tests/messages"
        ).splitlines():
            meta, path = line.split("\t")
            now = REPOSITORY / path
            then = json.loads(run("cat-file", "-p", meta.split()[2]))
            if now.exists() and json.loads(now.read_text()) == then:
                continue
            if json.dumps(then, sort_keys=True) not in kept:
                missing.append(f"{Path(path).stem}@{commit[:7]}")
    assert not missing, (
        f"copy these past versions into contracts/tests/history/: {sorted(set(missing))}"
    )


# --- the upcasting path: ReferralEscalated v1 -> v2 -------------------------------------------


def escalated_v1(reason: str, **data: Any) -> bytes:
    raw = json.loads((MESSAGES / "ReferralEscalated.v1.json").read_text())
    raw["data"] = {k: v for k, v in raw["data"].items() if k != "referral_open"}
    raw["data"] |= {"reason": reason, **data}
    return json.dumps(raw).encode()


@pytest.mark.parametrize(
    ("reason", "data", "cause", "still_open"),
    [
        ("not accepted by 2026-11-23T10:00:00+08:00", {}, "not_accepted_in_time", True),
        ("declined by H-SZ-KANGNING: no bed", {"referral_open": False}, "declined", False),
        (
            "no hospital for the referral: none certified",
            {"referral_open": False},
            "no_hospital",
            False,
        ),
    ],
)
def test_a_v1_escalation_reads_as_v2(
    reason: str, data: dict[str, Any], cause: str, still_open: bool
) -> None:
    envelope = parse_message(escalated_v1(reason, **data))
    assert envelope.schema_version == 2
    assert isinstance(envelope.data, ReferralEscalated)
    assert (envelope.data.cause, envelope.data.referral_open) == (
        EscalationCause(cause),
        still_open,
    )
    assert envelope.data.detail == reason


def test_a_decline_published_before_referral_open_existed_reads_as_over() -> None:
    """v1's default said such a referral was still open; the cause says it is not."""
    value = escalated_v1("declined by H-SZ-KANGNING: no bed")
    assert ReferralEscalatedV1.model_validate(json.loads(value)["data"]).referral_open is True
    assert parse_message(value).data.referral_open is False


def test_upcasting_keeps_the_envelope_as_published() -> None:
    value = escalated_v1("not accepted by 2026-11-23T10:00:00+08:00")
    raw, envelope = json.loads(value), parse_message(value)
    kept = ("event_id", "patient_id", "correlation_id", "sequence", "previous_hash", "producer")
    assert {f: str(getattr(envelope, f)) for f in kept} == {f: str(raw[f]) for f in kept}


def test_a_v1_escalation_in_words_no_version_used_is_refused_with_the_reason() -> None:
    with pytest.raises(ContractError, match=r"cannot upcast to version 2: .*unknown reason"):
        parse_message(escalated_v1("the moon is full"))


def test_producers_write_v2_and_both_versions_are_contracts() -> None:
    assert CURRENT["ReferralEscalated"] is ReferralEscalated
    assert CONTRACTS[("ReferralEscalated", 1)] is ReferralEscalatedV1
    assert ReferralEscalated.previous is ReferralEscalatedV1


# --- VisitCompleted v1 -> v2: medication at every visit ---------------------------------------


def visit_v2(**data: Any) -> dict[str, Any]:
    raw: dict[str, Any] = json.loads((MESSAGES / "VisitCompleted.v2.json").read_text())
    raw["data"] |= data
    return raw


def test_a_v1_visit_reads_as_v2_with_its_medication_unrecorded_not_guessed() -> None:
    envelope = parse_message((MESSAGES / "VisitCompleted.v1.json").read_bytes())
    assert isinstance(envelope.data, VisitCompleted)
    assert envelope.data.medication_adherence is MedicationAdherence.NOT_RECORDED
    assert envelope.data.nonadherence_reason is None
    assert envelope.data.medication_guidance_given is None
    assert CONTRACTS[("VisitCompleted", 1)] is VisitCompletedV1 is VisitCompleted.previous


@pytest.mark.parametrize(
    ("adherence", "reason", "valid"),
    [
        ("intermittent", "side_effects", True),
        ("none", "refuses", True),
        ("regular", None, True),
        ("not_prescribed", None, True),
        ("none", None, False),  # not taken, and nobody asked why
        ("regular", "forgets", False),  # a reason for what did not happen
    ],
)
def test_a_nonadherence_reason_goes_with_nonadherence_in_the_schema_and_the_model(
    adherence: str, reason: str | None, valid: bool
) -> None:
    raw = visit_v2(medication_adherence=adherence, nonadherence_reason=reason)
    schema = todays_schema("VisitCompleted.v2")
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(raw))
    assert (not errors) is valid, errors
    if valid:
        parse_message(json.dumps(raw).encode())
    else:
        with pytest.raises(ContractError, match="nonadherence_reason"):
            parse_message(json.dumps(raw).encode())
