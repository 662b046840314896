"""Akinon cancellation requests, kept as kalem's own requests (Akinon Omnitron's API reference).

An Akinon request names one order item (one unit) and optionally a quantity. Before shipment it
is a kalem **cancel request** (`open → pending_cancel`, approve → `cancelled`, partial approval
allowed); after delivery (`cancellation_type: refund`) a kalem **return request**
(`delivered → return_pending`, approve → `returned`, approved whole). The Akinon object is only
a view: its integer id is an `akinon_ids` row `(seller, order, "<kind>:<kalem id>:<order item pk>", -1)`,
minted in the transaction that creates the request, so a decision made through any face shows.
"""

from __future__ import annotations

from dataclasses import dataclass

from kalem.app.ids import new_id
from kalem.app.principals import Principal
from kalem.app.refund_policy import save_decision
from kalem.app.transaction import OrderTransaction
from kalem.domain import orders as cancel_domain
from kalem.domain import orders as request_domain
from kalem.domain import orders as return_domain
from kalem.domain.errors import ApprovalExceedsRequested, UnknownReason
from kalem.domain.orders import CancelItem, Operation, Request, ReturnItem, classify_units, ensure_pending, source_of
from kalem.domain.reasons import StatusType, reason
from kalem.domain.refunds import RefundCause
from kalem.platforms.akinon import pks as akinon_pks
from kalem.platforms.akinon.channels import channel_named
from kalem.platforms.akinon.face.errors import (
    CancellationRequestNotFound,
    DoesNotExist,
    Invalid,
    PartialReturnNotSupported,
    QuantityExceedsAvailable,
    Required,
)
from kalem.platforms.akinon.store import AkinonIdRepository
from kalem.store.uow import UnitOfWork

CANCEL, RETURN = "cancel_request", "return_request"   # kinds in akinon_ids


@dataclass(frozen=True)
class AkinonRequest:
    pk: int
    order_item: int
    order_pk: int
    request: Request

    @property
    def is_refund(self) -> bool:
        return self.request.kind is request_domain.RETURN


@dataclass(frozen=True)
class CreateRequest:
    principal: Principal
    order_item: int
    reason_id: int
    description: str | None = None
    quantity: int | None = None
    cancellation_type: str | None = None   # "cancel" | "refund": checked against the unit's state
    channel: int | None = None             # the id of the path's channel (None: a path naming none)


def create(uow: UnitOfWork, cmd: CreateRequest) -> AkinonRequest:
    with OrderTransaction(uow) as tx:
        found = akinon_pks.find(uow, cmd.order_item)
        if found is None or found.kind != "unit" or cmd.principal.scope not in (None, found.seller_id):
            raise _no_item(cmd.order_item)
        order = tx.lock_id(found.order_id)
        named = found.unit_in(order)
        if named is None or named[1] > order.line(named[0]).quantity \
                or not _in_channel(uow, order.channel, cmd.channel):
            raise _no_item(cmd.order_item)
        line_id, unit = named
        line = order.line(line_id)
        # Refuses cancelled, pending, in-transit and returned units with kalem's codes.
        operation, _ = classify_units(order, [(line_id, unit)], [str(cmd.order_item)])
        wanted = "cancel" if operation is Operation.CANCEL else "refund"
        if cmd.cancellation_type not in (None, wanted):
            raise Invalid(f"Order item {cmd.order_item} is "
                          f"{'not shipped' if wanted == 'cancel' else 'delivered'}: its request is a {wanted}.",
                          field="cancellation_type")
        _check_reason("reason", cmd.reason_id, StatusType.CANCELLED if wanted == "cancel" else StatusType.RETURNED)
        quantity = cmd.quantity or 1
        available = line.able(operation.action)
        if quantity > len(available):
            raise QuantityExceedsAvailable(f"Only {len(available)} unit(s) of this order item's line are "
                                           f"{source_of(operation.action).value}.", field="quantity")
        actor, now = cmd.principal.actor, uow.now()
        request: Request
        if wanted == "cancel":
            changed, request, events = cancel_domain.request_cancel(
                order, [CancelItem(line_id, quantity, cmd.reason_id, cmd.description, (unit,))],
                request_id=new_id("cr"), actor=actor, now=now)
            uow.cancel_requests.add(request)
        else:
            changed, request, events = return_domain.request_return(
                order, [ReturnItem(line_id, quantity, cmd.reason_id, cmd.description, (unit,))],
                return_id=new_id("ret"), actor=actor, now=now)
            uow.returns.add(request)
        tx.save(changed, events)
        pk = uow.repository(AkinonIdRepository).mint_object(order.seller_id, order.id,
                                        _key(CANCEL if wanted == "cancel" else RETURN, request.id, cmd.order_item))
        return tx.commit(AkinonRequest(pk, cmd.order_item, _order_pk(uow, order.id), request))


def get(uow: UnitOfWork, pk: int, principal: Principal, channel: int | None = None) -> AkinonRequest:
    with uow:
        return _load(uow, pk, principal, channel)


def page(uow: UnitOfWork, principal: Principal, *, number: int, size: int,
         channel: int | None = None) -> tuple[int, list[AkinonRequest]]:
    """(count, the requests of page `number`), newest first; of the orders of the channel with id
    `channel` when given."""
    with uow:
        name = None if channel is None else channel_named(uow, channel)
        count, rows = uow.repository(AkinonIdRepository).objects((f"{CANCEL}:", f"{RETURN}:"), principal.scope,
                                                                 limit=size, offset=(number - 1) * size,
                                                                 channel=name)
        return count, [_view(uow, pk, order_id, *_unkey(key), principal) for pk, _, order_id, key in rows]


@dataclass(frozen=True)
class Decide:
    principal: Principal
    pk: int
    decision: str                 # "approve" | "reject"
    quantity: int | None = None   # approve: units approved (cancel requests only may be partial)
    reason_id: int | None = None  # reject: a cancel- (or return-) request-denied reason
    description: str | None = None
    channel: int | None = None    # the id of the path's channel (None: a path naming none)


def decide(uow: UnitOfWork, cmd: Decide) -> AkinonRequest:
    with OrderTransaction(uow) as tx:
        seen = _load(uow, cmd.pk, cmd.principal, cmd.channel)
        order = tx.lock_id(seen.request.order_id)
        current = _load(uow, cmd.pk, cmd.principal).request   # re-read under the order's lock
        ensure_pending(current)   # before the body's own checks: a decided request says so first
        actor, now = cmd.principal.actor, uow.now()
        decided: Request
        cause: RefundCause | None = None   # an approval's: the refund the seller's policy may make of it
        if current.kind is request_domain.CANCEL:
            if cmd.decision == "approve":
                line_id = current.items[0].line_id
                if cmd.quantity is not None and cmd.quantity > current.items[0].quantity:
                    raise ApprovalExceedsRequested(f"{cmd.quantity} unit(s) approved, "
                                                   f"{current.items[0].quantity} requested.", field="quantity")
                quantities = None if cmd.quantity is None else {line_id: cmd.quantity}
                changed, decided, events = cancel_domain.approve_cancel_request(order, current, quantities,
                                                                                actor=actor, now=now)
                cause = RefundCause.CANCELLATION
            else:
                reason_id = _check_reason("reason", cmd.reason_id, StatusType.CANCEL_REQUEST_DENIED)
                changed, decided, events = cancel_domain.reject_cancel_request(
                    order, current, reason_id=reason_id, note=cmd.description, actor=actor, now=now)
            uow.cancel_requests.save(decided)
        else:
            if cmd.decision == "approve":
                requested = current.items[0].quantity
                if cmd.quantity is not None and cmd.quantity != requested:
                    raise PartialReturnNotSupported(
                        f"A refund request is approved whole: {requested} unit(s), not {cmd.quantity}.",
                        field="quantity")
                changed, decided, events = return_domain.approve_return(order, current, actor=actor, now=now)
                cause = RefundCause.RETURN
            else:
                reason_id = _check_reason("reason", cmd.reason_id, StatusType.RETURN_REQUEST_DENIED)
                changed, decided, events = return_domain.reject_return(
                    order, current, reason_id=reason_id, note=cmd.description, actor=actor, now=now)
            uow.returns.save(decided)
        if cause is not None:
            save_decision(tx, order, changed, events, cause, actor)
        else:
            tx.save(changed, events)
        return tx.commit(AkinonRequest(seen.pk, seen.order_item, seen.order_pk, decided))


# --- helpers ------------------------------------------------------------------------------------
def _no_item(pk: int) -> DoesNotExist:
    return DoesNotExist(f'Invalid pk "{pk}" - object does not exist.', field="order_item")


def _check_reason(field: str, reason_id: int | None, status_type: StatusType) -> int:
    if reason_id is None:
        raise Required("This field is required.", field=field)
    try:
        return reason(reason_id, status_type).id
    except UnknownReason as exc:
        exc.details = {**exc.details, "field": field}
        raise


def _in_channel(uow: UnitOfWork, channel: str | None, wanted: int | None) -> bool:
    """Whether an order of `channel` is on a path of the channel with id `wanted` (None: a path naming none)."""
    return wanted is None or channel == channel_named(uow, wanted)


def _load(uow: UnitOfWork, pk: int, principal: Principal, channel: int | None = None) -> AkinonRequest:
    ids = uow.repository(AkinonIdRepository)
    found = ids.resolve([pk]).get(pk)
    if found is None or found.kind != "object" or principal.scope not in (None, found.seller_id) \
            or not _in_channel(uow, None if channel is None else ids.channel_of(found.order_id), channel):
        raise CancellationRequestNotFound("Not found.", id=pk)
    kind, kalem_id, ref = _unkey(found.line_id)
    if kind not in (CANCEL, RETURN):
        raise CancellationRequestNotFound("Not found.", id=pk)
    return _view(uow, pk, found.order_id, kind, kalem_id, ref, principal)


def _key(kind: str, kalem_id: str, ref: int) -> str:
    """The `akinon_ids` key of a request: its kind, its kalem id and the order item pk it names."""
    return f"{kind}:{kalem_id}:{ref}"


def _unkey(key: str) -> tuple[str, str, int]:
    kind, kalem_id, ref = key.split(":")
    return kind, kalem_id, int(ref)


def _view(uow: UnitOfWork, pk: int, order_id: str, kind: str, kalem_id: str, ref: int,
          principal: Principal) -> AkinonRequest:
    request = (uow.cancel_requests.get(kalem_id, principal.scope) if kind == CANCEL
               else uow.returns.get(kalem_id, principal.scope))
    if request is None:   # the row is written with its request, in one transaction
        raise CancellationRequestNotFound("Not found.", id=pk)
    return AkinonRequest(pk, ref, _order_pk(uow, order_id), request)


def _order_pk(uow: UnitOfWork, order_id: str) -> int:
    return akinon_pks.order_pk(uow, order_id)

