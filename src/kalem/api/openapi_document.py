"""The OpenAPI document the app publishes (`/openapi.json`, `/docs`), completed with what FastAPI does
not see by itself.

The bearer credential is read off the request by `api.context.bearer_principal` (not declared as a
header: FastAPI's resolution of a declared one costs every request), so FastAPI cannot tell which
operations need it. Every operation that depends on it is declared here to take the `bearer` scheme,
which is what Swagger UI's "Authorize" sends the token with; an operation that reads the credential
itself declares `openapi_extra={"security": BEARER_REQUIRED}`. Each native operation's error responses
get examples of their own (api/error_examples.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from kalem.api import error_examples
from kalem.api.context import bearer_principal

BEARER = "bearer"
BEARER_SCHEME: dict[str, Any] = {
    "type": "http", "scheme": "bearer",
    "description": "`Authorization: Bearer <token>`: a kalem token (`kalem_…`, from `kalem token create`), the "
                   "admin token, or a JWT a face's login answered",
}
BEARER_REQUIRED: list[dict[str, list[str]]] = [{BEARER: []}]


def install(app: FastAPI, routes: Callable[[], Iterable[Any]]) -> None:
    """Complete the document once, when it is first asked for (FastAPI builds and caches it then);
    `routes`: the app's routes that requests are matched to."""
    build: Callable[[], dict[str, Any]] = app.openapi

    def document() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = build()
            declare_bearer(document, routes())
            error_examples.document_errors(document, BEARER)
        assert app.openapi_schema is not None  # `build` caches what it builds
        return app.openapi_schema

    app.openapi = document  # type: ignore[method-assign]  # FastAPI's documented way to change the document


def declare_bearer(document: dict[str, Any], routes: Iterable[Any]) -> None:
    operations = [(route.path_format, method.lower()) for route in routes
                  if isinstance(route, APIRoute) and route.include_in_schema and _takes_bearer(route.dependant)
                  for method in route.methods or ()]
    for path, method in operations:
        document["paths"][path][method].setdefault("security", BEARER_REQUIRED)
    document.setdefault("components", {}).setdefault("securitySchemes", {})[BEARER] = BEARER_SCHEME


def _takes_bearer(dependant: Dependant) -> bool:
    return any(d.call is bearer_principal or _takes_bearer(d) for d in dependant.dependencies)
