"""The network's indicators: counted from casework's facts by the day things happened, the same
again after a rebuild, as of any day; small cells suppressed; a center's lead sees only their
own center, nobody else but the network's lead and the auditors sees any."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from typing import Any
from uuid import UUID

import pytest

from carenet_casework.indicators import Facts, Period, rows, tally
from carenet_casework.projection_recovery import CaseworkBoard
from carenet_casework.rules import RuleSet
from carenet_kit.read_model_tables import TableFollower

from .conftest import Casework
from .test_family import visit

RULES = RuleSet.load().indicators
NETWORK_LEAD = ("NL-1", "network", "network_lead")
AUDITOR = ("AUD-1", "NHC-AUDIT", "auditor")
CENTER_A_LEAD = ("LD-A", "CHC-A", "center_lead")


def patients_seen(casework: Casework, center: str, count: int, **form: Any) -> list[UUID]:
    """`count` patients routed to `center` and visited today, each with `form`'s findings."""
    cases = [casework.route(center) for _ in range(count)]
    for case_id in cases:  # the fixture's staff may record care of every patient
        answer = casework.http().post(f"/v1/cases/{case_id}/visits", json=visit(0) | form)
        assert answer.status_code == 201, answer.text
    return cases


def report(casework: Casework, caller: Any = NETWORK_LEAD, **params: str) -> Any:
    answer = casework.http(caller).get("/v1/indicators", params={"month": "2026-11"} | params)
    assert answer.status_code == 200, answer.text
    return answer.json()


def row(found: dict[str, Any], row_id: str) -> dict[str, Any]:
    [wanted] = [r for r in found["rows"] if r["id"] == row_id]
    return wanted


@pytest.fixture
def network(casework: Casework) -> Casework:
    """Center A: five home visits (stable, medication regular) and one by phone (no
    medication, basically stable); center B: two patients."""
    patients_seen(casework, "CHC-A", 5)
    patients_seen(
        casework,
        "CHC-A",
        1,
        mode="phone",
        risk_level=1,
        medication_adherence="none",
        nonadherence_reason="feels_well",
    )
    patients_seen(casework, "CHC-B", 2)
    return casework


def test_the_rates_follow_the_definitions(network: Casework) -> None:
    center = row(report(network), "CHC-A")
    assert center["figures"]["registered"] == 6
    assert center["figures"]["under_management"] == 6
    assert center["figures"]["seen_in_person"] == 5
    assert center["figures"]["regular_medication"] == 5
    assert center["figures"]["stable"] == 5
    assert center["rates"]["management_rate"] == 1.0
    assert center["rates"]["face_to_face_rate"] == round(5 / 6, 4)
    assert center["rates"]["stable_rate"] == round(5 / 6, 4)
    assert center["caseload_per_case_manager"] == 3.0  # six cases, two social workers


def test_small_cells_are_suppressed_and_the_whole_network_adds_up(network: Casework) -> None:
    found = report(network)
    small = row(found, "CHC-B")
    assert small["figures"]["registered"] is None
    assert all(rate is None for rate in small["rates"].values())
    assert small["caseload_per_case_manager"] is None
    assert found["suppress_below"] == 5
    whole = row(found, "network")
    assert whole["figures"]["registered"] == 8
    # one patient by phone and without medication: a count of one is not shown, nor its rate
    assert row(found, "CHC-A")["figures"]["lost_to_follow_up"] == 0
    assert whole["figures"]["taking_medication"] == 7


def test_as_of_a_day_before_the_cases_opened_nobody_is_registered(network: Casework) -> None:
    october = network.http(NETWORK_LEAD).get("/v1/indicators", params={"month": "2026-10"})
    assert row(october.json(), "network")["figures"]["registered"] == 0
    network.clock.advance(timedelta(days=400))  # a year and more without a follow-up
    later = network.http(NETWORK_LEAD).get("/v1/indicators", params={"month": "2027-12"})
    assert row(later.json(), "CHC-A")["figures"]["under_management"] == 0
    again = report(network, as_of="2026-11-02")
    assert row(again, "CHC-A")["figures"]["under_management"] == 6  # as it stood that day


def test_a_rebuild_from_the_events_gives_the_same_figures(network: Casework) -> None:
    kept = network.board()
    rebuilt = TableFollower(CaseworkBoard(network.app))
    rebuilt.catch_up()
    period = Period.of("2026-11", date(2026, 11, 2))

    def figures(board: CaseworkBoard) -> Any:
        facts = Facts(
            board.indicator_facts(None),
            board.social_referrals_from(None),
            board.prevention_activities_of(None),
            board.staff_facts(None),
        )
        return rows(tally(period, network.app.rules, facts), network.app.districts, RULES)

    assert figures(rebuilt.read_model) == figures(kept)


def test_a_center_s_lead_sees_their_own_center_only(network: Casework) -> None:
    found = report(network, CENTER_A_LEAD)
    assert [r["id"] for r in found["rows"]] == ["CHC-A"]
    other_lead = ("LD-B", "CHC-B", "center_lead")
    assert [r["id"] for r in report(network, other_lead)["rows"]] == ["CHC-B"]


@pytest.mark.parametrize("role", ["social_worker", "community_doctor", "clinician", "operator"])
def test_nobody_else_reads_the_indicators(network: Casework, role: str) -> None:
    answer = network.http(("X-1", "CHC-A", role)).get("/v1/indicators?month=2026-11")
    assert answer.status_code == 403


@pytest.mark.parametrize(
    ("params", "says"),
    [
        ({"month": "2026-13"}, "month"),
        ({"month": "2026-12"}, "month: not after the current month"),
        ({"month": "2026-11", "as_of": "2026-10-31"}, "as_of: a day of the month"),
    ],
)
def test_a_bad_month_or_day_is_refused_naming_the_field(
    network: Casework, params: dict[str, str], says: str
) -> None:
    answer = network.http(AUDITOR).get("/v1/indicators", params=params)
    assert answer.status_code == 422
    assert says in answer.text


def test_the_csv_has_a_line_per_row_and_empty_cells_where_suppressed(network: Casework) -> None:
    answer = network.http(AUDITOR).get("/v1/indicators.csv", params={"month": "2026-11"})
    assert answer.headers["content-type"].startswith("text/csv")
    lines = list(csv.DictReader(io.StringIO(answer.text)))
    assert [line["id"] for line in lines] == ["CHC-A", "CHC-B", "unknown", "network"]
    assert lines[0]["registered"] == "6"
    assert lines[1]["registered"] == ""


def test_prevention_and_referrals_count_in_their_month(network: Casework) -> None:
    held = network.http().post(
        "/v1/centers/CHC-A/prevention-activities",
        json={
            "kind": "lecture",
            "topic": "sleep and mood",
            "audience": "general_public",
            "held_on": "2026-11-02",
            "attendance": 40,
        },
    )
    assert held.status_code == 201, held.text
    figures = row(report(network), "CHC-A")["figures"]
    assert (figures["prevention_sessions"], figures["prevention_attendance"]) == (1, 40)
    assert figures["referrals_made"] == 0


def test_the_roster_sets_the_caseload_and_a_heavy_one_warns_the_leads(network: Casework) -> None:
    lead = network.http(CENTER_A_LEAD)
    roster = {
        "members": [
            {"staff_id": "SW-1", "role": "social_worker", "hours_per_week": 4},
            {"staff_id": "PSY-1", "role": "psychiatrist", "hours_per_week": 8},
        ]
    }
    staffing = lead.put("/v1/centers/CHC-A/staff-roster", json=roster)
    assert staffing.status_code == 200, staffing.text
    assert staffing.json()["cases_per_social_worker"] == 60.0  # six cases, a tenth of a post
    assert staffing.json()["caseload_warning"] is True
    trained = lead.post(
        "/v1/centers/CHC-A/trainings",
        json={
            "staff_id": "SW-1",
            "course": "risk assessment",
            "hours": 6,
            "completed_on": "2026-11-02",
        },
    )
    assert trained.status_code == 201, trained.text
    stranger = {
        "staff_id": "SW-77",
        "course": "risk assessment",
        "hours": 6,
        "completed_on": "2026-11-02",
    }
    refused = lead.post("/v1/centers/CHC-A/trainings", json=stranger)
    assert refused.status_code == 422
    assert "staff_id: not on the center's roster" in refused.text
    found = report(network)
    center = row(found, "CHC-A")
    assert center["staffing"]["social_workers_fte"] == 0.1
    assert center["staffing"]["training_hours"] == 6
    assert center["centers_above_caseload_ratio"] == 1
    assert row(found, "network")["centers_above_caseload_ratio"] == 1
    # the center's staff read the staffing; only its lead keeps it
    assert network.http().get("/v1/centers/CHC-A/staffing").status_code == 200
    assert network.http().put("/v1/centers/CHC-A/staff-roster", json=roster).status_code == 403
