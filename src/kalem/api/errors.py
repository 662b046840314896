"""Every error leaves as JSON in the envelope of the face that was called — never a stack trace.

The native envelope is `{"error": {"code", "message", "details", "request_id"}}`; a problem with one
field is always `details.errors[] = {field, problem}`. Each face brings a renderer for its paths
(`api.app.Face.errors`), kept on the app it was built into; the first whose predicate matches the
request path wins.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.applications import Starlette
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from kalem.api.error_bodies import (
    DATABASE_UNAVAILABLE,
    HTTP_ERROR,
    INTERNAL_ERROR,
    INVALID_CHARACTERS,
    INVALID_REQUEST,
    MALFORMED_JSON,
    METHOD_NOT_ALLOWED,
    NUMBER_OUT_OF_RANGE,
    PAYLOAD_TOO_LARGE,
    RATE_LIMITED,
    ROUTE_NOT_FOUND,
    TOO_MANY_ITEMS,
    invalid_fields,
    jsonable,
    native_error,
)
from kalem.api.request_id import current_request_id
from kalem.domain.errors import AuthenticationFailed, Conflict, KalemError, PermissionDenied

log = logging.getLogger("kalem.api")
CLIENT_CLOSED_REQUEST = 499

#: (code, status, message, details) -> response
Renderer = Callable[[str, int, str, dict[str, Any]], JSONResponse]
#: A face's paths (a predicate on the request path) and the renderer of their errors.
PathRenderer = tuple[Callable[[str], bool], Renderer]


def native(code: str, status: int, message: str, details: dict[str, Any]) -> JSONResponse:
    return JSONResponse({"error": {**native_error(code, message, details), "request_id": current_request_id()}},
                        status_code=status)


def renderer_for(app: Starlette, path: str) -> Renderer:
    """The renderer of the face `path` belongs to, among those of the app serving it."""
    renderers: list[PathRenderer] = getattr(app.state, "error_renderers", [])
    return next((r for matches, r in renderers if matches(path)), native)


def render(request: Request, code: str, status: int, message: str, details: dict[str, Any] | None = None,
           headers: dict[str, str] | None = None) -> JSONResponse:
    # The scope's path, not `request.url.path`: rebuilding the URL drops tabs and newlines (urllib's
    # URL cleaning), so `/v1/refunds/%09` would look like another face's `/v1/refunds`.
    response = renderer_for(request.app, request.scope["path"])(code, status, message, details or {})
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


#: The database is unreachable (stopped, restarting, network) or the pool is exhausted: a 503
#: (`DATABASE_UNAVAILABLE`) that invites a retry. Nothing was applied unless the request was
#: acknowledged; retrying with the same `Idempotency-Key` is safe (docs/api.md, "When the database is away").
DATABASE_UNAVAILABLE_MESSAGE = "the database is not reachable; retry shortly"
RETRY_AFTER_SECONDS = 1


def is_database_unavailable(exc: BaseException) -> bool:
    return isinstance(exc, (OperationalError, PoolTimeout)) or (
        isinstance(exc, DBAPIError) and exc.connection_invalidated)


def database_unavailable(request: Request, exc: BaseException) -> JSONResponse:
    log.warning("database unavailable: %s", exc.__class__.__name__)  # no stack: an outage, not a bug
    return render(request, DATABASE_UNAVAILABLE, 503, DATABASE_UNAVAILABLE_MESSAGE,
                  headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


def validation_code(errors: Sequence[Any]) -> str:
    """The stable code of a failed request validation: a list over its bound (lines, items, ids per
    request) is `too_many_items` — the caller should split the batch, not fix a field."""
    return TOO_MANY_ITEMS if errors and errors[0].get("type") == "too_long" else INVALID_REQUEST


_HTTP_CODES = {404: ROUTE_NOT_FOUND, 405: METHOD_NOT_ALLOWED, 413: PAYLOAD_TOO_LARGE,
               401: AuthenticationFailed.code, 403: PermissionDenied.code, 429: RATE_LIMITED}


def install(app: FastAPI) -> None:
    @app.exception_handler(KalemError)
    async def _kalem(request: Request, exc: KalemError) -> JSONResponse:
        retry = exc.details.get("retry_after") if exc.status in (429, 503) else None
        native_path = renderer_for(request.app, request.scope["path"]) is native
        return render(request, exc.code if native_path else exc.face_code, exc.status, exc.message,
                      jsonable(exc.details), headers={"Retry-After": str(retry)} if retry else None)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        bad_json = next((e for e in errors if e.get("type") == "json_invalid"), None)
        if bad_json is not None:
            problem = bad_json.get("ctx", {}).get("error")
            return render(request, MALFORMED_JSON, 400, "the body is not valid JSON",
                          {"position": bad_json["loc"][-1], "problem": problem})
        message, details = invalid_fields(errors)
        if not details["errors"][0]["field"] and not _json_typed(request):
            details["hint"] = "send the body as JSON with the header Content-Type: application/json"
        return render(request, validation_code(errors), 422,
                      f"{message} ({details['hint']})" if "hint" in details else message, details)

    @app.exception_handler(ClientDisconnect)
    async def _left(request: Request, exc: ClientDisconnect) -> Response:
        return _client_left()

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if isinstance(exc.__cause__, ClientDisconnect):  # FastAPI's "error parsing the body": the client left
            return _client_left()
        if isinstance(exc.__cause__, RecursionError):  # FastAPI's "error parsing the body": nested too deep
            return render(request, MALFORMED_JSON, 400, "the body is not valid JSON: it is nested too deeply",
                          {"problem": "nested too deeply"})
        code = _HTTP_CODES.get(exc.status_code, HTTP_ERROR)
        return render(request, code, exc.status_code, str(exc.detail), headers=getattr(exc, "headers", None))

    @app.exception_handler(OperationalError)
    @app.exception_handler(PoolTimeout)
    async def _database_down(request: Request, exc: Exception) -> JSONResponse:
        return database_unavailable(request, exc)

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, exc: IntegrityError) -> JSONResponse:
        # A concurrent twin won a uniqueness race (same order number, line id, key): nothing was applied.
        return render(request, Conflict.code, 409, "a concurrent request created the same resource; retry to see it")

    @app.exception_handler(DataError)
    async def _unstorable(request: Request, exc: DataError) -> JSONResponse:
        return render(request, INVALID_CHARACTERS, 422, "the input holds characters that cannot be stored "
                      "(such as NUL)")

    @app.exception_handler(OverflowError)
    async def _out_of_range(request: Request, exc: OverflowError) -> JSONResponse:
        # SQLite's driver refuses integers beyond 64 bits before the statement runs.
        return render(request, NUMBER_OUT_OF_RANGE, 422, "a number in the request is out of range")

    @app.exception_handler(DBAPIError)
    async def _database_error(request: Request, exc: DBAPIError) -> JSONResponse:
        if is_database_unavailable(exc):  # a lost connection, whatever class the driver gave it
            return database_unavailable(request, exc)
        log.exception("database error")
        return render(request, INTERNAL_ERROR, 500, "an internal error occurred")

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")
        return render(request, INTERNAL_ERROR, 500, "an internal error occurred")


def _client_left() -> Response:
    """The client closed the connection before its body arrived: nobody will read an answer, so the
    status is only for the access log, 499 as nginx logs it (a client's doing, not a server error)."""
    return Response(status_code=CLIENT_CLOSED_REQUEST)


def _json_typed(request: Request) -> bool:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return kind == "application/json" or kind.endswith("+json")
