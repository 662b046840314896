"""Typed event data: a frozen dataclass per event type, and the dict its `data` is stored and sent as.

Each field becomes one key, in field order; a value is written as JSON has it (a Decimal as its
string, tuples as lists, a part as its own dict). A field with `ABSENT_WHILE_NONE` metadata is left
out while it is None, as kalem has always written such keys. `from_data` reads the dict back.

The parts an event holds (an item, a package) are typed NamedTuples: built on every cancel, they
cost a third of what a frozen dataclass does. How each class is written and read is worked out once,
from its type hints, and kept; its writer is compiled to one dict display, so writing an event's dict
costs what writing it out by hand would (no `dataclasses.asdict` deep copies).
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal, Self

_OPTIONAL = "kalem.optional_key"
#: Field metadata (`field(default=None, metadata=ABSENT_WHILE_NONE)`): the key is left out while the value is None.
ABSENT_WHILE_NONE = {_OPTIONAL: "absent"}
#: Field metadata: the key may be left out, and when the class's own `to_data` writes it, it may be null.
ABSENT_OR_NULL = {_OPTIONAL: "nullable"}


@dataclass(frozen=True, slots=True)
class Doc:
    """What a field means, for its JSON Schema (`Annotated[int, Doc("…")]`)."""

    text: str


#: Unit numbers as `[first, last]` spans (a UnitSet's spans).
Spans = Annotated[tuple[tuple[int, int], ...], Doc("the unit numbers concerned, as [first, last] spans")]
#: A line's units counted by state (a Ledger as a dict).
Counts = Annotated[Mapping[str, int], Doc("units by state: open, pending_cancel, cancelled, shipped, …")]

Load = Callable[[Any], Any]


class EventData:
    """The data of one event type, a frozen dataclass: `TYPE` names it, `VERSION` counts the changes
    to its shape (rows of an older version are read through `upcasters`); the class docstring
    describes it in the catalog."""

    __slots__ = ()
    TYPE: ClassVar[str]
    VERSION: ClassVar[int] = 1

    def to_data(self) -> dict[str, Any]:
        try:
            write = _WRITERS[type(self)]
        except KeyError:
            write = _WRITERS[type(self)] = codec(type(self)).write
        return write(self)

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Self:
        return codec(cls).read(data)  # type: ignore[no-any-return]


@dataclass(frozen=True, slots=True)
class Key:
    """One field: its key, its type, whether the key may be absent, and how its value is read."""

    name: str
    hint: Any
    optional: Literal["absent", "nullable"] | None
    load: Load | None    # None: read as it is


@dataclass(frozen=True, slots=True)
class Codec:
    keys: tuple[Key, ...]
    write: Callable[[Any], dict[str, Any]]
    read: Callable[[Mapping[str, Any]], Any]


_CODECS: dict[type, Codec] = {}
_WRITERS: dict[type, Callable[[Any], dict[str, Any]]] = {}  # the same writers, one look-up away


def codec(cls: type) -> Codec:
    """How an event dataclass or a part is written and read (worked out on first use)."""
    found = _CODECS.get(cls)
    if found is None:
        found = _CODECS[cls] = _codec_of(cls)
    return found


def is_part(hint: Any) -> bool:
    """Is this type a part (a NamedTuple an event holds)?"""
    return isinstance(hint, type) and issubclass(hint, tuple) and hasattr(hint, "_fields")


def _codec_of(cls: type) -> Codec:
    hints = typing.get_type_hints(cls, include_extras=True)
    if is_part(cls):
        names, optional = cls._fields, dict.fromkeys(cls._fields)  # type: ignore[attr-defined]
    else:
        found = dataclasses.fields(cls)
        names, optional = tuple(f.name for f in found), {f.name: f.metadata.get(_OPTIONAL) for f in found}
    keys = tuple(Key(name, hints[name], optional[name], _loader(hints[name])) for name in names)
    return Codec(keys, _writer(cls, keys), _reader(cls, keys))


def _writer(cls: type, keys: tuple[Key, ...]) -> Callable[[Any], dict[str, Any]]:
    """A function writing one class's dict, made from its keys the way `dataclasses` makes `__init__`:
    as code rather than a loop over the fields, since every cancel writes an event."""
    values = [_expression(k.hint, _field(cls, "obj", i, k.name)) for i, k in enumerate(keys)]
    # One dict display of the keys always written first (every key, mostly); then each key left out while None.
    leading = next((i for i, k in enumerate(keys) if k.optional), len(keys))
    lines = ["def write(obj):", f"    data = {_display(keys[:leading], values[:leading])}"]
    for key, value in zip(keys[leading:], values[leading:], strict=True):
        if key.optional:
            lines += [f"    if obj.{key.name} is not None:", f"        data[{key.name!r}] = {value}"]
        else:
            lines.append(f"    data[{key.name!r}] = {value}")
    lines.append("    return data")
    made: dict[str, Any] = {}
    exec("\n".join(lines), made)  # noqa: S102 - the source is made here from field names and types only
    return made["write"]  # type: ignore[no-any-return]


def _field(cls: type, ref: str, index: int, name: str) -> str:
    return f"{ref}[{index}]" if is_part(cls) else f"{ref}.{name}"


def _display(keys: tuple[Key, ...], values: list[str]) -> str:
    return "{" + ", ".join(f"{k.name!r}: {v}" for k, v in zip(keys, values, strict=True)) + "}"


def _expression(hint: Any, ref: str, depth: int = 0) -> str:
    """Python code for the JSON value of `ref`, a value of type `hint` (a part's dict written in place)."""
    hint = strip(hint)
    inner = optional_of(hint)
    if inner is not None:
        value = _expression(inner, ref, depth)
        return ref if value == ref else f"(None if {ref} is None else {value})"
    if is_part(hint):
        keys = codec(hint).keys
        return _display(keys, [_expression(k.hint, _field(hint, ref, i, k.name), depth) for i, k in enumerate(keys)])
    if hint is Decimal:
        return f"str({ref})"
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            if args[0] == tuple[int, int]:  # spans, written as `UnitSet.as_list` writes them
                return f"[[a{depth}, b{depth}] for a{depth}, b{depth} in {ref}]"
            item = f"x{depth}"
            value = _expression(args[0], item, depth + 1)
            return f"list({ref})" if value == item else f"[{value} for {item} in {ref}]"
        return f"list({ref})"  # a fixed-length tuple of plain values
    return ref


def _reader(cls: type, keys: tuple[Key, ...]) -> Callable[[Mapping[str, Any]], Any]:
    def read(data: Mapping[str, Any]) -> Any:
        values = {}
        for key in keys:
            value = data.get(key.name) if key.optional else data[key.name]
            values[key.name] = value if value is None or key.load is None else key.load(value)
        return cls(**values)
    return read


def _loader(hint: Any) -> Load | None:
    """How a value of this type is read back from the data (None: as it is)."""
    hint = strip(hint)
    inner = optional_of(hint)
    if inner is not None:  # None stays None; the other value as its type says
        return _loader(inner)
    if is_part(hint):
        return codec(hint).read
    if hint is Decimal:
        return Decimal
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            load = _loader(args[0])
            return (lambda v: tuple(load(x) for x in v)) if load else tuple
        return tuple  # a fixed-length tuple of plain values, e.g. a span
    if origin in (Mapping, dict):
        return dict
    return None


def strip(hint: Any) -> Any:
    """The type under `Annotated[…]`."""
    return typing.get_args(hint)[0] if typing.get_origin(hint) is Annotated else hint


def optional_of(hint: Any) -> Any:
    """`X` for `X | None`, else None."""
    if typing.get_origin(hint) in (types.UnionType, typing.Union):
        args = typing.get_args(hint)
        rest = [a for a in args if a is not type(None)]
        if len(rest) == 1 and len(args) == 2:
            return rest[0]
    return None
