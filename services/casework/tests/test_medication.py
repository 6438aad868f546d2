"""Medication at every visit: asked each time, a reason exactly when not taken as prescribed,
the guidance's words kept in casework and only whether any was given published."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import Casework
from .test_family import visit


def problem_of(response: Any) -> dict[str, Any]:
    assert response.status_code == 422, response.text
    (problem,) = response.json()["detail"]
    assert isinstance(problem, dict)
    return problem


def test_a_visit_without_adherence_is_refused_naming_the_field(casework: Casework) -> None:
    case_id = casework.route("CHC-A")
    form = {k: v for k, v in visit(1).items() if k != "medication_adherence"}
    problem = problem_of(casework.http().post(f"/v1/cases/{case_id}/visits", json=form))
    assert problem["loc"] == ["body", "medication_adherence"]
    assert problem["type"] == "missing"


@pytest.mark.parametrize(
    ("adherence", "reason"),
    [("none", None), ("intermittent", None), ("regular", "forgets"), ("not_prescribed", "cost")],
)
def test_a_reason_without_nonadherence_or_nonadherence_without_one_is_refused(
    casework: Casework, adherence: str, reason: str | None
) -> None:
    case_id = casework.route("CHC-A")
    form = visit(1) | {"medication_adherence": adherence, "nonadherence_reason": reason}
    problem = problem_of(casework.http().post(f"/v1/cases/{case_id}/visits", json=form))
    assert "nonadherence_reason" in problem["msg"]
    assert casework.published_types(casework.case(case_id).patient_id).count("VisitCompleted") == 0


def test_the_visit_publishes_adherence_and_whether_guidance_was_given_not_its_words(
    casework: Casework,
) -> None:
    case_id = casework.route("CHC-A")
    http = casework.http()
    words = "take it with the evening meal; the doctor may lower the dose"
    form = visit(1) | {
        "medication_adherence": "intermittent",
        "nonadherence_reason": "side_effects",
        "medication_guidance": words,
    }
    assert http.post(f"/v1/cases/{case_id}/visits", json=form).status_code == 201
    assert http.post(f"/v1/cases/{case_id}/visits", json=visit(1)).status_code == 201

    patient = casework.case(case_id).patient_id
    published = [m for m in casework.published(patient) if m["event_type"] == "VisitCompleted"]
    assert [m["schema_version"] for m in published] == [2, 2]
    assert [
        (
            m["data"]["medication_adherence"],
            m["data"]["nonadherence_reason"],
            m["data"]["medication_guidance_given"],
        )
        for m in published
    ] == [("intermittent", "side_effects", True), ("regular", None, False)]
    assert all(words not in str(m) for m in casework.published(patient))
    seen = http.get(f"/v1/cases/{case_id}").json()["visits"]
    assert [(v["medication_adherence"], v["medication_guidance"]) for v in seen] == [
        ("intermittent", words),
        ("regular", ""),
    ]
