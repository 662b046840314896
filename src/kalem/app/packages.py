"""Package use cases: split (with an optional partial cancel) and the status steps.

One transaction each, the order locked before it is read, like every other change to an order.
New package ids and cargo tracking numbers are numeric strings, as n11 shows them (a package id of
15 digits, a tracking number of 12); uniqueness within the order is checked by the domain.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from kalem.app.principals import Principal
from kalem.domain import packages as domain
from kalem.domain.errors import VersionMismatch
from kalem.domain.events import Event
from kalem.domain.orders import Order, PackageStatus
from kalem.domain.packages import SplitCancel, SplitResult
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
          principal: Principal, uow: UnitOfWork, platform: str) -> tuple[Order, SplitResult, list[Event]]:
    return domain.split_package(order, package_id, groups, cancelled, new_package_id=new_package_id,
                                new_tracking_number=new_tracking_number, actor=principal.actor, now=uow.now(),
                                platform=platform)


def split_package(uow: UnitOfWork, cmd: SplitPackage) -> Split:
    with uow:
        order = _lock(uow, cmd.order_number, cmd.principal, cmd.seller_id, cmd.expected_version)
        changed, result, events = split(order, cmd.package_id, cmd.groups, cmd.cancelled, cmd.principal, uow,
                                        cmd.platform)
        save(uow, order, changed, events)
        outcome = Split(changed, result)
        uow.commit(outcome)
        return outcome


def set_package_status(uow: UnitOfWork, cmd: SetPackageStatus) -> Order:
    with uow:
        order = _lock(uow, cmd.order_number, cmd.principal, cmd.seller_id, cmd.expected_version)
        changed, events = domain.set_status(order, cmd.package_id, cmd.status, actor=cmd.principal.actor,
                                            now=uow.now(), cargo_tracking_number=cmd.cargo_tracking_number)
        save(uow, order, changed, events)
        uow.commit(changed)
        return changed


def _lock(uow: UnitOfWork, order_number: str, principal: Principal, seller_id: str | None,
          expected_version: int | None) -> Order:
    order = uow.orders.get(order_number, principal.scope or seller_id, for_update=True)
    if expected_version is not None and order.version != expected_version:
        raise VersionMismatch(f"order {order_number} is at version {order.version}, not {expected_version}",
                              order_number=order_number, version=order.version)
    return order


def save(uow: UnitOfWork, before: Order, after: Order, events: list[Event]) -> None:
    uow.orders.save(after, expected_version=before.version)
    uow.events.append(events)
