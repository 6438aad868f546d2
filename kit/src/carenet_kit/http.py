"""HTTP plumbing every service shares: health, signing key, correlation ids, clear 4xx errors.

The errors the shared handlers give are also declared in every operation's OpenAPI entry
(`document_error_responses`), bodies included, so that a client, or a fuzzer checking the
responses against the document, knows every status an operation can answer with.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Annotated, Any
from uuid import UUID, uuid4

import structlog
from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError, InterfaceError, OperationalError
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.dependencies.utils import get_flat_params
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from carenet_kit.plausibility import Implausible
from carenet_kit.refusals import Refusal
from carenet_kit.signing import Signer, key_set

CORRELATION_HEADER = "X-Correlation-ID"

ReadinessCheck = Callable[[], bool]


def health_router(checks: Mapping[str, ReadinessCheck]) -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/healthz", summary="The process is alive")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get(
        "/readyz",
        summary="Store, relay and consumers are ready",
        responses={503: {"description": "Not ready yet: which check fails"}},
    )
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


async def correlation_id(request: Request) -> UUID:
    """The caller's correlation id (header `X-Correlation-ID`), or a new one.

    This and the other dependencies that only look something up are `async`: FastAPI runs a
    plain `def` dependency in its thread pool, a hop there and back for no work at all."""
    return request.state.correlation_id  # type: ignore[no-any-return]


CorrelationId = Annotated[UUID, Depends(correlation_id)]


def from_app_state(attribute: str) -> Any:
    """A dependency on what `runtime.Service` put in `app.state`: `application`, `projection`."""

    async def dependency(request: Request) -> Any:
        return getattr(request.app.state, attribute)

    return Depends(dependency)


ProblemType = Annotated[
    str | None,
    Field(
        description="What kind of refusal (RFC 9457 `type`), stable whatever `detail` says: "
        "`urn:carenet:problem:refused`, `…:conflict`, `…:not-found` or `…:gone`."
    ),
]


class Problem(BaseModel):
    """Why a request was refused, in a sentence that never repeats the input."""

    type: ProblemType = None
    detail: str


class InvalidField(BaseModel):
    loc: list[str | int] = Field(description="Where: body, query, path or header, then the field.")
    msg: str
    type: str


class InvalidRequest(BaseModel):
    """422: the request does not fit the operation, or states a date the rules find implausible
    (a list of fields); or the command is refused by the rules (a sentence)."""

    type: ProblemType = None
    detail: list[InvalidField] | str


_SAFE_METHODS = frozenset({"get", "head", "options"})
RETRY_AFTER_SECONDS = 5
"""What a 503 tells a client to wait before it tries again."""


def _error_responses(operation: dict[str, Any]) -> dict[str, tuple[str, type[BaseModel]]]:
    """The statuses the shared handlers and middleware can give for this operation."""
    parameters = operation.get("parameters", [])
    has_body = "requestBody" in operation
    errors: dict[str, tuple[str, type[BaseModel]]] = {
        "400": (f"`{CORRELATION_HEADER}` is not a UUID", Problem)
    }
    if operation.get("security"):  # every operation on the store needs a token
        errors["401"] = ("No valid bearer token", Problem)
        errors["403"] = ("The caller's role may not do this", Problem)
        errors["503"] = ("The store is unavailable for a moment: see `Retry-After`", Problem)
    command = operation.get("_method") not in _SAFE_METHODS
    if command or any(p.get("in") == "path" for p in parameters):
        errors["404"] = ("Something named is unknown, or not visible to the caller", Problem)
    if command:
        errors["409"] = ("Conflicts with the current state; read again and retry", Problem)
    if has_body:
        errors["413"] = ("The request body is too large", Problem)
    if has_body or any(p.get("in") != "header" for p in parameters) or command:
        errors["422"] = ("Malformed request, or a command the rules refuse", InvalidRequest)
    return errors


def with_error_responses(document: dict[str, Any]) -> dict[str, Any]:
    """Declare in an OpenAPI document the shared error responses of every operation."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    models: tuple[type[BaseModel], ...] = (Problem, InvalidField, InvalidRequest)
    for model in models:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schema.pop("$defs", None)
        schemas[model.__name__] = schema
    correlation = {
        "name": CORRELATION_HEADER,
        "in": "header",
        "required": False,
        "description": "Ties the request to the events and logs it causes; a new one if absent.",
        "schema": {"type": "string", "format": "uuid"},
    }
    for methods in document.get("paths", {}).values():
        for method, operation in methods.items():
            parameters = operation.setdefault("parameters", [])
            if not any(p.get("name") == CORRELATION_HEADER for p in parameters):
                parameters.append(correlation)
            responses = operation.setdefault("responses", {})
            for status, (description, body) in _error_responses(
                {**operation, "_method": method}
            ).items():
                declared = responses.setdefault(status, {"description": description})
                if status == "422" or "content" not in declared:
                    ref = {"$ref": f"#/components/schemas/{body.__name__}"}
                    declared["content"] = {"application/json": {"schema": ref}}
    return document


def document_error_responses(api: FastAPI) -> None:
    """Make `api.openapi()` declare the shared error responses (see `with_error_responses`)."""
    generate = api.openapi

    def openapi() -> dict[str, Any]:
        if api.openapi_schema is None:
            api.openapi_schema = with_error_responses(generate())
        return api.openapi_schema

    api.openapi = openapi  # type: ignore[method-assign]


class BodyTooLarge(StarletteHTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than the limit of {limit} bytes")


class BodySizeLimit:
    """Refuses a request body over `limit` bytes with 413, before the application acts on it.

    At once when `Content-Length` announces more; otherwise by counting what actually arrives,
    so a chunked body without a length, or one longer than its `Content-Length`, is cut off as
    soon as it passes the limit (the application sees `BodyTooLarge` while reading it).
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and not declared.isdigit():
            refusal = {"detail": "Content-Length must be a number of bytes"}
            await JSONResponse(refusal, status_code=400)(scope, receive, send)
            return
        if declared is not None and int(declared) > self.limit:
            await self._refuse(scope, receive, send)
            return
        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise BodyTooLarge(self.limit)
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except BodyTooLarge:
            if started:
                raise
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        detail = BodyTooLarge(self.limit).detail
        await JSONResponse({"detail": detail}, status_code=413)(scope, receive, send)


class CorrelationIds:
    """Gives each request its correlation id (header `X-Correlation-ID`, or a new one), binds it
    to the request's log lines and answers it in the same header; 400 if it is not a UUID.

    A pure ASGI middleware rather than `@app.middleware("http")` (Starlette's
    `BaseHTTPMiddleware`), which runs the rest of the app in a task of its own and streams the
    response through a memory channel: a measurable part of every request's latency."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = Headers(scope=scope).get(CORRELATION_HEADER)
        try:
            correlation = uuid4() if given is None else UUID(given)
        except ValueError:
            refusal = {"detail": f"{CORRELATION_HEADER} must be a UUID"}
            await JSONResponse(refusal, status_code=400)(scope, receive, send)
            return
        scope.setdefault("state", {})["correlation_id"] = correlation  # `request.state`

        async def answered(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[CORRELATION_HEADER] = str(correlation)
            await send(message)

        with structlog.contextvars.bound_contextvars(correlation_id=str(correlation)):
            await self.app(scope, receive, answered)


async def refuse_unknown_query_parameters(request: Request) -> None:
    """A query parameter the route does not declare is refused (422), as an unknown body field
    is: a misspelt filter (`?patient=` for `?patient_id=`) must not silently widen a list.
    The parameter is named (cut to 64 characters), never its value. An app-wide dependency."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return
    declared = {param.alias for param in get_flat_params(dependant)}  # (path, header: harmless)
    unknown = sorted(set(request.query_params) - declared)
    if unknown:
        raise RequestValidationError(
            [
                {
                    "loc": ("query", name[:64]),
                    "msg": "not a parameter of this operation",
                    "type": "extra_forbidden",
                }
                for name in unknown
            ]
        )


def install_error_handlers(api: FastAPI, max_body_bytes: int | None = None) -> None:
    """Clear 4xx errors for what the shared code raises; with `max_body_bytes`, a body limit."""
    if max_body_bytes is not None:
        api.add_middleware(BodySizeLimit, limit=max_body_bytes)

    async def refused(_: Request, error: Exception) -> JSONResponse:
        """Any kind of refusal, as the problem its kind says (`carenet_kit.refusals`)."""
        assert isinstance(error, Refusal)
        return JSONResponse({"type": error.type, "detail": str(error)}, status_code=error.status)

    async def implausible(_: Request, error: Exception) -> JSONResponse:
        """A stated value the rules find implausible: refused as its field, like `invalid`."""
        assert isinstance(error, Implausible)
        loc = ["body", *error.field.split(".")]
        problem = {"loc": loc, "msg": error.explanation, "type": f"implausible.{error.rule}"}
        return JSONResponse({"detail": [problem]}, status_code=422)

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

    async def method_not_allowed(request: Request, error: Exception) -> JSONResponse:
        """405 with every method of the path: each route has one, so Starlette names only one."""
        allowed = _documented_methods(api, request.url.path)
        if not allowed and isinstance(error, StarletteHTTPException) and error.headers:
            allowed = [error.headers.get("Allow", "")]
        return JSONResponse(
            {"detail": "method not allowed"}, status_code=405, headers={"Allow": ", ".join(allowed)}
        )

    async def too_large(_: Request, error: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(getattr(error, "detail", error))}, status_code=413)

    async def store_unavailable(_: Request, __: Exception) -> JSONResponse:
        """The store cannot be reached (a database restarting): say so, and when to try again,
        instead of an internal error."""
        return JSONResponse(
            {"detail": "the store is unavailable for a moment; try again"},
            status_code=503,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )

    document_error_responses(api)
    api.add_exception_handler(405, method_not_allowed)
    api.add_exception_handler(413, too_large)
    api.add_exception_handler(RequestValidationError, invalid)
    api.add_exception_handler(Refusal, refused)
    api.add_exception_handler(Implausible, implausible)
    api.add_exception_handler(AggregateNotFoundError, not_found)
    api.add_exception_handler(IntegrityError, conflict)
    api.add_exception_handler(OperationalError, store_unavailable)
    api.add_exception_handler(InterfaceError, store_unavailable)

    api.add_middleware(CorrelationIds)


def _documented_methods(api: FastAPI, path: str) -> list[str]:
    for template, operations in api.openapi().get("paths", {}).items():
        literal_parts = re.split(r"\{[^/}]+\}", template)
        if re.fullmatch("[^/]+".join(re.escape(part) for part in literal_parts), path):
            return sorted(method.upper() for method in operations)
    return []
