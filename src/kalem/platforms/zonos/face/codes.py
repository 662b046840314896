"""The Zonos face's own `extensions.code`s, for what GraphQL over HTTP, the parser and validation
refuse before any use case runs. A kalem error leaves with its `face_code` in upper case
(`schema.zonos_error`), and the HTTP edge's codes are kalem's, in upper case too (docs/graphql.md)."""

from __future__ import annotations

from kalem.api import error_bodies as edge

NOT_ACCEPTABLE = "NOT_ACCEPTABLE"                    # 406: the Accept header allows no JSON
UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"    # 415: a POST body that is not application/json
BATCHING_NOT_SUPPORTED = "BATCHING_NOT_SUPPORTED"    # a JSON array of operations
GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
QUERY_TOO_DEEP = "QUERY_TOO_DEEP"
QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"

INVALID_REQUEST = edge.INVALID_REQUEST.upper()
MALFORMED_JSON = edge.MALFORMED_JSON.upper()
METHOD_NOT_ALLOWED = edge.METHOD_NOT_ALLOWED.upper()
INTERNAL_ERROR = edge.INTERNAL_ERROR.upper()
