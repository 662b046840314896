"""Event rows written by older versions of kalem, read as today's events: the one place that knows
their shapes.

A row names its type; its version is implied by its shape. Each event type's dataclass says its
current `VERSION`; reading takes an older row up one version at a time, through the one upcaster of
each version, and builds the current dataclass. A row at the current version is read as stored.

Version 1 → 2: units got numbers. Until then an item named how many units of a line an event
concerned, not which: its `units` spans were not written. Such an item is read with no spans (which
units they were is not known), and an approval written before the seller's note was kept has none.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from kalem.domain.events.catalog import EVENT_TYPES
from kalem.domain.events.data import EventData

#: Where the version-2 event types keep items that name units: paths of keys, through lists.
_UNIT_ITEMS: dict[str, tuple[tuple[str, ...], ...]] = {
    "lines.cancelled": (("items",), ("packages", "items")),
    "cancel_request.created": (("items",),),
    "cancel_request.approved": (("items",), ("packages", "items")),
    "cancel_request.rejected": (("items",),),
    "cancel_request.withdrawn": (("items",),),
    "package.split": (("children", "items"),),
    "package.approved": (("items",),),
    "package.shipped": (("items",),),
    "package.delivered": (("items",),),
    "return.requested": (("items",),),
    "return.approved": (("items",),),
    "return.rejected": (("items",),),
    "lines.returned": (("items",),),
}


def _items(data: Mapping[str, Any], path: tuple[str, ...]) -> list[dict[str, Any]]:
    found = list(data.get(path[0]) or ())
    return found if len(path) == 1 else [item for part in found for item in _items(part, path[1:])]


def _numbered_units(event_type: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """Version 1 → 2: every item gains `units`, empty; an approval without a note gains `note: null`."""
    copied: dict[str, Any] = _copied(data)
    for path in _UNIT_ITEMS[event_type]:
        for item in _items(copied, path):
            item.setdefault("units", [])
    if event_type == "cancel_request.approved":
        copied.setdefault("note", None)
    return copied


def _copied(value: Any) -> Any:
    """A copy of the row's dicts and lists: an upcaster never changes what it was given."""
    if isinstance(value, Mapping):
        return {k: _copied(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copied(v) for v in value]
    return value


#: The upcaster of each version: it takes a row of that version (of any type past it) to the next.
UPCASTERS: dict[int, Callable[[str, Mapping[str, Any]], dict[str, Any]]] = {1: _numbered_units}


def version_of(event_type: str, data: Mapping[str, Any]) -> int:
    """The version a stored row's shape implies."""
    paths = _UNIT_ITEMS.get(event_type)
    if paths is None:
        return 1
    unnumbered = any("units" not in item for path in paths for item in _items(data, path))
    return 1 if unnumbered else 2


def upcast(event_type: str, data: Mapping[str, Any]) -> EventData:
    """The current dataclass of a stored row's data, whichever version wrote it."""
    entry = EVENT_TYPES.get(event_type)
    if entry is None:
        raise LookupError(f"kalem records no event of type {event_type!r}")
    version = version_of(event_type, data)
    while version < entry.data_class.VERSION:
        data = UPCASTERS[version](event_type, data)
        version += 1
    return entry.data_class.from_data(data)


def current_data(event_type: str, data: dict[str, Any]) -> dict[str, Any]:
    """A stored row's data as the current version writes it: a current row as it is, an older one
    upcast; a type kalem does not record (a test's, a benchmark's) as it is."""
    entry = EVENT_TYPES.get(event_type)
    if entry is None or version_of(event_type, data) == entry.data_class.VERSION:
        return data
    return upcast(event_type, data).to_data()
