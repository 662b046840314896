"""Which n11 package is which kalem package, for pushing a split decided in kalem.

n11 numbers its packages itself, gives a split's new packages ids of its own and shows no package's
parent (n11's REST API documentation, GetShipmentPackages). A package is told by what it holds: its
units per `stockCode` (kalem's line sku). The ids a push learns are kept by the sync (`Done.packages`),
so that a later split of one of two packages holding the same units addresses the right one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kalem.domain.orders import Order
from kalem.platforms.n11.face.responses import N11ShipmentPackage

Content = Mapping[str, int]   # stockCode → units


def content_of(package: N11ShipmentPackage) -> Counter[str]:
    found: Counter[str] = Counter()
    for line in package.lines:
        found[line.stockCode] += line.quantity
    return found


@dataclass(frozen=True, slots=True)
class SplitPlan:
    """A `package.split` event of kalem in n11's terms: the package split, what it held before, the
    live packages it was split into (each kalem id with its units) and the units cancelled on the way
    (stockCode, units, kalem reason id)."""

    package_id: str
    whole: Counter[str]
    parts: tuple[tuple[str, Counter[str]], ...]
    cancelled: tuple[tuple[str, int, int], ...]


def split_plan(data: Mapping[str, Any], order: Order) -> SplitPlan:
    sku = {ln.line_id: ln.sku for ln in order.lines}
    parts = []
    whole: Counter[str] = Counter()
    for child in data.get("children") or ():
        if child["status"] != "Picking":  # the cancelled units' package, or the one the groups came from
            continue
        units: Counter[str] = Counter()
        for item in child["items"]:
            units[sku[item["line_id"]]] += item["quantity"]
        parts.append((child["package_id"], units))
        whole += units
    cancelled = tuple((sku[c["line_id"]], c["quantity"], c["reason_id"]) for c in data.get("cancelled") or ())
    for stock_code, quantity, _ in cancelled:
        whole[stock_code] += quantity
    return SplitPlan(data["package_id"], whole, tuple(parts), cancelled)


def assign(parts: Sequence[tuple[str, Counter[str]]], packages: Iterable[N11ShipmentPackage]) -> dict[str, str] | None:
    """Each part to a package of its own holding the same units (kalem id → n11 id), in order; None
    when one has none. Packages holding the same units are alike, so which one a part gets is moot."""
    left = list(packages)
    found: dict[str, str] = {}
    for package_id, units in parts:
        match = next((p for p in left if content_of(p) == units), None)
        if match is None:
            return None
        left.remove(match)
        found[package_id] = match.id
    return found


class LineUnits:
    """The units of one n11 package handed out by `orderLineId` as a request names them: n11 may hold
    one stock code on several lines of a package, and no line gives more units than it holds."""

    def __init__(self, package: N11ShipmentPackage) -> None:
        self._lines = [(line.stockCode, line.orderLineId) for line in package.lines if line.orderLineId is not None]
        self._units = [line.quantity for line in package.lines if line.orderLineId is not None]

    def take(self, stock_code: str, quantity: int) -> list[tuple[int, int]]:
        """(orderLineId, units) naming `quantity` units of the stock code; fewer when the package
        holds fewer."""
        named = []
        for index, (code, order_line_id) in enumerate(self._lines):
            if code != stock_code or not self._units[index] or quantity <= 0:
                continue
            units = min(quantity, self._units[index])
            named.append((order_line_id, units))
            self._units[index] -= units
            quantity -= units
        return named
