"""Referrals to social services: made with consent to a partner of the directory for a service
it offers; the partner's staff see only the referrals to their organisation and only what each
shares, every read recorded; each step in order, dated, never in the future; published without
the referral's words or the patient's contact details."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID, uuid4

import pytest

from .conftest import Casework
from .test_contact_details import CONTACT, erase, share

TODAY = date(2026, 11, 2)  # the fixture's clock, at the centers
CLUBHOUSE = "P-NS-CLUBHOUSE"
PARTNER_STAFF = ("PT-GAO", CLUBHOUSE, "partner_staff")
OTHER_PARTNER_STAFF = ("PT-MA", "P-NS-DPF", "partner_staff")
NEEDS = "a place to go on weekdays; likes gardening"


def referral(**more: Any) -> dict[str, Any]:
    return {
        "partner_id": CLUBHOUSE,
        "service": "clubhouse",
        "needs": NEEDS,
        "shares": ["name", "phone"],
        "consented_on": TODAY.isoformat(),
        **more,
    }


def referred(casework: Casework, **more: Any) -> tuple[UUID, dict[str, Any]]:
    case_id = casework.route("CHC-A")
    patient = casework.case(case_id).patient_id
    share(casework, patient, case_id, CONTACT)
    made = casework.http().post(f"/v1/patients/{patient}/social-referrals", json=referral(**more))
    assert made.status_code == 201, made.text
    return patient, made.json()


def at_partner(
    casework: Casework, referral_id: str, step: str, caller: Any = PARTNER_STAFF, **body: Any
) -> Any:
    path = f"/v1/partners/{caller[1]}/referrals/{referral_id}/{step}"
    return casework.http(caller).post(path, json=body)


def test_a_referral_is_published_without_its_words_or_the_contact(casework: Casework) -> None:
    patient, made = referred(casework)
    assert made["stage"] == "referred"
    [message] = [m for m in casework.published(patient) if m["event_type"].startswith("Social")]
    assert message["event_type"] == "SocialServiceReferred"
    assert message["data"]["partner_id"] == CLUBHOUSE
    assert message["data"]["shares"] == ["name", "phone"]
    assert "gardening" not in str(message)
    assert CONTACT["phone"] not in str(message)
    assert CONTACT["name"] not in str(message)


def test_the_partner_reads_what_the_referral_shares_and_the_read_is_recorded(
    casework: Casework,
) -> None:
    patient, made = referred(casework, shares=["phone"])
    listed = casework.http(PARTNER_STAFF).get(f"/v1/partners/{CLUBHOUSE}/referrals")
    assert listed.status_code == 200, listed.text
    [shown] = listed.json()
    assert shown["needs"] == NEEDS
    assert str(patient) not in listed.text  # the partner learns no patient id
    assert shown["contact"] is None  # contact details: one referral at a time
    one = casework.http(PARTNER_STAFF).get(
        f"/v1/partners/{CLUBHOUSE}/referrals/{made['referral_id']}"
    )
    assert one.json()["contact"] == {"name": None, "phone": CONTACT["phone"]}
    assert CONTACT["address"] not in one.text
    reads = [
        (m["data"]["reader_role"], m["data"]["access"])
        for m in casework.messages(patient)
        if m["event_type"] == "RecordAccessed"
    ]
    assert ("partner_staff", "read-care") in reads
    assert ("partner_staff", "read-identity") in reads


def test_another_organisation_finds_nothing(casework: Casework) -> None:
    _, made = referred(casework)
    path = f"/v1/partners/P-NS-DPF/referrals/{made['referral_id']}"
    theirs = casework.http(OTHER_PARTNER_STAFF).get(path)
    nobodys = casework.http(OTHER_PARTNER_STAFF).get(f"/v1/partners/P-NS-DPF/referrals/{uuid4()}")
    assert theirs.status_code == nobodys.status_code == 404
    assert theirs.json() == nobodys.json()
    assert casework.http(OTHER_PARTNER_STAFF).get("/v1/partners/P-NS-DPF/referrals").json() == []
    foreign = casework.http(OTHER_PARTNER_STAFF).get(f"/v1/partners/{CLUBHOUSE}/referrals")
    assert foreign.status_code == 403
    answered = at_partner(
        casework, made["referral_id"], "answer", OTHER_PARTNER_STAFF, accepted=True
    )
    assert answered.status_code == 404


def test_a_partner_s_staff_read_no_patient_record(casework: Casework) -> None:
    patient, _ = referred(casework)
    staff = casework.http(PARTNER_STAFF)
    assert staff.get(f"/v1/patients/{patient}/social-referrals").status_code in {403, 404}
    assert staff.get(f"/v1/patients/{patient}/recovery-plan").status_code in {403, 404}


def test_the_partner_accepts_starts_and_ends_the_service(casework: Casework) -> None:
    patient, made = referred(casework)
    rid = made["referral_id"]
    assert at_partner(casework, rid, "answer", accepted=True).json()["stage"] == "accepted"
    assert (
        at_partner(casework, rid, "start", started_on=TODAY.isoformat()).json()["stage"]
        == "started"
    )
    ended = at_partner(casework, rid, "end", outcome="completed", note="joined the garden group")
    assert ended.json()["stage"] == "ended"
    types = [m["event_type"] for m in casework.published(patient)]
    assert types[-4:] == [
        "SocialServiceReferred",
        "SocialServiceAccepted",
        "SocialServiceStarted",
        "SocialServiceEnded",
    ]
    [end] = [m for m in casework.published(patient) if m["event_type"] == "SocialServiceEnded"]
    assert end["data"]["outcome"] == "completed"
    assert end["data"]["started"] is True
    assert "garden" not in str(end)
    mine = casework.http().get(f"/v1/patients/{patient}/social-referrals").json()
    assert [(r["stage"], r["outcome"]) for r in mine] == [("ended", "completed")]


def test_steps_out_of_order_are_refused(casework: Casework) -> None:
    _, made = referred(casework)
    rid = made["referral_id"]
    started = at_partner(casework, rid, "start", started_on=TODAY.isoformat())
    assert started.status_code == 409  # not accepted yet
    not_started = at_partner(casework, rid, "end", outcome="completed")
    assert not_started.status_code == 422
    assert "outcome: a service not started can only be withdrawn" in not_started.text
    at_partner(casework, rid, "answer", accepted=True)
    again = at_partner(casework, rid, "answer", accepted=False, reason="no_capacity")
    assert again.status_code == 409


@pytest.mark.parametrize(
    ("step", "body", "says"),
    [
        ("answer", {"accepted": True, "answered_on": "2026-11-03"}, "must not be in the future"),
        ("answer", {"accepted": True, "answered_on": "2026-10-01"}, "before the step it follows"),
        ("answer", {"accepted": False}, "reason: required when declining"),
        ("answer", {"accepted": True, "reason": "no_capacity"}, "reason: required when declining"),
    ],
)
def test_a_step_outside_the_rules_is_refused_naming_the_field(
    casework: Casework, step: str, body: dict[str, Any], says: str
) -> None:
    _, made = referred(casework)
    refused = at_partner(casework, made["referral_id"], step, **body)
    assert refused.status_code == 422
    assert says in refused.text


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"partner_id": "P-NOWHERE"}, "partner_id: not a partner of the directory"),
        ({"service": "psychological_hotline"}, "service: the partner does not offer it"),
        ({"consented_on": "2026-11-03"}, "consented_on: the patient's consent"),
        ({"consented_on": "2026-07-01"}, "consented_on: the patient's consent"),
        ({"referred_on": "2026-11-03"}, "referred_on: must not be in the future"),
        ({"shares": ["address"]}, "shares"),
        ({"needs": "  "}, "needs: say what the patient seeks"),
    ],
)
def test_a_referral_outside_the_rules_is_refused_naming_the_field(
    casework: Casework, change: dict[str, Any], says: str
) -> None:
    patient = casework.case(casework.route("CHC-A")).patient_id
    refused = casework.http().post(
        f"/v1/patients/{patient}/social-referrals", json=referral(**change)
    )
    assert refused.status_code == 422
    assert says in refused.text
    assert not [t for t in casework.published_types(patient) if t.startswith("Social")]


def test_a_retried_referral_is_made_once_and_an_id_tells_nothing(casework: Casework) -> None:
    client_id = str(uuid4())
    patient, made = referred(casework, referral_id=client_id)
    again = casework.http().post(
        f"/v1/patients/{patient}/social-referrals", json=referral(referral_id=client_id)
    )
    assert again.status_code == 201
    assert again.json()["referral_id"] == made["referral_id"]
    assert casework.published_types(patient).count("SocialServiceReferred") == 1
    other = casework.http().post(
        f"/v1/patients/{patient}/social-referrals",
        json=referral(referral_id=client_id, needs="something else"),
    )
    assert other.status_code == 409
    # another patient's referral may use the same client id: it is a referral of its own
    _, theirs = referred(casework, referral_id=client_id)
    assert theirs["referral_id"] != made["referral_id"]


def test_the_case_manager_withdraws_a_referral_for_the_patient(casework: Casework) -> None:
    patient, made = referred(casework)
    path = f"/v1/patients/{patient}/social-referrals/{made['referral_id']}/end"
    withdrawn = casework.http().post(path, json={"outcome": "withdrawn", "note": "moved away"})
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["outcome"] == "withdrawn"
    [end] = [m for m in casework.published(patient) if m["event_type"] == "SocialServiceEnded"]
    assert end["data"]["started"] is False
    started = at_partner(casework, made["referral_id"], "start", started_on=TODAY.isoformat())
    assert started.status_code == 409


def test_after_erasure_the_partner_reads_no_contact(casework: Casework) -> None:
    patient, made = referred(casework)
    erase(casework, patient)
    one = casework.http(PARTNER_STAFF).get(
        f"/v1/partners/{CLUBHOUSE}/referrals/{made['referral_id']}"
    )
    assert one.status_code == 200
    assert one.json()["contact"] == {"name": None, "phone": None}
    assert CONTACT["phone"] not in one.text


def test_the_directory_lists_partners_by_service(casework: Casework) -> None:
    hotlines = casework.http().get("/v1/partners", params={"service": "psychological_hotline"})
    assert {p["partner_id"] for p in hotlines.json()} == {"P-SZ-HOTLINE", "P-BJ-WELFARE"}
    assert all("psychological_hotline" in p["offers"] for p in hotlines.json())
