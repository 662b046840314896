"""Mounting the Zonos face: `POST /graphql` (Strawberry), the SDL at `GET /graphql/schema.graphql`,
and GraphQL-shaped errors for whatever fails before GraphQL runs (body too large, bad JSON, GET)."""

from __future__ import annotations

import json
from typing import Any

from cross_web import HTTPException
from fastapi import Request
from fastapi.responses import JSONResponse, PlainTextResponse
from graphql import GraphQLError
from starlette.requests import HTTPConnection
from strawberry.fastapi import GraphQLRouter
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET

from kalem.api.app import Face
from kalem.dialects.zonos.schema import build_schema
from kalem.domain.errors import KalemError

PATH = "/graphql"
SDL_PATH = "/graphql/schema.graphql"


def _code_of(error: dict[str, Any]) -> str:
    """A stable code for errors GraphQL itself raised (they carry no kalem code)."""
    message = error.get("message", "")
    # Depth, aliases, cost and page size carry their code already (limits.py). These are the parser's
    # nesting limit, graphql-core's abort for fragments nested past it, and its introspection limit.
    if "nested too deeply" in message or message == "Validation aborted." \
            or message == "Maximum introspection depth exceeded":
        return "QUERY_TOO_DEEP"
    if "tokens. Parsing aborted" in message:
        return "QUERY_TOO_COMPLEX"
    if message.startswith("Syntax Error"):
        return "GRAPHQL_PARSE_FAILED"
    if "path" in error:  # raised while resolving, yet not a kalem error: a bug of ours
        return "INTERNAL_ERROR"
    return "GRAPHQL_VALIDATION_FAILED"


def _is_bug(error: GraphQLError) -> bool:
    """An exception that is neither a kalem error nor GraphQL's own, wherever it was raised (a
    resolver, a validation rule): a bug of ours, whose message must not reach the caller."""
    cause = error.original_error
    return cause is not None and not isinstance(cause, (KalemError, GraphQLError))


class Refused(HTTPException):
    """A request refused before GraphQL runs, with its stable code."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(400, reason)
        self.code = code


#: Strawberry's own transport refusals, by reason.
_REFUSALS = {
    "Unable to parse request body as JSON": "MALFORMED_JSON",
    "Unsupported content type": "UNSUPPORTED_MEDIA_TYPE",
    "queries are not allowed when using GET": "METHOD_NOT_ALLOWED",
    "mutations are not allowed when using GET": "METHOD_NOT_ALLOWED",
}


def _refusal_code(exc: HTTPException) -> str:
    if isinstance(exc, Refused):
        return exc.code
    if exc.status_code in (404, 405):
        return "ROUTE_NOT_FOUND" if exc.status_code == 404 else "METHOD_NOT_ALLOWED"
    return _REFUSALS.get(exc.reason, "INVALID_REQUEST")


class ZonosRouter(GraphQLRouter):
    def decode_json(self, data: str | bytes) -> object:
        # Strawberry assumes a JSON object (or a batch list) and failed with a 500 on anything else.
        try:
            body = json.loads(data)
        except ValueError as exc:  # JSONDecodeError, or bytes that are not UTF-8
            raise Refused("MALFORMED_JSON", "the body is not valid JSON") from exc
        if isinstance(body, list):
            raise Refused("BATCHING_NOT_SUPPORTED", "send one operation per request; batches are not accepted")
        if not isinstance(body, dict):
            raise Refused("INVALID_REQUEST", "the request must be a JSON object: {query, variables, operationName}")
        return body

    async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        try:
            return await super().run(request, context, root_value)
        except HTTPException as exc:  # Strawberry would answer in plain text
            return _error(_refusal_code(exc), exc.status_code, exc.reason, {})

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        response = await super().process_result(request, result)
        for raw, error in zip(result.errors or (), response.get("errors", [])):
            extensions = error.setdefault("extensions", {})
            if _is_bug(raw):
                extensions["code"] = "INTERNAL_ERROR"
            extensions.setdefault("code", _code_of(error))
            if extensions["code"] == "INTERNAL_ERROR":
                error["message"] = "an internal error occurred"  # never leak internals
        return response


def _error(code: str, status: int, message: str, details: dict[str, Any]) -> JSONResponse:
    # GraphQL answers refusals with 200 and an `errors` list (as Zonos does); only server trouble is 5xx,
    # and pacing is 429 (HTTP clients back off on the status, they do not read GraphQL errors for it).
    return JSONResponse({"data": None, "errors": [{"message": message, "extensions": {"code": code.upper()}}]},
                        status_code=status if status >= 500 or status == 429 else 200)


def face() -> Face:
    schema = build_schema()

    async def context(connection: HTTPConnection) -> dict[str, Any]:
        # An HTTPConnection, not a Request: Strawberry also runs this for a WebSocket handshake on
        # /graphql, which a Request parameter turned into a 500. Strawberry adds `request` and
        # `response` to the context itself.
        return {"kalem": connection.app.state.kalem}

    # No subscription_protocols: the schema has no subscriptions, so the face is HTTP POST only and a
    # WebSocket handshake is refused (4406) instead of opening a second, untested way in.
    router = ZonosRouter(schema, path=PATH, context_getter=context, graphql_ide=None,
                         allow_queries_via_get=False, subscription_protocols=(), tags=["Zonos GraphQL face"])
    sdl = schema.as_str() + "\n"

    @router.get(SDL_PATH, response_class=PlainTextResponse, summary="The Zonos face's schema (SDL)")
    def schema_sdl() -> str:
        return sdl

    return Face(router, {PATH: PATH, SDL_PATH: SDL_PATH},
                (lambda path: path.lower().rstrip("/").startswith(PATH), _error))
