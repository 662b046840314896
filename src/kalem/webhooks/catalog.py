"""The webhook event catalog, published twice from one list: `GET /v1/webhook-event-types` and the
OpenAPI 3.1 `webhooks` section of `/openapi.json` (one entry per event type, the body per dialect,
under the HTTP method it is sent with).

`install(schemas)` returns the hook `api.app.create_app(extra=...)` runs; the faces' body schemas
(dialect → {event type: JSON Schema}) come from the composition root and are kept on the app.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from fastapi import APIRouter, FastAPI, Request

from kalem.api.schemas_out import ERRORS
from kalem.api.schemas_out_webhooks import EventTypeList
from kalem.domain.events import EVENT_TYPES
from kalem.webhooks import registry

router = APIRouter(tags=["webhooks"])


#: dialect → {event type: JSON Schema of one body it renders}
Schemas = Mapping[str, Mapping[str, dict[str, Any]]]


def body_schemas(schemas: Schemas, event_type: str) -> dict[str, dict[str, Any]]:
    """dialect → the JSON Schema of the body a subscription of that dialect receives for `event_type`
    (dialects with no body for it are left out)."""
    found = {"native": registry.native_schema(event_type)}
    for dialect in sorted(schemas):
        if event_type in schemas[dialect]:
            found[dialect] = schemas[dialect][event_type]
    return found


def catalog(schemas: Schemas) -> list[dict[str, Any]]:
    return [{"type": t.name, "description": t.description, "bodies": body_schemas(schemas, t.name)}
            for t in EVENT_TYPES.values()]


@router.get("/v1/webhook-event-types", summary="Every event type a subscription can name, with its bodies",
            response_model=EventTypeList, responses={429: ERRORS[429]})
def list_event_types(request: Request) -> dict[str, Any]:
    """`bodies` maps each dialect that sends something for the type to the JSON Schema of one body;
    a dialect left out sends nothing for that type (its deliveries are `skipped`)."""
    return {"data": catalog(request.app.state.webhook_schemas)}


#: The key a dialect's body schema names its HTTP method with, when its platform documents one other than POST.
METHOD = "x-http-method"


def _webhook(entry: dict[str, Any]) -> dict[str, Any]:
    """One operation per HTTP method the bodies go out with (POST unless a dialect names another)."""
    by_method: dict[str, dict[str, dict[str, Any]]] = {}
    for dialect, schema in entry["bodies"].items():
        by_method.setdefault(schema.get(METHOD, "POST").lower(), {})[dialect] = schema
    return {method: {
        "summary": entry["description"],
        "description": f"Sent to subscriptions naming `{entry['type']}` (or a pattern matching it), in the "
                       f"subscription's dialect ({', '.join(bodies)}). Signed per Standard Webhooks unless the "
                       "subscription chose another auth kind.",
        "requestBody": {"required": True, "content": {"application/json": {"schema": {"oneOf": [
            {"title": dialect, **schema} for dialect, schema in bodies.items()]}}}},
        "responses": {"2XX": {"description": "received; any other answer is retried"}},
    } for method, bodies in by_method.items()}


def install(schemas: Schemas) -> Callable[[FastAPI], None]:
    def _install(app: FastAPI) -> None:
        app.state.webhook_schemas = schemas
        app.include_router(router)
        build = app.openapi

        def openapi() -> dict[str, Any]:
            if app.openapi_schema is None:
                build()["webhooks"] = {entry["type"]: _webhook(entry) for entry in catalog(schemas)}
            return app.openapi_schema  # type: ignore[return-value]

        app.openapi = openapi  # type: ignore[method-assign]

    return _install
