"""structlog JSON logs, for our own lines and for the libraries' (uvicorn, faust, aiokafka).

Bind pseudonymous ids only (event, correlation, patient pseudonym): no personal data is ever
logged. Each line made inside a span carries its `trace_id` and `span_id` (`tracing`).
"""

from __future__ import annotations

import logging
import sys

import structlog
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
