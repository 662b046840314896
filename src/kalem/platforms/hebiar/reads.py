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

#: The most unit lines one page shows, unless its first package alone holds more: a page of `size`
#: packages stops at the package that would take it past this many (`totalPages` counts such pages).
UNITS_PER_PAGE = 10_000


def order_packages(uows: Callable[..., UnitOfWork], principal: Principal,
                   query: PackageQuery) -> tuple[int, int, list[dict[str, Any]]]:
    """(how many packages match, how many pages they take, the page asked for). Reads only: the ids
    shown are computed (`history.py`); the unit lines are built for the page's packages alone."""
    with uows(write=False) as uow:
        rows = _rows(uow, principal, query)
        pages = _pages(rows, query.size)
        page = [rows[i] for i in pages[query.page]] if query.page < len(pages) else []
        known = history.known(uow, _orders_of(page))
    return len(rows), len(pages), [views.package_view(order, package, shown, known[order.id])
                                   for order, package, shown in page]


def _rows(uow: UnitOfWork, principal: Principal, query: PackageQuery) -> list[Row]:
    """Every matching (order, package, units it shows), in the order asked; units as spans."""
    rows = [(order, package, shown[package.package_id])
            for order in _orders(uow, principal, query.order_number) if query.wants(order)
            for shown in (views.shown_units(order),) for package in order.packages
            if query.status is None or PACKAGE_STATUS_NAMES[package.status].lower() == query.status.lower()]
    if query.ascending:
        rows.reverse()
    return rows


def _pages(rows: list[Row], size: int) -> list[range]:
    """The rows of each page: `size` packages, fewer when they would show more than UNITS_PER_PAGE units."""
    pages: list[range] = []
    start = units = 0
    for index, (_, _, shown) in enumerate(rows):
        count = views.unit_count(shown)
        if index > start and (index - start == size or units + count > UNITS_PER_PAGE):
            pages.append(range(start, index))
            start, units = index, 0
        units += count
    if start < len(rows):
        pages.append(range(start, len(rows)))
    return pages


def _orders_of(page: list[Row]) -> list[Order]:
    return list({order.id: order for order, _, _ in page}.values())


def _orders(uow: UnitOfWork, principal: Principal, number: str | None) -> list[Order]:
    if number is None:
        return uow.orders.list(principal.scope, limit=SCAN_LIMIT)
    try:
        return [uow.orders.get(number, principal.scope)]
    except NotFound:
        return []
