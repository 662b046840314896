"""The webhook event catalog, published twice from one list: `GET /v1/webhook-event-types` and the
OpenAPI 3.1 `webhooks` section of `/openapi.json` (one entry per event type, the body per dialect)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI

from kalem.domain.event_catalog import EVENT_TYPES
from kalem.webhooks import registry

router = APIRouter(tags=["webhooks"])


def catalog() -> list[dict[str, Any]]:
    return [{"type": t.name, "description": t.description, "bodies": registry.body_schemas(t.name)}
            for t in EVENT_TYPES.values()]


@router.get("/v1/webhook-event-types", summary="Every event type a subscription can name, with its bodies")
def list_event_types() -> dict[str, Any]:
    """`bodies` maps each dialect that sends something for the type to the JSON Schema of one body;
    a dialect left out sends nothing for that type (its deliveries are `skipped`)."""
    return {"data": catalog()}


def _webhook(entry: dict[str, Any]) -> dict[str, Any]:
    dialects = ", ".join(entry["bodies"])
    bodies = [{"title": dialect, **schema} for dialect, schema in entry["bodies"].items()]
    return {"post": {
        "summary": entry["description"],
        "description": f"Sent to subscriptions naming `{entry['type']}` (or a pattern matching it), in the "
                       f"subscription's dialect ({dialects}). Signed per Standard Webhooks unless the "
                       "subscription chose another auth kind.",
        "requestBody": {"required": True, "content": {"application/json": {"schema": {"oneOf": bodies}}}},
        "responses": {"2XX": {"description": "received; any other answer is retried"}},
    }}


def install(app: FastAPI) -> None:
    app.include_router(router)
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            build()["webhooks"] = {entry["type"]: _webhook(entry) for entry in catalog()}
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = openapi  # type: ignore[method-assign]
