"""Placing and reading orders."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, fields, replace
from typing import Any

from kalem.app.ids import new_id
from kalem.app.principals import Principal, seller_for_new_order
from kalem.app.transaction import OrderTransaction
from kalem.domain.errors import LineIdInUse, NotFound, OrderAlreadyExists
from kalem.domain.orders import Order, OrderSpec
from kalem.domain.orders import place_order as place
from kalem.store.codec import dumps
from kalem.store.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class PlaceOrder:
    spec: OrderSpec
    principal: Principal


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
        try:
            existing = uow.orders.get(spec.order_number, seller_id)
        except NotFound:
            existing = None
        if existing is not None:
            if uow.orders.intake_hash(existing.id) != fingerprint:
                raise OrderAlreadyExists(f"order {spec.order_number} exists with a different body",
                                         order_number=spec.order_number)
            return tx.commit(Placed(existing, created=False))
        for line in spec.lines:  # line ids are unique per seller: the faces find orders by them
            if uow.orders.locate_line(line.line_id, seller_id) is not None:
                raise LineIdInUse(f"line id {line.line_id} belongs to another order of this seller",
                                  line_id=line.line_id)
        now = uow.now()
        order, events = place(spec, order_id=new_id("ord"), actor=cmd.principal.actor, now=now)
        uow.sellers.ensure(seller_id, now)
        return tx.commit(Placed(tx.add(order, fingerprint, events), created=True))


def intake_hash(spec: OrderSpec) -> str:
    """What makes two intakes of one order number "the same order": its whole spec, seller included."""
    fields = _plain(spec)
    # Orders taken in before these fields existed hash alike.
    if fields.get("destination_country") is None:
        fields.pop("destination_country", None)
    if spec.details.empty:
        fields.pop("details", None)
    return hashlib.sha256(dumps(fields).encode()).hexdigest()


_FIELDS: dict[type, tuple[str, ...]] = {}


def _plain(value: Any) -> Any:
    """`dataclasses.asdict`, which the stored hashes were made with, without its deep copies (a spec
    holds only immutable values): a fifth of the CPU of taking in an order in bulk."""
    if hasattr(value, "__dataclass_fields__"):
        names = _FIELDS.get(type(value))
        if names is None:
            names = _FIELDS[type(value)] = tuple(f.name for f in fields(value))
        return {name: _plain(getattr(value, name)) for name in names}
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def seller_spec(cmd: PlaceOrder) -> OrderSpec:
    """The order as placed for its seller: a seller's own, or the one an operator names."""
    seller_id = seller_for_new_order(cmd.principal, cmd.spec.seller_id)
    return cmd.spec if cmd.spec.seller_id == seller_id else replace(cmd.spec, seller_id=seller_id)


def get_order(uow: UnitOfWork, order_number: str, principal: Principal, seller_id: str | None = None) -> Order:
    with uow:
        return uow.orders.get(order_number, principal.scope or seller_id)


def order_events(uow: UnitOfWork, order_number: str, principal: Principal, *, seller_id: str | None = None,
                 after: int = 0, limit: int = 1000) -> tuple[Order, list[dict]]:
    with uow:
        order = uow.orders.get(order_number, principal.scope or seller_id)
        return order, uow.events.for_order(order.id, after=after, limit=limit)


def list_orders(uow: UnitOfWork, principal: Principal, *, seller_id: str | None, status: str | None,
                limit: int, after: tuple[str, str] | None) -> list[Order]:
    with uow:
        return uow.orders.list(principal.scope or seller_id, status=status, limit=limit, after=after)


def line_quantities(uow: UnitOfWork, line_ids: set[str], principal: Principal) -> dict[str, int]:
    """Ordered quantities of the named lines that the caller can see (a line's quantity never changes)."""
    with uow:
        found: dict[str, int] = {}
        for line_id in line_ids:
            order_id = uow.orders.locate_line(line_id, principal.scope)
            if order_id is not None:
                found[line_id] = uow.orders.get_by_id(order_id).line(line_id).quantity
        return found
