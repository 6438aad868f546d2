"""A library repeating a line (aiokafka with the broker down: every failed connection of every
client) writes it once a window, with a count, not 130 times a second; our own lines all pass."""

from __future__ import annotations

import json
import logging

import pytest
import structlog

from carenet_kit.logs import LibraryRepeats, configure_logging

UNREACHABLE = "Unable connect to node with id %s: %s"


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def record(template: object, *args: object, name: str = "aiokafka") -> logging.LogRecord:
    return logging.LogRecord(name, logging.ERROR, __file__, 1, template, args, None)


def test_a_repeated_library_line_is_written_once_a_window_with_how_many_were_left_out() -> None:
    clock = Clock()
    repeats = LibraryRepeats(window_seconds=10, clock=clock)
    written = []
    for second in range(25):
        clock.now = 1_000.0 + second
        for _ in range(130):
            line = record(UNREACHABLE, 1, "refused")
            if repeats.filter(line):
                written.append(line.getMessage())
    assert written == [
        "Unable connect to node with id 1: refused",
        "Unable connect to node with id 1: refused (1299 more like it left out in 10 s)",
        "Unable connect to node with id 1: refused (1299 more like it left out in 10 s)",
    ]


def test_other_lines_and_other_loggers_keep_their_own_windows() -> None:
    repeats = LibraryRepeats(window_seconds=10, clock=Clock())
    assert repeats.filter(record(UNREACHABLE, 1, "refused"))
    assert repeats.filter(record("Unable to update metadata from %s", [1]))
    assert repeats.filter(record(UNREACHABLE, 1, "refused", name="aiokafka.consumer"))
    assert not repeats.filter(record(UNREACHABLE, 2, "reset"))  # same template, same window


def test_our_own_structured_lines_always_pass() -> None:
    repeats = LibraryRepeats(window_seconds=10, clock=Clock())
    assert all(repeats.filter(record({"event": "message dead-lettered"})) for _ in range(100))


def test_the_services_logging_leaves_out_a_librarys_repeats(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    library = logging.getLogger("aiokafka")
    # as a service starts it; a test run before this one in the same process (a worker of
    # pytest-xdist) may have disabled or quietened the library's logger (uvicorn's logging
    # configuration disables the loggers that exist when it runs)
    monkeypatch.setattr(library, "disabled", False)
    monkeypatch.setattr(library, "level", logging.NOTSET)
    monkeypatch.setattr(library, "propagate", True)
    configure_logging("intake", "info")
    try:
        for _ in range(50):
            library.error(UNREACHABLE, 1, "refused")
            structlog.get_logger("carenet.test").info("still here")
        lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    finally:
        logging.getLogger().handlers.clear()
        structlog.reset_defaults()  # configure_logging caches loggers on first use: not beyond
    assert sum(line["event"].startswith("Unable connect") for line in lines) == 1
    assert sum(line["event"] == "still here" for line in lines) == 50
