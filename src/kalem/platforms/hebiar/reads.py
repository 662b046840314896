"""GetOrderPackages: the packages a caller may see, filtered and paged, with their Hebiar ids."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kalem.app.principals import Principal
from kalem.domain.errors import NotFound
from kalem.domain.orders import Order, Package
from kalem.platforms.hebiar import history
from kalem.platforms.hebiar.face import views
from kalem.platforms.hebiar.units import PACKAGE_STATUS_NAMES
from kalem.store.uow import UnitOfWork

#: How many of a caller's newest orders the listing looks through.
SCAN_LIMIT = 1000


@dataclass(frozen=True, slots=True)
class PackageQuery:
    order_number: str | None
    status: str | None
    start: datetime | None
    end: datetime | None
    ascending: bool
    page: int
    size: int
    customer: dict[str, str] = field(default_factory=dict)   # Customer field → the value asked for

    def wants(self, order: Order) -> bool:
        """Does the order pass the date and customer filters? Customer values match case-insensitively."""
        if (self.start is not None and order.created_at < self.start) or (
                self.end is not None and order.created_at > self.end):
            return False
        customer = order.details.customer
        if not self.customer:
            return True
        return customer is not None and all(
            str(getattr(customer, name)).casefold() == value.casefold() for name, value in self.customer.items())


Row = tuple[Order, Package, views.Shown]


def order_packages(uows: Callable[..., UnitOfWork], principal: Principal,
                   query: PackageQuery) -> tuple[int, list[dict[str, Any]]]:
    """(how many packages match, the page asked for). A read; only when the page shows an object for
    the first time does it run again in a write transaction, to number what it shows."""
    with uows(write=False) as uow:
        total, page = _page(uow, principal, query)
        known = history.known(uow, _orders_of(page))
    if known is None:
        with uows(write=True) as uow:
            total, page = _page(uow, principal, query)
            history.mint(uow, _orders_of(page))
            known = history.known(uow, _orders_of(page))
            uow.commit()
    assert known is not None, "every id of the page was minted in this transaction"
    return total, [views.package_view(order, package, shown, known[order.id]) for order, package, shown in page]


def _page(uow: UnitOfWork, principal: Principal, query: PackageQuery) -> tuple[int, list[Row]]:
    rows = [(order, package, shown[package.package_id])
            for order in _orders(uow, principal, query.order_number) if query.wants(order)
            for shown in (views.shown_units(order),) for package in order.packages
            if query.status is None or PACKAGE_STATUS_NAMES[package.status].lower() == query.status.lower()]
    if query.ascending:
        rows.reverse()
    return len(rows), rows[query.page * query.size:(query.page + 1) * query.size]


def _orders_of(page: list[Row]) -> list[Order]:
    return list({order.id: order for order, _, _ in page}.values())


def _orders(uow: UnitOfWork, principal: Principal, number: str | None) -> list[Order]:
    if number is None:
        return uow.orders.list(principal.scope, limit=SCAN_LIMIT)
    try:
        return [uow.orders.get(number, principal.scope)]
    except NotFound:
        return []
