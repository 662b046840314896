"""Landed cost: worked examples with hand-computed numbers, then properties."""

from __future__ import annotations

import json
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kalem.domain.billing.landed_cost import (
    DutyLine,
    FeeLine,
    InvalidLandedCostInput,
    InvalidRateTable,
    LandedCostCurrencyMismatch,
    LandedCostItem,
    TaxLine,
    UnknownDestination,
    compute_landed_cost,
    load_default_rate_table,
    rate_table_from_dict,
    remove_units,
)
from kalem.domain.money import quantum

# The tests own their figures, so editing the shipped illustrative table cannot break them.
TABLE_DATA = {
    "_notice": "test figures",
    "destinations": {
        "US": {
            "currency": "USD", "vat_rate": "0", "de_minimis_duty": "0", "de_minimis_tax": "0",
            "default_duty_rate": "5",
            "duty_rates_by_hs_prefix": {"6109": "12", "610910": "16.5"},
            "fees": [{"name": "processing", "kind": "flat", "amount": "2.50"}],
        },
        "GB": {
            "currency": "GBP", "vat_rate": "20", "de_minimis_duty": "135", "de_minimis_tax": "0",
            "default_duty_rate": "4", "duty_rates_by_hs_prefix": {"6109": "12", "4901": "0"},
            "fees": [{"name": "handling", "kind": "percent", "amount": "2"}],
        },
        "CA": {
            "currency": "CAD", "vat_rate": "5", "de_minimis_duty": "150", "de_minimis_tax": "40",
            "default_duty_rate": "6", "duty_rates_by_hs_prefix": {"6109": "18"},
            "fees": [{"name": "brokerage", "kind": "percent", "amount": "1.5"},
                     {"name": "clearance", "kind": "flat", "amount": "3"}],
        },
        "JP": {
            "currency": "JPY", "vat_rate": "10", "de_minimis_duty": "10000",
            "de_minimis_tax": "10000", "default_duty_rate": "3.3",
            "duty_rates_by_hs_prefix": {"6109": "7.4"}, "fees": [],
        },
    },
}
TABLE = rate_table_from_dict(TABLE_DATA)


def item(item_id: str, hs: str, unit: str, qty: int) -> LandedCostItem:
    return LandedCostItem(item_id, hs, D(unit), qty)


# --- worked examples ---------------------------------------------------------------------------


def test_tshirt_hs_6109_to_us():
    # 3 x 19.99 = 59.97; HS 6109.90 matches "6109" (12%): 7.1964 -> 7.20.
    # 2 x 8.50 = 17.00; HS 6912 has no prefix: default 5% -> 0.85. No VAT. Flat fee 2.50.
    lc = compute_landed_cost(
        [item("tee", "6109.90", "19.99", 3), item("mug", "6912", "8.50", 2)],
        D("10"), "US", "USD", TABLE,
    )
    assert (lc.items, lc.shipping, lc.duties, lc.taxes, lc.fees, lc.total) == (
        D("76.97"), D("10.00"), D("8.05"), D("0.00"), D("2.50"), D("97.52"))
    assert lc.duty_lines == (
        DutyLine("mug", "6912", D("5"), D("0.85")),
        DutyLine("tee", "610990", D("12"), D("7.20")),
    )
    assert lc.fee_lines == (FeeLine("processing", D("2.50")),)
    assert lc.to_dict()["total"] == "97.52"
    assert lc.to_dict()["duty_lines"][1] == {
        "item_id": "tee", "hs_code": "610990", "rate": "12", "amount": "7.20"}


def test_longest_hs_prefix_wins():
    # "6109100010" matches both "6109" (12) and "610910" (16.5); the longer wins.
    # 1 x 19.99 x 16.5% = 3.29835 -> 3.30.
    lc = compute_landed_cost([item("tee", "6109.10.0010", "19.99", 1)], D("0"), "US", "USD", TABLE)
    assert lc.duty_lines == (DutyLine("tee", "6109100010", D("16.5"), D("3.30")),)
    assert lc.total == D("19.99") + D("3.30") + D("2.50")


def test_seed_example_removing_the_only_tshirt_leaves_shipping_only():
    # Zonos sample: one T-shirt at 19.99, `quantity: 1` removed -> item at quantity 0.
    before = [item("item_8659", "6109", "19.99", 1)]
    after = remove_units(before, {"item_8659": 1})
    assert after == (item("item_8659", "6109", "19.99", 0),)
    lc = compute_landed_cost(after, D("5.00"), "US", "USD", TABLE)
    assert (lc.items, lc.duties, lc.taxes, lc.fees, lc.total) == (
        D("0.00"), D("0.00"), D("0.00"), D("0.00"), D("5.00"))
    assert lc.duty_lines == () and lc.fee_lines == ()


def test_gb_cif_tax_de_minimis_and_recomputation_after_removal():
    # Goods 2 x 25.00 + 100.00 = 150.00 >= 135: dutiable. Tee 50.00 x 12% = 6.00; book HS 4901 0%.
    # Tax 20% on goods + shipping + duty = (150.00 + 12.00 + 6.00) x 20% = 33.60.
    # Fee 2% of goods = 3.00. Total 150 + 12 + 6 + 33.60 + 3 = 204.60.
    items = [item("tee", "6109", "25.00", 2), item("book", "4901", "100.00", 1)]
    lc = compute_landed_cost(items, D("12.00"), "GB", "GBP", TABLE)
    assert (lc.items, lc.duties, lc.taxes, lc.fees, lc.total) == (
        D("150.00"), D("6.00"), D("33.60"), D("3.00"), D("204.60"))
    # Tax split by (value + duty): book 100, tee 56, shipping 12 of 168 -> 20.00, 11.20, 2.40.
    assert lc.tax_lines == (TaxLine("book", D("20.00")), TaxLine("tee", D("11.20")))
    assert lc.shipping_tax == D("2.40")
    assert not lc.duty_exempt and not lc.tax_exempt

    # Remove the book: goods 50.00 < 135 -> no duty; tax (50 + 12) x 20% = 12.40; fee 1.00.
    after = compute_landed_cost(remove_units(items, {"book": 1}), D("12.00"), "GB", "GBP", TABLE)
    assert (after.items, after.duties, after.taxes, after.fees, after.total) == (
        D("50.00"), D("0.00"), D("12.40"), D("1.00"), D("75.40"))
    assert after.duty_exempt and after.duty_lines == (DutyLine("tee", "6109", D("12"), D("0.00")),)


def test_de_minimis_is_strictly_below():
    # CA: duty threshold 150, tax threshold 40. Exactly 150.00 is not below: duty is due.
    at = compute_landed_cost([item("tee", "6109", "150.00", 1)], D("0"), "CA", "CAD", TABLE)
    assert at.duties == D("27.00") and not at.duty_exempt
    below = compute_landed_cost([item("tee", "6109", "149.99", 1)], D("0"), "CA", "CAD", TABLE)
    assert below.duties == D("0.00") and below.duty_exempt
    # 149.99 >= 40 so GST 5% still applies: 7.4995 -> 7.50; brokerage 1.5% = 2.24985 -> 2.25; +3.
    assert below.taxes == D("7.50") and below.fees == D("5.25")
    small = compute_landed_cost([item("tee", "6109", "39.99", 1)], D("9"), "CA", "CAD", TABLE)
    assert small.taxes == D("0.00") and small.tax_exempt


def test_zero_decimal_currency_rounds_to_whole_yen():
    # 3 x 4000 = 12000 >= 10000. Duty 7.4% = 888. Tax 10% of (12000 + 1500 + 888) = 1438.8 -> 1439.
    lc = compute_landed_cost([item("tee", "6109", "4000", 3)], D("1500"), "JP", "JPY", TABLE)
    assert (lc.duties, lc.taxes, lc.total) == (D("888"), D("1439"), D("15827"))


def test_other_currency_needs_an_fx_rate():
    items = [item("tee", "6109", "100.00", 1)]
    with pytest.raises(LandedCostCurrencyMismatch) as exc:
        compute_landed_cost(items, D("0"), "GB", "USD", TABLE)
    assert exc.value.code == "landed_cost_currency_mismatch"
    # 1 GBP = 1.25 USD: the 135 GBP threshold is 168.75 USD, so 150.00 USD is duty-free
    # (unconverted, 150 >= 135 would pay duty). VAT 20% of 150.00 = 30.00; fee 2% = 3.00.
    lc = compute_landed_cost([item("tee", "6109", "150.00", 1)], D("0"), "GB", "USD", TABLE,
                             fx_rate=D("1.25"))
    assert lc.duty_exempt and (lc.duties, lc.taxes, lc.fees) == (D("0.00"), D("30.00"), D("3.00"))
    # 1 CAD = 0.75 USD: the flat 3 CAD clearance fee is 2.25 USD; brokerage 1.5% of 100 = 1.50.
    # Thresholds 112.50 (duty) and 30.00 (tax) USD: no duty, GST 5% of 100.00 = 5.00.
    lc = compute_landed_cost(items, D("0"), "CA", "USD", TABLE, fx_rate=D("0.75"))
    assert lc.fee_lines == (FeeLine("brokerage", D("1.50")), FeeLine("clearance", D("2.25")))
    assert (lc.duties, lc.taxes, lc.total) == (D("0.00"), D("5.00"), D("108.75"))


def test_unknown_destination_is_typed():
    with pytest.raises(UnknownDestination) as exc:
        compute_landed_cost([], D("0"), "ZZ", "USD", TABLE)
    assert exc.value.code == "unknown_destination"
    assert compute_landed_cost([], D("0"), "us", "USD", TABLE).destination_country == "US"


@pytest.mark.parametrize("bad", [
    [item("a", "6109", "1.00", 1), item("a", "6109", "1.00", 1)],  # duplicate id
    [LandedCostItem("a", "6109", D("1.00"), -1)],
    [LandedCostItem("a", "6109", 1.5, 1)],  # float money
    [LandedCostItem("a", "6109", D("-0.01"), 1)],
    [LandedCostItem("a", "61X9", D("1.00"), 0)],  # bad HS code, even at quantity 0
])
def test_bad_items_are_refused(bad):
    with pytest.raises(InvalidLandedCostInput) as exc:
        compute_landed_cost(bad, D("0"), "US", "USD", TABLE)
    assert exc.value.code == "invalid_landed_cost_input"


@pytest.mark.parametrize("shipping,fx", [(D("-1"), None), (1.0, None), (D("0"), D("0")),
                                         (D("0"), D("NaN"))])
def test_bad_shipping_or_fx_rate_is_refused(shipping, fx):
    with pytest.raises(InvalidLandedCostInput):
        compute_landed_cost([], shipping, "GB", "USD" if fx is not None else "GBP", TABLE, fx_rate=fx)


def test_remove_units_refuses_more_than_present_and_unknown_items():
    items = [item("a", "6109", "1.00", 2)]
    for removals in ({"a": 3}, {"b": 1}, {"a": -1}):
        with pytest.raises(InvalidLandedCostInput):
            remove_units(items, removals)


def _mutated(path: list, value):
    data = json.loads(json.dumps(TABLE_DATA))
    target = data
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return data


@pytest.mark.parametrize("path,value", [
    (["destinations", "US", "vat_rate"], KeyError),
    (["destinations", "US", "vat_rate"], "-1"),
    (["destinations", "US", "vat_rate"], "101"),
    (["destinations", "US", "vat_rat"], "5"),  # typo'd key
    (["destinations", "US", "currency"], "usd"),
    (["destinations", "US", "default_duty_rate"], "five"),
    (["destinations", "US", "default_duty_rate"], True),
    (["destinations", "US", "duty_rates_by_hs_prefix"], {"61.09": "12"}),
    (["destinations", "US", "fees"], [{"name": "x", "kind": "weird", "amount": "1"}]),
    (["destinations", "US", "fees"], [{"name": "x", "kind": "flat", "amount": "1"},
                                      {"name": "x", "kind": "flat", "amount": "2"}]),
    (["destinations", "usa"], {}),
    (["destinations"], {}),
    (["rates"], {}),
])
def test_bad_rate_tables_are_refused(path, value):
    with pytest.raises(InvalidRateTable) as exc:
        rate_table_from_dict(_mutated(path, value))
    assert exc.value.code == "invalid_rate_table"


def test_floats_from_a_plain_json_loader_are_read_exactly():
    data = _mutated(["destinations", "US", "duty_rates_by_hs_prefix"], {"6109": 16.5})
    table = rate_table_from_dict(json.loads(json.dumps(data)))
    assert table.destination("US").duty_rate_for("6109") == D("16.5")


def test_default_table_ships_with_its_notice_and_five_destinations():
    table = load_default_rate_table()
    assert sorted(table.destinations) == ["CA", "DE", "GB", "TR", "US"]
    assert "NOT legal" in table.notice and "illustrative" in table.notice.lower()
    lc = compute_landed_cost([item("tee", "6109", "19.99", 1)], D("5"), "TR", "TRY", table)
    assert lc.total == lc.items + lc.shipping + lc.duties + lc.taxes + lc.fees


# --- properties ----------------------------------------------------------------------------------

DESTS = {"US": "USD", "GB": "GBP", "CA": "CAD", "JP": "JPY"}
HS_CODES = ["", "6109", "610910", "6109.10.0010", "4901", "6912", "8471.30"]


@st.composite
def orders(draw):
    country = draw(st.sampled_from(sorted(DESTS)))
    currency = DESTS[country]
    q = quantum(currency)
    n = draw(st.integers(0, 6))
    items = [
        LandedCostItem(f"item_{i}", draw(st.sampled_from(HS_CODES)),
                       draw(st.integers(0, 50_000)) * q, draw(st.integers(0, 5)))
        for i in range(n)
    ]
    shipping = draw(st.integers(0, 5_000)) * q
    return items, shipping, country, currency


@st.composite
def orders_with_removals(draw):
    items, shipping, country, currency = draw(orders())
    removals = {i.item_id: draw(st.integers(0, i.quantity)) for i in items
                if draw(st.booleans())}
    return items, shipping, country, currency, removals


@settings(max_examples=200, deadline=None)
@given(orders(), st.randoms(use_true_random=False))
def test_deterministic_and_independent_of_item_order(order, rnd):
    items, shipping, country, currency = order
    first = compute_landed_cost(items, shipping, country, currency, TABLE)
    again = compute_landed_cost(list(items), shipping, country, currency, TABLE)
    shuffled = list(items)
    rnd.shuffle(shuffled)
    assert first == again == compute_landed_cost(shuffled, shipping, country, currency, TABLE)
    assert first.to_dict() == again.to_dict()
    assert json.dumps(first.to_dict(), sort_keys=True) == json.dumps(
        compute_landed_cost(shuffled, shipping, country, currency, TABLE).to_dict(), sort_keys=True)


@settings(max_examples=200, deadline=None)
@given(orders())
def test_parts_add_up_exactly(order):
    items, shipping, country, currency = order
    lc = compute_landed_cost(items, shipping, country, currency, TABLE)
    assert lc.total == lc.items + lc.shipping + lc.duties + lc.taxes + lc.fees
    assert sum((d.amount for d in lc.duty_lines), D(0)) == lc.duties
    assert sum((t.amount for t in lc.tax_lines), D(0)) + lc.shipping_tax == lc.taxes
    assert sum((f.amount for f in lc.fee_lines), D(0)) == lc.fees
    exponent = quantum(currency).as_tuple().exponent
    for amount in (lc.items, lc.shipping, lc.duties, lc.taxes, lc.fees, lc.total,
                   *(d.amount for d in lc.duty_lines), *(t.amount for t in lc.tax_lines)):
        assert amount.as_tuple().exponent == exponent and amount >= 0
    # duty is computed per item then summed: each line is its own rounded value x rate
    values = {i.item_id: i.unit_amount * i.quantity for i in items}
    for d in lc.duty_lines:
        expected = D(0) if lc.duty_exempt else values[d.item_id] * d.rate / 100
        assert abs(d.amount - expected) <= quantum(currency) / 2


@settings(max_examples=200, deadline=None)
@given(orders_with_removals())
def test_recomputing_after_removal_equals_computing_from_scratch(case):
    items, shipping, country, currency, removals = case
    reduced = remove_units(items, removals)
    after = compute_landed_cost(reduced, shipping, country, currency, TABLE)
    # From scratch: an order placed with only the units that remain (emptied items never listed).
    fresh = [LandedCostItem(i.item_id, i.hs_code, i.unit_amount, i.quantity - removals.get(i.item_id, 0))
             for i in items]
    fresh = [i for i in fresh if i.quantity > 0]
    assert after == compute_landed_cost(fresh, shipping, country, currency, TABLE)
    # ...and removing never raises any component, so a rebill can only ever credit.
    before = compute_landed_cost(items, shipping, country, currency, TABLE)
    for name in ("items", "duties", "taxes", "fees", "total"):
        assert getattr(after, name) <= getattr(before, name), name
