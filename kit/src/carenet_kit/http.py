"""HTTP plumbing every service shares: health, signing key, correlation ids, clear 4xx errors."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Annotated, Any
from uuid import UUID, uuid4

import structlog
from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError
from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from carenet_kit.inbound import CommandConflict, CommandRejected
from carenet_kit.signing import Signer, key_set

CORRELATION_HEADER = "X-Correlation-ID"

ReadinessCheck = Callable[[], bool]


def health_router(checks: Mapping[str, ReadinessCheck]) -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/healthz", summary="The process is alive")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz", summary="Store, relay and consumers are ready")
    async def readyz() -> JSONResponse:
        results = {name: check() for name, check in checks.items()}
        ready = all(results.values())
        return JSONResponse({"ready": ready, "checks": results}, status_code=200 if ready else 503)

    return router


def signing_key_router(signer: Signer) -> APIRouter:
    """The public key this service signs its messages with, as a JWKS (RFC 8037)."""
    router = APIRouter(tags=["integrity"])

    @router.get("/.well-known/jwks.json", summary="The key that signs this service's events")
    async def jwks() -> dict[str, Any]:
        return key_set([signer.public_jwk()])

    return router


def correlation_id(request: Request) -> UUID:
    """The caller's correlation id (header `X-Correlation-ID`), or a new one."""
    return request.state.correlation_id  # type: ignore[no-any-return]


CorrelationId = Annotated[UUID, Depends(correlation_id)]


def from_app_state(attribute: str) -> Any:
    """A dependency on what `runtime.Service` put in `app.state`: `application`, `projection`."""

    def dependency(request: Request) -> Any:
        return getattr(request.app.state, attribute)

    return Depends(dependency)


def install_error_handlers(api: FastAPI) -> None:
    async def rejected(_: Request, error: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status_code=422)

    async def conflicting(_: Request, error: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status_code=409)

    async def not_found(_: Request, __: Exception) -> JSONResponse:
        return JSONResponse({"detail": "not found"}, status_code=404)

    async def conflict(_: Request, __: Exception) -> JSONResponse:
        return JSONResponse(
            {"detail": "a concurrent change won; read again and retry"}, status_code=409
        )

    async def invalid(_: Request, error: Exception) -> JSONResponse:
        """Say what is wrong and where, without echoing the input: it may be personal data."""
        assert isinstance(error, RequestValidationError)
        problems = [{"loc": e["loc"], "msg": e["msg"], "type": e["type"]} for e in error.errors()]
        return JSONResponse({"detail": problems}, status_code=422)

    api.add_exception_handler(RequestValidationError, invalid)
    api.add_exception_handler(CommandRejected, rejected)
    api.add_exception_handler(CommandConflict, conflicting)
    api.add_exception_handler(AggregateNotFoundError, not_found)
    api.add_exception_handler(IntegrityError, conflict)

    @api.middleware("http")
    async def bind_correlation_id(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        given = request.headers.get(CORRELATION_HEADER)
        try:
            request.state.correlation_id = UUID(given) if given else uuid4()
        except ValueError:
            return JSONResponse({"detail": f"{CORRELATION_HEADER} must be a UUID"}, status_code=400)
        with structlog.contextvars.bound_contextvars(
            correlation_id=str(request.state.correlation_id)
        ):
            response = await call_next(request)
        response.headers[CORRELATION_HEADER] = str(request.state.correlation_id)
        return response
