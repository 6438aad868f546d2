"""structlog JSON logs, for our own lines and for the libraries' (uvicorn, faust, aiokafka).

Bind pseudonymous ids only (event, correlation, patient pseudonym): no personal data is ever
logged. Each line made inside a span carries its `trace_id` and `span_id` (`tracing`).
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Collection

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
