"""Invoices, revisions and credit notes: worked examples, then sequences of removals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kalem.domain.billing.invoices import (
    BillingHistory,
    CreditApplication,
    CreditApplied,
    CreditNoteIssued,
    CreditReleased,
    InvalidInvoiceLine,
    InvoiceAlreadyCharged,
    InvoiceCharged,
    InvoiceIssued,
    InvoiceNotFound,
    InvoiceRevised,
    RebillIncreasesChargedInvoice,
    VatPart,
    issue_next_invoice,
    mark_charged,
    rebill,
)
from kalem.domain.billing.landed_cost import LandedCostItem, compute_landed_cost, rate_table_from_dict, remove_units

T0 = datetime(2024, 7, 9, 12, 0, tzinfo=UTC)
EMPTY = BillingHistory("AO-67890", "USD")


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


# --- worked examples ---------------------------------------------------------------------------


def test_first_invoice_totals_vat_per_rate():
    # 20%: 40.00 + 10.00 = 50.00 net, 10.00 VAT. 0%: duties 7.20. Total 67.20.
    history, effects = issue_next_invoice(
        EMPTY, [("T-Shirt x2", D("40.00"), D("20")), ("Shipping", D("10.00"), D("20")),
                ("Duties", D("7.20"), D("0"))], now=T0)
    inv = history.invoice()
    assert (inv.number, inv.revision, inv.total, inv.charged) == ("INV-AO-67890-1", 1, D("67.20"), False)
    assert inv.vat_by_rate == (VatPart(D("0"), D("7.20"), D("0.00")),
                               VatPart(D("20"), D("50.00"), D("10.00")))
    assert effects == (InvoiceIssued("INV-AO-67890-1", D("67.20"), D("67.20"), T0),)


def test_vat_is_rounded_once_per_rate_not_per_line():
    # Two lines of 0.05 at 10%: per rate 0.10 x 10% = 0.01 (per line it would be 0.01 + 0.01).
    history, _ = issue_next_invoice(EMPTY, [("a", D("0.05"), D("10")), ("b", D("0.05"), D("10.0"))],
                                    now=T0)
    assert history.invoice().vat_by_rate == (VatPart(D("10"), D("0.10"), D("0.01")),)
    assert history.invoice().total == D("0.11")


def test_uncharged_invoice_is_replaced_by_a_revision():
    history, _ = issue_next_invoice(EMPTY, [("T-Shirt x2", D("40.00"), D("20"))], now=T0)
    history, effects = rebill(history, [("T-Shirt x1", D("20.00"), D("20"))], now=at(1),
                              reason="item removed")
    inv = history.invoice()
    assert (inv.number, inv.revision, inv.total) == ("INV-AO-67890-1", 2, D("24.00"))
    assert history.credit_notes == () and len(history.invoices) == 2
    assert effects == (InvoiceRevised("INV-AO-67890-1", 2, D("48.00"), D("24.00"), D("24.00"),
                                      "item removed", at(1)),)
    assert history.billable() == D("24.00")


def test_charged_invoice_gets_a_credit_note_applied_to_the_next_invoices():
    lines = [("T-Shirt x2", D("40.00"), D("20")), ("Shipping", D("10.00"), D("20")),
             ("Duties", D("7.20"), D("0"))]
    history, _ = issue_next_invoice(EMPTY, lines, now=T0)
    history, effects = mark_charged(history, "INV-AO-67890-1", now=at(1))
    assert effects == (InvoiceCharged("INV-AO-67890-1", 1, D("67.20"), at(1)),)

    # Remove one T-shirt (duty halves): 20% net 30.00 + 6.00; 0% 3.60 -> 39.60. Credit 27.60:
    # 20%: 20.00 net + 4.00 VAT; 0%: 3.60 net.
    history, effects = rebill(history, [("T-Shirt x1", D("20.00"), D("20")),
                                        ("Shipping", D("10.00"), D("20")),
                                        ("Duties", D("3.60"), D("0"))],
                              now=at(2), reason="orderItemUpdate")
    (cn,) = history.credit_notes
    assert (cn.number, cn.invoice_number, cn.amount, cn.applied_to_invoice) == (
        "CN-AO-67890-1", "INV-AO-67890-1", D("27.60"), None)
    assert cn.vat_by_rate == (VatPart(D("0"), D("3.60"), D("0.00")),
                              VatPart(D("20"), D("20.00"), D("4.00")))
    assert effects == (CreditNoteIssued("CN-AO-67890-1", "INV-AO-67890-1", D("27.60"),
                                        "orderItemUpdate", at(2)),)
    assert history.invoice().revision == 1  # a charged invoice is final
    assert history.billable() == D("39.60") and history.pending_credit() == D("27.60")

    # Next invoice 18.00 (< 27.60): fully covered, never negative, 9.60 carries over.
    history, effects = issue_next_invoice(history, [("Hoodie", D("15.00"), D("20"))], now=at(3))
    inv2 = history.invoice()
    assert (inv2.number, inv2.total, inv2.amount_due) == ("INV-AO-67890-2", D("18.00"), D("0.00"))
    assert effects == (InvoiceIssued("INV-AO-67890-2", D("18.00"), D("0.00"), at(3)),
                       CreditApplied("CN-AO-67890-1", "INV-AO-67890-2", D("18.00"), at(3)))
    assert history.credit_notes[0].remaining == D("9.60")
    assert history.credit_notes[0].applied_to_invoice is None

    history, _ = issue_next_invoice(history, [("Cap", D("50.00"), D("20"))], now=at(4))
    inv3 = history.invoice()
    assert (inv3.total, inv3.amount_due) == (D("60.00"), D("50.40"))
    cn = history.credit_notes[0]
    assert cn.applied_to_invoice == "INV-AO-67890-3" and cn.remaining == D("0.00")
    assert cn.applications == (CreditApplication("INV-AO-67890-2", D("18.00")),
                               CreditApplication("INV-AO-67890-3", D("9.60")))
    assert history.billable() == D("39.60") + D("18.00") + D("60.00")


def test_revising_an_uncharged_invoice_releases_and_reapplies_its_credit():
    history, _ = issue_next_invoice(EMPTY, [("A", D("100.00"), D("0"))], now=T0)
    history, _ = mark_charged(history, "INV-AO-67890-1", now=T0)
    history, _ = rebill(history, [("A", D("30.00"), D("0"))], now=at(1), reason="removed")
    history, _ = issue_next_invoice(history, [("B", D("50.00"), D("0"))], now=at(2))
    assert history.invoice().amount_due == D("0.00")  # 70 credit covers 50
    history, effects = rebill(history, [("B/2", D("25.00"), D("0"))], now=at(3), reason="removed")
    assert effects[1:] == (CreditReleased("CN-AO-67890-1", "INV-AO-67890-2", D("50.00"), at(3)),
                           CreditApplied("CN-AO-67890-1", "INV-AO-67890-2", D("25.00"), at(3)))
    assert history.invoice().amount_due == D("0.00")
    assert history.pending_credit() == D("45.00")


def test_landed_cost_recomputation_feeds_the_rebill():
    table = rate_table_from_dict({"destinations": {"US": {
        "currency": "USD", "vat_rate": "0", "de_minimis_duty": "0", "de_minimis_tax": "0",
        "default_duty_rate": "5", "duty_rates_by_hs_prefix": {"6109": "12"}, "fees": []}}})
    items = [LandedCostItem("item_8659", "6109", D("19.99"), 2)]
    first = compute_landed_cost(items, D("5.00"), "US", "USD", table)
    history, _ = issue_next_invoice(EMPTY, first.invoice_lines(), now=T0)
    history, _ = mark_charged(history, "INV-AO-67890-1", now=T0)
    # 39.98 + 5.00 + 4.80 = 49.78; after removing one unit 19.99 + 5.00 + 2.40 = 27.39.
    after = compute_landed_cost(remove_units(items, {"item_8659": 1}), D("5.00"), "US", "USD", table)
    history, _ = rebill(history, after.invoice_lines(), now=at(1), reason="orderItemUpdate")
    assert history.invoice().total == first.total == D("49.78")
    assert history.credit_notes[0].amount == first.total - after.total == D("22.39")
    assert history.billable() == after.total


def test_each_charged_invoice_is_credited_against_its_own_credit_notes_only():
    history, _ = issue_next_invoice(EMPTY, [("A", D("100.00"), D("20"))], now=T0)
    history, _ = mark_charged(history, "INV-AO-67890-1", now=T0)
    history, _ = rebill(history, [("A'", D("60.00"), D("20"))], now=at(1), reason="r")  # CN 48.00
    history, _ = issue_next_invoice(history, [("B", D("100.00"), D("20"))], now=at(2))
    history, _ = mark_charged(history, "INV-AO-67890-2", now=at(3))
    # Invoice 2 still bills 100.00 net: going to 90.00 credits 10.00 net + 2.00 VAT, whatever
    # invoice 1's credit note says.
    history, _ = rebill(history, [("B'", D("90.00"), D("20"))], now=at(4), reason="r",
                        invoice_number="INV-AO-67890-2")
    cn1, cn2 = history.credit_notes
    assert (cn1.amount, cn2.amount, cn2.invoice_number) == (D("48.00"), D("12.00"), "INV-AO-67890-2")
    assert cn2.vat_by_rate == (VatPart(D("20"), D("10.00"), D("2.00")),)
    # A second removal on invoice 1 credits from what its first credit note left billed.
    history, _ = rebill(history, [("A''", D("50.00"), D("20"))], now=at(5), reason="r",
                        invoice_number="INV-AO-67890-1")
    assert history.credit_notes[2].amount == D("12.00")
    assert history.billable() == D("60.00") + D("108.00")


def test_same_total_with_other_lines_still_revises_an_uncharged_invoice():
    history, _ = issue_next_invoice(EMPTY, [("Red x1", D("10.00"), D("20"))], now=T0)
    history, effects = rebill(history, [("Blue x1", D("10.00"), D("20"))], now=at(1),
                              reason="swap")
    assert history.invoice().revision == 2 and history.invoice().lines[0].description == "Blue x1"
    assert [type(e) for e in effects] == [InvoiceRevised]


def test_no_change_is_a_no_op():
    history, _ = issue_next_invoice(EMPTY, [("A", D("10.00"), D("20"))], now=T0)
    assert rebill(history, [("A", D("10.00"), D("20"))], now=at(1), reason="x") == (history, ())
    history, _ = mark_charged(history, "INV-AO-67890-1", now=at(1))
    assert rebill(history, [("A again", D("10.00"), D("20"))], now=at(2), reason="x") == (history, ())


def test_errors_are_typed():
    with pytest.raises(InvoiceNotFound) as exc:
        rebill(EMPTY, [], now=T0, reason="x")
    assert exc.value.code == "invoice_not_found"
    history, _ = issue_next_invoice(EMPTY, [("A", D("10.00"), D("20"))], now=T0)
    history, _ = mark_charged(history, "INV-AO-67890-1", now=T0)
    with pytest.raises(InvoiceAlreadyCharged) as exc:
        mark_charged(history, "INV-AO-67890-1", now=T0)
    assert exc.value.code == "invoice_already_charged"
    for more in ([("A", D("10.01"), D("20"))],  # more at the same rate
                 [("A", D("5.00"), D("20")), ("B", D("1.00"), D("0"))]):  # less, but a new rate
        with pytest.raises(RebillIncreasesChargedInvoice) as exc:
            rebill(history, more, now=T0, reason="x")
        assert exc.value.code == "rebill_increases_charged_invoice"


@pytest.mark.parametrize("line", [
    ("A", 10.0, D("20")),  # float
    ("A", D("10.001"), D("20")),  # finer than a cent
    ("A", D("-1.00"), D("20")),  # negative net at a rate
    ("A", D("1.00"), D("101")),
    ("", D("1.00"), D("20")),
    ("A", D("1.00")),
])
def test_invalid_lines_are_refused(line):
    with pytest.raises(InvalidInvoiceLine) as exc:
        issue_next_invoice(EMPTY, [line], now=T0)
    assert exc.value.code == "invalid_invoice_line"


# --- properties: any sequence of removals, charges and new invoices --------------------------------

RATES = [D("0"), D("8"), D("10"), D("18"), D("20")]
item_lists = st.lists(st.tuples(st.integers(0, 20_000), st.integers(0, 4), st.sampled_from(RATES)),
                      min_size=0, max_size=4)
ops = st.lists(st.one_of(
    st.tuples(st.just("remove"), st.integers(0, 9), st.integers(0, 9), st.integers(0, 4)),
    st.tuples(st.just("charge"), st.integers(0, 9)),
    st.tuples(st.just("new"), item_lists),
), max_size=14)


def model_lines(items):
    # Description carries the quantity, like a real line: a change is always a change of lines.
    return [(f"item {j} x{qty}", D(cents * qty) / 100, rate)
            for j, (cents, qty, rate) in enumerate(items) if qty]


def expected_parts(items):
    nets = {}
    for _, amount, rate in model_lines(items):
        nets[rate] = nets.get(rate, D(0)) + amount
    return {r: (n, (n * r / 100).quantize(D("0.01"), ROUND_HALF_UP)) for r, n in nets.items()}


def check_invariants(history, model):
    current = history.current_invoices()
    assert [inv.number for inv in current] == [f"INV-AO-67890-{i + 1}" for i in range(len(model))]
    billable = D(0)
    for inv, items in zip(current, model, strict=True):
        parts = expected_parts(items)
        billable += sum((n + v for n, v in parts.values()), D(0))
        # Per invoice and rate: latest revision minus its credit notes == what the lines bill.
        left = {p.rate: (p.net, p.vat) for p in inv.vat_by_rate}
        for cn in history.credit_notes:
            if cn.invoice_number == inv.number:
                for p in cn.vat_by_rate:
                    left[p.rate] = (left[p.rate][0] - p.net, left[p.rate][1] - p.vat)
        assert {r: nv for r, nv in left.items() if nv != (0, 0)} == {
            r: nv for r, nv in parts.items() if nv != (0, 0)}
        assert sum((p.gross for p in inv.vat_by_rate), D(0)) == inv.total
        assert D(0) <= inv.amount_due <= inv.total
    totals = sum((inv.total for inv in current), D(0))
    credits = sum((cn.amount for cn in history.credit_notes), D(0))
    assert totals - credits == billable == history.billable()
    assert sum((inv.amount_due for inv in current), D(0)) - history.pending_credit() == billable
    for i, cn in enumerate(history.credit_notes):
        assert cn.number == f"CN-AO-67890-{i + 1}"
        assert sum((p.gross for p in cn.vat_by_rate), D(0)) == cn.amount > 0
        assert all(p.net >= 0 and p.vat >= 0 for p in cn.vat_by_rate)
        assert D(0) <= cn.remaining <= cn.amount
        assert (cn.applied_to_invoice is not None) == (cn.remaining == 0)
        for app in cn.applications:  # every use of a credit shows on the invoice it went to
            inv = history.invoice(app.invoice_number)
            assert (cn.number, app.amount) in [tuple(c) for c in inv.credits_applied]


@settings(max_examples=200, deadline=None)
@given(item_lists, ops)
def test_any_sequence_keeps_invoices_minus_credits_equal_to_billable(first, steps):
    model = [[list(i) for i in first]]
    history, _ = issue_next_invoice(EMPTY, model_lines(model[0]), now=T0)
    check_invariants(history, model)
    for minute, op in enumerate(steps, start=1):
        if op[0] == "remove":
            _, inv_i, item_i, units = op
            inv_i %= len(model)
            items = model[inv_i]
            if items:
                item = items[item_i % len(items)]
                item[1] -= min(units, item[1])
            number = f"INV-AO-67890-{inv_i + 1}"
            before = history
            history, effects = rebill(history, model_lines(items), now=at(minute),
                                      reason="removed", invoice_number=number)
            if not effects:
                assert history == before
        elif op[0] == "charge":
            number = f"INV-AO-67890-{op[1] % len(model) + 1}"
            if not history.invoice(number).charged:
                history, _ = mark_charged(history, number, now=at(minute))
        else:
            model.append([list(i) for i in op[1]])
            history, _ = issue_next_invoice(history, model_lines(model[-1]), now=at(minute))
        check_invariants(history, model)


@settings(max_examples=200, deadline=None)
@given(item_lists, st.integers(1, 10_000))
def test_more_on_a_charged_invoice_is_refused(items, extra_cents):
    history, _ = issue_next_invoice(EMPTY, model_lines(items), now=T0)
    history, _ = mark_charged(history, "INV-AO-67890-1", now=T0)
    more = model_lines(items) + [("extra", D(extra_cents) / 100, D("20"))]
    with pytest.raises(RebillIncreasesChargedInvoice):
        rebill(history, more, now=at(1), reason="x")
