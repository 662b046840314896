"""GET /metrics: scraped with prometheus-client's own parser, on SQLite and PostgreSQL.

The test servers share one process (and so one set of counters) across tests and backends, so
counters are compared before and after; the gauges read from the database are exact, the tables
being emptied before every test.
"""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import serving
from tests.support import SEED_ORDER, client_for, token

LINE = "item1691416223190"
CANCELS = "/v1/orders/{order_number}/cancellations"


def scrape(client: httpx.Client) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(response.text) for s in family.samples}


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_are_for_operators_only(anon, api, db):
    assert anon.get("/metrics").json()["error"]["code"] == "credentials_missing"
    with client_for(api, token(db, seller="acme")) as seller:
        assert seller.get("/metrics").json()["error"]["code"] == "operator_required"
    assert value(scrape(api), "kalem_database_up") == 1


def test_metrics_public_when_configured(server):
    settings = server.settings.model_copy(update={"metrics_public": True})
    with serving(settings, server.db) as url, httpx.Client(base_url=url) as anonymous:
        assert value(scrape(anonymous), "kalem_database_up") == 1


def test_requests_business_counters_and_replays(api, db):
    before = scrape(api)
    assert api.post("/v1/orders", json=SEED_ORDER).status_code == 201
    cancel = {"lines": [{"line_id": LINE, "quantity": 1, "reason_id": 136}]}
    first = api.post("/v1/orders/4000000001/cancellations", json=cancel, headers={"Idempotency-Key": "k-1"})
    replay = api.post("/v1/orders/4000000001/cancellations", json=cancel, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == replay.status_code == 200 and replay.headers["Idempotent-Replayed"] == "true"
    too_many = api.post("/v1/orders/4000000001/cancellations",
                        json={"lines": [{"line_id": LINE, "quantity": 9, "reason_id": 136}]})
    assert too_many.status_code == 409
    request = api.post("/v1/cancel-requests", json={"order_number": "4000000001", "lines": [
        {"line_id": LINE, "quantity": 1, "reason_id": 137}]}).json()
    with client_for(api, token(db, seller="acme")) as acme:
        assert acme.post(f"/v1/cancel-requests/{request['id']}/approve").status_code == 200
    api.get("/no/such/path")
    after = scrape(api)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    native = {"face": "native", "route": CANCELS, "method": "POST"}
    assert delta("kalem_http_requests_total", **native, status="200") == 2
    assert delta("kalem_http_requests_total", **native, status="409") == 1
    assert delta("kalem_http_request_duration_seconds_count", **native) == 3
    assert delta("kalem_http_requests_total", face="none", route="unmatched", method="GET", status="404") == 1
    assert delta("kalem_idempotent_replays_total", face="native") == 1
    assert delta("kalem_cancels_total") == 2  # the direct cancel and the approved request, not the replay
    assert delta("kalem_cancelled_units_total") == 2
    assert delta("kalem_cancel_requests_total", outcome="created") == 1
    assert delta("kalem_cancel_requests_total", outcome="approved") == 1
    assert delta("kalem_events_total", type="order.placed") == 1
    assert delta("kalem_db_pool_wait_seconds_count") > 0


def test_face_labels(api, db):
    before = scrape(api)
    api.post("/graphql", json={"query": "{ __typename }"})
    api.post("/Orders/CancelOrderItemLineList", json={})
    after = scrape(api)
    graphql = {"face": "zonos", "route": "/graphql", "method": "POST"}
    assert sum(v for (name, labels), v in after.items() if name == "kalem_http_requests_total"
               and dict(labels).items() >= graphql.items()) > sum(
        v for (name, labels), v in before.items() if name == "kalem_http_requests_total"
        and dict(labels).items() >= graphql.items())
    assert any(name == "kalem_http_requests_total" and dict(labels)["face"] == "hebiar"
               for name, labels in after)


def test_database_state_gauges(api, db):
    assert api.post("/v1/orders", json=SEED_ORDER).status_code == 201
    assert api.post("/v1/webhook-subscriptions", json={
        "url": "http://127.0.0.1:9/hook", "event_types": ["*"], "dialect": "native",
        "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}).status_code == 201
    assert api.post("/v1/cancel-requests", json={"order_number": "4000000001", "lines": [
        {"line_id": LINE, "quantity": 1, "reason_id": 137}]}).status_code == 201
    samples = scrape(api)
    assert value(samples, "kalem_outbox_depth") == 1  # the request's event; no worker runs here
    assert value(samples, "kalem_outbox_oldest_undelivered_age_seconds") >= 0
    assert ("kalem_cancel_request_oldest_pending_age_seconds", (("seller", "acme"),)) in samples
    assert value(samples, "kalem_migrations_at_head") == 1
    assert value(samples, "kalem_webhook_dead_letters") == 0


def test_cached_children_are_prometheus_clients_own():
    """The request path's cached children (`metrics.Children`) count into the very series `/metrics` shows."""
    from kalem.observability import metrics
    child = metrics.http_requests("native", "/cached-child-test", "POST", "200")
    assert child is metrics.http_requests("native", "/cached-child-test", "POST", "200")
    assert child is metrics.HTTP_REQUESTS.labels("native", "/cached-child-test", "POST", "200")
    before = child._value.get()
    metrics.http_requests("native", "/cached-child-test", "POST", "200").inc()
    assert metrics.HTTP_REQUESTS.labels("native", "/cached-child-test", "POST", "200")._value.get() == before + 1
