"""Taking in many orders at once (`POST /v1/orders/batch`, `kalem import`).

Each order is judged as `POST /v1/orders` judges it, in the same order of checks — the seller (one
kalem knows, unless the order says to create it), a number taken in before (the identical order
again: already there; another body: `order_already_exists`), a line id another order of the seller
holds (`line_id_in_use`), then the order itself (`invalid_order`) — and a refused order does not stop
the others. An order repeated
within one batch is judged against its first occurrence, as if the two had come one after the other.
The orders taken in commit together, in one transaction with their events and outbox rows: each order
is stored entirely or not at all. What is already stored is read once for the whole batch and the new
rows are written a table at a time (store/intake.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from kalem.app.access import unknown_seller
from kalem.app.orders import PlaceOrder, check_lines, identical, intake_hash, seller_spec, taken_in
from kalem.domain.errors import KalemError
from kalem.domain.events import Event
from kalem.domain.orders import Order, OrderSpec
from kalem.store.intake import Stored
from kalem.store.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class Intake:
    """What became of one order: `created`; already there (`order_id`, not created); or `error`."""

    order_number: str
    seller_id: str | None
    order_id: str | None = None
    created: bool = False
    error: KalemError | None = None


def place_orders(uow: UnitOfWork, cmds: Sequence[PlaceOrder]) -> list[Intake]:
    """Take in every order that may be; one `Intake` per command, in the commands' order."""
    outcomes: list[Intake] = []
    specs: list[tuple[int, OrderSpec, str]] = []   # (index, spec for its seller, intake hash)
    for index, cmd in enumerate(cmds):
        try:
            spec = seller_spec(cmd)
        except KalemError as refused:
            outcomes.append(Intake(cmd.spec.order_number, cmd.spec.seller_id, error=refused))
            continue
        outcomes.append(Intake(spec.order_number, spec.seller_id))
        specs.append((index, spec, intake_hash(spec)))
    with uow:
        now = uow.now()
        known = uow.sellers.existing({spec.seller_id for index, spec, _ in specs if cmds[index].seller_must_be_known})
        # Line ids first: each statement sees what had committed when it began, so an order another
        # writer commits between the two reads is then found under its number, not as line ids in use.
        in_use = uow.intake.lines_in_use({ln.line_id for _, spec, _ in specs for ln in spec.lines})
        stored = uow.intake.orders_numbered({spec.order_number for _, spec, _ in specs})
        placed: list[tuple[Order, str]] = []
        events: list[Event] = []
        for index, spec, digest in specs:
            key = spec.seller_id, spec.order_number
            try:
                if cmds[index].seller_must_be_known and spec.seller_id not in known:
                    raise unknown_seller(spec.seller_id)
                if key in stored:
                    outcomes[index] = Intake(spec.order_number, spec.seller_id, identical(spec, digest, stored[key]))
                    continue
                check_lines(spec, in_use)
                order, placed_events = taken_in(spec, cmds[index], now)
            except KalemError as refused:
                outcomes[index] = Intake(spec.order_number, spec.seller_id, error=refused)
                continue
            placed.append((order, digest))
            events.extend(placed_events)
            stored[key] = Stored(order.id, digest, order.channel)
            in_use.update((spec.seller_id, ln.line_id) for ln in spec.lines)
            known.add(spec.seller_id)
            outcomes[index] = Intake(spec.order_number, spec.seller_id, order.id, created=True)
        uow.intake.add(placed, events, now)
        uow.commit(outcomes)
    return outcomes

