"""The fidelity manifest is complete and `docs/fidelity.md` is what it renders."""

from __future__ import annotations

from tests.golden.manifest import PAGE, PLATFORMS, items, problems, render
from tests.golden.shape import differences


def test_every_item_names_tests_that_exist():
    assert problems(items()) == []


def test_every_platform_has_items():
    assert {item.platform for item in items()} == set(PLATFORMS)


def test_fidelity_page_is_rendered_from_the_manifest():
    assert PAGE.read_text() == render(items()), "docs/fidelity.md is stale: run `make fidelity`"


def test_shape_comparison_catches_each_kind_of_difference():
    documented = {"id": 1, "amount": 19.99, "name": "T-Shirt", "gone": None, "items": [{"qty": 1}]}
    assert differences({"id": 7, "amount": 5.5, "name": "x", "gone": None, "items": [{"qty": 3}]},
                       documented) == []
    assert differences({"id": "7", "amount": 5.5, "name": "x", "items": [{"qty": 3}], "extra": 1},
                       documented) == ["$.gone: absent, documented", "$.extra: present, not documented",
                                       "$.id: string '7', documented integer 1"]
    assert differences({"items": []}, {"items": [{"qty": 1}]}) == [
        "$.items: empty, documented with 1 element(s)"]
    assert differences({"code": 200, "message": "ok"}, {"code": 200, "message": "success"},
                       equal=["$.message"]) == ["$.message: 'ok', documented 'success'"]
    assert differences({"amount": 20}, {"amount": 19.99}) == [
        "$.amount: integer 20, documented number 19.99"]
