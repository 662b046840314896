"""Mounting the Zonos face: GraphQL over HTTP at `/graphql` (POST, and GET for queries), the SDL at
`GET /graphql/schema.graphql`, and GraphQL-shaped errors for whatever fails before GraphQL runs."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request, Response, WebSocket
from fastapi.responses import JSONResponse, PlainTextResponse

from kalem.api.app import Face
from kalem.platforms.zonos.face import inbound, transport
from kalem.platforms.zonos.face.codes import METHOD_NOT_ALLOWED
from kalem.platforms.zonos.face.execution import Executor, is_mutation
from kalem.platforms.zonos.face.schema import HOT_MUTATIONS, build_schema
from kalem.platforms.zonos.face.transport import GRAPHQL_RESPONSE, Params, Refusal

PATH = "/graphql"
SDL_PATH = "/graphql/schema.graphql"
TAG = "Zonos GraphQL face"

_ERRORS = {"type": "array", "items": {"type": "object", "required": ["message"], "properties": {
    "message": {"type": "string"}, "extensions": {"type": "object", "properties": {"code": {"type": "string"}}}}}}
_ANSWER = {"type": "object", "properties": {"data": {"type": ["object", "null"]}, "errors": _ERRORS}}
_MEDIA = {"application/json": {"schema": _ANSWER}, GRAPHQL_RESPONSE: {"schema": _ANSWER}}
#: What the HTTP edge answers for every route, GraphQL's included, before the request reaches it.
EDGE_REFUSALS = {413: "`payload_too_large`: the body is over the limit",
                 422: "`invalid_characters`: a NUL character in the URL or the body",
                 429: "`rate_limited`: too many requests for this credential; see Retry-After"}
RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "A GraphQL response: `data`, and `errors` for whatever failed. With `Accept: "
                         "application/json` (or none) also every GraphQL error, parse and validation included.",
          "content": _MEDIA},
    400: {"description": "Not a well-formed GraphQL-over-HTTP request (bad JSON, `query` missing, a parameter of "
                         f"the wrong type); with `Accept: {GRAPHQL_RESPONSE}` also a document that does not parse "
                         "or validate, or variables that do not fit it", "content": _MEDIA},
    405: {"description": "A mutation over GET (`Allow: POST`)", "content": _MEDIA},
    406: {"description": "An `Accept` header that allows no JSON", "content": _MEDIA},
    415: {"description": "A POST body that is not `application/json`", "content": _MEDIA},
    **{status: {"description": f"{description} (kalem's native error envelope: refused before the GraphQL "
                               "layer reads the request)"} for status, description in EDGE_REFUSALS.items()
       if status != 422},  # a GET's 422 is FastAPI's own entry; a POST's is added below
}
_REQUEST_BODY = {"required": True, "content": {"application/json": {"schema": {
    "type": "object", "required": ["query"], "properties": {
        "query": {"type": "string", "description": "the GraphQL document"},
        "variables": {"type": ["object", "null"]}, "operationName": {"type": ["string", "null"]},
        "extensions": {"type": ["object", "null"]}}}}}}


def _error(code: str, status: int, message: str, details: dict[str, Any]) -> JSONResponse:
    """A refusal before GraphQL ran (the app's middleware and routing, kept on the app): the request
    never became a GraphQL request, so its HTTP status stands. Only characters that cannot be stored
    (NUL in a variable) are an answer to the request's content, given as GraphQL errors with 200."""
    if status == 422:
        return JSONResponse({"data": None, **_errors(code, message)})
    return JSONResponse(_errors(code, message), status_code=status)


def _errors(code: str, message: str) -> dict[str, Any]:
    return {"errors": [{"message": message, "extensions": {"code": code.upper()}}]}


def _encoded(body: dict[str, Any], status: int, media: str, headers: dict[str, str] | None = None) -> Response:
    content = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
    return Response(content, status_code=status, media_type=media, headers=headers)


def face() -> Face:
    schema = build_schema()
    executor = Executor(schema, HOT_MUTATIONS)
    router = APIRouter(tags=[TAG])

    async def answer(request: Request, params: Params, media: str) -> Response:
        document = executor.document(params.query)
        if request.method == "GET" and is_mutation(document.operation(params.operation_name)):
            raise Refusal(405, METHOD_NOT_ALLOWED, "mutations are sent with POST", {"Allow": "POST"})
        # Resolvers set a status only for server trouble (503, with Retry-After): kept as it is.
        sub = Response()
        del sub.headers["content-length"]
        context = {"kalem": request.app.state.kalem, "request": request, "response": sub}
        outcome = await executor.run(document, params.operation_name, params.variables, context)
        spec = media == GRAPHQL_RESPONSE
        if not outcome.ran and spec:  # the specification's request error: no `data`, a 400
            return _encoded({"errors": outcome.errors}, 400, media)
        body: dict[str, Any] = {"data": outcome.data}
        if outcome.errors:
            body["errors"] = outcome.errors
        return _encoded(body, sub.status_code, media, dict(sub.headers))

    async def serve(request: Request, read: Callable[[], Awaitable[Params]]) -> Response:
        media = transport.JSON
        try:
            media = transport.media_type(request.headers.get("accept"))
            return await answer(request, await read(), media)
        except Refusal as refusal:
            return _encoded(_errors(refusal.code, refusal.message), refusal.status, media, refusal.headers)

    @router.post(PATH, summary="Run a GraphQL query or mutation",
                 responses={**RESPONSES, 422: {"description": f"{EDGE_REFUSALS[422]} (kalem's native error envelope)"}},
                 openapi_extra={"requestBody": _REQUEST_BODY})
    async def graphql_post(request: Request) -> Response:
        async def read() -> Params:
            return transport.post_params(request.headers.get("content-type"), await request.body())
        return await serve(request, read)

    @router.get(PATH, summary="Run a GraphQL query (no mutations over GET)", responses=RESPONSES)
    async def graphql_get(request: Request, query: str | None = None, variables: str | None = None,
                          operationName: str | None = None, extensions: str | None = None) -> Response:  # noqa: N803
        async def read() -> Params:
            return transport.get_params(query, variables, operationName, extensions)
        return await serve(request, read)

    @router.api_route(PATH, methods=["PUT", "PATCH", "DELETE"], include_in_schema=False)
    async def graphql_other_methods() -> Response:  # so that `Allow` names both methods, not the first route's
        return _encoded(_errors(METHOD_NOT_ALLOWED, "send GraphQL with POST (or GET for a query)"), 405,
                        transport.JSON, {"Allow": "GET, POST"})

    @router.websocket(PATH)
    async def graphql_websocket(websocket: WebSocket) -> None:
        await websocket.close(4406)  # no subscriptions, so no GraphQL over WebSocket: a second way in, untested

    inbound.add_routes(router)  # kalem as a Zonos merchant: Zonos' webhooks to its channel accounts
    sdl = schema.as_str() + "\n"

    @router.get(SDL_PATH, response_class=PlainTextResponse, summary="The Zonos face's schema (SDL)",
                responses={status: {"description": description} for status, description in EDGE_REFUSALS.items()
                           if status != 413})
    def graphql_schema() -> str:
        return sdl

    return Face(router, {PATH: PATH, SDL_PATH: SDL_PATH},
                (lambda path: path.lower().rstrip("/").startswith(PATH), _error), first=frozenset({("POST", PATH)}))
