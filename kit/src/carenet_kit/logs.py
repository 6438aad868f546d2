"""structlog JSON logs, for our own lines and for the libraries' (uvicorn, faust, aiokafka).

Bind pseudonymous ids only (event, correlation, patient pseudonym): no personal data is ever
logged. Each line made inside a span carries its `trace_id` and `span_id` (`tracing`). A
library's line repeated within `REPEAT_WINDOW_SECONDS` is counted instead of written
(`LibraryRepeats`).
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable, Collection

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from structlog.typing import EventDict, Processor

from carenet_kit.tracing import add_trace_ids

SHARED: list[Processor] = [
    structlog.contextvars.merge_contextvars,
    add_trace_ids,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


def configure_logging(service: str, level: str) -> None:
    def add_service(_: object, __: str, event: EventDict) -> EventDict:
        event["service"] = service  # also on lines from the libraries' own threads
        return event

    shared = [*SHARED, add_service]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.addFilter(LibraryRepeats())
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                structlog.processors.JSONRenderer(),
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())


REPEAT_WINDOW_SECONDS = 10.0


class LibraryRepeats(logging.Filter):
    """Writes a library's line (a stdlib record with a text template; our own lines are
    structlog's and always pass) once, then at most once a window for as long as it repeats,
    that line telling how many like it were left out. With the broker down, aiokafka logs every
    failed connection and request of every client: about 130 lines a second per service,
    18 MB a minute for five, burying whatever else is said."""

    def __init__(
        self,
        window_seconds: float = REPEAT_WINDOW_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self.window_seconds = window_seconds
        self.clock = clock
        self._windows: dict[tuple[str, int, str], tuple[float, int]] = {}
        """(logger, level, template) → (when its window opened, lines left out since)."""
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        if not isinstance(record.msg, str):
            return True
        key, now = (record.name, record.levelno, record.msg), self.clock()
        with self._lock:
            window = self._windows.get(key)
            if window is not None and now - window[0] < self.window_seconds:
                self._windows[key] = (window[0], window[1] + 1)
                return False
            self._windows[key] = (now, 0)
        if window is not None and window[1]:
            opened, left_out = window
            record.msg = f"{record.msg} ({left_out} more like it left out in {now - opened:.0f} s)"
        return True


_request_log = structlog.get_logger("carenet.http")


class RequestLog:
    """One line per HTTP request: method, route template (never the path), status, duration.

    Installed inside the tracing and correlation middleware, so the line carries the request's
    `trace_id`, `span_id` and `correlation_id`. The probes' and the scraper's calls are not
    logged.
    """

    def __init__(self, app: ASGIApp, quiet: Collection[str] = ("/healthz", "/readyz", "/metrics")):
        self.app = app
        self.quiet = frozenset(quiet)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.quiet:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def watched(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, watched)
        finally:
            route = scope.get("route")
            _request_log.info(
                "request handled",
                method=scope["method"],
                route=getattr(route, "path", None),
                status=status,
                duration_ms=round((time.perf_counter() - started) * 1000, 1),
            )
