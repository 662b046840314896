"""Akinon's cancel: cancel order items before shipment, refund (return) them after — one transaction.

The named order items are mapped to units and classified (open → cancelled, delivered → returned)
on the order as read under its lock, in the transaction that changes them and creates the refund:
two concurrent cancels naming the same item serialise, and the second sees the first's outcome.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from kalem.app import refunds as app_refunds
from kalem.app.principals import Principal
from kalem.app.transaction import OrderTransaction
from kalem.domain.errors import KalemError, NothingToCancel
from kalem.domain.orders import Operation, classify_units, live_units
from kalem.domain.reasons import StatusType, reason
from kalem.domain.refunds import Payout, payout
from kalem.platforms.akinon import pks as akinon_pks
from kalem.platforms.akinon.face.errors import Invalid, Required
from kalem.store.uow import UnitOfWork

#: The reason of every item when `is_all: true` comes with empty `reasons` (the page's whole-order cancel):
#: 151, "Vazgeçtim" (changed my mind), the catalog's one reason for both a cancel and a refund.
DEFAULT_REASON = 151


@dataclass(frozen=True)
class CancelItems:
    principal: Principal
    order_pk: int
    items: tuple[int, ...]                 # order item pks; empty: every item still cancellable or refundable
    reasons: Mapping[str, int]             # order item pk → reason id; empty with no items: DEFAULT_REASON
    ibans: Mapping[str, str]
    holder_names: Mapping[str, str]
    include_cargo: bool | None = None
    forced_amount: Decimal | None = None
    reference: str | None = None           # refund_invoice_number
    channel: int | None = None             # the id of the path's channel (None: a path naming none)


@dataclass(frozen=True)
class Cancelled:
    order: akinon_pks.Numbered             # the order after the change, with every refund
    operation: Operation
    items: list[int]
    refund: app_refunds.Refunded


def cancel(uow: UnitOfWork, cmd: CancelItems) -> Cancelled:
    with OrderTransaction(uow) as tx:
        order = akinon_pks.in_channel(uow, tx.lock_id(akinon_pks.order_id(uow, cmd.order_pk, cmd.principal)),
                                      cmd.channel, cmd.order_pk)
        numbered = akinon_pks.numbered(uow, order)
        if cmd.items:
            pks = list(cmd.items)
            units = [_unit(numbered, pk, cmd.order_pk) for pk in pks]
        else:
            units = live_units(order)
            if not units:
                raise NothingToCancel("The order has no item left to cancel or refund.", field="is_all")
            pks = [numbered.unit_pk(*u) for u in units]
        operation, numbers = classify_units(order, units, [str(pk) for pk in pks])
        status_type = StatusType.CANCELLED if operation is Operation.CANCEL else StatusType.RETURNED
        reasons: dict[str, int] = {}
        given = cmd.reasons if cmd.items or cmd.reasons else dict.fromkeys(map(str, pks), DEFAULT_REASON)
        for pk, (line_id, _) in zip(pks, units, strict=True):
            if str(pk) not in given:
                raise Required(f"A reason is required for order item {pk}.", field="reasons")
            reason_id = given[str(pk)]
            reason(reason_id, status_type)  # the reason must fit the operation (cancel or refund)
            reasons.setdefault(line_id, reason_id)  # a line carries one reason per operation: the first
        refund = app_refunds.refund_locked(tx, order, app_refunds.RefundUnits(
            order.order_number, cmd.principal, {lid: len(ns) for lid, ns in numbers.items()}, _payout(cmd, pks),
            numbers=numbers, order_id=order.id,
            mode=app_refunds.Mode.CANCEL if operation is Operation.CANCEL else app_refunds.Mode.RETURN,
            reasons=reasons, include_cargo=cmd.include_cargo, forced_amount=cmd.forced_amount,
            reference=cmd.reference))
        after = numbered.with_order(refund.order, tuple(uow.refunds.for_order(order.id)))
        return tx.commit(Cancelled(after, operation, pks, refund))


def _unit(numbered: akinon_pks.Numbered, pk: int, order_pk: int) -> tuple[str, int]:
    unit = numbered.unit_of(pk)
    if unit is None:
        raise Invalid(f"Order item {pk} does not belong to order {order_pk}.", field="cancel_items")
    return unit


def _payout(cmd: CancelItems, pks: list[int]) -> Payout:
    names = {str(pk) for pk in pks}
    for field, values in (("ibans", cmd.ibans), ("holder_names", cmd.holder_names)):
        stray = sorted(set(values) - names)
        if stray:
            raise Invalid(f"Order item {stray[0]} is not cancelled by this request.", field=field)
    ibans = {"".join(v.split()).upper() for v in cmd.ibans.values()}
    holders = {v.strip() for v in cmd.holder_names.values()}
    if len(ibans) > 1 or len(holders) > 1:
        raise Invalid("One cancellation is refunded to one account: send one IBAN and one holder name.",
                      field="ibans")
    if not ibans and not holders:
        return payout(None, None, None)
    try:
        return payout("fund_transfer", next(iter(ibans), None), next(iter(holders), None))
    except KalemError as exc:
        exc.details = {**exc.details, "field": "holder_names" if exc.details.get("field") == "holder_name"
                       else "ibans"}
        raise
