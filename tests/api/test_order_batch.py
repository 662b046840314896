"""`POST /v1/orders/batch`: per-order results in request order, the same judgement as one by one."""

from __future__ import annotations

import sqlalchemy as sa

from tests.conftest import snapshot
from tests.support import SEED_ORDER, client_for, order, token, two_line_order
from tests.webhooks.conftest import subscribe


def _count(db, table: str) -> int:
    with db.engine.connect() as conn:
        return conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()


def test_a_batch_answers_each_order_as_one_by_one_would(api, db):
    assert api.post("/v1/orders", json=order("4000000001")).status_code == 201
    bad_quantity = order("4000000005", lines=[{**SEED_ORDER["lines"][0], "line_id": "item000005", "quantity": 0}])
    orders = [
        two_line_order("B-1"),                                   # new
        order("4000000001"),                                     # identical to the stored one
        order("4000000001", shipping_amount="0"),                # same number, another body
        {**two_line_order("B-2"), "status": "cancelled"},        # refused by the wire schema
        bad_quantity,                                            # refused by the domain
        {**two_line_order("B-3"), "lines": two_line_order("B-1")["lines"]},   # B-1's line ids
        two_line_order("B-1"),                                   # B-1 again, identical, in the same batch
        two_line_order("B-4"),                                   # new
    ]
    response = api.post("/v1/orders/batch", json={"orders": orders})
    assert response.status_code == 200, response.text
    body = response.json()
    results = body["results"]
    assert [r["index"] for r in results] == list(range(len(orders)))
    assert [r["status"] for r in results] == [201, 200, 409, 422, 422, 409, 200, 201]
    assert [r["error"] and r["error"]["code"] for r in results] == [
        None, None, "order_already_exists", "invalid_request", "line_quantity_not_positive", "line_id_in_use", None,
        None]
    assert results[3]["error"]["details"]["errors"][0]["field"] == "status"
    assert results[3]["order_number"] == "B-2"
    assert (body["created"], body["existing"], body["refused"]) == (2, 2, 4)
    assert results[6]["id"] == results[0]["id"]
    assert results[1]["id"] == api.get("/v1/orders/4000000001").json()["id"]

    for number, result in (("B-1", results[0]), ("B-4", results[7])):
        stored = api.get(f"/v1/orders/{number}")
        assert stored.status_code == 200
        assert stored.json()["id"] == result["id"]
        assert [ln["quantity"] for ln in stored.json()["lines"]] == [2, 5]
        events = api.get(f"/v1/orders/{number}/events").json()["data"]
        assert [e["type"] for e in events] == ["order.placed"]
    for refused in ("B-2", "4000000005", "B-3"):
        assert api.get(f"/v1/orders/{refused}").status_code == 404
    assert _count(db, "orders") == 3
    assert _count(db, "order_lines") == 5


def test_a_batch_writes_outbox_rows_for_subscribers(api, db):
    subscribe(api, "http://127.0.0.1:9/hooks", event_types=["order.placed"])
    response = api.post("/v1/orders/batch", json={"orders": [two_line_order(f"W-{i}") for i in range(5)]})
    assert response.json()["created"] == 5
    assert _count(db, "events") == 5
    assert _count(db, "webhook_deliveries") == 5


def test_a_seller_batch_takes_only_its_own_orders(api, db):
    seller = client_for(api, token(db, "seller", "acme"))
    response = seller.post("/v1/orders/batch", json={"orders": [
        {k: v for k, v in two_line_order("S-1").items() if k != "seller_id"},
        two_line_order("S-2", seller="other")]})
    results = response.json()["results"]
    assert [(r["status"], r["seller_id"]) for r in results] == [(201, "acme"), (403, "other")]
    assert results[1]["error"]["code"] == "seller_id_mismatch"
    assert api.get("/v1/orders/S-1").json()["seller_id"] == "acme"


def test_an_operator_must_name_the_seller(api, db):
    response = api.post("/v1/orders/batch", json={"orders": [{**two_line_order("N-1"), "seller_id": None}]})
    (result,) = response.json()["results"]
    assert result["status"] == 422 and result["error"]["code"] == "seller_id_required"
    assert result["error"]["details"]["errors"][0]["field"] == "seller_id"


def test_a_batch_over_the_limit_or_empty_is_refused_whole(api, db):
    before = snapshot(db)
    too_many = api.post("/v1/orders/batch", json={"orders": [two_line_order(f"L-{i}") for i in range(1001)]})
    assert too_many.status_code == 422 and too_many.json()["error"]["code"] == "too_many_items"
    empty = api.post("/v1/orders/batch", json={"orders": []})
    assert empty.status_code == 422 and empty.json()["error"]["code"] == "invalid_request"
    not_a_list = api.post("/v1/orders/batch", json={"orders": {"order_number": "x"}})
    assert not_a_list.status_code == 422
    assert snapshot(db) == before


def test_a_thousand_orders_in_one_batch(api, db):
    orders = [two_line_order(f"K-{i:04d}") for i in range(1000)]
    response = api.post("/v1/orders/batch", json={"orders": orders})
    assert response.status_code == 200, response.text[:500]
    assert response.json()["created"] == 1000
    assert _count(db, "orders") == 1000 and _count(db, "order_lines") == 2000 and _count(db, "events") == 1000
    again = api.post("/v1/orders/batch", json={"orders": orders}).json()
    assert (again["created"], again["existing"], again["refused"]) == (0, 1000, 0)
    assert _count(db, "orders") == 1000


def test_an_idempotency_key_replays_the_batch(api, db):
    batch = {"orders": [two_line_order("I-1"), order("4000000009", lines=[])]}
    first = api.post("/v1/orders/batch", json=batch, headers={"Idempotency-Key": "batch-1"})
    assert [r["status"] for r in first.json()["results"]] == [201, 422]
    replay = api.post("/v1/orders/batch", json=batch, headers={"Idempotency-Key": "batch-1"})
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.json() == first.json()
    other = api.post("/v1/orders/batch", json={"orders": [two_line_order("I-2")]},
                     headers={"Idempotency-Key": "batch-1"})
    assert other.status_code == 422 and other.json()["error"]["code"] == "idempotency_key_reused"
    assert _count(db, "orders") == 1


def test_the_intake_hash_is_the_one_stored_orders_were_taken_in_with():
    # Stored orders carry sha256(dumps(asdict(spec))): a faster encoding must give the very same hash,
    # or every order taken in before would read as "exists with a different body".
    import hashlib
    from dataclasses import asdict

    from kalem.api.order_spec import spec_of
    from kalem.api.schemas import OrderIn
    from kalem.app.orders import intake_hash
    from kalem.store.codec import dumps
    detailed = {**two_line_order("H-2"), "customer": {"first_name": "Ayşe", "is_guest": True},
                "shipment_address": {"city": "İstanbul", "country_code": "tr"}, "due_date": "2026-12-03T00:00:00Z",
                "payment": {"method": "card", "total": "100.50", "paid_at": "2026-12-01T09:30:00+03:00",
                            "installment_count": 3}}
    for body in (SEED_ORDER, {**two_line_order("H-1"), "destination_country": "tr"}, order("4000000002"), detailed):
        spec = spec_of(OrderIn.model_validate(body))
        fields = asdict(spec)
        if fields["destination_country"] is None:
            del fields["destination_country"]
        if spec.details.empty:
            del fields["details"]
        assert intake_hash(spec) == hashlib.sha256(dumps(fields).encode()).hexdigest()
