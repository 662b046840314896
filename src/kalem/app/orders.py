"""Placing and reading orders."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, fields, is_dataclass, replace
from datetime import datetime
from decimal import Decimal
from operator import attrgetter
from typing import Any

from kalem.app.access import unknown_seller
from kalem.app.billing import default_rate_table
from kalem.app.ids import new_id
from kalem.app.principals import Principal, seller_for_new_order
from kalem.app.transaction import OrderTransaction
from kalem.domain.billing import invoice_placed
from kalem.domain.errors import LineIdInUse, OrderAlreadyExists, OrderInAnotherChannel, OrderNotFound
from kalem.domain.events import Event
from kalem.domain.orders import DIRECT, IntakeLimits, Order, OrderSpec, channel_name
from kalem.domain.orders import place_order as place
from kalem.store.codec import dumps
from kalem.store.intake import Stored
from kalem.store.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class PlaceOrder:
    spec: OrderSpec
    principal: Principal
    limits: IntakeLimits = IntakeLimits()
    #: An operator's order for a seller kalem does not know creates it only when this says so: a typo in
    #: `seller_id` is refused (`unknown_seller`), not a new seller. A seller's own is always known.
    new_seller: bool = False

    @property
    def seller_must_be_known(self) -> bool:
        return self.principal.role == "operator" and not self.new_seller


@dataclass(frozen=True, slots=True)
class Placed:
    order: Order
    created: bool


def place_order(uow: UnitOfWork, cmd: PlaceOrder) -> Placed:
    """Take in an order. The same number again with the same body is the same order (200)."""
    spec = seller_spec(cmd)
    seller_id = spec.seller_id
    fingerprint = intake_hash(spec)
    with OrderTransaction(uow) as tx:
        # One look-up whatever the number of lines (on PostgreSQL one statement for all of it).
        looked = uow.intake.look(seller_id, spec.order_number, {line.line_id for line in spec.lines},
                                 seller=cmd.seller_must_be_known)
        if not looked.seller_known:
            raise unknown_seller(seller_id)
        if looked.stored is not None:
            return tx.commit(Placed(uow.orders.get_by_id(identical(spec, fingerprint, looked.stored)), created=False))
        check_lines(spec, looked.in_use)
        order, events = taken_in(spec, cmd, uow.now())
        # A seller that must be known is there (read above); any other comes into being with its order.
        return tx.commit(Placed(tx.add(order, fingerprint, events, new_seller=not cmd.seller_must_be_known),
                                created=True))


def taken_in(spec: OrderSpec, cmd: PlaceOrder, now: datetime) -> tuple[Order, list[Event]]:
    """The order as taken in, with its events: `order.placed`, then `invoice.issued` when it is billed
    across a border (its invoice 1, the landed cost as placed)."""
    order, events = place(spec, order_id=new_id("ord"), actor=cmd.principal.actor, now=now, limits=cmd.limits)
    return invoice_placed(order, events, default_rate_table(), actor=cmd.principal.actor)


def identical(spec: OrderSpec, digest: str, stored: Stored) -> str:
    """The stored order's id if it is this very order (the same intake hash); else the number is taken —
    by an order of another channel (a second sale of one number), or by another body."""
    channel = channel_name(spec.channel)
    if stored.channel != channel:
        # Which channel holds it is not said: a platform's client learns nothing of another's orders.
        raise OrderInAnotherChannel(f"order {spec.order_number} exists under another channel than {channel}",
                                    order_number=spec.order_number, channel=channel)
    if stored.intake_hash != digest:
        raise OrderAlreadyExists(f"order {spec.order_number} exists with a different body",
                                 order_number=spec.order_number)
    return stored.id


def check_lines(spec: OrderSpec, in_use: set[tuple[str, str]]) -> None:
    """Refuses a line id that another order of the seller holds: the faces find orders by line ids."""
    for line in spec.lines:
        if (spec.seller_id, line.line_id) in in_use:
            raise LineIdInUse(f"line id {line.line_id} belongs to another order of this seller",
                              line_id=line.line_id)


def intake_hash(spec: OrderSpec) -> str:
    """What makes two intakes of one order number "the same order": its whole spec, seller included."""
    fields = _plain(spec)
    # Orders taken in before these fields existed hash alike.
    if fields.get("destination_country") is None:
        fields.pop("destination_country", None)
    if spec.details.empty:
        fields.pop("details", None)
    if fields.get("channel") == DIRECT:  # `direct` is the channel of those that named none
        fields["channel"] = None
    return hashlib.sha256(dumps(fields).encode()).hexdigest()


def _plain(value: Any) -> Any:
    """`dataclasses.asdict`, which the stored hashes were made with, as `dumps` will encode it: without
    its deep copies (a spec holds only immutable values), with amounts and times already text, and with
    a converter per type made once. Hashing was a fifth of the CPU of taking in an order in bulk."""
    kind = type(value)
    if kind in _AS_IS:
        return value
    convert = _CONVERTERS.get(kind) or _converter(kind)
    return convert(value)


_AS_IS: set[type] = {str, int, bool, float, type(None)}
_CONVERTERS: dict[type, Callable[[Any], Any]] = {
    Decimal: str, datetime: datetime.isoformat,          # as `dumps` writes them
    tuple: lambda v: [_plain(x) for x in v], list: lambda v: [_plain(x) for x in v],
    dict: lambda v: {k: _plain(x) for k, x in v.items()},
}


def _converter(kind: type) -> Callable[[Any], Any]:
    if is_dataclass(kind):
        names = tuple(f.name for f in fields(kind))
        get = attrgetter(*names) if len(names) > 1 else lambda v: (getattr(v, names[0]),)
        convert = _CONVERTERS[kind] = lambda v: {n: _plain(x) for n, x in zip(names, get(v), strict=True)}
        return convert
    _AS_IS.add(kind)   # an enum member, or another value `dumps` takes as it is
    return lambda v: v


def seller_spec(cmd: PlaceOrder) -> OrderSpec:
    """The order as placed for its seller: a seller's own, or the one an operator names."""
    seller_id = seller_for_new_order(cmd.principal, cmd.spec.seller_id)
    return cmd.spec if cmd.spec.seller_id == seller_id else replace(cmd.spec, seller_id=seller_id)


def get_order(uow: UnitOfWork, order_number: str, principal: Principal, seller_id: str | None = None) -> Order:
    with uow:
        return _seen(uow.orders.get(order_number, principal.scope or seller_id), principal)


def _seen(order: Order, principal: Principal) -> Order:
    """The order, if the caller's face sees its channel; another channel's order is not there."""
    if principal.channel not in (None, order.channel):
        raise OrderNotFound(f"order {order.order_number} not found", order_number=order.order_number)
    return order


def order_events(uow: UnitOfWork, order_number: str, principal: Principal, *, seller_id: str | None = None,
                 after: int = 0, limit: int = 1000) -> tuple[Order, list[dict]]:
    with uow:
        order = _seen(uow.orders.get(order_number, principal.scope or seller_id), principal)
        return order, uow.events.for_order(order.id, after=after, limit=limit)


def list_orders(uow: UnitOfWork, principal: Principal, *, seller_id: str | None, status: str | None,
                limit: int, after: tuple[str, str] | None, channel: str | None = None) -> list[Order]:
    """Newest first; `channel` narrows the listing (a face narrowed to a channel lists only its own)."""
    if principal.channel is not None:
        if channel not in (None, principal.channel):
            return []
        channel = principal.channel
    with uow:
        return uow.orders.list(principal.scope or seller_id, status=status, limit=limit, after=after,
                               channel=channel)


def line_quantities(uow: UnitOfWork, line_ids: set[str], principal: Principal) -> dict[str, int]:
    """Ordered quantities of the named lines that the caller can see (a line's quantity never changes)."""
    with uow:
        found: dict[str, int] = {}
        for line_id in line_ids:
            order_id = uow.orders.locate_line(line_id, principal.scope)
            if order_id is not None:
                order = uow.orders.get_by_id(order_id)
                if principal.sees(order.seller_id, order.channel):
                    found[line_id] = order.line(line_id).quantity
        return found
