"""Credit notes are money returned, over HTTP on both databases: whatever the sequence of cancels, Zonos
credits (orderItemUpdate, orderCancel on a charged invoice), refunds through every face that sees a Zonos
order (native, Akinon) and returns, no type of money goes back more than was paid, and returning
everything returns exactly what was paid. The orders are sold through Zonos (the marketplace faces see
only their own channel's orders; Akinon, an order-management face, sees every channel). Refunds here are
explicit (the seller's policy is manual)."""

from __future__ import annotations

import itertools
from decimal import Decimal as D

import httpx
from hypothesis import HealthCheck, example, given, note, settings
from hypothesis import strategies as st

from kalem.app.billing import billing_of
from kalem.app.refund_account import account_of
from kalem.domain.refunds import RefundCause
from kalem.store.uow import UnitOfWork
from tests.conftest import ADMIN, snapshot
from tests.dialects.test_zonos import REFUND, UPDATE, code, gql, zid
from tests.refunds.test_akinon import akinon
from tests.support import manual_refunds

TYPES = ("ITEM", "SHIPPING", "DUTY_TAX_FEE")
OPEN, CANCELLED, DELIVERED = "400", "100", "550"  # Akinon's order item statuses
NUMBERS = itertools.count(5_000_000_001)


def _order(number: str, lines: list[tuple[int, str]], shipping: str, delivered: int) -> dict:
    body = {"order_number": number, "seller_id": "acme", "channel": "zonos", "currency": "USD",
            "account_order_number": f"AO-{number}", "destination_country": "US", "shipping_amount": shipping,
            "lines": [{"line_id": f"{number}-{i}", "sku": f"S{i}", "name": f"Item {i}", "quantity": q,
                       "unit_price": price, "hs_code": "610910"} for i, (q, price) in enumerate(lines)],
            "packages": []}
    if delivered:
        first = lines[0][0]
        body["packages"] = [{"package_id": f"{number}-d", "status": "Delivered",
                             "items": [{"line_id": f"{number}-0", "quantity": min(delivered, first)}]},
                            *([{"package_id": f"{number}-o", "status": "Created",
                                "items": [{"line_id": f"{number}-0", "quantity": first - delivered}]}]
                              if first > delivered else [])]
        body["packages"] += [{"package_id": f"{number}-o{i}", "status": "Created",
                              "items": [{"line_id": f"{number}-{i}", "quantity": q}]}
                             for i, (q, _) in enumerate(lines) if i]
    return body


class Faces:
    """Every face that moves an order's money, as its callers would call it."""

    def __init__(self, api: httpx.Client, ak: httpx.Client, db) -> None:
        self.api, self.ak, self.db = api, ak, db

    def place(self, body: dict) -> None:
        r = self.api.post("/v1/orders", json=body)
        assert r.status_code == 201, r.text
        self.number, self.zid = body["order_number"], zid(r.json())
        charged = self.api.post(f"/v1/orders/{self.number}/invoices/INV-{self.number}-1/charge")
        assert charged.status_code == 200, charged.text

    def books(self):
        """The order's refund account (refunds and credit notes) and its bill, as the service keeps them."""
        uow = UnitOfWork(self.db)
        with uow:
            order = uow.orders.get(self.number, None)
            return account_of(uow, order), billing_of(uow, order)

    def call(self, action: str, line: str, n: int, status: str) -> httpx.Response:
        lines = [{"line_id": line, "quantity": n}]
        if action == "cancel":
            return self.api.post(f"/v1/orders/{self.number}/cancellations",
                                 json={"lines": [{**lines[0], "reason_id": 136}]})
        if action == "refund":
            return self.api.post(f"/v1/orders/{self.number}/refunds", json={"lines": lines, "cause": "cancellation"})
        if action == "return_refund":
            return self.api.post(f"/v1/orders/{self.number}/refunds", json={"lines": lines, "cause": "return"})
        if action == "cancel_refund":
            return self.api.post(f"/v1/orders/{self.number}/cancellations-with-refund",
                                 json={"lines": [{**lines[0], "reason_id": 136}]})
        if action == "akinon":  # open units cancelled
            return self._akinon_cancel(line, n, OPEN)
        if action == "akinon_return":  # delivered units returned now
            return self._akinon_cancel(line, n, DELIVERED)
        if action == "zonos_remove":
            return self._graphql(UPDATE, orderId=self.zid, itemId=f"item_{line}", quantity=n)
        if action == "zonos_amounts":  # a refund of amounts: no units named; the type and amount from n
            subtotal = {"type": TYPES[n % len(TYPES)], "amount": {1: 0.01, 2: 1.5, 3: 7.77}[n]}
            return self._graphql(REFUND, input={"id": self.zid, "currencyCode": "USD", "note": None,
                                                "subtotals": [subtotal]})
        if action == "zonos_cancel":
            return self._graphql('mutation($id: ID!) { orderCancel(id: $id) { status } }', id=self.zid)
        assert action == "settle"
        pending = [r for r in self.api.get(f"/v1/orders/{self.number}/refunds").json()["data"]
                   if r["status"] == "pending"]
        if not pending:
            return self.api.get(f"/v1/orders/{self.number}/refunds")
        return self.api.post(f"/v1/refunds/{pending[n % len(pending)]['id']}/settle", json={"status": status})

    def _akinon_cancel(self, line: str, n: int, status: str) -> httpx.Response:
        """Akinon's cancel of n of the line's units in the status (open: cancelled, delivered: returned);
        with none, of its first unit whatever its status (a refusal, or a refund of what is left)."""
        found = self.ak.get("/api/v1/orders/", params={"number": self.number}).json()["results"][0]
        units = [i["pk"] for i in found["orderitem_set"] if i["remote_id"] == line and i["status"] == status][:n]
        if not units:
            units = [i["pk"] for i in found["orderitem_set"] if i["remote_id"] == line][:1]
        return self.ak.post(f"/api/i1/orders/{found['pk']}/cancel/",
                            json={"order": found["pk"], "is_all": False, "cancel_items": units,
                                  "forced_refund_amount": None, "reasons": {str(pk): 151 for pk in units}})

    def _graphql(self, query: str, **variables) -> httpx.Response:
        response = self.api.post("/graphql", json={"query": query, "variables": variables},
                                 headers={"credentialToken": ADMIN})
        # A refusal is an answer with its code; an error without one is a failure GraphQL answered with 200.
        assert all("code" in e.get("extensions", {}) for e in response.json().get("errors", ())), response.text
        return response


def _returned(account, billing) -> dict[str, D]:
    out = dict.fromkeys(TYPES, D(0))
    for refund in account.refunds:
        if refund.counts:
            for t, amount in refund.parts().items():
                out[t] += amount
    for credit in billing.credits():
        for t in TYPES:
            out[t] += credit.part(t)
    return out


def _paid(billing) -> dict[str, D]:
    first = billing.landed_costs[0]
    return {"ITEM": D(first["items"]), "SHIPPING": D(first["shipping"]),
            "DUTY_TAX_FEE": D(first["duties"]) + D(first["taxes"]) + D(first["fees"])}


def _check(faces: Faces) -> tuple[dict[str, D], dict[str, D], D]:
    account, billing = faces.books()
    for line in account.order.lines:
        units = account.line(line.line_id)
        assert not units.credited & units.by_refunds, f"line {line.line_id}: units both credited and refunded"
    paid, returned = _paid(billing), _returned(account, billing)
    for t in TYPES:
        assert returned[t] <= paid[t], (t, returned[t], paid[t])
    charged = billing.history.invoice(f"INV-{faces.number}-1").total
    assert sum(returned.values()) <= charged
    return paid, returned, charged


def _return_everything(faces: Faces) -> None:
    """Every unit's money back through the native face, then what is left of each type through Zonos."""
    account, _ = faces.books()
    for line in account.order.lines:
        if line.ledger.open:
            r = faces.call("cancel_refund", line.line_id, line.ledger.open, "")
            assert r.status_code in (201, 409), r.text
        if line.ledger.delivered:
            r = faces.call("akinon_return", line.line_id, line.ledger.delivered, "")
            assert r.status_code in (200, 400), r.text
    account, _ = faces.books()
    for line in account.order.lines:
        for cause, action in (("cancellation", "refund"), ("return", "return_refund")):
            free = account.refundable_units(RefundCause(cause))[line.line_id]
            if free:
                r = faces.call(action, line.line_id, len(free), "")
                assert r.status_code in (201, 409), r.text  # 409: items a refund of amounts returned already
    account, billing = faces.books()
    paid, returned = _paid(billing), _returned(account, billing)
    collected = billing.collected()
    assert collected.billed is not None
    subtotals = [{"type": t, "amount": float(left)} for t in TYPES
                 if (left := min(paid[t] - returned[t], collected.billed[t] - account.refunded_of(t))) > 0]
    if subtotals:
        made = gql(faces.api, REFUND, input={"id": faces.zid, "currencyCode": "USD", "note": None,
                                             "subtotals": subtotals})
        assert "errors" not in made, made


prices = st.sampled_from(["19.99", "10.00", "0.01", "33.33", "120.50"])
# Refunds of amounts (Zonos orderRefundCreate) name no units: they come before and after credits freely.
steps = st.lists(st.tuples(st.sampled_from(["cancel", "refund", "cancel_refund", "akinon", "akinon_return",
                                            "zonos_remove", "zonos_remove", "zonos_cancel", "zonos_amounts",
                                            "zonos_amounts", "settle"]),
                           st.integers(0, 1), st.integers(1, 3), st.sampled_from(["succeeded", "failed"])),
                 min_size=1, max_size=8)


def test_credits_and_refunds_of_every_face_never_return_more_than_was_paid(server, db, api):
    manual_refunds(db)  # refunds come from the explicit calls below, not from decisions
    faces = Faces(api, akinon(server, db), db)

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(lines=st.lists(st.tuples(st.integers(1, 4), prices), min_size=1, max_size=2),
           shipping=st.sampled_from(["0", "5.00", "7.77"]), delivered=st.integers(0, 2), script=steps)
    # one sequence that surely credits (two of three units removed from a charged invoice) and refunds,
    # so the count below never rests on what the random sequences happened to do
    @example(lines=[(3, "10.00")], shipping="5.00", delivered=0,
             script=[("zonos_remove", 0, 1, "succeeded"), ("cancel_refund", 0, 1, "succeeded")])
    def run(lines, shipping, delivered, script):
        number = str(next(NUMBERS))
        faces.place(_order(number, lines, shipping, delivered))
        for action, index, n, status in script:
            line = f"{number}-{index % len(lines)}"
            response = faces.call(action, line, n, status)
            note(f"{action} {line} {n} {status} -> {response.status_code} {response.text[:200]}")
            assert response.status_code < 500, response.text
            _check(faces)
        account, billing = faces.books()
        seen["credit notes"] += len(billing.credits())
        seen["refunds"] += len(account.refunds)
        _return_everything(faces)
        paid, returned, charged = _check(faces)
        assert returned == paid
        assert sum(returned.values()) == charged

    seen = {"credit notes": 0, "refunds": 0}
    run()
    assert all(seen.values()), seen  # the sequences credited and refunded, before returning everything


def test_a_refund_of_credited_units_is_refused_by_every_face_and_changes_nothing(server, db, api):
    manual_refunds(db)
    faces = Faces(api, akinon(server, db), db)
    faces.place(_order("5100000001", [(3, "10.00")], "5.00", 0))
    line = "5100000001-0"
    assert "errors" not in faces._graphql(UPDATE, orderId=faces.zid, itemId=f"item_{line}", quantity=2).json()
    before = snapshot(db)
    native = faces.call("refund", line, 1, "")
    assert native.status_code == 409 and native.json()["error"]["code"] == "units_credited", native.text
    assert native.json()["error"]["details"]["credit_note"] == "CN-5100000001-1"
    # Akinon refunds a unit only as it cancels or returns it: a credited unit is cancelled already.
    ak = faces._akinon_cancel(line, 2, CANCELLED)
    assert ak.status_code == 400 and ak.json()["code"] == "unit_already_cancelled", ak.text
    # Zonos's refund of amounts may return only the 10.00 of items the credit left.
    assert code(gql(api, REFUND, input={"id": faces.zid, "currencyCode": "USD", "note": None,
                                        "subtotals": [{"amount": 10.01, "type": "ITEM"}]})) == "REFUND_EXCEEDS_PAID"
    assert snapshot(db) == before
    # The last unit, cancelled and refunded natively, takes the shipping; the preview shows the credit.
    preview = api.post("/v1/orders/5100000001/refund-preview", json={"lines": [{"line_id": line, "quantity": 1}]})
    explanation = preview.json()["breakdown"]["explanation"]
    assert any(text.startswith("credit note CN-5100000001-1 gave back 23.30 USD (items 20.00") for text in explanation)
    done = faces.call("cancel_refund", line, 1, "")
    assert done.status_code == 201 and done.json()["refund"]["amount"] == "15.00", done.text
    # Zonos's refund of amounts sees the credit too: the items are all back.
    assert code(gql(api, REFUND, input={"id": faces.zid, "currencyCode": "USD", "note": None,
                                        "subtotals": [{"amount": 0.01, "type": "ITEM"}]})) == "REFUND_EXCEEDS_PAID"


def test_an_order_cancel_after_a_refund_credits_only_the_units_no_refund_holds(server, db, api):
    manual_refunds(db)
    faces = Faces(api, akinon(server, db), db)
    faces.place(_order("5100000002", [(3, "10.00")], "5.00", 0))
    line = "5100000002-0"
    assert faces.call("cancel_refund", line, 1, "").status_code == 201
    assert "errors" not in faces._graphql('mutation($id: ID!) { orderCancel(id: $id) { status } }',
                                          id=faces.zid).json()
    account, billing = faces.books()
    [credit] = billing.credits()
    assert credit.units == ((line, 2, 3),)
    assert credit.part("ITEM") == D("20.00") and credit.part("SHIPPING") == D("5.00")
    assert _returned(account, billing)["ITEM"] == D("30.00")


def test_a_credit_after_a_refund_of_amounts_gives_back_only_the_rest(server, db, api):
    """A refund of amounts names no units: the bill keeps what it returned of each type, so the Zonos
    credits that follow give back only the rest, and everything comes back exactly once."""
    manual_refunds(db)
    faces = Faces(api, akinon(server, db), db)
    faces.place(_order("5100000003", [(3, "10.00")], "5.00", 0))
    line = "5100000003-0"
    made = gql(api, REFUND, input={"id": faces.zid, "currencyCode": "USD", "note": "goodwill",
                                   "subtotals": [{"type": "ITEM", "amount": 25.0}]})
    assert "errors" not in made, made
    assert "errors" not in faces._graphql(UPDATE, orderId=faces.zid, itemId=f"item_{line}", quantity=2).json()
    _, billing = faces.books()
    [removed] = billing.credits()
    assert removed.units == ((line, 1, 2),) and removed.part("ITEM") == D("5.00")   # 20.00 removed, 15.00 refunded
    assert "errors" not in faces._graphql('mutation($id: ID!) { orderCancel(id: $id) { status } }',
                                          id=faces.zid).json()
    paid, returned, charged = _check(faces)
    assert returned["ITEM"] == paid["ITEM"] == D("30.00") and returned["SHIPPING"] == paid["SHIPPING"] == D("5.00")
    assert returned == paid and sum(returned.values()) == charged
