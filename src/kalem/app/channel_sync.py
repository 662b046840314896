"""The sync: pulls each due channel account's orders into kalem and sends the channel outbox (`kalem sync`).

Inbound, each pulled order enters through the same use cases as any request — placed as the platform
shows it (idempotent on its number), then what the platform has cancelled and kalem has not is
cancelled in kalem — acting as the account (`Principal("seller", <account id>, …)`), so what a pull
applies is never pushed back. Outbound, a claimed push is leased before it is sent: a sync killed
mid-push leaves it due again when the lease ends, and the connector, told it is not the first attempt,
reads the platform's state before sending again. Failures back off exponentially (with jitter) on the
push and on the account's health; nothing a platform answers crashes the loop. A platform that answers
429 (a login locked after failed attempts, a quota) is left alone for as long as its `Retry-After`
asks: the account's next pull and every push of the account wait until then, the pushes without
counting an attempt they did not make.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from kalem.app.cancellation import CancelLines, cancel_lines
from kalem.app.channel_connectors import (
    THROTTLED,
    ChannelFailure,
    Connector,
    Done,
    InboundOrder,
    Outcome,
    PushRequest,
    Rejected,
    RetryLater,
)
from kalem.app.channel_packages import follow_packages
from kalem.app.orders import PlaceOrder, place_order
from kalem.app.principals import Principal
from kalem.domain.errors import KalemError, OrderInAnotherChannel, OrderNotFound
from kalem.domain.orders import CancelItem, Order
from kalem.store.channel_accounts import DEAD, DONE, ChannelAccount, Push
from kalem.store.uow import UnitOfWork

log = logging.getLogger("kalem.sync")

CONNECTOR_ERROR = "connector_error"
#: The refused orders an account's health names one by one (a count says how many more there were).
MAX_REFUSALS_SHOWN = 20


@dataclass(frozen=True, slots=True)
class SyncSettings:
    pull_every: float = 60.0      # seconds between two pulls of a healthy account
    lease: float = 60.0           # how long a claimed push is held before another attempt may take it
    backoff_base: float = 2.0     # the first retry's delay; doubled per failure, with jitter
    backoff_max: float = 3600.0
    max_attempts: int = 25        # then a push is a dead letter (about a day at the default maximum)
    batch: int = 20
    push_workers: int = 4         # pushes of different orders sent at once (one order's, one after another)


def backoff(failures: int, settings: SyncSettings) -> float:
    """Seconds until the next attempt after `failures` consecutive ones: exponential, capped, and
    jittered down by up to a half so that many accounts failing together do not retry together."""
    delay = min(settings.backoff_max, settings.backoff_base * 2 ** max(0, failures - 1))
    return delay * random.uniform(0.5, 1.0)  # noqa: S311 - spreading retries, not a secret


def wait(failures: int, settings: SyncSettings, retry_after: float | None) -> float:
    """The backoff, or longer when the platform asked kalem to wait longer (its `Retry-After`)."""
    return max(backoff(failures, settings), retry_after or 0.0)


def principal_of(account: ChannelAccount) -> Principal:
    return Principal("seller", account.id, account.seller_id)


def take_in(uow: Callable[[], UnitOfWork], account: ChannelAccount, inbound: InboundOrder) -> Order:
    """One pulled order into kalem: placed once, then what the platform cancelled mirrored, then the
    package steps it shows."""
    principal = principal_of(account)
    spec = replace(inbound.spec, seller_id=account.seller_id, channel=account.channel)
    try:
        with uow() as unit:
            order = unit.orders.get(spec.order_number, account.seller_id)
    except OrderNotFound:
        order = place_order(uow(), PlaceOrder(spec, principal)).order
    if order.channel != account.channel:
        raise OrderInAnotherChannel(f"order {spec.order_number} exists under another channel than "
                                    f"{account.channel}", order_number=spec.order_number, channel=account.channel)
    items = []
    for line_id, wanted in inbound.cancelled.items():
        line = next((ln for ln in order.lines if ln.line_id == line_id), None)
        if line is None:
            continue
        # Units a pending request holds are the platform's to decide: its decision will cancel them.
        missing = min(wanted - line.ledger.cancelled - line.ledger.pending_cancel, line.cancellable)
        if missing > 0:
            items.append(CancelItem(line_id, missing, inbound.reason_id))
    remaining = inbound.remaining or {}
    for line in order.lines:
        if line.line_id in remaining:  # a platform that shows what is left: cancel what kalem holds beyond it
            missing = min(line.ledger.alive - remaining[line.line_id], line.cancellable)
            if missing > 0:
                items.append(CancelItem(line.line_id, missing, inbound.reason_id))
    if items:
        order = cancel_lines(uow(), CancelLines(order.order_number, tuple(items), principal, account.seller_id))
    if inbound.unit_status:  # packages the platform approved, shipped or delivered: the same steps here
        order = follow_packages(uow, principal, account.seller_id, order, inbound.unit_status)
    return order


class ChannelSync:
    def __init__(self, uow: Callable[..., UnitOfWork], connectors: Mapping[str, Connector],
                 settings: SyncSettings = SyncSettings(), clock: Callable[[], datetime] | None = None) -> None:
        self._uow = uow
        self._connectors = connectors
        self._settings = settings
        self._clock = clock

    def _now(self) -> datetime:
        if self._clock is not None:
            return self._clock()
        with self._uow(write=False) as unit:
            return unit.now()

    def run_once(self) -> int:
        """One round: every due pull, then every due push. Returns how much was done (0: idle)."""
        return self.pull_due() + self.push_due()

    # --- inbound --------------------------------------------------------------------------------

    def pull_due(self) -> int:
        now = self._now()
        with self._uow(write=False) as unit:
            due = unit.channel_accounts.due(now)
        for account_id in due:
            self.pull(account_id)
        return len(due)

    def pull(self, account_id: str) -> None:
        with self._uow(write=False) as unit:
            account = unit.channel_accounts.get(account_id, open_credentials=True)
        if account is None:
            return
        connector = self._connectors.get(account.platform)
        if connector is None:
            self._account_failed(account, CONNECTOR_ERROR, f"this kalem has no connector for {account.platform}")
            return
        refused: list[str] = []
        refusals = 0
        try:
            pulled = connector.pull(account, account.watermark)
            # A streamed pull reads the platform's next page only when this loop asks for it: one page
            # of orders is held at a time, however many the window has.
            for inbound in pulled.orders:
                try:
                    take_in(self._uow, account, inbound)
                except KalemError as error:
                    refusals += 1
                    if len(refused) < MAX_REFUSALS_SHOWN:
                        refused.append(f"{inbound.spec.order_number}: {error.code}")
                    log.warning("channel account %s: order %s refused (%s)", account.id,
                                inbound.spec.order_number, error.code)
            watermark = pulled.final_watermark()
        except ChannelFailure as failure:
            self._account_failed(account, failure.kind, failure.message, failure.retry_after)
            return
        except Exception as unexpected:  # a connector's bug must not stop the other accounts
            log.exception("pull of channel account %s failed", account.id)
            self._account_failed(account, CONNECTOR_ERROR, type(unexpected).__name__)
            return
        if refusals > len(refused):
            refused.append(f"and {refusals - len(refused)} more")
        now = self._now()
        with self._uow() as unit:
            unit.channel_accounts.pulled(account.id, now=now, watermark=watermark,
                                         next_pull_at=now + timedelta(seconds=self._settings.pull_every))
            if refused:  # the account works; some orders of it are refused, each with its own code
                unit.channel_accounts.failed(account.id, now=now, kind="orders_refused",
                                             message="; ".join(refused), next_pull_at=None)
            unit.commit()

    def _account_failed(self, account: ChannelAccount, kind: str, message: str,
                        retry_after: float | None = None) -> None:
        now = self._now()
        with self._uow() as unit:
            failures = unit.channel_accounts.failed(account.id, now=now, kind=kind, message=message,
                                                    next_pull_at=now + timedelta(seconds=wait(
                                                        account.consecutive_failures + 1, self._settings,
                                                        retry_after)))
            unit.commit()
        log.warning("channel account %s: %s (%d in a row): %s", account.id, kind, failures, message)

    # --- outbound -------------------------------------------------------------------------------

    def push_due(self) -> int:
        now = self._now()
        with self._uow() as unit:
            claimed = unit.channel_accounts.claim(now, now + timedelta(seconds=self._settings.lease),
                                                  self._settings.batch)
            unit.commit()
        # Each push waits on the platform (a read, then its calls): pushes of different orders go a few
        # at a time. One order's pushes go one after another, in order, since each reads what the
        # platform shows before sending what is missing — two at once could both send it.
        by_order: dict[str, list[Push]] = {}
        for push in claimed:
            by_order.setdefault(push.order_id, []).append(push)
        workers = min(self._settings.push_workers, len(by_order))
        if workers <= 1:
            for push in claimed:
                self._send(push)
        else:
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="kalem-push") as pool:
                for done in [pool.submit(self._send_all, group) for group in by_order.values()]:
                    done.result()
        return len(claimed)

    def _send_all(self, pushes: list[Push]) -> None:
        for push in pushes:
            self._send(push)

    def _send(self, push: Push) -> None:
        with self._uow(write=False) as unit:
            account = unit.channel_accounts.get(push.account_id, open_credentials=True)
            event = unit.channel_accounts.event(push.event_id)
            order = unit.orders.get_by_id(push.order_id)
            packages = unit.channel_accounts.packages(push.account_id, push.order_id)
        connector = self._connectors.get(account.platform) if account else None
        outcome: Outcome
        if account is None or event is None:
            return  # the account was removed (its pushes with it) meanwhile
        if self._held_off(account, push):
            return
        if connector is None:
            outcome = RetryLater(CONNECTOR_ERROR, f"this kalem has no connector for {account.platform}")
        else:
            try:
                outcome = connector.push(account, PushRequest(event[0], event[2], order, push.attempts, packages))
            except Exception as unexpected:
                log.exception("push %d to channel account %s failed", push.id, account.id)
                outcome = Rejected(CONNECTOR_ERROR, type(unexpected).__name__)
        self._record(push, account, outcome)

    def _held_off(self, account: ChannelAccount, push: Push) -> bool:
        """A push of an account the platform asked to leave alone (429) waits, unsent, until then."""
        if not (account.consecutive_failures and account.last_error_kind == THROTTLED):
            return False
        now = self._now()
        if account.next_pull_at <= now:
            return False
        with self._uow() as unit:
            unit.channel_accounts.put_off(push.id, at=account.next_pull_at, kind=THROTTLED,
                                          message=account.last_error or "the platform asked kalem to wait")
            unit.commit()
        return True

    def _record(self, push: Push, account: ChannelAccount, outcome: Outcome) -> None:
        now = self._now()
        with self._uow() as unit:
            pushes = unit.channel_accounts
            if isinstance(outcome, Done):
                pushes.finish(push.id, status=DONE, now=now, message=outcome.note or None)
                pushes.learnt_packages(account.id, push.order_id, dict(outcome.packages), now)
                pushes.succeeded(account.id, now)
            elif isinstance(outcome, Rejected):
                pushes.finish(push.id, status=DEAD, now=now, kind=outcome.kind, message=outcome.message,
                              body=outcome.body)
                log.warning("push %d to channel account %s is a dead letter: %s", push.id, account.id, outcome.kind)
            elif push.attempts >= self._settings.max_attempts:
                pushes.finish(push.id, status=DEAD, now=now, kind=outcome.kind, message=outcome.message)
            else:
                at = now + timedelta(seconds=wait(push.attempts, self._settings, outcome.retry_after))
                pushes.retry_at(push.id, at=at, kind=outcome.kind, message=outcome.message)
                # A platform that asked kalem to wait is not pulled before then either.
                hold = max(at, account.next_pull_at) if outcome.kind == THROTTLED else None
                pushes.failed(account.id, now=now, kind=outcome.kind, message=outcome.message, next_pull_at=hold)
            unit.commit()
