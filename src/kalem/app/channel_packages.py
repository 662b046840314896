"""A platform's package steps mirrored in kalem: the packages a platform has approved, shipped or
delivered are moved the same steps in kalem, through the same use case as a step asked of kalem's own
API (`packages.set_package_status`).

A platform that shows each unit's package status (`InboundOrder.unit_status`: line id → kalem unit
number → the status) has a kalem package moved when every unit of it kalem still holds alive is shown at
least that far along: `Created` → `Picking` → `Shipped` → `Delivered`, one step at a time, never back.
A package whose units the platform shows in different states (the platform split it) is left as it is,
and so is one holding units a cancel request of kalem's reserves: the request's decision comes first.
Taking the same state again changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from kalem.app.packages import SetPackageStatus, set_package_status
from kalem.app.principals import Principal
from kalem.domain.orders import Order, PackageStatus, UnitState
from kalem.store.uow import UnitOfWork

#: The steps, in order; a package elsewhere (split, cancelled, never supplied) is not moved.
STEPS = (PackageStatus.CREATED, PackageStatus.PICKING, PackageStatus.SHIPPED, PackageStatus.DELIVERED)


def follow_packages(uow: Callable[[], UnitOfWork], principal: Principal, seller_id: str, order: Order,
                    unit_status: Mapping[str, Mapping[int, PackageStatus]]) -> Order:
    """`order` with its packages moved as far as the platform shows their units; the order as it is now."""
    lines = {line.line_id: line for line in order.lines}
    for package in order.packages:
        if package.status not in STEPS:
            continue
        shown: set[PackageStatus] = set()
        waiting = False
        for item in package.items:
            line = lines[item.line_id]
            for n in item.units:
                state = line.state_of(n)
                if state is UnitState.CANCELLED:
                    continue
                waiting |= state is UnitState.PENDING_CANCEL
                shown.add(unit_status.get(item.line_id, {}).get(n, PackageStatus.CREATED))
        if waiting or len(shown) != 1:
            continue
        [target] = shown
        if target not in STEPS:
            continue
        for step in STEPS[STEPS.index(package.status) + 1:STEPS.index(target) + 1]:
            order = set_package_status(uow(), SetPackageStatus(order.order_number, package.package_id, step,
                                                               principal, seller_id=seller_id))
    return order
