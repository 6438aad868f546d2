"""The indicators page as a browser draws it: headless Chromium takes a screenshot, Pillow reads
it. Each rate's chart must draw each row's bar in the rate's colour, as long as the rate says
(a suppressed one grey, full length), and nothing else in those colours."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from carenet_casework.indicators import PATIENT_COUNTS, RATES, Period, Row
from carenet_casework.indicators_page import (
    BAR_HEIGHT,
    BAR_WIDTH,
    COLOURS,
    SUPPRESSED_COLOUR,
    charts,
    render_page,
)
from carenet_devtools import browser

WINDOW = (1000, 1400)
RGB = tuple[int, int, int]


def rgb(hex_colour: str) -> RGB:
    value = int(hex_colour.lstrip("#"), 16)
    return (value >> 16, (value >> 8) & 0xFF, value & 0xFF)


def close(pixel: Any, colour: RGB, tolerance: int = 6) -> bool:
    return all(abs(int(p) - c) <= tolerance for p, c in zip(pixel[:3], colour, strict=True))


def screenshot(html: str, directory: Path) -> Image.Image:
    return Image.open(browser.screenshot(html, directory, WINDOW)).convert("RGB")


def a_row(row_id: str, rate: float | None) -> Row:
    """A center whose rates step down by 0.1 from `rate`, chart by chart (None: suppressed)."""
    rates = {
        name: None if rate is None else round(rate - 0.1 * i, 4) for i, name in enumerate(RATES)
    }
    figures: dict[str, int | None] = dict.fromkeys(PATIENT_COUNTS, 12)
    return Row("center", row_id, "440305", figures, rates, None, {}, 0)


def bars(image: Image.Image, colour: RGB, left: int) -> list[tuple[int, int]]:
    """Each bar of `colour` whose left edge is at `left`, down the page: its height and its
    length (the run of the colour from the edge, in the bar's middle row)."""
    data = image.load()
    assert data is not None
    rows = [y for y in range(image.height) if close(data[left + 1, y], colour)]
    bands: list[list[int]] = []
    for y in rows:
        if bands and y == bands[-1][-1] + 1:
            bands[-1].append(y)
        else:
            bands.append([y])
    found = []
    for band in bands:
        middle, length = band[len(band) // 2], 0
        while left + length < image.width and close(data[left + length, middle], colour):
            length += 1
        found.append((len(band), length))
    return found


def left_edge(image: Image.Image, colour: RGB) -> int:
    """Where the bars begin: the leftmost pixel of a rate's colour."""
    data = image.load()
    assert data is not None
    return min(
        x
        for x in range(image.width)
        for y in range(0, image.height, 2)
        if close(data[x, y], colour)
    )


def test_each_rate_is_drawn_a_bar_per_row_as_long_as_the_rate(tmp_path: Path) -> None:
    rows = [a_row("CHC-NS-NANTOU", 0.9), a_row("CHC-NS-SHEKOU", 0.6), a_row("CHC-NS-XILI", None)]
    period = Period.of("2026-11", date(2026, 11, 30))
    image = screenshot(render_page(rows, period, 5), tmp_path)

    assert len(set(image.resize((100, 140)).get_flattened_data())) > 20, "the page looks blank"
    left = left_edge(image, rgb(COLOURS["management_rate"]))
    for chart in charts(rows):
        drawn = bars(image, rgb(COLOURS[chart.rate]), left)
        expected = [chart.bar(i)[2] for i, (_, value) in enumerate(chart.values) if value]
        assert [length for _, length in drawn] == pytest.approx(expected, abs=2), chart.rate
        assert [height for height, _ in drawn] == pytest.approx([BAR_HEIGHT] * 2, abs=1)
    grey = bars(image, rgb(SUPPRESSED_COLOUR), left)
    assert [length for _, length in grey] == pytest.approx([BAR_WIDTH] * len(RATES), abs=2)
