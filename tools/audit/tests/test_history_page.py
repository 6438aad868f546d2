"""The history page as a browser draws it: headless Chromium takes a screenshot, Pillow reads it.

Each lane's colour block must be on screen; every event's marker must be drawn in its lane's
colour where the chart put it; a lane without events must have no marker; the late event's
colour and the as-of line must show exactly when there is a late event and an as-of time.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

from PIL import Image

from carenet_audit_tool.chart import AS_OF_COLOUR, COLOURS, LATE_COLOUR, Chart, chart_of
from carenet_audit_tool.describe import Tier
from carenet_audit_tool.render import CHINA, render_html
from carenet_audit_tool.timeline import Timeline, build_timeline
from carenet_contracts import Envelope, Payload, envelope_of, parse_message
from carenet_devtools import browser

EXAMPLES = Path(__file__).parents[3] / "contracts" / "tests" / "messages"
PATIENT = UUID("9d0c3a52-7c36-4f5b-8a1e-3d2f6b7e7002")
DAY = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
WINDOW = (1400, 1000)
RGB = tuple[int, int, int]


def rgb(hex_colour: str) -> RGB:
    value = int(hex_colour.lstrip("#"), 16)
    return (value >> 16, (value >> 8) & 0xFF, value & 0xFF)


def close(pixel: Any, colour: RGB, tolerance: int = 6) -> bool:
    return all(abs(int(p) - c) <= tolerance for p, c in zip(pixel[:3], colour, strict=True))


def event(event_type: str, occurred: datetime, recorded: datetime | None = None) -> Envelope[Any]:
    data = parse_message((EXAMPLES / f"{event_type}.v1.json").read_bytes()).data
    assert isinstance(data, Payload)
    return envelope_of(type(data))(
        event_id=uuid4(),
        event_type=event_type,
        schema_version=data.schema_version,  # the example, upcast to the current version
        occurred_at=occurred,
        recorded_at=recorded or occurred + timedelta(minutes=3),
        producer=data.producer,
        patient_id=PATIENT,
        correlation_id=uuid4(),
        causation_id=None,
        sequence=1,
        previous_hash=None,
        data=data,
    )


def pathway() -> Timeline:
    """Hospital, network, community and family events, one visit recorded 4 days late,
    no read of the record (the audit lane stays empty)."""
    day, hour = timedelta(days=1), timedelta(hours=1)
    return build_timeline(
        PATIENT,
        [
            event("DiagnosisRecorded", DAY),
            event("PatientRouted", DAY + hour),
            event("CaseOpened", DAY + 2 * hour),
            event("CaseManagerAssigned", DAY + 2 * hour),
            event("VisitCompleted", DAY + 2 * day, DAY + 6 * day),
            event("VisitCompleted", DAY + 5 * day),
            event("FamilyMemberLinked", DAY + 3 * day),
            event("ReferralIssued", DAY + 5 * day + hour),
        ],
    )


def screenshot(html: str, directory: Path) -> Image.Image:
    return Image.open(browser.screenshot(html, directory, WINDOW)).convert("RGB")


def pixels(image: Image.Image, box: tuple[int, int, int, int]) -> Iterator[tuple[int, int, Any]]:
    left, top, right, bottom = box
    data = image.load()
    assert data is not None
    for y in range(max(top, 0), min(bottom, image.height)):
        for x in range(max(left, 0), min(right, image.width)):
            yield x, y, data[x, y]


def origin(image: Image.Image, chart: Chart) -> tuple[int, int]:
    """Where the chart's (0, 0) is on screen: found from the hospital lane's colour block."""
    colour = rgb(COLOURS[Tier.HOSPITAL])
    data = image.load()
    assert data is not None
    for y in range(WINDOW[1]):
        row = [x for x in range(400) if close(data[x, y], colour, 2)]
        if len(row) > 150:  # the block, not a swatch or a blue number
            left = min(x for x in range(400) if close(data[x, y + 10], colour, 2))  # below rx
            return left, y - int(chart.lanes[0].top + 3)
    raise AssertionError("the hospital lane is not drawn")


def draw(timeline: Timeline, tmp_path: Path, zone: tzinfo = CHINA) -> tuple[Image.Image, Chart]:
    return screenshot(render_html(timeline, zone), tmp_path), chart_of(timeline, zone)


def test_each_lane_is_drawn_with_a_marker_where_each_of_its_events_happened(
    tmp_path: Path,
) -> None:
    timeline = pathway()
    image, chart = draw(timeline, tmp_path)
    x0, y0 = origin(image, chart)

    assert len(set(image.resize((140, 100)).get_flattened_data())) > 50, "the page looks blank"
    for lane in chart.lanes:
        colour = rgb(lane.colour)
        block = (x0 + 3, y0 + int(lane.top) + 14, x0 + 12, y0 + int(lane.top + lane.height) - 14)
        assert all(close(p, colour) for _, _, p in pixels(image, block)), f"{lane.tier} block"
        plot = (
            x0 + chart.plot_left - 14,
            y0 + int(lane.top),
            x0 + chart.width,
            y0 + int(lane.top + lane.height),
        )
        marker_pixels = sum(close(p, colour) for _, _, p in pixels(image, plot))
        if not lane.markers:
            assert marker_pixels == 0, f"{lane.tier} has no events but shows markers"
        for marker in lane.markers:
            # just above the number written in the marker
            x, y = x0 + round(marker.x), y0 + round(marker.y) - 7
            assert close(image.getpixel((x, y)), colour), f"no marker #{marker.number} at {x},{y}"
    assert [lane.tier for lane in chart.lanes if not lane.markers] == [Tier.AUDIT]
    lanes = (x0, y0, x0 + chart.width, y0 + int(chart.lanes_bottom))
    late = sum(close(p, rgb(LATE_COLOUR)) for _, _, p in pixels(image, lanes))
    assert late > 40, "the late visit is not marked"
    chart_area = (x0, y0, x0 + chart.width, y0 + chart.height)  # the legend shows it anyway
    assert not any(close(p, rgb(AS_OF_COLOUR)) for _, _, p in pixels(image, chart_area))


def test_the_as_of_line_is_drawn_and_events_recorded_later_are_gone(tmp_path: Path) -> None:
    full = pathway()
    late_visit = next(e for e in full.entries if e.late)
    before_it_was_recorded = full.as_of(late_visit.recorded_at - timedelta(hours=1))
    image, chart = draw(before_it_was_recorded, tmp_path)
    x0, y0 = origin(image, chart)

    assert chart.as_of_x is not None
    line = (x0 + round(chart.as_of_x) - 2, y0 + chart.axis_height, x0 + round(chart.as_of_x) + 3)
    column = [p for _, _, p in pixels(image, (*line, y0 + int(chart.lanes_bottom)))]
    assert sum(close(p, rgb(AS_OF_COLOUR)) for p in column) > len(column) // 6
    # the only late event was recorded after the as-of time: nothing is marked late
    lanes = (x0, y0, x0 + chart.width, y0 + int(chart.lanes_bottom))
    assert not any(close(p, rgb(LATE_COLOUR)) for _, _, p in pixels(image, lanes))
