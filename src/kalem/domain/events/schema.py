"""The JSON Schema of an event's `data`, from its dataclass's field types.

Written here rather than by a schema library so the published schemas keep the plain form the
catalog has always had (`{"type": ["string", "null"]}`, no `$ref`s or titles): a str is a string,
an int an integer, a Decimal a decimal string, `X | None` adds null, a tuple is an array, a nested
part an object with its properties, a mapping an object; `Doc` adds a description.
"""

from __future__ import annotations

import typing
from collections.abc import Mapping
from decimal import Decimal
from typing import Annotated, Any

from kalem.domain.events.data import Doc, EventData, codec, is_part, optional_of, strip

_PLAIN = {str: "string", int: "integer", bool: "boolean"}
_DECIMAL = {"type": "string", "description": "decimal amount, e.g. \"12.50\""}


def data_schema(cls: type[EventData]) -> dict[str, Any]:
    """The schema of one event type's `data` (later versions may add keys: additional ones are allowed)."""
    return {**_object(cls), "additionalProperties": True}


def _object(cls: type) -> dict[str, Any]:
    properties, required = {}, []
    for key in codec(cls).keys:
        if key.optional:  # absent while None: when present, a value (or null, if the class writes it)
            hint = key.hint if key.optional == "nullable" else _without_none(key.hint)
            properties[key.name] = schema_of(hint)
        else:
            properties[key.name] = schema_of(key.hint)
            required.append(key.name)
    return {"type": "object", "properties": properties, **({"required": required} if required else {})}


def schema_of(hint: Any) -> dict[str, Any]:
    if typing.get_origin(hint) is Annotated:
        docs = [a.text for a in typing.get_args(hint)[1:] if isinstance(a, Doc)]
        return {**schema_of(strip(hint)), **({"description": docs[0]} if docs else {})}
    inner = optional_of(hint)
    if inner is not None:
        schema = schema_of(inner)
        return {**schema, "type": [schema["type"], "null"]}
    if hint in _PLAIN:
        return {"type": _PLAIN[hint]}
    if hint is Decimal:
        return dict(_DECIMAL)
    if is_part(hint):
        return _object(hint)
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return {"type": "array", "items": schema_of(args[0])}
        if len(set(args)) == 1:  # e.g. a [first, last] span
            return {"type": "array", "items": schema_of(args[0]), "minItems": len(args), "maxItems": len(args)}
    if origin in (Mapping, dict):
        values = args[1] if args else Any
        return {"type": "object", **({} if values is Any else {"additionalProperties": schema_of(values)})}
    raise TypeError(f"no JSON Schema for event data of type {hint!r}")


def _without_none(hint: Any) -> Any:
    """`Annotated[X | None, …]` → `Annotated[X, …]`; `X | None` → `X`."""
    if typing.get_origin(hint) is Annotated:
        inner, *extras = typing.get_args(hint)
        return Annotated[(_without_none(inner), *extras)]
    return optional_of(hint) or hint
