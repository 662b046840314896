"""Native API: direct cancellation, cancel requests, idempotency — nothing half-applied."""

from __future__ import annotations

import concurrent.futures

from tests.conftest import snapshot
from tests.support import SEED_ORDER, client_for, manual_refunds, order, token, two_line_order

LINE = "item1691416223190"


def cancel(api, quantity, number="4000000001", line=LINE, reason=136, **headers):
    return api.post(f"/v1/orders/{number}/cancellations",
                    json={"lines": [{"line_id": line, "quantity": quantity, "reason_id": reason, "note": "n"}]},
                    headers=headers)


def test_partial_cancel_moves_units_and_records_an_event(api, db):
    manual_refunds(db)  # about something else than the refund a decision makes
    api.post("/v1/orders", json=SEED_ORDER)
    response = cancel(api, 1)
    assert response.status_code == 200, response.text
    line = response.json()["lines"][0]
    assert (line["cancelled_quantity"], line["cancellable_quantity"]) == (1, 2)
    assert response.json()["version"] == 2
    assert response.json()["packages"][0]["items"] == [{"line_id": LINE, "quantity": 2, "units": [[2, 3]]}]
    events = api.get("/v1/orders/4000000001/events").json()["data"]
    assert [(e["sequence"], e["type"]) for e in events] == [(1, "order.placed"), (2, "lines.cancelled")]
    assert events[1]["data"]["items"][0]["quantity"] == 1


def test_cancelling_everything_cancels_the_package_and_the_order(api):
    api.post("/v1/orders", json=SEED_ORDER)
    body = cancel(api, 3).json()
    assert body["status"] == "cancelled"
    assert body["packages"][0]["status"] == "Cancelled"
    assert [h["status"] for h in body["packages"][0]["history"]] == ["Picking", "Cancelled"]


def test_bad_cancellations_are_refused_and_change_nothing(api, db):
    api.post("/v1/orders", json=SEED_ORDER)
    shipped = order("4000000009")
    shipped["packages"][0]["status"] = "Shipped"
    api.post("/v1/orders", json=shipped)
    before = snapshot(db)
    cases = [
        (cancel(api, 4), 409, "quantity_exceeds_cancellable"),
        (cancel(api, 0), 422, "quantity_not_positive"),
        (cancel(api, -1), 422, "quantity_not_positive"),
        (cancel(api, 1, line="nope"), 404, "line_not_found"),
        (cancel(api, 1, number="nope"), 404, "order_not_found"),
        (cancel(api, 1, reason=999), 422, "unknown_reason"),
        (cancel(api, 1, reason=168), 422, "unknown_reason"),  # a denial reason is not a cancel reason
        (cancel(api, 1, number="4000000009", line="item000009"), 409, "quantity_exceeds_cancellable"),
        (api.post("/v1/orders/4000000001/cancellations", json={"lines": []}), 422, "invalid_request"),
        (api.post("/v1/orders/4000000001/cancellations",
                  json={"lines": [{"line_id": LINE, "quantity": "1", "reason_id": 136}]}), 422, "invalid_request"),
        (api.post("/v1/orders/4000000001/cancellations", content=b'{"lines": [],}',
                  headers={"Content-Type": "application/json"}), 400, "malformed_json"),
        (cancel(api, 1, **{"If-Match": 'W/"7"'}), 412, "version_mismatch"),
    ]
    for response, status, code in cases:
        assert (response.status_code, response.json()["error"]["code"]) == (status, code), response.text
    assert snapshot(db) == before


def test_a_multi_line_cancel_is_all_or_nothing(api, db):
    api.post("/v1/orders", json=two_line_order("700"))
    before = snapshot(db)
    response = api.post("/v1/orders/700/cancellations", json={"lines": [
        {"line_id": "700-a", "quantity": 1, "reason_id": 136},
        {"line_id": "700-b", "quantity": 6, "reason_id": 136}]})
    assert response.status_code == 409
    assert response.json()["error"]["details"]["line_id"] == "700-b"
    assert snapshot(db) == before


def test_if_match_with_the_current_version_applies(api):
    api.post("/v1/orders", json=SEED_ORDER)
    etag = api.get("/v1/orders/4000000001").headers["etag"]
    assert cancel(api, 1, **{"If-Match": etag}).status_code == 200
    assert cancel(api, 1, **{"If-Match": etag}).status_code == 412


def test_another_sellers_order_looks_absent(api, db):
    api.post("/v1/orders", json=SEED_ORDER)
    globex_token = token(db, seller="globex")
    before = snapshot(db)
    with client_for(api, globex_token) as globex:
        response = cancel(globex, 1)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "order_not_found"
        request = globex.post("/v1/cancel-requests", json={"order_number": "4000000001", "lines": [
            {"line_id": LINE, "quantity": 1, "reason_id": 136}]})
        assert request.status_code == 404
    assert snapshot(db) == before


def test_cancel_request_reserves_units_and_partial_approval_cancels_part(api, db):
    manual_refunds(db)  # about something else than the refund a decision makes
    api.post("/v1/orders", json=SEED_ORDER)
    created = api.post("/v1/cancel-requests", json={"order_number": "4000000001", "lines": [
        {"line_id": LINE, "quantity": 2, "reason_id": 137, "note": "sebep açıklaması"}]})
    assert created.status_code == 201, created.text
    request = created.json()
    assert request["status"] == "pending"
    line = api.get("/v1/orders/4000000001").json()["lines"][0]
    assert (line["pending_cancel_quantity"], line["cancellable_quantity"]) == (2, 1)
    # pending units are reserved: a direct cancel cannot take them
    assert cancel(api, 2).json()["error"]["code"] == "quantity_exceeds_cancellable"

    with client_for(api, token(db, seller="acme")) as acme:
        queue = acme.get("/v1/cancel-requests", params={"status": "pending"}).json()["data"]
        assert [r["id"] for r in queue] == [request["id"]]
        approved = acme.post(f"/v1/cancel-requests/{request['id']}/approve",
                             json={"lines": [{"line_id": LINE, "quantity": 1}]})
        assert approved.status_code == 200, approved.text
        assert approved.json()["status"] == "approved"
        assert approved.json()["lines"][0]["approved_quantity"] == 1
        line = approved.json()["order"]["lines"][0]
        assert (line["ledger"]["cancelled"], line["ledger"]["open"], line["ledger"]["pending_cancel"]) == (1, 2, 0)
        again = acme.post(f"/v1/cancel-requests/{request['id']}/reject", json={"reason_id": 168})
        assert again.status_code == 409
        assert again.json()["error"]["code"] == "cancel_request_already_decided"
    types = [e["type"] for e in api.get("/v1/orders/4000000001/events").json()["data"]]
    assert types == ["order.placed", "cancel_request.created", "cancel_request.approved"]


def test_the_approval_note_is_kept_on_the_request_and_in_the_event(api, db):
    manual_refunds(db)  # about something else than the refund a decision makes
    api.post("/v1/orders", json=SEED_ORDER)
    request = api.post("/v1/cancel-requests", json={"order_number": "4000000001", "lines": [
        {"line_id": LINE, "quantity": 2, "reason_id": 136}]}).json()
    approved = api.post(f"/v1/cancel-requests/{request['id']}/approve",
                        json={"lines": [{"line_id": LINE, "quantity": 1}], "note": "one unit already packed"})
    assert approved.status_code == 200, approved.text
    assert approved.json()["decision_note"] == "one unit already packed"
    assert api.get(f"/v1/cancel-requests/{request['id']}").json()["decision_note"] == "one unit already packed"
    event = api.get("/v1/orders/4000000001/events").json()["data"][-1]
    assert (event["type"], event["data"]["note"]) == ("cancel_request.approved", "one unit already packed")


def test_reject_gives_units_back_with_a_denial_reason(api):
    api.post("/v1/orders", json=SEED_ORDER)
    request = api.post("/v1/cancel-requests", json={"order_number": "4000000001", "lines": [
        {"line_id": LINE, "quantity": 3, "reason_id": 136}]}).json()
    assert api.post(f"/v1/cancel-requests/{request['id']}/reject", json={"reason_id": 135}).json()["error"][
        "code"] == "unknown_reason"
    rejected = api.post(f"/v1/cancel-requests/{request['id']}/reject",
                        json={"reason_id": 168, "note": "yola çıktı"})
    assert rejected.status_code == 200
    assert rejected.json()["decision_reason_id"] == 168
    assert rejected.json()["order"]["lines"][0]["cancellable_quantity"] == 3


def test_approval_over_requested_is_refused(api, db):
    api.post("/v1/orders", json=SEED_ORDER)
    request = api.post("/v1/cancel-requests", json={"order_number": "4000000001", "lines": [
        {"line_id": LINE, "quantity": 1, "reason_id": 136}]}).json()
    before = snapshot(db)
    response = api.post(f"/v1/cancel-requests/{request['id']}/approve",
                        json={"lines": [{"line_id": LINE, "quantity": 2}]})
    assert response.json()["error"]["code"] == "approval_exceeds_requested"
    assert api.post("/v1/cancel-requests/cr_nope/approve").status_code == 404
    assert snapshot(db) == before


def test_withdraw_and_foreign_seller_cannot_decide(api, db):
    api.post("/v1/orders", json=SEED_ORDER)
    request = api.post("/v1/cancel-requests", json={"order_number": "4000000001", "lines": [
        {"line_id": LINE, "quantity": 1, "reason_id": 136}]}).json()
    with client_for(api, token(db, seller="globex")) as globex:
        assert globex.post(f"/v1/cancel-requests/{request['id']}/approve").status_code == 404
        assert globex.get(f"/v1/cancel-requests/{request['id']}").status_code == 404
    withdrawn = api.post(f"/v1/cancel-requests/{request['id']}/withdraw")
    assert withdrawn.json()["status"] == "withdrawn"
    assert withdrawn.json()["order"]["lines"][0]["cancellable_quantity"] == 3


def test_idempotency_key_replays_and_never_applies_twice(api, db):
    api.post("/v1/orders", json=SEED_ORDER)
    first = cancel(api, 1, **{"Idempotency-Key": "k-1"})
    second = cancel(api, 1, **{"Idempotency-Key": "k-1"})
    assert first.status_code == second.status_code == 200
    assert second.json() == first.json()
    assert second.headers.get("idempotent-replayed") == "true"
    assert api.get("/v1/orders/4000000001").json()["lines"][0]["cancelled_quantity"] == 1
    other = cancel(api, 2, **{"Idempotency-Key": "k-1"})
    assert other.status_code == 422
    assert other.json()["error"]["code"] == "idempotency_key_reused"
    # a refused request releases its key: nothing was applied, so a retry may run
    refused = cancel(api, 9, **{"Idempotency-Key": "k-2"})
    assert refused.status_code == 409
    assert cancel(api, 1, **{"Idempotency-Key": "k-2"}).status_code == 200


def test_a_key_in_flight_answers_409(api, db):
    from datetime import UTC, datetime, timedelta

    from kalem.api.idempotency import fingerprint
    from kalem.store.uow import UnitOfWork
    api.post("/v1/orders", json=SEED_ORDER)
    body = {"lines": [{"line_id": LINE, "quantity": 1, "reason_id": 136, "note": "n"}]}
    same = fingerprint(["POST /v1/orders/4000000001/cancellations", body])
    with UnitOfWork(db) as uow:  # a twin that is still running holds the key
        now = datetime.now(UTC)
        uow.idempotency.claim("operator", "k-busy", same, now, now + timedelta(seconds=60))
        uow.commit()
    response = cancel(api, 1, **{"Idempotency-Key": "k-busy"})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "idempotency_key_in_use"
    assert api.get("/v1/orders/4000000001").json()["lines"][0]["cancelled_quantity"] == 0


def test_a_request_that_outlived_its_lease_commits_nothing(api, db):
    """The lease fences the commit: once a retry has taken the key over, the first request's change
    and answer are refused (409), and the retry's claim is left alone."""
    from datetime import timedelta
    from functools import partial

    import pytest

    from kalem.api.idempotency import Idempotency
    from kalem.app.cancellation import CancelLines, cancel_lines
    from kalem.app.principals import Principal
    from kalem.domain.errors import IdempotencyKeyInUse
    from kalem.domain.orders.cancellation import CancelItem
    from kalem.store.uow import UnitOfWork
    api.post("/v1/orders", json=SEED_ORDER)
    principal = Principal("operator", "admin")
    command = CancelLines("4000000001", (CancelItem(LINE, 1, 136),), principal)

    def slow_first_request(uow):
        with UnitOfWork(db) as retry:  # meanwhile its lease ran out and a retry took the key over
            later = retry.now() + timedelta(hours=1)
            assert retry.idempotency.take_over(principal.key, "k-late", later, later + timedelta(minutes=1))
            retry.commit()
        return cancel_lines(uow, command)

    idempotency = Idempotency(partial(UnitOfWork, db), lease_seconds=60)
    with pytest.raises(IdempotencyKeyInUse):
        idempotency.run("k-late", principal, ["late"], slow_first_request, lambda o: (200, {"version": o.version}))
    assert api.get("/v1/orders/4000000001").json()["lines"][0]["cancelled_quantity"] == 0
    with UnitOfWork(db, write=False) as uow:
        row = uow.idempotency.get(principal.key, "k-late")
    assert row.state == "running"  # the retry's claim: neither completed nor released by the first


def test_concurrent_cancels_never_exceed_the_line(api, db):
    manual_refunds(db)  # about something else than the refund a decision makes
    api.post("/v1/orders", json=order("4000000005", lines=[{**SEED_ORDER["lines"][0], "line_id": "item000005",
                                                            "quantity": 10}],
                                      packages=[]))
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: cancel(api, 1, number="4000000005", line="item000005").status_code,
                                range(16)))
    assert results.count(200) == 10
    assert results.count(409) == 6
    line = api.get("/v1/orders/4000000005").json()["lines"][0]
    assert line["cancelled_quantity"] == 10
    events = api.get("/v1/orders/4000000005/events").json()["data"]
    assert [e["sequence"] for e in events] == list(range(1, 12))


def test_reasons_catalog(api):
    cancelled = api.get("/v1/reasons", params={"status_type": "Cancelled"}).json()["data"]
    assert {r["id"] for r in cancelled} >= {135, 136, 137, 151}
    assert all(r["status_type"] == "Cancelled" for r in cancelled)
    assert next(r for r in cancelled if r["id"] == 136)["name"] == {"tr": "Müşteri isteği", "en": "Customer request"}
    n11 = api.get("/v1/reasons", params={"platform": "n11"}).json()["data"]
    assert [r["id"] for r in n11] == [61, 62, 63, 64, 65]
    assert api.get("/v1/reasons", params={"status_type": "Nope"}).status_code == 422
