"""Casework's HTTP API: the network's indicators (`carenet_casework.indicators`), as JSON, as
CSV and as a page of charts.

Aggregate only, for the leads and the auditors: a center's lead sees their own center's row; the
network's lead and the auditors see every center's, each district's and the network's. Small
cells are suppressed (the rule set's `casework.indicators.suppress_below`).
"""

from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field

from carenet_access import Role, for_roles
from carenet_casework.api.deps import CareBoardDep, CaseworkDep
from carenet_casework.domain.errors import RuleBroken
from carenet_casework.indicators import Facts, Period, Row, as_csv_rows, rows, tally
from carenet_casework.indicators_page import render_page
from carenet_kit.auth import CurrentActor

router = APIRouter(prefix="/v1", tags=["indicators"])

READERS = for_roles(Role.CENTER_LEAD, Role.NETWORK_LEAD, Role.AUDITOR)
Month = Annotated[
    str, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="The month reported on, YYYY-MM.")
]
AsOf = Annotated[
    date | None,
    Query(description="A day of the month to report as of (default: its last day, or today)."),
]


class RowOut(BaseModel):
    level: str = Field(description="center, district or network.")
    id: str
    district: str | None
    figures: dict[str, int | None] = Field(description="Counts; null where suppressed.")
    rates: dict[str, float | None] = Field(description="Rates from 0 to 1; null where suppressed.")
    caseload_per_case_manager: float | None
    staffing: dict[str, float | None] = Field(
        description="Staff on the roster (full-time equivalents), training hours in the month, "
        "cases per full-time social worker."
    )
    centers_above_caseload_ratio: int = Field(
        description="Centers whose cases per full-time social worker exceed the rule set's "
        "caseload_warning_above: a warning to the center's and the network's lead."
    )


class IndicatorsOut(BaseModel):
    month: str
    as_of: date
    rule_set_version: str
    suppress_below: int
    rows: list[RowOut]


@dataclass(frozen=True)
class Report:
    period: Period
    rows: list[Row]


def report(
    month: Month,
    actor: CurrentActor,
    casework: CaseworkDep,
    board: CareBoardDep,
    as_of: AsOf = None,
) -> Report:
    """The rows the actor may see for the month asked (a dependency of each endpoint)."""
    today = casework.today()
    try:
        period = Period.of(month, as_of)
    except ValueError as error:
        raise RuleBroken(str(error)) from error
    if period.first > today:
        raise RuleBroken("month: not after the current month")
    if period.day > today:
        period = Period(period.first, today)
    center = actor.organisation if actor.role == Role.CENTER_LEAD else None
    facts = Facts(
        board.indicator_facts(center),
        board.social_referrals_from(center),
        board.prevention_activities_of(center),
        board.staff_facts(center),
    )
    counted = tally(period, casework.rules, facts)
    if center is not None:
        counted = {center: counted[center]} if center in counted else {}
    found = rows(counted, casework.districts, casework.rules.indicators)
    if center is not None:
        found = [r for r in found if r.level == "center"]
    return Report(period, found)


ReportDep = Annotated[Report, Depends(report)]


@router.get("/indicators", **READERS)
def indicators(asked: ReportDep, casework: CaseworkDep) -> IndicatorsOut:
    """The month's figures, per center, district and network (a center's lead: their own)."""
    period, found = asked.period, asked.rows
    return IndicatorsOut(
        month=period.month,
        as_of=period.day,
        rule_set_version=casework.rules.version,
        suppress_below=casework.rules.indicators.suppress_below,
        rows=[RowOut(**asdict(r)) for r in found],
    )


@router.get(
    "/indicators.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
    **READERS,
)
def indicators_csv(asked: ReportDep) -> Response:
    """The same figures as CSV, one line per row; empty cells are suppressed."""
    period, found = asked.period, asked.rows
    records: list[dict[str, Any]] = as_csv_rows(found, period)
    text = io.StringIO()
    if records:
        writer = csv.DictWriter(text, fieldnames=list(records[0]))
        writer.writeheader()
        writer.writerows(records)
    disposition = f'attachment; filename="carenet-indicators-{period.month}.csv"'
    return Response(
        text.getvalue(), media_type="text/csv", headers={"Content-Disposition": disposition}
    )


@router.get("/indicators/page", response_class=HTMLResponse, **READERS)
def indicators_page(asked: ReportDep, casework: CaseworkDep) -> HTMLResponse:
    """The same figures as a page of charts."""
    period, found = asked.period, asked.rows
    return HTMLResponse(render_page(found, period, casework.rules.indicators.suppress_below))
