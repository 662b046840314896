"""GraphQL over HTTP (the GraphQL-over-HTTP draft): which media type a client gets, and the request
parameters of a POST (JSON body) or a GET (URL query), refused with a 4xx when not well-formed.

Two answers, by the `Accept` header: `application/graphql-response+json` gets the specification's
status codes (a document that does not parse or validate is a 400 without `data`); `application/json`,
`*/*` or no `Accept` at all — Zonos's own clients — get the platform's 200 with `errors` for every
GraphQL error. A request that is not well-formed GraphQL over HTTP is a 4xx for both.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kalem.platforms.zonos.face.codes import (
    BATCHING_NOT_SUPPORTED,
    INVALID_REQUEST,
    MALFORMED_JSON,
    NOT_ACCEPTABLE,
    UNSUPPORTED_MEDIA_TYPE,
)

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
#: How specific each acceptable media range is: at equal quality the more specific one wins.
_RANGES = {GRAPHQL_RESPONSE: 2, JSON: 1, "application/*": 0, "*/*": 0}


class Refusal(Exception):
    """A request refused before GraphQL runs: an HTTP status, a stable code and, for 405, `Allow`."""

    def __init__(self, status: int, code: str, message: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, dict(headers or {})


@dataclass(frozen=True)
class Params:
    query: str
    variables: dict[str, Any] | None = None
    operation_name: str | None = None
    extensions: dict[str, Any] | None = None


def media_type(accept: str | None) -> str:
    """The response's media type for an `Accept` header: the acceptable one of highest quality."""
    if not accept or not accept.strip():
        return JSON  # what clients that predate the specification expect
    best: tuple[float, int, str] | None = None
    for part in accept.split(","):
        name, *parameters = (piece.strip() for piece in part.split(";"))
        specificity = _RANGES.get(name.lower())
        if specificity is None:
            continue
        quality = _quality(parameters)
        candidate = (quality, specificity, GRAPHQL_RESPONSE if specificity == 2 else JSON)
        if quality > 0 and (best is None or candidate[:2] > best[:2]):
            best = candidate
    if best is None:
        raise Refusal(406, NOT_ACCEPTABLE, f"the response can be {GRAPHQL_RESPONSE} or {JSON}; "
                                           f"the Accept header allows neither")
    return best[2]


def _quality(parameters: list[str]) -> float:
    for parameter in parameters:
        key, _, value = parameter.partition("=")
        if key.strip().lower() == "q":
            try:
                return float(value)
            except ValueError:
                return 0.0
    return 1.0


def post_params(content_type: str | None, body: bytes) -> Params:
    if content_type is None or content_type.split(";")[0].strip().lower() != JSON:
        raise Refusal(415, UNSUPPORTED_MEDIA_TYPE, f"send the request as {JSON} (Content-Type: {JSON})")
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as exc:  # not JSON, empty, not UTF-8, or nested too deep
        raise Refusal(400, MALFORMED_JSON, "the body is not valid JSON") from exc
    if isinstance(data, list):
        raise Refusal(400, BATCHING_NOT_SUPPORTED, "send one operation per request; batches are not accepted")
    if not isinstance(data, dict):
        raise Refusal(400, INVALID_REQUEST, "the request must be a JSON object: {query, variables, operationName}")
    return _params(data.get("query"), data.get("variables"), data.get("operationName"), data.get("extensions"))


def get_params(query: str | None, variables: str | None, operation_name: str | None,
               extensions: str | None) -> Params:
    """A GET's parameters, from the URL; `variables` and `extensions` are JSON text, and an empty
    `operationName` is as if absent."""
    def decoded(name: str, text: str | None) -> Any:
        if not text:
            return None
        try:
            return json.loads(text)
        except (ValueError, RecursionError) as exc:
            raise Refusal(400, INVALID_REQUEST, f"{name} must be a JSON object") from exc
    return _params(query, decoded("variables", variables), operation_name or None,
                   decoded("extensions", extensions))


def _params(query: Any, variables: Any, operation_name: Any, extensions: Any) -> Params:
    """The parameters, each of its type (null is as if absent), or a 400."""
    if not isinstance(query, str):
        raise Refusal(400, INVALID_REQUEST, "query is required and must be a string (the GraphQL document)")
    for name, value in (("variables", variables), ("extensions", extensions)):
        if value is not None and not isinstance(value, dict):
            raise Refusal(400, INVALID_REQUEST, f"{name} must be an object or null")
    if operation_name is not None and not isinstance(operation_name, str):
        raise Refusal(400, INVALID_REQUEST, "operationName must be a string or null")
    return Params(query, variables, operation_name, extensions)


__all__ = ["GRAPHQL_RESPONSE", "JSON", "Params", "Refusal", "get_params", "media_type", "post_params"]
