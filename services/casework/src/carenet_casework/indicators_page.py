"""The indicators as a page a lead can look at: one bar chart per rate (a bar per row, its
length the rate, its colour the rate's), then the counts as a table. Plain HTML and inline SVG,
no script and nothing fetched: the page is whole as served, and prints.

`BarChart` is the geometry, shared with the test that checks the page as Chromium draws it.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from carenet_casework.indicators import PATIENT_COUNTS, RATES, Period, Row

COLOURS = {
    "management_rate": "#1f77b4",
    "regular_management_rate": "#2ca02c",
    "face_to_face_rate": "#9467bd",
    "medication_rate": "#ff7f0e",
    "regular_medication_rate": "#d62728",
    "stable_rate": "#17becf",
}
"""Each rate's colour, the same on every page."""
SUPPRESSED_COLOUR = "#c8c8c8"
LABEL_WIDTH, BAR_WIDTH, BAR_HEIGHT, GAP, TITLE_HEIGHT = 220, 500, 18, 6, 28


@dataclass(frozen=True)
class BarChart:
    """Where one rate's chart draws each row's bar, in the SVG's own pixels."""

    rate: str
    values: tuple[tuple[str, float | None], ...]

    @property
    def height(self) -> int:
        return TITLE_HEIGHT + len(self.values) * (BAR_HEIGHT + GAP) + GAP

    def bar(self, index: int) -> tuple[int, int, int]:
        """The bar of row `index`: its left edge, top and length."""
        value = self.values[index][1]
        length = round(BAR_WIDTH * value) if value is not None else BAR_WIDTH
        return LABEL_WIDTH, TITLE_HEIGHT + index * (BAR_HEIGHT + GAP), length


def charts(rows: list[Row]) -> list[BarChart]:
    return [BarChart(rate, tuple((_label(r), r.rates[rate]) for r in rows)) for rate in RATES]


def render_page(rows: list[Row], period: Period, suppress_below: int) -> str:
    """The whole page."""
    svgs = "\n".join(_svg(chart) for chart in charts(rows))
    warnings = "".join(
        f'<p class="warning">{escape(r.id)}: {r.staffing["cases_per_social_worker"]} cases '
        "per full-time social worker on the roster, above the rule set's ratio.</p>"
        for r in rows
        if r.level == "center" and r.centers_above_caseload_ratio
    )
    header = "".join(f"<th>{escape(name.replace('_', ' '))}</th>" for name in PATIENT_COUNTS)
    body = "\n".join(
        f"<tr><th>{escape(_label(r))}</th>"
        + "".join(f"<td>{_cell(r.figures[name])}</td>" for name in PATIENT_COUNTS)
        + "</tr>"
        for r in rows
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>CareNet indicators {period.month}</title>
<style>
body {{ font-family: sans-serif; margin: 16px; color: #222; background: #fff; }}
h1 {{ font-size: 20px; }} h2 {{ font-size: 15px; margin: 0; }}
table {{ border-collapse: collapse; font-size: 12px; margin-top: 16px; }}
td, th {{ border: 1px solid #ddd; padding: 2px 6px; text-align: right; }}
svg {{ display: block; margin-bottom: 12px; }}
.warning {{ color: #8a1c1c; font-weight: bold; }}
</style></head><body>
<h1>Indicators for {period.month}, as of {period.day.isoformat()}</h1>
<p>Counts of 1 to {suppress_below - 1} patients, and rates over fewer than {suppress_below},
are suppressed (grey bars, "–" in the table).</p>
{warnings}
{svgs}
<div style="overflow-x: auto"><table><tr><th></th>{header}</tr>
{body}
</table></div></body></html>
"""


def _svg(chart: BarChart) -> str:
    colour = COLOURS[chart.rate]
    parts = [
        f'<svg width="{LABEL_WIDTH + BAR_WIDTH + 80}" height="{chart.height}" '
        f'role="img" aria-label="{chart.rate}">',
        f'<text x="0" y="18" font-size="15" font-weight="bold">'
        f"{escape(chart.rate.replace('_', ' '))}</text>",
    ]
    for index, (label, value) in enumerate(chart.values):
        left, top, length = chart.bar(index)
        fill = colour if value is not None else SUPPRESSED_COLOUR
        shown = f"{value:.0%}" if value is not None else "suppressed"
        parts += [
            f'<text x="{left - 8}" y="{top + 14}" font-size="12" text-anchor="end">'
            f"{escape(label)}</text>",
            f'<rect x="{left}" y="{top}" width="{length}" height="{BAR_HEIGHT}" fill="{fill}"/>',
            f'<text x="{left + length + 6}" y="{top + 14}" font-size="12">{shown}</text>',
        ]
    parts.append("</svg>")
    return "\n".join(parts)


def _label(row: Row) -> str:
    return row.id if row.level != "district" else f"district {row.id}"


def _cell(value: int | None) -> str:
    return "–" if value is None else str(value)
