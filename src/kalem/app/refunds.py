"""Returns, refunds and cancellation strategies: each use case one transaction under the order's lock.

A refund is computed *after* the order is locked and its earlier refunds are read, so two refunds
of the same units serialise on the order row: the second sees the first and is refused.
Cancel-and-refund and return-and-refund change the ledger and create the refund in one
transaction: both happen or neither.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from kalem.app.access import known_seller, unknown_seller
from kalem.app.ids import new_id
from kalem.app.principals import Principal, SellerIdMismatch
from kalem.app.refund_account import account_of
from kalem.app.refund_policy import save_decision
from kalem.app.transaction import OrderTransaction
from kalem.domain import orders as domain_returns
from kalem.domain import refunds as records
from kalem.domain.errors import InvalidInput, ReasonRequired
from kalem.domain.events import Event
from kalem.domain.orders import (
    CancelItem,
    Order,
    ReturnItem,
    ReturnNotFound,
    ReturnRequest,
    UnitSet,
    UnitState,
    cancel_lines,
)
from kalem.domain.refunds import (
    DEFAULT_STRATEGY,
    CancellationStrategy,
    Payout,
    Refund,
    RefundAccount,
    RefundBreakdown,
    RefundCause,
    RefundNotFound,
    RefundNotRetryable,
    RefundStatus,
    strategy_from_dict,
)
from kalem.store.uow import UnitOfWork


class Mode:
    """Where the refunded units come from."""

    REFUNDABLE = "refundable"  # already cancelled / returned, not refunded yet
    CANCEL = "cancel"          # open units, cancelled in the same transaction
    RETURN = "return"          # delivered units, returned in the same transaction
    AUTO = "auto"              # refundable units if they cover the request, else delivered ones returned now


@dataclass(frozen=True)
class RefundUnits:
    order_number: str
    principal: Principal
    counts: Mapping[str, int]
    pay: Payout
    mode: str = Mode.REFUNDABLE
    cause: RefundCause | None = None               # for Mode.REFUNDABLE; None: inferred
    reasons: Mapping[str, int] = field(default_factory=dict)  # line → reason id (CANCEL / RETURN)
    notes: Mapping[str, str | None] = field(default_factory=dict)
    numbers: Mapping[str, tuple[int, ...]] = field(default_factory=dict)  # line → unit numbers (CANCEL / RETURN)
    include_cargo: bool | None = None
    forced_amount: Decimal | None = None
    reference: str | None = None
    seller_id: str | None = None
    order_id: str | None = None                    # faces that know the order by id
    expected_total: Decimal | None = None          # the caller's own total (its items' amounts): must match,
    #                                                unless an operator sends it, then it is the forced amount


class RefundAmountMismatch(InvalidInput):
    code = "refund_amount_mismatch"


@dataclass(frozen=True)
class Refunded:
    order: Order
    refund: Refund
    cause: RefundCause
    created: bool = True


class RefundReferenceInUse(InvalidInput):
    code = "refund_reference_in_use"


def _covering_cause(account: RefundAccount, counts: Mapping[str, int]) -> RefundCause | None:
    """Returned units if they cover the request, else cancelled ones (a refund is never of both)."""
    for cause in (RefundCause.RETURN, RefundCause.CANCELLATION):
        available = account.refundable_units(cause)
        if all(account.order.line(lid) and n <= len(available.get(lid, ())) for lid, n in counts.items()):
            return cause
    return None


def _return_now(account: RefundAccount, counts: Mapping[str, int]) -> bool:
    """AUTO: delivered units are returned now unless cancelled/returned ones already cover the request."""
    if _covering_cause(account, counts) is not None:
        return False
    return all(n <= account.order.line(lid).returnable for lid, n in counts.items())


def _moved(before: Order, after: Order, state: UnitState) -> dict[str, UnitSet]:
    """The units of each line that this change put in `state`."""
    return {ln.line_id: ln.units.in_state(state) - before.line(ln.line_id).units.in_state(state)
            for ln in after.lines if ln.units.count(state) != before.line(ln.line_id).units.count(state)}


def refund_units(uow: UnitOfWork, cmd: RefundUnits) -> Refunded:
    with OrderTransaction(uow) as tx:
        if cmd.order_id is not None:
            order = tx.lock_id(cmd.order_id, cmd.principal)
        else:
            order = tx.lock(cmd.order_number, cmd.principal, cmd.seller_id)
        return tx.commit(refund_locked(tx, order, cmd))


def refund_locked(tx: OrderTransaction, order: Order, cmd: RefundUnits) -> Refunded:
    """`refund_units` on an order the caller has locked in `tx`; the caller commits."""
    uow = tx.uow
    account = account_of(uow, order)
    actor, now = cmd.principal.actor, uow.now()
    events: list[Event] = []
    current = order
    units: dict[str, int | UnitSet] = dict(cmd.counts)
    if cmd.reference is not None:
        replay = next((r for r in account.refunds if r.reference == cmd.reference), None)
        if replay is not None:  # a refund is final once created: the same number is the same refund
            if dict(replay.lines) != dict(cmd.counts):
                raise RefundReferenceInUse(f"refund {cmd.reference} exists with other items",
                                           reference=cmd.reference)
            return Refunded(order, replay, replay.cause, created=False)
        claimed = _claim_decision_refund(tx, account, cmd)
        if claimed is not None:
            return Refunded(claimed[0], claimed[1], claimed[1].cause, created=False)
    if cmd.mode == Mode.CANCEL:
        items = [CancelItem(lid, n, _reason(cmd, lid), cmd.notes.get(lid), numbers=cmd.numbers.get(lid, ()))
                 for lid, n in cmd.counts.items()]
        current, events = cancel_lines(order, items, actor=actor, now=now)
        cause = RefundCause.CANCELLATION
        units.update(_moved(order, current, UnitState.CANCELLED))  # the refund takes the units just cancelled
    elif cmd.mode == Mode.RETURN or (cmd.mode == Mode.AUTO and _return_now(account, cmd.counts)):
        items = [ReturnItem(lid, n, _reason(cmd, lid), cmd.notes.get(lid), numbers=cmd.numbers.get(lid, ()))
                 for lid, n in cmd.counts.items()]
        current, events = domain_returns.return_directly(order, items, actor=actor, now=now)
        cause = RefundCause.RETURN
        units.update(_moved(order, current, UnitState.RETURNED))
    else:
        # create_refund explains what is missing when neither covers the request
        cause = cmd.cause or _covering_cause(account, cmd.counts) or RefundCause.CANCELLATION
    after = RefundAccount.of(current, account.refunds, account.strategy, account.credits)

    def create(forced: Decimal | None) -> tuple[Order, Refund, list[Event]]:
        return after.refund(units, cause=cause, pay=cmd.pay, refund_id=new_id("rf"), actor=actor, now=now,
                            include_cargo=cmd.include_cargo, forced_amount=forced, reference=cmd.reference)

    changed, refund, more = create(cmd.forced_amount)
    if cmd.expected_total is not None and cmd.forced_amount is None and refund.amount != cmd.expected_total:
        if actor.kind != "operator":
            raise RefundAmountMismatch(
                f"the items' amounts add up to {cmd.expected_total}, the refund is {refund.amount}",
                expected=str(cmd.expected_total), computed=str(refund.amount))
        changed, refund, more = create(cmd.expected_total)
    uow.refunds.add(refund)
    tx.save(changed, events + more)
    return Refunded(changed, refund, cause)


def _claim_decision_refund(tx: OrderTransaction, account: RefundAccount,
                           cmd: RefundUnits) -> tuple[Order, Refund] | None:
    """The refund a decision already made of exactly these units, if the caller asks for them again: a
    platform that sends its own refund after a cancel (a marketplace's refund create) gets that refund,
    with its reference and payout (and a `refund.claimed` event saying so), instead of a refusal or a
    second payment. (the order saved with that event, the refund), or None."""
    if cmd.mode not in (Mode.REFUNDABLE, Mode.AUTO) or cmd.forced_amount is not None:
        return None
    for refund in account.refunds:
        if not (refund.on_decision and refund.status is RefundStatus.PENDING and refund.reference is None
                and dict(refund.lines) == dict(cmd.counts) and cmd.cause in (None, refund.cause)):
            continue
        if cmd.expected_total is not None and refund.amount != cmd.expected_total:
            if cmd.principal.actor.kind == "operator":
                return None   # an operator's own amount: not this refund (a failed one may be retried with it)
            raise RefundAmountMismatch(
                f"the items' amounts add up to {cmd.expected_total}, the refund is {refund.amount}",
                expected=str(cmd.expected_total), computed=str(refund.amount))
        changed, claimed, events = records.claim_refund(account.order, refund, reference=cmd.reference,
                                                        pay=cmd.pay, actor=cmd.principal.actor, now=tx.uow.now())
        tx.uow.refunds.save(claimed)
        return tx.save(changed, events), claimed
    return None


def _reason(cmd: RefundUnits, line_id: str) -> int:
    if line_id not in cmd.reasons:
        raise ReasonRequired(f"line {line_id}: a reason is required", line_id=line_id, field="reason_id")
    return cmd.reasons[line_id]


def preview_refund(uow: UnitOfWork, principal: Principal, order_number: str, counts: Mapping[str, int], *,
                   include_cargo: bool | None, forced_amount: Decimal | None,
                   seller_id: str | None = None) -> tuple[Order, RefundBreakdown]:
    """A dry run: read-only, nothing is locked or written."""
    with uow:
        order = uow.orders.get(order_number, principal.scope or seller_id)
        breakdown = account_of(uow, order).preview(counts, include_cargo=include_cargo, forced_amount=forced_amount,
                                                   actor=principal.actor)
        return order, breakdown


def settle_refund(uow: UnitOfWork, refund_id: str, status: str, principal: Principal) -> Refund:
    principal.require_operator()  # the payer reports the outcome, not the seller
    with OrderTransaction(uow) as tx:
        found = uow.refunds.get(refund_id, None)
        if found is None:
            raise RefundNotFound(f"refund {refund_id} not found", refund_id=refund_id)
        order = tx.lock_id(found.order_id)
        refund = uow.refunds.get(refund_id, None)  # re-read under the order's lock
        assert refund is not None
        changed, settled, events = records.settle_refund(order, refund, status, actor=principal.actor, now=uow.now())
        uow.refunds.save(settled)
        tx.save(changed, events)
        return tx.commit(settled)


def retry_refund(uow: UnitOfWork, refund_id: str, principal: Principal,
                 forced_amount: Decimal | None = None) -> Refunded:
    """Refund a failed refund's units again: a new pending refund of the same units, cause and payout,
    priced by the account now (an operator may force its amount, within the same cap as any refund)."""
    principal.require_operator()  # the payer's outcome is the operator's to act on, as a settlement is
    with OrderTransaction(uow) as tx:
        found = uow.refunds.get(refund_id, None)
        if found is None:
            raise RefundNotFound(f"refund {refund_id} not found", refund_id=refund_id)
        order = tx.lock_id(found.order_id)
        failed = uow.refunds.get(refund_id, None)  # re-read under the order's lock
        assert failed is not None
        if failed.status is not RefundStatus.FAILED or not failed.units:
            raise RefundNotRetryable(f"refund {refund_id} is {failed.status}; only a failed refund of units is "
                                     "retried", refund_id=refund_id, status=failed.status.value)
        units: dict[str, UnitSet] = {}
        for line_id, first, last in failed.units:
            units[line_id] = units.get(line_id, UnitSet()) | UnitSet.span(first, last)
        changed, refund, events = account_of(uow, order).refund(
            units, cause=failed.cause, pay=failed.payout, refund_id=new_id("rf"), actor=principal.actor,
            now=uow.now(), forced_amount=forced_amount)
        uow.refunds.add(refund)
        return tx.commit(Refunded(tx.save(changed, events), refund, refund.cause))


def refund_list(uow: UnitOfWork, principal: Principal, *, status: str | None, seller_id: str | None = None,
                limit: int = 200) -> list[Refund]:
    """Refunds newest first: a seller's own; an operator's of one seller or all."""
    with uow:
        return uow.refunds.search(principal.scope or seller_id, status=status, limit=limit)


def get_refund(uow: UnitOfWork, refund_id: str, principal: Principal) -> Refund:
    with uow:
        found = uow.refunds.get(refund_id, principal.scope)
    if found is None:
        raise RefundNotFound(f"refund {refund_id} not found", refund_id=refund_id)
    return found


def order_refunds(uow: UnitOfWork, order_number: str, principal: Principal,
                  seller_id: str | None = None) -> tuple[Order, list[Refund]]:
    with uow:
        order = uow.orders.get(order_number, principal.scope or seller_id)
        return order, uow.refunds.for_order(order.id)


# --- returns ------------------------------------------------------------------------------------
def request_return(uow: UnitOfWork, principal: Principal, order_number: str, items: Sequence[ReturnItem],
                   seller_id: str | None = None) -> ReturnRequest:
    with OrderTransaction(uow) as tx:
        order = tx.lock(order_number, principal, seller_id)
        changed, request, events = domain_returns.request_return(order, items, return_id=new_id("ret"),
                                                                 actor=principal.actor, now=uow.now())
        uow.returns.add(request)
        tx.save(changed, events)
        return tx.commit(request)


def decide_return(uow: UnitOfWork, principal: Principal, return_id: str, decision: str, *,
                  reason_id: int | None = None, note: str | None = None) -> tuple[ReturnRequest, Order]:
    with OrderTransaction(uow) as tx:
        found = uow.returns.get(return_id, principal.scope)
        if found is None:
            raise ReturnNotFound(f"return {return_id} not found", return_id=return_id)
        order = tx.lock_id(found.order_id)
        request = uow.returns.get(return_id, principal.scope)
        assert request is not None
        actor, now = principal.actor, uow.now()
        if decision == "approve":
            changed, decided, events = domain_returns.approve_return(order, request, actor=actor, now=now)
            changed = save_decision(tx, order, changed, events, RefundCause.RETURN, actor)
        else:
            changed, decided, events = domain_returns.reject_return(
                order, request, reason_id=-1 if reason_id is None else reason_id, note=note, actor=actor, now=now)
            tx.save(changed, events)
        uow.returns.save(decided)
        return tx.commit((decided, changed))


def get_return(uow: UnitOfWork, return_id: str, principal: Principal) -> ReturnRequest:
    with uow:
        found = uow.returns.get(return_id, principal.scope)
    if found is None:
        raise ReturnNotFound(f"return {return_id} not found", return_id=return_id)
    return found


# --- strategies ---------------------------------------------------------------------------------
def get_strategy(uow: UnitOfWork, seller_id: str, principal: Principal) -> tuple[CancellationStrategy, bool]:
    """(strategy, is_default). A seller sees its own; an operator any."""
    if principal.scope is not None and principal.scope != seller_id:
        raise SellerIdMismatch("a seller may only read its own cancellation strategy")
    with uow:
        stored = uow.strategies.get(seller_id)
        if stored is None and not uow.sellers.exists(seller_id):  # an operator's typo, as a write refuses it
            raise unknown_seller(seller_id)
    return (DEFAULT_STRATEGY, True) if stored is None else (strategy_from_dict(stored), False)


def put_strategy(uow: UnitOfWork, seller_id: str, config: Mapping[str, Any],
                 principal: Principal) -> CancellationStrategy:
    principal.require_operator()
    strategy = strategy_from_dict(config)
    with uow:
        now = uow.now()
        known_seller(uow, seller_id, now, new_seller=False)  # a typo must not create a seller
        uow.strategies.put(seller_id, strategy.to_dict(), now, principal.actor.label)
        uow.commit(strategy)
    return strategy
