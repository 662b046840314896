"""Typed events: each event type's dataclass writes its `data` and reads it back unchanged, a cancel's
data keeps the layout kalem has always stored, each schema names the dataclass's fields, and rows
written before units had numbers are read as today's events."""

from __future__ import annotations

import json
import typing
from collections.abc import Mapping
from dataclasses import fields
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kalem.domain.events import (
    EVENT_TYPES,
    CancelRequestApproved,
    EventData,
    LinesCancelled,
    current_data,
    upcast,
)
from kalem.domain.events.cancels import CancelledLine
from kalem.domain.events.data import codec, is_part, optional_of
from kalem.domain.events.event import Actor, EventRecorder
from kalem.domain.events.parts import LeftPackage, PackageUnits
from kalem.domain.events.upcasters import UPCASTERS, version_of
from kalem.store.codec import dumps
from tests.old_events import OLD_ROWS

CLASSES = [t.data_class for t in EVENT_TYPES.values()]
JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=5),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                                        max_size=3), max_leaves=6)


def strategy(hint: Any) -> st.SearchStrategy[Any]:
    """Values of a field's type, made from its type hint as the codec reads it."""
    if typing.get_origin(hint) is Annotated:
        return strategy(typing.get_args(hint)[0])
    inner = optional_of(hint)
    if inner is not None:
        return st.none() | strategy(inner)
    if hint is str:
        return st.text(max_size=6)
    if hint is int:
        return st.integers(-10**6, 10**6)
    if hint is Decimal:
        return st.decimals(allow_nan=False, allow_infinity=False, places=2, min_value=-10**6, max_value=10**6)
    if is_part(hint):
        return st.builds(hint, **{k.name: strategy(k.hint) for k in codec(hint).keys})
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is tuple and args[-1] is Ellipsis:
        return st.lists(strategy(args[0]), max_size=3).map(tuple)
    if origin is tuple:
        return st.tuples(*map(strategy, args))
    if origin is Mapping:
        values = st.integers(0, 99) if args[1] is int else JSON_VALUES
        return st.dictionaries(st.text(max_size=6), values, max_size=3)
    raise AssertionError(f"no strategy for {hint!r}")


def events_of(cls: type[EventData]) -> st.SearchStrategy[EventData]:
    return st.builds(cls, **{k.name: strategy(k.hint) for k in codec(cls).keys})


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.TYPE)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_each_event_type_round_trips_through_its_data_and_json(cls: type[EventData], data: st.DataObject) -> None:
    event = data.draw(events_of(cls))
    written = event.to_data()
    assert type(event).from_data(written) == event
    text = dumps(written)
    assert cls.from_data(json.loads(text)) == event
    # Read back from the stored text and written again: the same bytes.
    assert dumps(cls.from_data(json.loads(text)).to_data()) == text
    names = [f.name for f in fields(event)]  # type: ignore[arg-type]
    if isinstance(event, LinesCancelled) and event.platform is not None:  # a split's layout: every key
        assert set(written) == set(names)
    else:  # the fields in order, but those left out while None
        absent = {f.name for f in fields(event) if f.metadata and getattr(event, f.name) is None}  # type: ignore[arg-type]
        assert list(written) == [name for name in names if name not in absent]


def _cancel(via: str | None = None, **split: Any) -> LinesCancelled:
    return LinesCancelled(items=(CancelledLine("L1", 2, 136, None, 2, ((1, 2),)),),
                          packages=(LeftPackage("P1", "Cancelled", (PackageUnits("L1", 2, ((1, 2),)),)),),
                          via=via, **split)


def test_a_cancel_keeps_the_layout_kalem_has_always_stored() -> None:
    item = '{"line_id":"L1","quantity":2,"reason_id":136,"note":null,"cancelled_total":2,"units":[[1,2]]}'
    package = '{"package_id":"P1","status":"Cancelled","items":[{"line_id":"L1","quantity":2,"units":[[1,2]]}]}'
    assert dumps(_cancel().to_data()) == f'{{"items":[{item}],"packages":[{package}]}}'
    assert dumps(_cancel("hebiar").to_data()) == f'{{"items":[{item}],"packages":[{package}],"via":"hebiar"}}'
    # A split's cancel names itself and its platform first, and its refund estimate (or null) last.
    assert dumps(_cancel("split", platform="n11").to_data()) == \
        f'{{"via":"split","platform":"n11","items":[{item}],"packages":[{package}],"refund":null}}'
    split = _cancel("split", platform="n11", refund={"currency": "TRY", "total": "10.00"})
    assert list(split.to_data()) == ["via", "platform", "items", "packages", "refund"]
    assert LinesCancelled.from_data(json.loads(dumps(split.to_data()))) == split


def test_the_recorder_numbers_typed_events_and_keeps_their_data() -> None:
    now = datetime(2026, 12, 1, tzinfo=UTC)
    recorder = EventRecorder("o1", "acme", "1001", 4, Actor("seller", "tok", "acme"), now)
    recorder.record(_cancel())
    recorder.record(CancelRequestApproved(cancel_request_id="cr1", items=(), packages=(), note="ok"))
    assert [(e.type, e.sequence, e.actor) for e in recorder.events] == [
        ("lines.cancelled", 5, "seller:tok"), ("cancel_request.approved", 6, "seller:tok")]
    assert recorder.events[0].data == _cancel().to_data()
    assert recorder.events[1].data == {"cancel_request_id": "cr1", "items": [], "packages": [], "note": "ok"}


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.TYPE)
def test_each_schema_names_the_dataclass_fields(cls: type[EventData]) -> None:
    schema = EVENT_TYPES[cls.TYPE].data_schema()
    keys = codec(cls).keys
    assert list(schema["properties"]) == [k.name for k in keys]
    assert schema.get("required", []) == [k.name for k in keys if not k.optional]
    assert schema["additionalProperties"] is True
    assert EVENT_TYPES[cls.TYPE].description == cls.__doc__


def test_money_is_a_decimal_string_and_units_are_spans() -> None:
    refund = EVENT_TYPES["refund.created"].data_schema()["properties"]
    assert refund["amount"] == {"type": "string", "description": "decimal amount, e.g. \"12.50\""}
    assert refund["forced_amount"]["type"] == ["string", "null"]
    item = EVENT_TYPES["lines.cancelled"].data_schema()["properties"]["items"]["items"]
    assert item["properties"]["units"]["items"] == {"type": "array", "items": {"type": "integer"},
                                                    "minItems": 2, "maxItems": 2}
    assert item["properties"]["note"]["type"] == ["string", "null"]
    cancelled = EVENT_TYPES["lines.cancelled"].data_schema()["properties"]
    assert cancelled["via"]["type"] == "string" and cancelled["refund"]["type"] == ["object", "null"]


# --- rows written before units had numbers (version 1) -----------------------------------------

@pytest.mark.parametrize(("event_type", "old", "now"), OLD_ROWS, ids=[f"{t}-{i}" for i, (t, *_) in enumerate(OLD_ROWS)])
def test_a_row_written_before_units_had_numbers_is_read_as_todays_event(event_type: str, old: dict[str, Any],
                                                                       now: dict[str, Any]) -> None:
    stored = json.loads(dumps(old))
    assert version_of(event_type, stored) == 1 < EVENT_TYPES[event_type].data_class.VERSION
    event = upcast(event_type, stored)
    assert type(event) is EVENT_TYPES[event_type].data_class
    assert dumps(event.to_data()) == dumps(now)  # the same keys, in the order kalem writes them today
    assert dumps(current_data(event_type, stored)) == dumps(now)
    assert stored == json.loads(dumps(old))  # the row read is left as it was
    assert version_of(event_type, now) == EVENT_TYPES[event_type].data_class.VERSION


def test_every_version_before_the_current_one_has_its_upcaster() -> None:
    for entry in EVENT_TYPES.values():
        assert all(v in UPCASTERS for v in range(1, entry.data_class.VERSION))
    assert {t for t, *_ in OLD_ROWS} == {t for t, e in EVENT_TYPES.items() if e.data_class.VERSION > 1}


def test_a_current_row_and_an_unknown_type_are_read_as_stored() -> None:
    stored = json.loads(dumps(_cancel().to_data()))
    assert current_data("lines.cancelled", stored) is stored
    assert upcast("lines.cancelled", stored) == _cancel()
    noted = {"anything": [1, 2]}
    assert current_data("order.noted", noted) is noted
    with pytest.raises(LookupError):
        upcast("order.noted", noted)
