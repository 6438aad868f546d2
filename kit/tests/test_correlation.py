"""Every request has a correlation id: the caller's (`X-Correlation-ID`) or a new one, answered
in the same header, given to the route and carried by the request's log line."""

from __future__ import annotations

from uuid import UUID, uuid4

import structlog
from fastapi import FastAPI
from fastapi.testclient import TestClient
from structlog.testing import LogCapture

from carenet_kit.http import CORRELATION_HEADER, CorrelationId, install_error_handlers
from carenet_kit.logs import RequestLog


def correlated_api() -> FastAPI:
    api = FastAPI()
    api.add_middleware(RequestLog)
    install_error_handlers(api)

    @api.get("/v1/things")
    async def things(correlation: CorrelationId) -> dict[str, str]:
        return {"correlation_id": str(correlation)}

    return api


def handled(
    headers: dict[str, str],
) -> tuple[int, dict[str, str], str | None, list[dict[str, object]]]:
    """(status, body, answered header, request log lines) of one call."""
    capture = LogCapture()
    structlog.configure(  # a logger cached by an earlier test would write elsewhere
        processors=[structlog.contextvars.merge_contextvars, capture],
        cache_logger_on_first_use=False,
    )
    try:
        with TestClient(correlated_api()) as client:
            response = client.get("/v1/things", headers=headers)
    finally:
        structlog.reset_defaults()
    lines = [e for e in capture.entries if e["event"] == "request handled"]
    return response.status_code, response.json(), response.headers.get(CORRELATION_HEADER), lines


def test_the_callers_correlation_id_reaches_the_route_the_log_line_and_the_answer() -> None:
    given = str(uuid4())
    status, body, answered, [line] = handled({CORRELATION_HEADER: given})
    assert status == 200
    assert body == {"correlation_id": given}
    assert answered == given
    assert line["correlation_id"] == given


def test_without_one_a_new_correlation_id_is_made_and_used_throughout() -> None:
    status, body, answered, [line] = handled({})
    assert status == 200
    assert answered is not None
    UUID(answered)  # a UUID, or this raises
    assert body == {"correlation_id": answered}
    assert line["correlation_id"] == answered


def test_a_correlation_id_that_is_not_a_uuid_is_refused() -> None:
    status, body, answered, lines = handled({CORRELATION_HEADER: "not-a-uuid"})
    assert (status, body) == (400, {"detail": f"{CORRELATION_HEADER} must be a UUID"})
    assert answered is None
    assert lines == []
