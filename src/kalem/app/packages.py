"""Package use cases: split (with an optional partial cancel) and the status steps.

One order transaction each (app/transaction.py), like every other change to an order.
New package ids and cargo tracking numbers are numeric strings (a package id of 15 digits, a tracking
number of 12), so a face whose platform numbers packages shows them as they are; uniqueness within
the order is checked by the domain.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from kalem.app.principals import Principal
from kalem.app.refund_account import account_of
from kalem.app.refund_policy import save_decision
from kalem.app.transaction import OrderTransaction
from kalem.domain import orders as domain
from kalem.domain.events import Event
from kalem.domain.orders import Order, PackageStatus, SplitCancel, SplitResult
from kalem.domain.refunds import RefundCause
from kalem.store.uow import UnitOfWork


def numeric_id(digits: int) -> str:
    """A random number of exactly `digits` digits (no leading zero)."""
    low = 10 ** (digits - 1)
    return str(low + secrets.randbelow(9 * low))


def new_package_id() -> str:
    return numeric_id(15)


def new_tracking_number() -> str:
    return numeric_id(12)


@dataclass(frozen=True, slots=True)
class SplitPackage:
    order_number: str
    package_id: str
    groups: tuple[Mapping[str, int], ...]
    cancelled: tuple[SplitCancel, ...]
    principal: Principal
    seller_id: str | None = None
    expected_version: int | None = None
    platform: str = "kalem"
    unsupplied_in_place: bool = False  # the split package itself keeps the cancelled units (domain/orders/packages.py)


@dataclass(frozen=True, slots=True)
class Split:
    order: Order
    result: SplitResult


@dataclass(frozen=True, slots=True)
class SetPackageStatus:
    order_number: str
    package_id: str
    status: PackageStatus
    principal: Principal
    cargo_tracking_number: str | None = None
    seller_id: str | None = None
    expected_version: int | None = None


def split(order: Order, package_id: str, groups: Sequence[Mapping[str, int]], cancelled: Sequence[SplitCancel],
          principal: Principal, uow: UnitOfWork, platform: str,
          unsupplied_in_place: bool = False) -> tuple[Order, SplitResult, list[Event]]:
    return domain.split_package(order, package_id, groups, cancelled, new_package_id=new_package_id,
                                new_tracking_number=new_tracking_number, actor=principal.actor, now=uow.now(),
                                platform=platform, refunds=account_of(uow, order),
                                unsupplied_in_place=unsupplied_in_place)


def split_package(uow: UnitOfWork, cmd: SplitPackage) -> Split:
    with OrderTransaction(uow) as tx:
        order = tx.lock(cmd.order_number, cmd.principal, cmd.seller_id, expected_version=cmd.expected_version)
        changed, result, events = split(order, cmd.package_id, cmd.groups, cmd.cancelled, cmd.principal, uow,
                                        cmd.platform, cmd.unsupplied_in_place)
        saved = save_decision(tx, order, changed, events, RefundCause.CANCELLATION, cmd.principal.actor)
        return tx.commit(Split(saved, result))


def set_package_status(uow: UnitOfWork, cmd: SetPackageStatus) -> Order:
    with OrderTransaction(uow) as tx:
        order = tx.lock(cmd.order_number, cmd.principal, cmd.seller_id, expected_version=cmd.expected_version)
        changed, events = domain.set_status(order, cmd.package_id, cmd.status, actor=cmd.principal.actor,
                                            now=uow.now(), cargo_tracking_number=cmd.cargo_tracking_number)
        return tx.commit(tx.save(changed, events))

