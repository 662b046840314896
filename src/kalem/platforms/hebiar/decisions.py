"""The OMS's webhooks taken into kalem as its operator (Hebiar OMS's webhook documentation).

A seller's decision on a cancel request kalem asked (`CancelOrderItemLineConfirmedEvent`,
`CancelOrderItemLineRejectedEvent`) decides kalem's own pending request over the same units, through
the same use case as a decision in the hub: approved for the units the hook confirms (the rest go back
to open), or rejected with the OMS's reason. Then, for every hook (package hooks too), the order is
read back from the OMS and taken in as a pull takes it: what the OMS shows cancelled and kalem does not
is cancelled, and kalem's package is approved, shipped or delivered as far as the OMS shows its units
(`OrderPackageStatusChangedEvent`; app/channel_packages.py). A hook delivered twice finds the request
decided, the units cancelled and the package moved already, and changes nothing. Everything is done
as the account, so nothing of it is pushed back to the OMS.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from kalem.app.cancellation import DecideCancelRequest, decide_cancel_request
from kalem.app.channel_sync import principal_of, take_in
from kalem.domain.errors import LineNotFound, UnknownReason
from kalem.domain.orders import Order
from kalem.domain.reasons import StatusType, reason, reasons
from kalem.platforms.hebiar import wire
from kalem.platforms.hebiar.connector import HebiarConnector
from kalem.platforms.hebiar.units import parse_unit_line
from kalem.store.channel_accounts import ChannelAccount
from kalem.store.uow import UnitOfWork

CONFIRMED = "CancelOrderItemLineConfirmedEvent"
REJECTED = "CancelOrderItemLineRejectedEvent"


@dataclass(frozen=True, slots=True)
class Taken:
    order_number: str
    decided: tuple[str, ...]   # the cancel requests the hook decided


def _order(uow: Callable[..., UnitOfWork], account: ChannelAccount, line_ids: set[str]) -> Order:
    """The account's order holding the hook's lines: one order per package, so per hook."""
    with uow(write=False) as unit:
        for line_id in sorted(line_ids):
            order_id = unit.orders.locate_line(line_id, account.seller_id)
            if order_id is not None:
                order = unit.orders.get_by_id(order_id)
                if order.channel == account.channel:
                    return order
    first = min(line_ids)
    raise LineNotFound(f"line {first} not found", line_id=first)


def _denial(reason_id: int | None) -> int:
    try:
        return reason(reason_id, StatusType.CANCEL_REQUEST_DENIED).id if reason_id is not None else -1
    except UnknownReason:
        return -1


def take_hook(uow: Callable[..., UnitOfWork], account: ChannelAccount, hook: wire.Hook,
              connector: HebiarConnector) -> Taken | None:
    named: dict[str, set[int]] = {}
    for item in hook.items:
        line_id, n = parse_unit_line(item.orderItemLineId)
        named.setdefault(line_id, set()).add(n)
    if not named:
        return None
    order = _order(uow, account, set(named))
    principal = principal_of(account)
    decided: list[str] = []
    if hook.hookName in (CONFIRMED, REJECTED):
        with uow(write=False) as unit:
            pending = [r for r in unit.cancel_requests.for_order(order.id) if r.status == "pending"]
        for request in pending:
            hit = {i.line_id: len(set(i.units) & named.get(i.line_id, set())) for i in request.items}
            if not any(hit.values()):
                continue
            if hook.hookName == CONFIRMED:
                cmd = DecideCancelRequest(request.id, principal, "approve", quantities=hit)
            else:
                reason_id = hook.packageStatusReasonId or next(
                    (i.packageItemStatusReasonId for i in hook.items if i.packageItemStatusReasonId), None)
                denial = _denial(reason_id)
                if denial < 0:
                    denial = reasons(StatusType.CANCEL_REQUEST_DENIED)[0].id
                cmd = DecideCancelRequest(request.id, principal, "reject", reason_id=denial,
                                          note=hook.packageStatusReasonDesc or None)
            decide_cancel_request(uow(), cmd)
            decided.append(request.id)
    # The hook says what changed; the OMS's packages say where the order stands now.
    view = connector.read(account, order)
    if view is not None:
        take_in(uow, account, view.inbound)
    return Taken(order.order_number, tuple(decided))
