"""Screening: PHQ-9 and GAD-7 scored server-side by the published rules, held to them whoever
the provider; a patient's screening published without its answers, a resident's kept at the
center."""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from uuid import uuid4

import pytest

from carenet_casework.assessment import Assessment, StandardInstruments, checked
from carenet_contracts.recovery import Instrument, SeverityBand

from .conftest import Casework

PHQ9, GAD7 = Instrument.PHQ9, Instrument.GAD7
B = SeverityBand


@pytest.mark.parametrize(
    ("instrument", "answers", "total", "band", "urgent"),
    [
        (PHQ9, (0,) * 9, 0, B.MINIMAL, False),
        (PHQ9, (1, 1, 1, 1, 0, 0, 0, 0, 0), 4, B.MINIMAL, False),
        (PHQ9, (1, 1, 1, 1, 1, 0, 0, 0, 0), 5, B.MILD, False),
        (PHQ9, (2, 2, 2, 2, 1, 0, 0, 0, 0), 9, B.MILD, False),
        (PHQ9, (2, 2, 2, 2, 2, 0, 0, 0, 0), 10, B.MODERATE, False),
        (PHQ9, (3, 3, 3, 3, 2, 1, 0, 0, 0), 15, B.MODERATELY_SEVERE, False),
        (PHQ9, (3, 3, 3, 3, 3, 3, 2, 0, 0), 20, B.SEVERE, False),
        (PHQ9, (0, 0, 0, 0, 0, 0, 0, 0, 1), 1, B.MINIMAL, True),  # item 9 alone
        (PHQ9, (3,) * 9, 27, B.SEVERE, True),
        (GAD7, (0,) * 7, 0, B.MINIMAL, False),
        (GAD7, (1, 1, 1, 1, 1, 0, 0), 5, B.MILD, False),
        (GAD7, (2, 2, 2, 2, 2, 0, 0), 10, B.MODERATE, False),
        (GAD7, (3, 3, 3, 3, 3, 0, 0), 15, B.SEVERE, False),
        (GAD7, (3,) * 7, 21, B.SEVERE, False),  # no item of GAD-7 is urgent by itself
    ],
)
def test_the_published_scoring(
    instrument: Instrument, answers: tuple[int, ...], total: int, band: B, urgent: bool
) -> None:
    scored = StandardInstruments().assess(instrument, answers)
    assert (scored.total, scored.band, scored.urgent) == (total, band, urgent)


class Lenient(StandardInstruments):
    """A model that would overlook thoughts of self-harm."""

    model, version = "lenient", "0.1"

    def assess(self, instrument: Instrument, answers: tuple[int, ...]) -> Assessment:
        return replace(super().assess(instrument, answers), urgent=False)


class Miscounting(StandardInstruments):
    model, version = "miscounting", "0.1"

    def assess(self, instrument: Instrument, answers: tuple[int, ...]) -> Assessment:
        scored = super().assess(instrument, answers)
        return replace(scored, total=scored.total - 1)


class Cautious(StandardInstruments):
    """Flags more than the published scoring does: allowed (it adds, never lowers)."""

    name, model, version = "clinic-ai", "cautious", "2.3"

    def assess(self, instrument: Instrument, answers: tuple[int, ...]) -> Assessment:
        return replace(super().assess(instrument, answers), urgent=True)


def test_a_provider_is_held_to_the_published_rules_and_may_only_add() -> None:
    self_harm = (0, 0, 0, 0, 0, 0, 0, 0, 2)
    with pytest.raises(Exception, match="did not flag"):
        checked(Lenient(), PHQ9, self_harm)
    with pytest.raises(Exception, match="published scoring gives 2"):
        checked(Miscounting(), PHQ9, self_harm)
    cautious = checked(Cautious(), GAD7, (0,) * 7)
    assert (cautious.urgent, cautious.provider, cautious.model, cautious.version) == (
        True,
        "clinic-ai",
        "cautious",
        "2.3",
    )


def screen(casework: Casework, patient: object, answers: list[int], **more: Any) -> Any:
    body = {"instrument": "phq9", "answers": answers, **more}
    return casework.http().post(f"/v1/patients/{patient}/screenings", json=body)


def test_a_patients_screening_is_published_without_its_answers_and_proposes_a_review(
    casework: Casework,
) -> None:
    patient = casework.case(casework.route("CHC-A")).patient_id
    answered = screen(casework, patient, [2, 2, 2, 2, 2, 0, 0, 0, 1])
    assert answered.status_code == 201, answered.text
    out = answered.json()
    assert (out["total_score"], out["band"], out["urgent"], out["proposes_risk_review"]) == (
        11,
        "moderate",
        True,
        True,
    )
    assert out["assessed_by"] == {
        "provider": "carenet",
        "model": "standard-instruments",
        "version": "phq9-2001+gad7-2006",
    }
    [published] = [
        m for m in casework.published(patient) if m["event_type"] == "ScreeningCompleted"
    ]
    assert "answers" not in published["data"]
    assert published["data"]["center_id"] == "CHC-A"
    listed = casework.http().get(f"/v1/patients/{patient}/screenings").json()
    assert [s["answers"] for s in listed] == [[2, 2, 2, 2, 2, 0, 0, 0, 1]]


def test_a_mild_screening_proposes_nothing(casework: Casework) -> None:
    patient = casework.case(casework.route("CHC-A")).patient_id
    out = screen(casework, patient, [1, 1, 1, 1, 1, 0, 0, 0, 0]).json()
    assert (out["band"], out["urgent"], out["proposes_risk_review"]) == ("mild", False, False)


@pytest.mark.parametrize(
    ("answers", "says"),
    [([0] * 8, "phq9 has 9 items, 8 answers"), ([0] * 8 + [4], "each answer is 0, 1, 2 or 3")],
)
def test_answers_that_do_not_fit_the_instrument_are_refused_naming_them(
    casework: Casework, answers: list[int], says: str
) -> None:
    patient = casework.case(casework.route("CHC-A")).patient_id
    refused = screen(casework, patient, answers)
    assert refused.status_code == 422
    assert says in refused.text
    assert "ScreeningCompleted" not in casework.published_types(patient)


def test_a_provider_that_overlooks_self_harm_is_refused_and_nothing_is_recorded(
    casework: Casework,
) -> None:
    casework.app.assessments = Lenient()
    patient = casework.case(casework.route("CHC-A")).patient_id
    refused = screen(casework, patient, [0, 0, 0, 0, 0, 0, 0, 0, 3])
    assert refused.status_code == 502
    assert refused.json()["type"] == "urn:carenet:problem:upstream-failed"
    assert "ScreeningCompleted" not in casework.published_types(patient)
    assert casework.http().get(f"/v1/patients/{patient}/screenings").json() == []


def test_a_retried_screening_is_recorded_once_and_its_id_names_no_other_aggregate(
    casework: Casework,
) -> None:
    case_id = casework.route("CHC-A")
    patient = casework.case(case_id).patient_id
    # a client id equal to the case's id names a screening, not the case
    first = screen(casework, patient, [0] * 9, screening_id=str(case_id))
    assert first.status_code == 201, first.text
    again = screen(casework, patient, [0] * 9, screening_id=str(case_id))
    assert again.status_code == 409
    assert casework.published_types(patient).count("ScreeningCompleted") == 1
    assert casework.case(case_id).status == "active"


def test_a_residents_screening_stays_at_the_center_under_a_pseudonym(casework: Casework) -> None:
    casework.route("CHC-A")  # the center is one routing sends patients to
    http = casework.http()
    body = {
        "instrument": "gad7",
        "answers": [1] * 7,
        "resident_ref": "R-2026-0041",
        "consent": True,
    }
    taken = http.post("/v1/centers/CHC-A/screenings", json=body)
    assert taken.status_code == 201, taken.text
    assert (taken.json()["patient_id"], taken.json()["band"]) == (None, "mild")
    assert [s["resident_ref"] for s in http.get("/v1/centers/CHC-A/screenings").json()] == [
        "R-2026-0041"
    ]
    assert not [
        e
        for e in casework.app.process_recorder.select_notifications(0, 100)
        if b"ScreeningCompleted" in e.state
    ]
    refused = http.post(
        "/v1/centers/CHC-A/screenings",
        json=body | {"screening_id": str(uuid4()), "resident_ref": "13800000000"},
    )
    assert refused.status_code == 422
    assert "resident_ref" in refused.text
    unconsented = http.post(
        "/v1/centers/CHC-A/screenings",
        json=body | {"screening_id": str(uuid4()), "consent": False},
    )
    assert unconsented.status_code == 422
    elsewhere = http.post(
        "/v1/centers/CHC-B/screenings", json=body | {"screening_id": str(uuid4())}
    )
    assert elsewhere.status_code in {403, 404}
