"""Recording a visit over the API: what the case manager is told back, and what is refused."""

from __future__ import annotations

from datetime import timedelta

from .conftest import Casework
from .test_family import visit


def test_a_visit_dated_after_today_at_the_centers_is_refused(casework: Casework) -> None:
    case_id = casework.route("CHC-A")
    http = casework.http()
    tomorrow = casework.clock.now().date() + timedelta(days=1)
    refused = http.post(
        f"/v1/cases/{case_id}/visits", json=visit(1) | {"visited_on": str(tomorrow)}
    )
    assert refused.status_code == 422
    assert "visited_on is in the future" in refused.text
    assert casework.case(case_id).visits == []
    # a day later at the centers it is today, and the same visit is taken
    casework.clock.advance(timedelta(days=1))
    taken = http.post(f"/v1/cases/{case_id}/visits", json=visit(1) | {"visited_on": str(tomorrow)})
    assert taken.status_code == 201, taken.text
