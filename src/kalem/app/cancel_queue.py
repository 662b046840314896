"""Read models for the hub: the cancel-request queue with the orders it belongs to, and the refund
that approving a request would cause.

Reads only; decisions go through `app.cancellation.decide_cancel_request` like every other face.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from kalem.app.principals import Principal
from kalem.app.refund_account import account_of
from kalem.app.refund_policy import decision_preview, policy_of
from kalem.domain import orders as requests
from kalem.domain.errors import CancelRequestNotFound, InvalidInput, KalemError
from kalem.domain.orders import CancelRequest, Order, RequestStatus
from kalem.domain.refunds import RefundAccount, RefundBreakdown, RefundCause, RefundPolicy
from kalem.store.uow import UnitOfWork

#: The queue shows at most this many requests; filters narrow it (documented in docs/hub.md).
QUEUE_LIMIT = 200
_SCAN_LIMIT = 1000  # rows read before the reason filter, which lives in the request body


class ApprovedLineNotRequested(InvalidInput):
    """An approval naming a line its cancel request does not hold."""
    code = "approved_line_not_requested"
    face_code = InvalidInput.code


class ApprovedQuantityOutOfRange(InvalidInput):
    """An approval of fewer than 0, or more than the requested, units of a line."""
    code = "approved_quantity_out_of_range"
    face_code = InvalidInput.code


@dataclass(frozen=True, slots=True)
class QueueFilter:
    status: str | None = None
    reason_id: int | None = None
    created_from: datetime | None = None
    created_before: datetime | None = None
    order_number: str | None = None
    seller_id: str | None = None  # operators only; a seller is always narrowed to itself
    channel: str | None = None


@dataclass(frozen=True, slots=True)
class QueueRow:
    request: CancelRequest
    order: Order


@dataclass(frozen=True, slots=True)
class Queue:
    rows: tuple[QueueRow, ...]
    truncated: bool


def cancel_queue(uow: UnitOfWork, principal: Principal, f: QueueFilter) -> Queue:
    with uow:
        found = uow.cancel_requests.search(
            principal.scope or f.seller_id, status=f.status, created_from=f.created_from,
            created_before=f.created_before, order_number_like=f.order_number,
            channel=f.channel, limit=_SCAN_LIMIT)
        if f.reason_id is not None:
            found = [r for r in found if any(i.reason_id == f.reason_id for i in r.items)]
        orders: dict[str, Order] = {}
        rows = []
        for request in found[:QUEUE_LIMIT]:
            if request.order_id not in orders:
                orders[request.order_id] = uow.orders.get_by_id(request.order_id)
            rows.append(QueueRow(request, orders[request.order_id]))
        return Queue(tuple(rows), truncated=len(found) > QUEUE_LIMIT)


def queue_entry(uow: UnitOfWork, request_id: str, principal: Principal) -> QueueRow:
    """One request with its order; another seller's request is not found, exactly like a missing one."""
    with uow:
        request = uow.cancel_requests.get(request_id, principal.scope)
        if request is None:
            raise CancelRequestNotFound(f"cancel request {request_id} not found", cancel_request_id=request_id)
        return QueueRow(request, uow.orders.get_by_id(request.order_id))


def order_cancel_requests(uow: UnitOfWork, order: Order) -> list[CancelRequest]:
    with uow:
        return uow.cancel_requests.for_order(order.id)


def sellers(uow: UnitOfWork, principal: Principal) -> list[str]:
    """The sellers an operator may filter by; a seller only ever sees itself."""
    if principal.scope is not None:
        return [principal.scope]
    with uow:
        return uow.sellers.all()


def channels(uow: UnitOfWork, principal: Principal, seller_id: str | None) -> list[str] | None:
    """The channels a listing may be narrowed to: those the seller has sold on. None for an operator who
    chose no seller (every seller's channels would mean reading every order; the hub asks for a name)."""
    seller = principal.scope or seller_id
    if seller is None:
        return None
    with uow:
        return uow.orders.channels(seller)


# --- refund preview ---------------------------------------------------------------------------

def approval_quantities(request: CancelRequest, wanted: Mapping[str, int] | None) -> dict[str, int]:
    """Units approved per line: `wanted` overrides, lines it leaves out are approved in full."""
    requested = {i.line_id: i.quantity for i in request.items}
    chosen = dict(requested)
    for line_id, qty in (wanted or {}).items():
        if line_id not in requested:
            raise ApprovedLineNotRequested(f"cancel request {request.id} has no line {line_id}", line_id=line_id)
        if qty < 0 or qty > requested[line_id]:
            raise ApprovedQuantityOutOfRange(f"line {line_id}: approve between 0 and {requested[line_id]} units",
                                             line_id=line_id, approved=qty, requested=requested[line_id])
        chosen[line_id] = qty
    return chosen


@dataclass(frozen=True, slots=True)
class RefundPreview:
    quantities: dict[str, int]
    breakdown: RefundBreakdown | None  # None when nothing would be cancelled
    problem: str | None = None  # why no breakdown could be computed (the approval itself may still go through)
    policy: RefundPolicy = RefundPolicy.ON_DECISION  # the seller's for the order's channel: does approving refund?

    @property
    def refunds(self) -> bool:
        """Approving creates this refund (pending settlement) in the same transaction."""
        return self.policy is RefundPolicy.ON_DECISION and self.breakdown is not None


def refund_preview(uow: UnitOfWork, row: QueueRow, wanted: Mapping[str, int] | None,
                   principal: Principal) -> RefundPreview:
    """What refunding the units approving would cancel pays: the order's refund account previews
    exactly the units the approval grants, under the seller's strategy and the refunds so far — the
    refund approving makes under the seller's `on_decision` refund policy (app/refund_policy.py)."""
    quantities = approval_quantities(row.request, wanted)
    with uow:
        return _approval_preview(uow, row, quantities, principal)


def _approval_preview(uow: UnitOfWork, row: QueueRow, quantities: dict[str, int],
                      principal: Principal) -> RefundPreview:
    policy = policy_of(uow, row.order)
    if not any(quantities.values()):
        return RefundPreview(quantities, None, policy=policy)
    try:  # the approval's own rule says which units it grants; nothing is saved
        after, _, _ = requests.approve_cancel_request(row.order, row.request, quantities,
                                                      actor=principal.actor, now=row.request.created_at)
        breakdown = decision_preview(uow, row.order, after, RefundCause.CANCELLATION)
        return RefundPreview(quantities, breakdown, policy=policy)
    except KalemError as exc:
        return RefundPreview(quantities, None, exc.message, policy=policy)


def queue_refunds(uow: UnitOfWork, rows: Sequence[QueueRow], principal: Principal) -> dict[str, Decimal | None]:
    """Per request, the refund the queue shows: for a pending one, exactly the request page's preview of
    approving it in full; for an approved one, what the units it granted paid (the preview of refunding
    them, or once a refund holds them, their shares of what their lines paid). None: nothing to say
    (rejected, withdrawn, or the order's amounts cannot be refunded)."""
    accounts: dict[str, RefundAccount | None] = {}
    out: dict[str, Decimal | None] = {}
    with uow:
        for row in rows:
            request = row.request
            if request.status is RequestStatus.PENDING:
                preview = _approval_preview(uow, row, approval_quantities(request, None), principal)
                out[request.id] = preview.breakdown.total if preview.breakdown else None
                continue
            if request.status is not RequestStatus.APPROVED:
                out[request.id] = None
                continue
            if row.order.id not in accounts:
                try:
                    accounts[row.order.id] = account_of(uow, row.order)
                except KalemError:
                    accounts[row.order.id] = None
            account = accounts[row.order.id]
            out[request.id] = None if account is None else _granted_refund(account, request)
    return out


def _granted_refund(account: RefundAccount, request: CancelRequest) -> Decimal | None:
    granted = {i.line_id: i.units.lowest(i.approved_quantity or 0) for i in request.items if i.units}
    granted = {k: v for k, v in granted.items() if v}
    if not granted:
        return Decimal(0) if all(not i.approved_quantity for i in request.items) else None
    try:
        return account.preview(granted).total
    except KalemError:  # a refund holds them already: what they paid
        return sum((account.unit(line_id, n).paid for line_id, units in granted.items() for n in units), Decimal(0))
