"""HepsiGlobal subscribers over real HTTP: a seller's cancel arrives as `PUT /webhooks/order-cancel`,
the marketplace's own cancel (through the HG face) is never sent back, and a cancel request the
seller approves is a seller cancel for the units approved."""

from __future__ import annotations

from tests.refunds.test_hepsiglobal import SEED_ITEM, SEED_ORDER, hg_client, hg_order
from tests.support import client_for, token, two_line_order
from tests.webhooks.conftest import deliveries, drain, subscribe

ORDER_CANCEL_KEYS = {"cancel_id", "order_number", "cancel_quantity", "order_item_number", "reason"}


def hg_subscriber(api, receiver) -> None:
    subscribe(api, f"http://127.0.0.1:{receiver.port}/webhooks/order-cancel", dialect="hepsiglobal",
              event_types=["lines.cancelled", "cancel_request.*"])


def settled(api) -> bool:
    return all(d["status"] not in ("pending", "delivering") for d in deliveries(api))


def test_a_sellers_cancel_is_a_put_and_the_marketplaces_own_cancel_is_not_echoed(api, db, server, receiver, worker):
    hg_subscriber(api, receiver)
    hg = hg_client(server, db)
    assert hg.post("/v1/orders", json=hg_order()).status_code == 201
    own = hg.put(f"/v1/orders/{SEED_ORDER}/order_items/{SEED_ITEM}", json={"reason": "customer_demand"})
    assert own.status_code == 200, own.text
    seller = client_for(api, token(db, "seller", "acme"))
    cancelled = seller.post(f"/v1/orders/{SEED_ORDER}/cancellations",
                            json={"lines": [{"line_id": f"{SEED_ORDER}_oi1", "quantity": 1, "reason_id": 135}]})
    assert cancelled.status_code == 200, cancelled.text
    drain(worker, lambda: settled(api))
    [got] = receiver.requests
    assert (got.method, got.path) == ("PUT", "/webhooks/order-cancel")
    body = got.json()
    assert set(body) == ORDER_CANCEL_KEYS
    assert (body["order_item_number"], body["cancel_quantity"], body["reason"]) == (f"{SEED_ORDER}_oi1", 1,
                                                                                    "out_of_stock")
    # The face's own cancel is queued like any event, then skipped: the HG dialect has no body for it.
    by_sequence = {d["sequence"]: d for d in deliveries(api)}
    assert [by_sequence[s]["status"] for s in sorted(by_sequence)] == ["skipped", "delivered"]
    assert "hepsiglobal" in by_sequence[min(by_sequence)]["last_error"]


def test_an_approved_cancel_request_is_a_sellers_cancel_for_the_units_approved(api, db, receiver, worker):
    hg_subscriber(api, receiver)
    number = "4000000501"
    assert api.post("/v1/orders", json=two_line_order(number) | {"channel": "hepsiglobal"}).status_code == 201
    request = api.post("/v1/cancel-requests", json={"order_number": number, "lines": [
        {"line_id": f"{number}-a", "quantity": 2, "reason_id": 136},
        {"line_id": f"{number}-b", "quantity": 3, "reason_id": 135}]})
    assert request.status_code == 201, request.text
    seller = client_for(api, token(db, "seller", "acme"))
    approved = seller.post(f"/v1/cancel-requests/{request.json()['id']}/approve",
                           json={"lines": [{"line_id": f"{number}-a", "quantity": 1},
                                           {"line_id": f"{number}-b", "quantity": 0}]})
    assert approved.status_code == 200, approved.text
    drain(worker, lambda: settled(api))
    [got] = receiver.requests  # line b: nothing approved, nothing sent
    assert (got.method, got.path) == ("PUT", "/webhooks/order-cancel")
    body = got.json()
    assert set(body) == ORDER_CANCEL_KEYS and body["order_number"] == number
    assert (body["order_item_number"], body["cancel_quantity"]) == (f"{number}-a", 1)
    # by sequence: 2 cancel_request.created (HG has no such hook), 3 cancel_request.approved
    assert {d["sequence"]: d["status"] for d in deliveries(api)} == {2: "skipped", 3: "delivered"}


def test_a_rejected_cancel_request_sends_nothing(api, db, receiver, worker):
    hg_subscriber(api, receiver)
    number = "4000000502"
    assert api.post("/v1/orders", json=two_line_order(number) | {"channel": "hepsiglobal"}).status_code == 201
    request = api.post("/v1/cancel-requests", json={"order_number": number, "lines": [
        {"line_id": f"{number}-a", "quantity": 2, "reason_id": 136}]})
    assert request.status_code == 201, request.text
    seller = client_for(api, token(db, "seller", "acme"))
    rejected = seller.post(f"/v1/cancel-requests/{request.json()['id']}/reject", json={"reason_id": 168})
    assert rejected.status_code == 200, rejected.text
    drain(worker, lambda: settled(api))
    assert receiver.requests == []
    # by sequence: 2 cancel_request.created, 3 cancel_request.rejected
    assert {d["sequence"]: d["status"] for d in deliveries(api)} == {2: "skipped", 3: "skipped"}
