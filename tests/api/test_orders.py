"""Native API: order intake and reads."""

from __future__ import annotations

from tests.conftest import snapshot
from tests.support import SEED_ORDER, client_for, order, token


def test_healthz(anon):
    response = anon.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_ingest_the_issue_example_and_read_the_ledger(api):
    created = api.post("/v1/orders", json=SEED_ORDER)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["order_number"] == "4000000001"
    assert body["seller_id"] == "acme"
    assert body["version"] == 1
    line = body["lines"][0]
    assert (line["quantity"], line["cancelled_quantity"], line["cancellable_quantity"]) == (3, 0, 3)
    assert line["ledger"] == {"open": 3, "pending_cancel": 0, "cancelled": 0, "shipped": 0, "delivered": 0,
                              "return_pending": 0, "returned": 0}
    assert body["packages"][0]["package_id"] == "BB_pid1692966394724"
    assert body["packages"][0]["status"] == "Picking"

    fetched = api.get("/v1/orders/4000000001")
    assert fetched.status_code == 200
    assert fetched.headers["etag"] == 'W/"1"'
    assert fetched.json() == body


def test_same_order_again_is_200_and_different_body_is_409(api, db):
    assert api.post("/v1/orders", json=SEED_ORDER).status_code == 201
    again = api.post("/v1/orders", json=SEED_ORDER)
    assert again.status_code == 200
    assert again.json()["id"] == api.get("/v1/orders/4000000001").json()["id"]
    before = snapshot(db)
    changed = api.post("/v1/orders", json={**SEED_ORDER, "shipping_amount": "0"})
    assert changed.status_code == 409
    assert changed.json()["error"]["code"] == "order_already_exists"
    assert snapshot(db) == before


def test_order_without_packages_gets_one_created_package(api):
    body = order("4000000002")
    del body["packages"]
    created = api.post("/v1/orders", json=body).json()
    assert [(p["package_id"], p["status"]) for p in created["packages"]] == [("4000000002-1", "Created")]
    assert created["packages"][0]["items"] == [{"line_id": "item000002", "quantity": 3, "units": [[1, 3]]}]


def test_shipped_package_at_intake_makes_shipped_units(api):
    body = order("4000000003")
    body["packages"][0]["status"] = "Shipped"
    line = api.post("/v1/orders", json=body).json()["lines"][0]
    assert line["ledger"]["shipped"] == 3
    assert line["cancellable_quantity"] == 0


def test_invalid_orders_are_refused_and_change_nothing(api, db):
    before = snapshot(db)
    cases = [
        ({**SEED_ORDER, "lines": []}, 422, "invalid_request"),
        ({**SEED_ORDER, "currency": "TL1"}, 422, "invalid_request"),
        ({**SEED_ORDER, "status": "cancelled"}, 422, "invalid_request"),  # unknown fields are refused
        (order(lines=[{**SEED_ORDER["lines"][0], "quantity": 0}]), 422, "line_quantity_not_positive"),
        (order(lines=[{**SEED_ORDER["lines"][0], "quantity": "3"}]), 422, "invalid_request"),
        (order(packages=[{**SEED_ORDER["packages"][0], "items": [{"line_id": "item1691416223190", "quantity": 2}]}]),
         422, "packed_quantity_mismatch"),
        (order(packages=[{**SEED_ORDER["packages"][0], "status": "Unpacked"}]), 422, "package_status_not_placeable"),
        (order(lines=[{**SEED_ORDER["lines"][0], "discount": "1000"}]), 422, "discount_exceeds_line_amount"),
    ]
    for body, status, code in cases:
        response = api.post("/v1/orders", json=body)
        assert response.status_code == status, (body, response.text)
        assert response.json()["error"]["code"] == code, response.text
    assert snapshot(db) == before


def test_malformed_json_is_400(api, db):
    before = snapshot(db)
    response = api.post("/v1/orders", content=b'{"order_number": "1",}', headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_json"
    assert snapshot(db) == before


def test_validation_errors_share_one_code_and_one_shape(api):
    """Schema errors are `invalid_request`, the domain's input errors have their own codes; both name
    the fields in `details.errors[]`."""
    bad_cursor = api.get("/v1/orders", params={"cursor": "nonsense"}).json()["error"]
    assert bad_cursor["code"] == "cursor_invalid"
    assert bad_cursor["details"]["errors"] == [{"field": "cursor", "problem": "the cursor is not valid"}]
    bad_limit = api.get("/v1/orders", params={"limit": 0}).json()["error"]
    assert (bad_limit["code"], bad_limit["details"]["errors"][0]["field"]) == ("invalid_request", "query.limit")
    for error in (bad_cursor, bad_limit):
        assert "field" not in error["details"] and error["request_id"]


def test_malformed_json_says_where_and_a_missing_content_type_says_so(api):
    broken = api.post("/v1/orders", content=b'{"order_number": "1",}', headers={"Content-Type": "application/json"})
    details = broken.json()["error"]["details"]
    assert details["position"] == 21 and isinstance(details["problem"], str)
    untyped = api.post("/v1/orders", content=b'{"order_number": "1"}', headers={"Content-Type": ""})
    assert untyped.status_code == 422
    error = untyped.json()["error"]
    assert error["code"] == "invalid_request" and "Content-Type: application/json" in error["details"]["hint"]
    assert "Content-Type: application/json" in error["message"]


def test_a_callers_request_id_is_echoed_and_a_new_one_is_made_otherwise(api):
    mine = api.get("/v1/orders/nope", headers={"X-Request-ID": "checkout-7f3a"})
    assert mine.headers["x-request-id"] == "checkout-7f3a" and mine.json()["error"]["request_id"] == "checkout-7f3a"
    made = api.get("/v1/orders/nope", headers={"X-Request-ID": "bad id\twith tab"})
    assert made.headers["x-request-id"] not in ("", "bad id\twith tab")
    assert made.json()["error"]["request_id"] == made.headers["x-request-id"]
    assert api.get("/healthz").headers["x-request-id"]


def test_a_seller_places_its_own_order_without_naming_itself(api, db):
    body = {k: v for k, v in order("4000000077").items() if k != "seller_id"}
    with client_for(api, token(db, seller="acme")) as acme:
        placed = acme.post("/v1/orders", json=body)
        assert placed.status_code == 201, placed.text
        assert placed.json()["seller_id"] == "acme"
        assert acme.post("/v1/orders", json=order("4000000078", seller="globex")).status_code == 403


def test_oversized_body_is_413(api, server):
    response = api.post("/v1/orders", content=b"[" + b"1," * server.settings.max_body_bytes + b"1]",
                        headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


def test_unknown_order_is_404(api):
    response = api.get("/v1/orders/nope")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "order_not_found"


def test_missing_or_wrong_token_is_401(anon, api):
    api.post("/v1/orders", json=SEED_ORDER)
    missing = anon.get("/v1/orders/4000000001")
    assert missing.status_code == 401 and missing.json()["error"]["code"] == "credentials_missing"
    wrong = anon.get("/v1/orders/4000000001", headers={"Authorization": "Bearer kalem_nope"})
    assert wrong.status_code == 401
    assert wrong.json()["error"]["code"] == "credentials_invalid"


def test_a_seller_sees_only_its_own_orders(api, db):
    api.post("/v1/orders", json=SEED_ORDER)
    api.post("/v1/orders", json=order("5000000001", seller="globex"))
    with client_for(api, token(db, seller="globex")) as globex:
        assert globex.get("/v1/orders/4000000001").status_code == 404
        assert globex.get("/v1/orders/5000000001").status_code == 200
        listed = globex.get("/v1/orders").json()["data"]
        assert [o["order_number"] for o in listed] == ["5000000001"]
        # and cannot place orders for another seller
        foreign = globex.post("/v1/orders", json=order("5000000002", seller="acme"))
        assert foreign.status_code == 403


def test_listing_pages_with_a_cursor(api):
    for n in range(5):
        api.post("/v1/orders", json=order(f"600000000{n}"))
    first = api.get("/v1/orders", params={"limit": 2}).json()
    second = api.get("/v1/orders", params={"limit": 2, "cursor": first["next_cursor"]}).json()
    third = api.get("/v1/orders", params={"limit": 2, "cursor": second["next_cursor"]}).json()
    numbers = [o["order_number"] for page in (first, second, third) for o in page["data"]]
    assert sorted(numbers) == [f"600000000{n}" for n in range(5)]
    assert third["next_cursor"] is None
    assert api.get("/v1/orders", params={"cursor": "%%%"}).status_code == 422


def test_nul_characters_are_refused_on_every_database(api, db):
    before = snapshot(db)
    body = order("4000000077")
    body["lines"][0]["name"] = "T-Shirt\u0000"
    response = api.post("/v1/orders", json=body)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_characters"
    assert api.get("/v1/orders/a%00b").json()["error"]["code"] == "invalid_characters"
    assert snapshot(db) == before


def test_a_line_id_used_by_another_order_of_the_seller_is_409(api, db):
    api.post("/v1/orders", json=SEED_ORDER)
    before = snapshot(db)
    again = order("4000000078")
    again["lines"][0]["line_id"] = SEED_ORDER["lines"][0]["line_id"]
    again["packages"][0]["items"][0]["line_id"] = SEED_ORDER["lines"][0]["line_id"]
    response = api.post("/v1/orders", json=again)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "line_id_in_use"
    assert snapshot(db) == before


def test_a_chunked_body_over_the_limit_is_413(api, server):
    def chunks():
        for _ in range(server.settings.max_body_bytes // 1000 + 2):
            yield b" " * 1000

    response = api.post("/v1/orders", content=chunks(), headers={"Content-Type": "application/json"})
    assert response.status_code == 413
