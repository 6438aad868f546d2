"""A timeline as a terminal table, as JSON (format `carenet.history/1`) and as an HTML page.

The JSON field names are stable and documented in `history_json`; times keep the producers'
RFC 3339 values. The table and the page show times in one display zone (China by default).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, select_autoescape
from rich.console import Console
from rich.table import Table
from rich.text import Text

from carenet_audit_tool.chart import AS_OF_COLOUR, COLOURS, LATE_COLOUR, chart_of
from carenet_audit_tool.describe import Tier
from carenet_audit_tool.timeline import UNCHECKED, VERIFIED, Entry, Timeline

CHINA = ZoneInfo("Asia/Shanghai")
JSON_FORMAT = "carenet.history/1"


def history_json(timeline: Timeline) -> dict[str, Any]:
    """The timeline as plain JSON data.

    - `format`: `carenet.history/1`; `patient_id`; `as_of`: the point in time or null;
      `late_after_seconds`: the lateness bar; `events_recorded_after_as_of`: how many events
      the full history has beyond `as_of`; `events`: in timeline order, each with
    - `event_id`, `event_type`, `schema_version`, `producer`, `sequence`, `tier` (`hospital`,
      `network`, `community`, `family`, `audit`), `summary`, `occurred_at`, `recorded_at`,
      `delay_seconds` (recorded minus occurred), `late`, `actor` (or null), `rule_versions`
      (`rule_set`, `directory`, `calendar` when the event names them),
      `correlation_id`, `causation_id`, `signature` (`verified`, `unchecked`, or the problem).
    """
    return {
        "format": JSON_FORMAT,
        "patient_id": str(timeline.patient_id),
        "as_of": timeline.point_in_time.isoformat() if timeline.point_in_time else None,
        "late_after_seconds": int(timeline.late_after.total_seconds()),
        "events_recorded_after_as_of": timeline.recorded_later,
        "events": [_entry_json(e) for e in timeline.entries],
    }


def _entry_json(e: Entry) -> dict[str, Any]:
    return {
        "event_id": str(e.event_id),
        "event_type": e.event_type,
        "schema_version": e.schema_version,
        "producer": e.producer,
        "sequence": e.sequence,
        "tier": e.tier.value,
        "summary": e.summary,
        "occurred_at": e.occurred_at.isoformat(),
        "recorded_at": e.recorded_at.isoformat(),
        "delay_seconds": int(e.delay.total_seconds()),
        "late": e.late,
        "actor": e.actor,
        "rule_versions": dict(e.rule_versions),
        "correlation_id": str(e.correlation_id),
        "causation_id": str(e.causation_id) if e.causation_id else None,
        "signature": e.signature,
    }


def render_json(timeline: Timeline) -> str:
    return json.dumps(history_json(timeline), indent=2, ensure_ascii=False) + "\n"


def _when(moment: datetime, zone: tzinfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def _delay(delay: timedelta) -> str:
    seconds = int(delay.total_seconds())
    if seconds < 0:
        return "ahead"
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    if days:
        return f"+{days}d {hours}h"
    if hours:
        return f"+{hours}h {rest // 60}m"
    return f"+{rest // 60}m" if rest >= 60 else f"+{rest}s"


def _rules(entry: Entry) -> str:
    return ", ".join(f"{k} {v}" for k, v in entry.rule_versions.items())


def render_table(timeline: Timeline, console: Console, zone: tzinfo = CHINA) -> None:
    title = f"History of patient {timeline.patient_id}"
    if timeline.point_in_time:
        title += f" as of {_when(timeline.point_in_time, zone)}"
    table = Table(title=title, caption=_caption(timeline, zone), show_lines=False, expand=True)
    for column in ("#", "occurred", "recorded", "tier", "event", "what happened", "by", "rules"):
        table.add_column(column, overflow="fold")
    for number, e in enumerate(timeline.entries, start=1):
        recorded = Text(f"{_when(e.recorded_at, zone)} {_delay(e.delay)}")
        if e.late:
            recorded.append(" LATE", style=f"bold {LATE_COLOUR}")
        table.add_row(
            str(number),
            _when(e.occurred_at, zone),
            recorded,
            Text(e.tier.label, style=COLOURS[e.tier]),
            f"{e.event_type}\n{e.producer} #{e.sequence}",
            e.summary,
            e.actor or "",
            _rules(e),
        )
    console.print(table)


def _caption(timeline: Timeline, zone: tzinfo) -> str:
    parts = [f"{len(timeline.entries)} events", f"times in {zone}"]
    late = sum(e.late for e in timeline.entries)
    if late:
        parts.append(f"{late} recorded late (over {_delay(timeline.late_after)[1:]} after)")
    if timeline.point_in_time:
        parts.append(f"{timeline.recorded_later} recorded after the as-of time")
    parts.append(_signatures(timeline))
    return "; ".join(parts)


def _signatures(timeline: Timeline) -> str:
    verified = sum(e.signature == VERIFIED for e in timeline.entries)
    unchecked = sum(e.signature == UNCHECKED for e in timeline.entries)
    failed = len(timeline.entries) - verified - unchecked
    if unchecked == len(timeline.entries):
        return "signatures not checked (no key set given)"
    text = f"{verified} signatures verified"
    return text + (f", {failed} NOT VERIFIED" if failed else "")


_environment = Environment(
    loader=PackageLoader("carenet_audit_tool", "templates"),
    autoescape=select_autoescape(["html", "j2"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def render_html(timeline: Timeline, zone: tzinfo = CHINA) -> str:
    """A self-contained page: inline CSS and SVG, no script, no external resource."""
    template = _environment.get_template("history.html.j2")
    return template.render(
        timeline=timeline,
        chart=chart_of(timeline, zone),
        tiers=list(Tier),
        colours=COLOURS,
        late_colour=LATE_COLOUR,
        as_of_colour=AS_OF_COLOUR,
        caption=_caption(timeline, zone),
        when=lambda moment: _when(moment, zone),
        delay=_delay,
        rules=_rules,
        zone=str(zone),
    )
