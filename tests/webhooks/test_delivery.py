"""Webhooks end to end on SQLite and PostgreSQL: outbox, signed delivery, retries, ordering, 410,
Retry-After, dead letters, redelivery and replay — against a real local HTTP receiver."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from standardwebhooks import Webhook

from tests.support import manual_refunds, order
from tests.webhooks.conftest import SECRET, deliveries, drain, subscribe
from tests.webhooks.receiver import Receiver


def cancel_one(api, number: str) -> None:
    line = f"item{number[-6:]}"
    response = api.post(f"/v1/orders/{number}/cancellations",
                        json={"lines": [{"line_id": line, "quantity": 1, "reason_id": 136}]})
    assert response.status_code == 200, response.text


def test_an_event_is_queued_in_its_transaction_and_delivered_signed(api, receiver, worker):
    sub = subscribe(api, receiver.url)
    assert "secret" not in sub  # a given secret is never echoed
    assert api.post("/v1/orders", json=order("4000000101")).status_code == 201
    queued = deliveries(api)
    assert [d["status"] for d in queued] == ["pending"]  # committed with the order, before any worker ran
    drain(worker, lambda: len(receiver.requests) == 1)
    got = receiver.requests[0]
    payload = Webhook(SECRET).verify(got.body, got.headers)
    assert payload["type"] == "order.placed" and payload["order_number"] == "4000000101"
    assert payload["sequence"] == 1 and payload["seller_id"] == "acme" and got.id == payload["id"]
    assert set(payload) == {"id", "type", "order_number", "seller_id", "channel", "sequence", "occurred_at", "data"}
    assert payload["channel"] == "direct"
    drain(worker, lambda: deliveries(api)[0]["status"] == "delivered")


def test_500_four_times_then_200_is_delivered_once_with_every_attempt_recorded(api, receiver, worker):
    receiver.plan = [500, 500, 500, 500]
    subscribe(api, receiver.url)
    api.post("/v1/orders", json=order("4000000102"))
    drain(worker, lambda: deliveries(api)[0]["status"] == "delivered")
    [d] = deliveries(api)
    assert [a["status_code"] for a in d["attempts"]] == [500, 500, 500, 500, 200]
    assert d["attempt_count"] == 5 and d["last_status"] == 200 and d["delivered_at"]
    assert len({r.id for r in receiver.requests}) == 1 and receiver.unique == [receiver.requests[0].id]


def test_a_later_event_waits_while_the_receiver_is_down(api, worker, server):
    manual_refunds(server.db)  # about something else than the refund a decision makes
    from kalem.domain.webhooks import RetryPolicy
    worker.config.retry = RetryPolicy(base_seconds=0.01, factor=2.0, cap_seconds=0.05, max_attempts=10_000)
    receiver = Receiver()  # not listening yet: connections are refused
    subscribe(api, receiver.url)
    api.post("/v1/orders", json=order("4000000103"))
    worker.run_once()  # the first attempt fails
    cancel_one(api, "4000000103")  # a later event of the same order
    for _ in range(5):
        worker.run_once()
    by_seq = {d["sequence"]: d for d in deliveries(api)}
    assert by_seq[1]["status"] == "failed" and by_seq[1]["attempts"][0]["error"]
    assert by_seq[2]["attempt_count"] == 0  # never tried while sequence 1 is open
    receiver.start()
    try:
        drain(worker, lambda: all(d["status"] == "delivered" for d in deliveries(api)))
        assert [r.json()["sequence"] for r in receiver.requests] == [1, 2]
    finally:
        receiver.stop()


def test_a_receiver_that_times_out_is_retried(api, receiver, server):
    import threading

    from kalem.bootstrap.worker import build_worker
    from tests.webhooks.conftest import FAST
    receiver.hold = threading.Event()  # the first request hangs past the sender's timeout
    slow = build_worker(server.settings, server.db, timeout_seconds=0.3, retry=FAST, concurrency=1)
    try:
        subscribe(api, receiver.url)
        api.post("/v1/orders", json=order("4000000104"))
        drain(slow, lambda: deliveries(api)[0]["status"] == "delivered")
        receiver.hold.set()
        attempts = deliveries(api)[0]["attempts"]
        assert attempts[0]["error"] == "timeout" and attempts[-1]["status_code"] == 200
    finally:
        receiver.hold.set()
        slow.close()


def test_410_disables_the_subscription_and_dead_letters(api, receiver, worker):
    receiver.plan = [410]
    sub = subscribe(api, receiver.url)
    api.post("/v1/orders", json=order("4000000105"))
    drain(worker, lambda: deliveries(api)[0]["status"] == "dead")
    got = api.get(f"/v1/webhook-subscriptions/{sub['id']}").json()
    assert got["enabled"] is False and "410" in got["disabled_reason"]
    api.post("/v1/orders", json=order("4000000106"))  # a disabled subscription queues nothing new
    assert len(deliveries(api)) == 1


def test_retry_after_is_honoured(api, receiver, worker):
    receiver.plan = [(503, {"Retry-After": "3600"})]
    subscribe(api, receiver.url)
    api.post("/v1/orders", json=order("4000000107"))
    before = datetime.now(UTC)
    drain(worker, lambda: deliveries(api)[0]["status"] == "failed")
    due = datetime.fromisoformat(deliveries(api)[0]["next_attempt_at"])
    assert due >= before + timedelta(seconds=3590)


def test_exhausted_retries_dead_letter_and_release_the_next_event(api, receiver, worker):
    first = {"id": None}

    def respond(got):
        first["id"] = first["id"] or got.id
        return (500, {}) if got.id == first["id"] else (200, {})
    receiver.respond = respond
    subscribe(api, receiver.url)
    api.post("/v1/orders", json=order("4000000108"))
    cancel_one(api, "4000000108")
    drain(worker, lambda: {d["status"] for d in deliveries(api)} == {"dead", "delivered"})
    by_seq = {d["sequence"]: d for d in deliveries(api)}
    assert by_seq[1]["status"] == "dead" and by_seq[1]["attempt_count"] == worker.config.retry.max_attempts
    assert by_seq[2]["status"] == "delivered"


def test_redeliver_and_replay(api, receiver, worker):
    sub = subscribe(api, receiver.url)
    api.post("/v1/orders", json=order("4000000109"))
    drain(worker, lambda: deliveries(api)[0]["status"] == "delivered")
    [d] = deliveries(api)
    response = api.post(f"/v1/webhook-deliveries/{d['id']}/redeliver")
    assert response.status_code == 202 and response.json()["status"] == "pending"
    drain(worker, lambda: len(receiver.requests) == 2)
    assert receiver.requests[0].id == receiver.requests[1].id  # the same message again
    # a subscription created later replays earlier events
    late = subscribe(api, receiver.url, event_types=["order.placed"])
    response = api.post(f"/v1/webhook-subscriptions/{late['id']}/replay",
                        json={"since": (datetime.now(UTC) - timedelta(hours=1)).isoformat()})
    assert response.status_code == 202 and response.json() == {"queued": 1}
    drain(worker, lambda: len(receiver.requests) == 3)
    assert len(deliveries(api, subscription_id=late["id"])) == 1
    assert len(deliveries(api, subscription_id=sub["id"], status="delivered")) == 1


def test_seller_filter_and_event_type_filter(api, receiver, worker):
    subscribe(api, receiver.url, event_types=["lines.*"])
    subscribe(api, receiver.url, event_types=["order.placed"], seller_id="other")
    api.post("/v1/orders", json=order("4000000110"))
    cancel_one(api, "4000000110")
    api.post("/v1/orders", json=order("4000000111", seller="other"))
    drain(worker, lambda: len(receiver.requests) == 2)
    assert sorted(r.json()["type"] for r in receiver.requests) == ["lines.cancelled", "order.placed"]
    assert {r.json()["seller_id"] for r in receiver.requests} == {"acme", "other"}


def test_basic_bearer_and_rotation(api, receiver, worker):
    basic = subscribe(api, receiver.url + "?b", secret=None,
                      auth={"kind": "basic", "username": "u", "password": "p"})
    subscribe(api, receiver.url + "?t", secret=None, auth={"kind": "bearer", "token": "tok-123"})
    std = subscribe(api, receiver.url + "?s")
    new_secret = "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0MTIzNDU2"
    rotated = api.patch(f"/v1/webhook-subscriptions/{std['id']}", json={"secret": new_secret})
    assert rotated.status_code == 200 and rotated.json()["previous_secret_valid_until"]
    api.post("/v1/orders", json=order("4000000112"))
    drain(worker, lambda: len(receiver.requests) == 3)
    by_path = {r.path.split("?")[1]: r for r in receiver.requests}
    assert by_path["b"].headers["authorization"] == "Basic dTpw"
    assert by_path["t"].headers["authorization"] == "Bearer tok-123"
    for secret in (SECRET, new_secret):  # both the old and the new secret verify during rotation
        Webhook(secret).verify(by_path["s"].body, by_path["s"].headers)
    assert api.get(f"/v1/webhook-subscriptions/{basic['id']}").json()["auth"] == {"kind": "basic", "username": "u"}
