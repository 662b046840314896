"""Limits over real HTTP on SQLite and PostgreSQL: per-credential rate limits (429 + Retry-After in
each face's envelope), body size, lines per request, page sizes, huge paging numbers.

The token bucket's refill is tested with an injected clock; over HTTP the refill rate is so slow
(one token per 1000 s) that no request of a test can earn a token back, and only the refusal and
its headers are asserted — never how long anything took.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from kalem.api.ratelimit import HUB_SESSION_COOKIE, RateLimit, TokenBuckets, credential_key, retry_after
from kalem.app import access
from kalem.app.principals import Principal
from kalem.bootstrap.api import build_app
from kalem.config import Settings
from kalem.hub.session import SESSION_COOKIE
from kalem.platforms.akinon import cancellation_requests as akinon_requests
from kalem.platforms.n11 import key_pairs
from kalem.store.db import Database
from kalem.store.uow import UnitOfWork
from tests.conftest import ADMIN, serving, snapshot
from tests.support import order, token

BURST = 5
RATE = 0.001  # one token per 1000 s: nothing refills while a test runs
AKINON = {"Authorization": f"Token {ADMIN}"}


# --- the bucket, with an injected clock -----------------------------------------------------------
class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_allows_the_burst_then_refills_at_the_rate():
    clock = Clock()
    buckets = TokenBuckets(rate=2.0, burst=3, clock=clock)
    assert [buckets.take(b"a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take(b"a") == pytest.approx(0.5)      # one token takes 1/rate s
    clock.now += 0.25
    assert buckets.take(b"a") == pytest.approx(0.25)     # half a token earned: half the wait left
    clock.now += 0.25
    assert buckets.take(b"a") == 0.0                     # a whole token: allowed, and spent
    assert buckets.take(b"a") == pytest.approx(0.5)
    clock.now += 3600                                    # a long idle refills to the burst, no more
    assert [buckets.take(b"a") for _ in range(4)][3] > 0
    assert buckets.take(b"b") == 0.0                     # another key has its own bucket


def test_a_clock_going_backwards_earns_nothing():
    clock = Clock()
    buckets = TokenBuckets(rate=1.0, burst=1, clock=clock)
    assert buckets.take(b"a") == 0.0
    clock.now -= 100
    assert buckets.take(b"a") == pytest.approx(1.0)


def test_retry_after_is_whole_seconds_rounded_up_and_at_least_one():
    assert [retry_after(w) for w in (0.001, 0.5, 1.0, 1.01, 2.5, 1000.0)] == [1, 1, 1, 2, 3, 1000]


def test_the_number_of_buckets_is_bounded_and_the_least_recently_used_goes_first():
    clock = Clock()
    buckets = TokenBuckets(rate=1.0, burst=1, max_keys=2, clock=clock)
    assert buckets.take(b"a") == 0.0 and buckets.take(b"b") == 0.0
    assert buckets.take(b"a") > 0          # `a` is empty, and now the most recently used
    assert buckets.take(b"c") == 0.0       # evicts `b`, not `a`
    assert len(buckets) == 2
    assert buckets.take(b"a") > 0          # `a` kept its (empty) bucket
    assert buckets.take(b"b") == 0.0       # `b` starts over: eviction only ever lets more through
    assert len(buckets) == 2


def test_buckets_count_exactly_across_threads():
    buckets = TokenBuckets(rate=1.0, burst=5000, clock=Clock())  # a frozen clock: no refill
    allowed = []

    def hammer() -> None:
        allowed.append(sum(1 for _ in range(1000) if buckets.take(b"shared") == 0.0))

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(allowed) == 5000


def test_settings_refuse_negative_rates_and_zero_disables_the_limiter(tmp_path):
    with pytest.raises(ValidationError):
        Settings(rate_limit_per_second=-1)
    with pytest.raises(ValidationError):
        Settings(rate_limit_burst=0)
    url = f"sqlite:///{tmp_path}/k.db"
    db = Database.connect(url)
    on = build_app(Settings(database_url=url, secret_key="k" * 40, rate_limit_per_second=100), db)
    off = build_app(Settings(database_url=url, secret_key="k" * 40, rate_limit_per_second=0), db)
    assert RateLimit in [m.cls for m in on.user_middleware]
    assert RateLimit not in [m.cls for m in off.user_middleware]


# --- whose bucket -------------------------------------------------------------------------------
def scope(path: str = "/v1/orders", client: str = "10.0.0.1", **headers: str) -> dict[str, Any]:
    return {"type": "http", "path": path, "client": (client, 5000),
            "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()]}


def test_the_key_is_the_credential_whatever_header_carries_it():
    bearer = credential_key(scope(Authorization="Bearer tok-1"))
    assert bearer == credential_key(scope(credentialToken="tok-1"))          # Zonos' header, same token
    assert bearer == credential_key(scope(Authorization="Token tok-1"))      # Akinon's scheme
    assert bearer == credential_key(scope(client="10.9.9.9", Authorization="Bearer tok-1"))
    assert bearer != credential_key(scope(Authorization="Bearer tok-2"))
    pair = credential_key(scope(appkey="k", appsecret="s"))
    assert pair not in (bearer, credential_key(scope(appkey="k", appsecret="t")), credential_key(scope()))
    hub = credential_key(scope(Cookie=f"lang=tr; {SESSION_COOKIE}=abc.def"))
    assert hub not in (credential_key(scope(Cookie=f"{SESSION_COOKIE}=abc.deg")), credential_key(scope()))
    assert HUB_SESSION_COOKIE == SESSION_COOKIE


def test_without_a_credential_and_on_sign_in_paths_the_key_is_the_client_address():
    anonymous = credential_key(scope())
    assert anonymous == credential_key(scope(path="/v1/refunds"))
    assert anonymous != credential_key(scope(client="10.0.0.2"))
    assert anonymous == credential_key(scope(Cookie=f"{SESSION_COOKIE}_pre=nonce"))  # a pre-session is no credential
    for path in ("/Auth/login", "/auth/LOGIN/", "/api/v1/auth/login/", "/v1/auth/token", "/hub/login"):
        # a made-up credential header must not buy a fresh bucket for guessing passwords
        assert credential_key(scope(path=path, Authorization=f"Bearer {uuid.uuid4()}")) == anonymous
        assert credential_key(scope(path=path, appkey="x", appsecret="y")) == anonymous


# --- over HTTP ----------------------------------------------------------------------------------
@pytest.fixture
def limited(server) -> Iterator[str]:
    """A server of its own (fresh buckets) over the backend's database: BURST requests, then 429."""
    settings = server.settings.model_copy(update={"rate_limit_per_second": RATE, "rate_limit_burst": BURST})
    with serving(settings, server.db) as url:
        yield url


def client(url: str, **headers: str) -> httpx.Client:
    return httpx.Client(base_url=url, headers=headers, timeout=30)


def assert_limited(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 429, response.text
    wait = response.headers["Retry-After"]
    assert wait.isdigit() and int(wait) >= 1
    assert response.headers["RateLimit-Limit"] == str(BURST)
    assert response.headers["RateLimit-Remaining"] == "0"
    return response.json()


def test_native_429_after_the_burst_changes_nothing_and_spares_other_tokens(limited, server, db):
    first, second = token(db), token(db)
    with client(limited, Authorization=f"Bearer {first}") as c:
        assert [c.get("/v1/orders").status_code for _ in range(BURST)] == [200] * BURST
        before = snapshot(db)
        body = assert_limited(c.post("/v1/orders", json=order("7000000001")))
        assert body == {"error": {"code": "rate_limited", "message": body["error"]["message"], "details": {},
                                  "request_id": body["error"]["request_id"]}}
        assert snapshot(db) == before
        assert c.get("/healthz").status_code == 200  # liveness is never limited
    with client(limited, Authorization=f"Bearer {second}") as c:
        assert c.post("/v1/orders", json=order("7000000001")).status_code == 201


def test_sign_in_is_limited_per_client_address_whatever_header_is_sent(limited, db):
    with client(limited) as anon:
        for attempt in range(BURST):
            response = anon.post("/Auth/login", json={"UserName": "nobody", "Password": f"guess-{attempt}"},
                                 headers={"Authorization": f"Bearer {uuid.uuid4()}"})
            assert response.status_code == 401, response.text
        before = snapshot(db)
        body = assert_limited(anon.post("/api/v1/auth/login/", json={"username": "nobody", "password": "guess"},
                                        headers={"Authorization": f"Token {uuid.uuid4()}"}))
        assert body["code"] == "rate_limited"            # Akinon's envelope: the path is Akinon's
        assert_limited(anon.get("/v1/orders"))           # no credential: the same address, the same bucket
        assert snapshot(db) == before
        assert all(anon.get("/healthz").status_code == 200 for _ in range(BURST + 2))  # probes: never limited
        assert all(anon.get("/readyz").status_code == 200 for _ in range(BURST + 2))
    with client(limited, Authorization=f"Bearer {token(db)}") as c:
        assert c.get("/v1/orders").status_code == 200    # a credential has its own bucket


def test_hebiar_429_in_the_oms_envelope_and_the_refused_cancel_changes_nothing(limited, server, api, db):
    assert api.post("/v1/orders", json=order()).status_code == 201
    cancel = [{"sourceOrderItemLineId": "item1691416223190-1", "quantity": 1, "reasonId": 136, "reasonDesc": "x"}]
    with client(limited, Authorization=f"Bearer {token(db)}") as c:
        for _ in range(BURST):
            assert c.get("/orders/GetOrderPackages", params={"size": 1}).status_code == 200
        before = snapshot(db)
        body = assert_limited(c.post("/Orders/CancelOrderItemLineList", json=cancel))
        assert snapshot(db) == before
    assert body["isSuccess"] is False and body["statusCode"] == 429 and body["data"] is None
    assert body["errors"] == [{"code": "rate_limited", "message": body["errorMessage"]}]
    assert body["errorMesssage"] == body["errorMessage"]
    with client(limited, Authorization=f"Bearer {token(db)}") as other:
        assert other.post("/Orders/CancelOrderItemLineList", json=cancel).status_code == 200
    assert api.get("/v1/orders/4000000001").json()["lines"][0]["cancelled_quantity"] == 1


def akinon_key(server, db) -> str:
    """Signed in on the unlimited session server: the key (a JWT) is valid on the limited one too."""
    access.create_user(UnitOfWork(db), username="limits-user", password="secret-pass", role="seller",
                       seller_id="acme")
    r = httpx.post(f"{server.url}/api/v1/auth/login/", json={"username": "limits-user", "password": "secret-pass"})
    assert r.status_code == 200, r.text
    return r.json()["key"]


def test_face_envelopes_of_429(limited, server, api, db):
    """n11, Akinon, HepsiGlobal and Zonos each refuse in their own error envelope, with HTTP 429."""
    assert api.post("/v1/orders", json=order(channel="hepsiglobal")).status_code == 201  # HG's, for its cancel
    appkey, appsecret = key_pairs.create_key_pair(UnitOfWork(db), seller_id="acme")
    hg_cancel = "/v1/orders/4000000001/order_items/item1691416223190"
    faces: list[tuple[dict[str, str], Callable[[httpx.Client], httpx.Response], Callable[[dict], None]]] = [
        ({"appkey": appkey, "appsecret": appsecret},
         lambda c: c.get("/rest/delivery/v1/shipmentPackages"),
         lambda b: b == {"code": 429, "status": "failure", "errorCode": "SELLER_API.rateLimited",
                         "errorMessage": b["errorMessage"], "errorCategory": "SELLER_API"}),
        ({"Authorization": f"Token {akinon_key(server, db)}"},
         lambda c: c.get("/api/v1/orders/"),
         lambda b: b == {"detail": b["detail"], "code": "rate_limited"}),
        ({"Authorization": f"Bearer {token(db)}"},
         lambda c: c.put("/v1/orders/NOPE/order_items/x", json={"reason": "customer_demand"}),
         lambda b: b == {"data": {"code": "rate_limited"}, "message": b["message"]}),
        ({"credentialToken": token(db)},
         lambda c: c.post("/graphql", json={"query": "{ __typename }"}),
         lambda b: b == {"errors": [{"message": b["errors"][0]["message"],  # it never ran: no `data`
                                     "extensions": {"code": "RATE_LIMITED"}}]}),
    ]
    for headers, call, envelope in faces:
        with client(limited, **headers) as c:
            statuses = [call(c).status_code for _ in range(BURST)]
            assert 429 not in statuses and all(s < 500 for s in statuses), statuses
            before = snapshot(db)
            body = assert_limited(call(c))
            assert envelope(body), body
            assert snapshot(db) == before
    # This HepsiGlobal cancel would change the order; refused, it changes nothing.
    with client(limited, Authorization=f"Bearer {token(db)}") as c:
        for _ in range(BURST):
            c.put("/v1/orders/NOPE/order_items/x", json={"reason": "customer_demand"})
        before = snapshot(db)
        assert_limited(c.put(hg_cancel, json={"reason": "customer_demand"}))
        assert snapshot(db) == before
    assert api.put(hg_cancel, json={"reason": "customer_demand"}).status_code == 200
    assert snapshot(db) != before  # (what the refused request would have done)


# --- body size ----------------------------------------------------------------------------------
def chunks(total: int) -> Iterator[bytes]:
    """A body without Content-Length (chunked transfer encoding)."""
    sent = 0
    while sent < total:
        piece = min(8192, total - sent)
        sent += piece
        yield b" " * piece


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_body_over_the_limit_is_413_for_native_and_hebiar_and_changes_nothing(api, server, db, chunked):
    assert api.post("/v1/orders", json=order()).status_code == 201
    before = snapshot(db)
    size = server.settings.max_body_bytes + 1
    native_body = b'{"order_number": "7000000002"' + b" " * size + b"}"
    hebiar_body = b"[" + b" " * size + b"]"
    headers = {"Content-Type": "application/json"}
    for path, body in (("/v1/orders", native_body), ("/Orders/CancelOrderItemLineList", hebiar_body)):
        content: Any = chunks(len(body)) if chunked else body
        response = api.post(path, content=content, headers=headers)
        assert response.status_code == 413, response.text
        if path == "/v1/orders":
            assert response.json()["error"]["code"] == "payload_too_large"
        else:
            found = response.json()
            assert found["isSuccess"] is False and found["statusCode"] == 413
            assert found["errors"][0]["code"] == "payload_too_large"
    assert snapshot(db) == before


# --- lines per request --------------------------------------------------------------------------
def many_lines(number: str, n: int) -> dict[str, Any]:
    return {"order_number": number, "seller_id": "acme", "currency": "TRY",
            "lines": [{"line_id": f"{number}-{i}", "sku": f"S{i}", "name": "x", "quantity": 1,
                       "unit_price": "1.00"} for i in range(n)]}


def test_native_intake_and_cancel_take_500_lines_and_refuse_501_precisely(api, db):
    before = snapshot(db)
    refused = api.post("/v1/orders", json=many_lines("7000000003", 501))
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["code"] == "too_many_items"
    assert refused.json()["error"]["details"]["errors"][0]["field"] == "lines"
    assert snapshot(db) == before

    placed = api.post("/v1/orders", json=many_lines("7000000003", 500))
    assert placed.status_code == 201, placed.text
    assert len(placed.json()["lines"]) == 500
    lines = [{"line_id": f"7000000003-{i}", "quantity": 1, "reason_id": 136} for i in range(500)]
    before = snapshot(db)
    refused = api.post("/v1/orders/7000000003/cancellations", json={"lines": lines + [lines[0]]})
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "too_many_items"
    assert snapshot(db) == before
    done = api.post("/v1/orders/7000000003/cancellations", json={"lines": lines})
    assert done.status_code == 200, done.text
    assert all(line["cancelled_quantity"] == 1 for line in done.json()["lines"])


def test_faces_refuse_501_lines_in_their_envelopes_and_change_nothing(api, db):
    assert api.post("/v1/orders", json=order()).status_code == 201
    appkey, appsecret = key_pairs.create_key_pair(UnitOfWork(db), seller_id="acme")
    before = snapshot(db)
    unit = {"sourceOrderItemLineId": "item1691416223190-1", "quantity": 1, "reasonId": 136, "reasonDesc": "x"}
    hebiar = api.post("/Orders/CancelOrderItemLineList", json=[unit] * 501)
    assert hebiar.status_code == 422 and hebiar.json()["errors"][0]["code"] == "too_many_items", hebiar.text
    n11 = api.put("/rest/order/v1/update", json={"status": "Picking", "lines": [{"lineId": i + 1} for i in range(501)]},
                  headers={"appkey": appkey, "appsecret": appsecret})
    assert n11.status_code == 400 and n11.json()["errorCode"] == "SELLER_API.tooManyItems", n11.text
    items = [{"item_number": f"hg-{i}", "sku": f"S{i}", "quantity": 1, "unit_product_price": "1.00",
              "company_id": "acme"} for i in range(501)]
    hg = api.post("/v1/orders", json={"order_number": "7000000004", "currency": "USD", "items": items})
    assert hg.status_code == 400 and hg.json()["data"]["code"] == "too_many_items", hg.text
    assert snapshot(db) == before
    accepted = api.post("/v1/orders", json={"order_number": "7000000004", "currency": "USD", "items": items[:500]})
    assert accepted.status_code == 201, accepted.text


# --- page sizes ---------------------------------------------------------------------------------
NATIVE_PAGES = [("/v1/orders", "limit", 100), ("/v1/cancel-requests", "limit", 100),
                ("/v1/webhook-deliveries", "limit", 100), ("/v1/events", "limit", 1000),
                ("/v1/orders/4000000001/events", "limit", 1000)]


@pytest.mark.parametrize(("path", "param", "most"), NATIVE_PAGES)
def test_native_page_sizes_over_the_max_are_422(api, path, param, most):
    assert api.post("/v1/orders", json=order()).status_code == 201
    assert api.get(path, params={param: most}).status_code == 200
    refused = api.get(path, params={param: most + 1})
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["code"] == "invalid_request"
    assert refused.json()["error"]["details"]["errors"][0]["field"] == f"query.{param}"


def test_hebiar_page_size_over_100_is_422_in_the_oms_envelope(api):
    assert api.get("/orders/GetOrderPackages", params={"size": 100}).json()["pageSize"] == 100
    refused = api.get("/orders/GetOrderPackages", params={"size": 101})
    assert refused.status_code == 422 and refused.json()["errors"][0]["code"] == "invalid_request"


def test_n11_page_size_is_silently_clamped_to_100_as_n11_does(api, db):
    appkey, appsecret = key_pairs.create_key_pair(UnitOfWork(db), seller_id="acme")
    headers = {"appkey": appkey, "appsecret": appsecret}
    assert api.get("/rest/delivery/v1/shipmentPackages", params={"size": 5000}, headers=headers).json()["size"] == 100
    absurd = api.get("/rest/delivery/v1/shipmentPackages", params={"size": 10_001}, headers=headers)
    assert absurd.status_code == 400 and absurd.json()["errorCode"] == "SELLER_API.invalidRequest"


def test_akinon_orders_limit_over_100_is_400_drf_style(api):
    assert api.get("/api/v1/orders/", params={"limit": 100}, headers=AKINON).status_code == 200
    refused = api.get("/api/v1/orders/", params={"limit": 101}, headers=AKINON)
    assert refused.status_code == 400 and refused.json()["code"] == "invalid_request"
    assert list(refused.json()) == ["limit", "code"]


def test_akinon_cancellation_requests_clamp_the_page_to_100_as_drf_does(api, db):
    """DRF's page_size_query_param with max_page_size: a larger `limit` is capped, not refused."""
    line = {**order()["lines"][0], "quantity": 101}
    assert api.post("/v1/orders", json=order(lines=[line], packages=[])).status_code == 201
    found = api.get("/api/v1/orders/", params={"number": "4000000001"}, headers=AKINON).json()["results"][0]
    items = [item["pk"] for item in found["orderitem_set"]]
    assert len(items) == 101
    operator = Principal("operator", "limits-test")
    for pk in items:
        akinon_requests.create(UnitOfWork(db), akinon_requests.CreateRequest(operator, pk, 136))
    page = api.get("/api/v1/cancellation_requests/", params={"limit": 1000}, headers=AKINON).json()
    assert page["count"] == 101 and len(page["results"]) == 100 and page["next"] is not None


# --- huge numbers in paging parameters ----------------------------------------------------------
HUGE = str(10**30)


@pytest.mark.parametrize("path", [
    f"/v1/orders/4000000001/events?after={HUGE}", f"/v1/webhook-deliveries?cursor={HUGE}",
    f"/v1/webhook-deliveries/{HUGE}", f"/v1/events?after={HUGE}.{HUGE}", f"/v1/orders?cursor={HUGE}",
    f"/orders/GetOrderPackages?page={HUGE}", f"/rest/delivery/v1/shipmentPackages?page={HUGE}",
    f"/api/v1/cancellation_requests/?page={HUGE}", f"/api/v1/orders/{HUGE}/", f"/v1/orders/{HUGE}",
    "/v1/events?after=9223372036854775808.1", "/v1/webhook-deliveries?cursor=9223372036854775808",
    "/rest/delivery/v1/shipmentPackages?startDate=99999999999999",
])
def test_huge_paging_numbers_are_refused_or_empty_never_5xx(api, db, path):
    appkey, appsecret = key_pairs.create_key_pair(UnitOfWork(db), seller_id="acme")
    assert api.post("/v1/orders", json=order()).status_code == 201
    before = snapshot(db)
    headers = {"appkey": appkey, "appsecret": appsecret} if path.startswith("/rest") else \
        AKINON if path.startswith("/api/") else {}
    response = api.get(path, headers=headers)
    assert response.status_code < 500, response.text
    assert snapshot(db) == before


@pytest.mark.parametrize("value", ["99999999999999999999", "100000000000000", "²", "١٢٣"])
def test_hebiar_dates_beyond_any_calendar_are_422_not_500(api, db, value):
    """Was a 500: a 20-digit StartDate overflowed datetime, and int() refused the digit "²"."""
    assert api.post("/v1/orders", json=order()).status_code == 201
    before = snapshot(db)
    for name in ("StartDate", "EndDate"):
        refused = api.get("/orders/GetOrderPackages", params={name: value})
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"][0]["code"] == "invalid_input"
    assert snapshot(db) == before
    assert api.get("/orders/GetOrderPackages", params={"StartDate": "99999999999999"}).status_code == 200
