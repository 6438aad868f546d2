"""The geometry of the swimlane timeline drawn in the HTML page (pure; the template draws it).

x is time (linear), one lane per tier; events that would overlap in a lane are stacked in
rows. A late event also gets a dashed line to the moment it was recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from carenet_audit_tool.describe import Tier
from carenet_audit_tool.timeline import Entry, Timeline

WIDTH = 1280
LABEL_WIDTH = 216
PLOT_LEFT = LABEL_WIDTH + 24
PLOT_RIGHT = WIDTH - 28
AXIS_HEIGHT = 40
ROW_HEIGHT = 24
LANE_PADDING = 12
AS_OF_BAND = 34
"""Room under the lanes for the as-of label."""
MARKER_GAP = 22
"""Markers closer than this (pixels) in one lane go to separate rows."""

COLOURS = {
    Tier.HOSPITAL: "#2563eb",
    Tier.NETWORK: "#7c3aed",
    Tier.COMMUNITY: "#059669",
    Tier.FAMILY: "#d97706",
    Tier.AUDIT: "#475569",
}
TINTS = {
    Tier.HOSPITAL: "#eff4ff",
    Tier.NETWORK: "#f5f0ff",
    Tier.COMMUNITY: "#ecfdf5",
    Tier.FAMILY: "#fff8eb",
    Tier.AUDIT: "#f4f6f8",
}
LATE_COLOUR = "#e11d48"
AS_OF_COLOUR = "#0891b2"

TICK_STEPS = (
    [timedelta(minutes=m) for m in (1, 5, 15, 30)]
    + [timedelta(hours=h) for h in (1, 3, 6, 12)]
    + [timedelta(days=d) for d in (1, 2, 7, 14, 30, 91, 182, 365)]
)


@dataclass(frozen=True)
class Marker:
    number: int
    """The entry's row in the table under the chart (1-based)."""
    entry: Entry
    x: float
    y: float
    recorded_x: float


@dataclass(frozen=True)
class Lane:
    tier: Tier
    label: str
    colour: str
    tint: str
    top: float
    height: float
    markers: list[Marker]

    @property
    def middle(self) -> float:
        return self.top + self.height / 2


@dataclass(frozen=True)
class Tick:
    x: float
    label: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    plot_left: int
    plot_right: int
    axis_height: int
    lanes: list[Lane]
    ticks: list[Tick]
    as_of_x: float | None
    as_of_label: str

    @property
    def lanes_bottom(self) -> float:
        return self.lanes[-1].top + self.lanes[-1].height

    @property
    def as_of_label_x(self) -> float:
        """The label's centre, kept inside the plot."""
        assert self.as_of_x is not None
        return min(max(self.as_of_x, self.plot_left + 70), self.width - 72)


def _span(timeline: Timeline) -> tuple[datetime, datetime]:
    moments = [e.occurred_at for e in timeline.entries] + [e.recorded_at for e in timeline.entries]
    if timeline.point_in_time is not None:
        moments.append(timeline.point_in_time)
    if not moments:
        now = datetime.now().astimezone()
        return now - timedelta(days=1), now
    start, end = min(moments), max(moments)
    margin = max((end - start) * 0.04, timedelta(minutes=30))
    return start - margin, end + margin


def _ticks(start: datetime, end: datetime, x_of: _Scale, zone: tzinfo) -> list[Tick]:
    step = next((s for s in TICK_STEPS if (end - start) / s <= 9), TICK_STEPS[-1])
    local = start.astimezone(zone)
    if step >= timedelta(days=1):
        first = local.replace(hour=0, minute=0, second=0, microsecond=0)
        fmt = "%d %b %Y" if step >= timedelta(days=30) else "%a %d %b"
    else:
        unit = int(step.total_seconds())
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        passed = int((local - midnight).total_seconds()) // unit * unit
        first = midnight + timedelta(seconds=passed)
        fmt = "%d %b %H:%M"
    ticks: list[Tick] = []
    moment = first
    while moment <= end:
        if moment >= start:
            ticks.append(Tick(x_of(moment), moment.strftime(fmt)))
        moment += step
    return ticks


class _Scale:
    def __init__(self, start: datetime, end: datetime) -> None:
        self.start = start
        self.seconds = max((end - start).total_seconds(), 1.0)

    def __call__(self, moment: datetime) -> float:
        share = (moment - self.start).total_seconds() / self.seconds
        return round(PLOT_LEFT + share * (PLOT_RIGHT - PLOT_LEFT), 1)


def _rows(spans: list[tuple[float, float]]) -> list[int]:
    """A row per marker so that markers in one row keep `MARKER_GAP` apart; a late marker
    keeps its row free up to its recorded time, so its dashed line crosses no other marker.
    `spans` are (x, end x), ascending by x."""
    ends: list[float] = []
    rows: list[int] = []
    for x, end in spans:
        row = next((r for r, last in enumerate(ends) if x - last >= MARKER_GAP), len(ends))
        if row == len(ends):
            ends.append(end)
        else:
            ends[row] = end
        rows.append(row)
    return rows


def chart_of(timeline: Timeline, zone: tzinfo) -> Chart:
    start, end = _span(timeline)
    x_of = _Scale(start, end)
    numbers = {entry.event_id: n for n, entry in enumerate(timeline.entries, start=1)}
    lanes: list[Lane] = []
    top = float(AXIS_HEIGHT)
    for tier, entries in timeline.tiers.items():
        placed = sorted(entries, key=lambda e: (x_of(e.occurred_at), numbers[e.event_id]))
        rows = _rows(
            [
                (
                    x_of(e.occurred_at),
                    max(x_of(e.occurred_at), x_of(e.recorded_at))
                    if e.late
                    else x_of(e.occurred_at),
                )
                for e in placed
            ]
        )
        height = max(max(rows, default=0) + 1, 2) * ROW_HEIGHT + 2 * LANE_PADDING
        markers = [
            Marker(
                number=numbers[e.event_id],
                entry=e,
                x=x_of(e.occurred_at),
                y=top + LANE_PADDING + row * ROW_HEIGHT + ROW_HEIGHT / 2,
                recorded_x=x_of(e.recorded_at),
            )
            for e, row in zip(placed, rows, strict=True)
        ]
        lanes.append(Lane(tier, tier.label, COLOURS[tier], TINTS[tier], top, height, markers))
        top += height
    moment = timeline.point_in_time
    return Chart(
        width=WIDTH,
        height=int(top) + (AS_OF_BAND if moment is not None else 8),
        plot_left=PLOT_LEFT,
        plot_right=PLOT_RIGHT,
        axis_height=AXIS_HEIGHT,
        lanes=lanes,
        ticks=_ticks(start, end, x_of, zone),
        as_of_x=x_of(moment) if moment is not None else None,
        as_of_label=moment.astimezone(zone).strftime("as of %d %b %H:%M") if moment else "",
    )
