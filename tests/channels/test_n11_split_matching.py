"""Which n11 package a split decided in kalem is sent to, and when it is not sent: n11 shows no
package's parent, so a package is told by its units and by the ids earlier pushes learnt."""

from __future__ import annotations

from collections import Counter
from typing import Any

from kalem.app.channel_connectors import Done, Rejected
from kalem.platforms.n11.connector import _split_body, _split_target
from kalem.platforms.n11.face.responses import N11PackageLine, N11ShipmentPackage
from kalem.platforms.n11.package_match import SplitPlan

# kalem split package P (6 units of SKU) into C1 (2) and C2 (4)
PLAN = SplitPlan("P", Counter({"SKU": 6}), (("C1", Counter({"SKU": 2})), ("C2", Counter({"SKU": 4}))), ())


def package(pid: str, status: str, *lines: tuple[str, int, int]) -> N11ShipmentPackage:
    return N11ShipmentPackage.model_construct(
        id=pid, shipmentPackageStatus=status,
        lines=[N11PackageLine.model_construct(stockCode=sku, orderLineId=oid, quantity=n) for sku, oid, n in lines])


def target(packages: list[N11ShipmentPackage], known: dict[str, str] | None = None, plan: SplitPlan = PLAN) -> Any:
    return _split_target(plan, packages, known or {})


def test_the_package_learnt_for_it_is_split_though_another_holds_the_same_units():
    twins = [package("n1", "Picking", ("SKU", 1, 6)), package("n2", "Picking", ("SKU", 2, 6))]
    assert target(twins, {"P": "n2", "Q": "n1"}).id == "n2"
    assert target(twins, {"Q": "n2"}).id == "n1"  # unknown yet: one holding its units no other package is known by


def test_a_package_whose_units_a_cancel_moved_is_followed_to_the_package_holding_them():
    # A cancel on n11 left the learnt package UnSupplied and its six live units in a new package.
    packages = [package("n1", "UnSupplied", ("SKU", 1, 1)), package("n1b", "Unpacked", ("SKU", 1, 6)),
                package("n2", "Picking", ("SKU", 3, 6))]
    assert target(packages, {"P": "n1"}).id == "n2"


def test_a_split_n11_shows_already_is_done_with_the_new_ids_learnt():
    packages = [package("n1", "Unpacked", ("SKU", 1, 6)), package("n3", "Picking", ("SKU", 4, 4)),
                package("n2", "Picking", ("SKU", 1, 2))]
    for known in ({"P": "n1"}, {}):
        found = target(packages, known)
        assert isinstance(found, Done)
        assert {"C1": "n2", "C2": "n3"}.items() <= found.packages.items()
    assert target(packages, {"P": "n1"}).packages["P"] == "n1"


def test_a_shipped_package_is_sent_for_n11_to_refuse_and_none_holding_the_units_is_a_dead_letter():
    assert target([package("n1", "Shipped", ("SKU", 1, 6))]).id == "n1"
    assert target([package("n1", "Shipped", ("SKU", 1, 6))], {"P": "n1"}).id == "n1"
    none = target([package("n1", "Picking", ("SKU", 1, 5))])
    assert isinstance(none, Rejected) and "SKU x6" in none.message


def test_the_body_names_the_package_lines_and_the_cancelled_units_with_n11_reasons():
    plan = SplitPlan("P", Counter({"A": 3, "B": 2}), (("C1", Counter({"A": 1, "B": 2})), ("C2", Counter({"A": 1}))),
                     (("A", 1, 135),))
    body = _split_body(plan, package("n1", "Picking", ("A", 10, 2), ("A", 11, 1), ("B", 12, 2)))
    assert body.model_dump(mode="json", exclude_defaults=True) == {  # kalem's 135 is out_of_stock: n11's 61
        "cancelledItems": [{"cancelReasonId": 61, "orderLineId": 10, "quantity": 1}],
        "splitPackages": [
            {"packageDetails": [{"orderLineId": 10, "quantities": 1}, {"orderLineId": 12, "quantities": 2}]},
            {"packageDetails": [{"orderLineId": 11, "quantities": 1}]}]}
    plain = _split_body(PLAN, package("n1", "Picking", ("SKU", 7, 6)))
    assert "cancelledItems" not in plain.model_dump(mode="json", exclude_defaults=True)
