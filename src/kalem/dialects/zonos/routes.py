"""Mounting the Zonos face: `POST /graphql` (Strawberry), the SDL at `GET /graphql/schema.graphql`,
and GraphQL-shaped errors for whatever fails before GraphQL runs (body too large, bad JSON)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from strawberry.fastapi import GraphQLRouter
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult

from kalem.api.errors import register_renderer
from kalem.dialects.zonos.schema import build_schema

PATH = "/graphql"
SDL_PATH = "/graphql/schema.graphql"


def _code_of(error: dict[str, Any]) -> str:
    """A stable code for errors GraphQL itself raised (they carry no kalem code)."""
    message = error.get("message", "")
    if "exceeds maximum operation depth" in message:
        return "QUERY_TOO_DEEP"
    if "tokens. Parsing aborted" in message or "aliases found" in message:
        return "QUERY_TOO_COMPLEX"
    if message.startswith("Syntax Error"):
        return "GRAPHQL_PARSE_FAILED"
    if "path" in error:  # raised while resolving, yet not a kalem error: a bug of ours
        return "INTERNAL_ERROR"
    return "GRAPHQL_VALIDATION_FAILED"


class ZonosRouter(GraphQLRouter):
    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        response = await super().process_result(request, result)
        for error in response.get("errors", []):
            extensions = error.setdefault("extensions", {})
            extensions.setdefault("code", _code_of(error))
            if extensions["code"] == "INTERNAL_ERROR":
                error["message"] = "an internal error occurred"  # never leak internals
        return response


def _error(code: str, status: int, message: str, details: dict[str, Any]) -> JSONResponse:
    # GraphQL answers refusals with 200 and an `errors` list (as Zonos does); only server trouble is 5xx.
    return JSONResponse({"data": None, "errors": [{"message": message, "extensions": {"code": code.upper()}}]},
                        status_code=status if status >= 500 else 200)


def face() -> tuple[APIRouter, dict[str, str]]:
    schema = build_schema()

    async def context(request: Request, response: Response) -> dict[str, Any]:
        return {"request": request, "response": response, "kalem": request.app.state.kalem}

    router = ZonosRouter(schema, path=PATH, context_getter=context, graphql_ide=None,
                         allow_queries_via_get=False, tags=["Zonos GraphQL face"])
    sdl = schema.as_str() + "\n"

    @router.get(SDL_PATH, response_class=PlainTextResponse, summary="The Zonos face's schema (SDL)")
    def schema_sdl() -> str:
        return sdl

    register_renderer(lambda path: path.lower().rstrip("/").startswith(PATH), _error)
    return router, {PATH: PATH, SDL_PATH: SDL_PATH}
