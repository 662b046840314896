"""The victim's world for the authorization matrix, and the credentials each face is tried with.

Seller `acme` owns every resource the matrix aims at (orders, packages, a cancel request, a return,
a pending refund and a failed one, a channel's refund policy, a webhook subscription with deliveries,
its Akinon and n11 numbers); seller `globex` is
the intruder, with a valid credential of every kind a face accepts.
"""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import sqlalchemy as sa

from kalem.app import access
from kalem.app.principals import Principal
from kalem.hub.session import PRESESSION_COOKIE, SESSION_COOKIE, SESSION_SECONDS, Signer
from kalem.platforms.n11 import key_pairs
from kalem.store.uow import UnitOfWork
from tests.conftest import ADMIN
from tests.support import csrf_token, token

VICTIM, INTRUDER = "acme", "globex"
PASSWORD = "authz-pass-1"
MAIN, DELIVERED, ZONOS, HG, GLOBEX_ORDER = "4100000001", "4100000002", "4100000003", "4100000004", "4200000001"
ZONOS_HOOK_URL = "http://127.0.0.1:9/authz-zonos"
POLICY_CHANNEL = "acme-outlet-authz"
WRONG_KEY = "not-the-server-secret-key-but-as-long-as-one"


def line(number: str) -> str:
    return f"L{number}"


def package(number: str) -> str:
    return f"P{number}"


def native_order(number: str, seller: str = VICTIM, quantity: int = 6, status: str = "Picking") -> dict[str, Any]:
    """An order sold on n11: the native API, the OMS faces and n11's own face all reach it."""
    return {"order_number": number, "seller_id": seller, "currency": "TRY", "shipping_amount": "10.00",
            "channel": "n11",
            "lines": [{"line_id": line(number), "sku": f"SKU-{number}", "name": "Mug", "quantity": quantity,
                       "unit_price": "100.00", "tax_rate": "20"}],
            "packages": [{"package_id": package(number), "status": status, "cargo_tracking_number": f"CT{number}",
                          "items": [{"line_id": line(number), "quantity": quantity}]}]}


def hg_order(number: str, company: str = VICTIM) -> dict[str, Any]:
    return {"order_number": number, "marketplace": "hepsiglobal", "currency": "USD",
            "customer": {"name": "A B"},
            "items": [{"item_number": f"{number}_sku1", "sku": "sku1", "product_name": "Mug", "quantity": 2,
                       "unit_product_price": 12.0, "company_id": company},
                      {"item_number": f"{number}_sku2", "sku": "sku2", "quantity": 1, "unit_product_price": 6.0,
                       "company_id": company}]}


@dataclass(frozen=True)
class Call:
    """One HTTP request (or, with `websocket`, one WebSocket handshake)."""

    method: str
    path: str
    params: dict[str, Any] | None = None
    json: Any = None
    form: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    cookies: dict[str, str] = field(default_factory=dict)
    websocket: bool = False


@dataclass(frozen=True)
class Cred:
    """A credential as a face carries it. `foreign`: valid, but not the victim's (or not allowed)."""

    label: str
    foreign: bool
    headers: dict[str, str] = field(default_factory=dict)
    cookies: dict[str, str] = field(default_factory=dict)
    form: dict[str, str] = field(default_factory=dict)  # hub: the CSRF token of this browser, and extras


def apply(call: Call, cred: Cred) -> Call:
    return replace(call, headers={**call.headers, **cred.headers}, cookies={**call.cookies, **cred.cookies},
                   form=None if call.form is None else {**call.form, **cred.form})


def send(client: httpx.Client, call: Call) -> httpx.Response:
    headers = dict(call.headers)
    if call.cookies:
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in call.cookies.items())
    return client.request(call.method, call.path, params=call.params, json=call.json, data=call.form,
                          headers=headers)


def _ok(response: httpx.Response, *statuses: int) -> Any:
    assert response.status_code in (statuses or (200, 201)), (response.request.url, response.text)
    return response.json()



class World:
    """Everything the matrix needs, built through the operator API and each face's own flows."""

    def __init__(self, server: Any) -> None:
        self.server = server
        self.url = server.url
        db = server.db
        self.api = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {ADMIN}"}, timeout=30)
        self.anon = httpx.Client(base_url=server.url, timeout=30)
        for seller in (VICTIM, INTRUDER):
            access.create_user(UnitOfWork(db), username=f"{seller}-user", password=PASSWORD, role="seller",
                               seller_id=seller)
        self.token = {s: token(db, "seller", s) for s in (VICTIM, INTRUDER)}
        self.expired_token = access.create_token(UnitOfWork(db), role="seller", seller_id=VICTIM,
                                                 expires_at=datetime.now(UTC) - timedelta(hours=1)).secret
        self.spare_token = access.create_token(UnitOfWork(db), role="seller", seller_id=VICTIM,
                                               name="revoked by the owner's run").token_id
        # A revoked token (through the API, so the server's credential cache forgets it at once) and a
        # hub session opened with a token revoked since.
        self.revoked_token = access.create_token(UnitOfWork(db), role="seller", seller_id=VICTIM).secret
        revoked_for_hub = access.create_token(UnitOfWork(db), role="seller", seller_id=VICTIM)
        self.revoked_session = self._hub_session(revoked_for_hub.secret)[0]
        for secret in (self.revoked_token, revoked_for_hub.secret):
            row = access.authenticate(UnitOfWork(db), secret)
            assert self.api.delete(f"/v1/tokens/{row.subject}").status_code == 204
        self.n11 = {s: key_pairs.create_key_pair(UnitOfWork(db), seller_id=s) for s in (VICTIM, INTRUDER)}

        # A subscription first, so the orders below queue deliveries for it (no worker sends them).
        self.sub_id = _ok(self.api.post("/v1/webhook-subscriptions", json={
            "url": "http://127.0.0.1:9/authz", "event_types": ["*"], "seller_id": VICTIM}))["id"]
        # The victim's Zonos webhook, registered through the face (its logs list the orders below).
        self.zonos_hook = _ok(self.anon.post("/graphql", json={"query": (
            f'mutation {{ webhookCreate(input: {{url: "{ZONOS_HOOK_URL}", type: ORDER_CREATED}}) {{ id }} }}')},
            headers={"credentialToken": self.token[VICTIM]}))["data"]["webhookCreate"]["id"]
        placed = {}
        for body in (native_order(MAIN), native_order(DELIVERED, quantity=3, status="Delivered"),
                     native_order(GLOBEX_ORDER, seller=INTRUDER)):
            placed[body["order_number"]] = _ok(self.api.post("/v1/orders", json=body), 201)
        placed[ZONOS] = _ok(self.api.post("/v1/orders", json={
            "order_number": ZONOS, "seller_id": VICTIM, "currency": "USD", "account_order_number": f"AO-{ZONOS}",
            "channel": "zonos", "destination_country": "US",
            "lines": [{"line_id": line(ZONOS), "sku": "SKU-Z", "name": "Mug", "quantity": 3, "unit_price": "19.99",
                       "hs_code": "610910"}]}),
            201)
        self.zonos_order = "order_" + placed[ZONOS]["id"].removeprefix("ord_")
        # The victim's channel account, and one dead push of it to replay (as the sync leaves one).
        self.channel_account = _ok(self.api.post("/v1/channel-accounts", json={
            "platform": "n11", "base_url": "http://127.0.0.1:9", "seller_id": VICTIM,
            "credentials": {"appkey": "authz-key", "appsecret": "authz-secret"}}), 201)["id"]
        with db.engine.begin() as conn:
            self.dead_push = conn.execute(sa.text(
                "INSERT INTO channel_pushes (account_id, event_id, order_id, seller_id, sequence, event_type, status, "
                "attempts, next_attempt_at, created_at) SELECT :a, id, order_id, seller_id, sequence, type, 'dead', "
                "1, occurred_at, occurred_at FROM events WHERE order_id = :o AND sequence = 1 RETURNING id"),
                {"a": self.channel_account, "o": placed[MAIN]["id"]}).scalar_one()
        # A second account of the victim's, so that the hub's rows have a dead push and a drift of their own;
        # a drift on each (kalem cancelled a unit the platform shows open: resolved by pushing kalem's).
        self.hub_channel_account = _ok(self.api.post("/v1/channel-accounts", json={
            "platform": "n11", "base_url": "http://127.0.0.1:9", "seller_id": VICTIM, "channel": "n11-hub",
            "credentials": {"appkey": "authz-key", "appsecret": "authz-secret"}}), 201)["id"]
        drift_lines = json.dumps([{"line_id": line(MAIN), "sku": "SKU", "kalem": {"cancelled": 1},
                                   "platform": {"cancelled": 0}}])
        with db.engine.begin() as conn:
            self.hub_dead_push = conn.execute(sa.text(
                "INSERT INTO channel_pushes (account_id, event_id, order_id, seller_id, sequence, event_type, status, "
                "attempts, next_attempt_at, created_at) SELECT :a, id, order_id, seller_id, sequence, type, 'dead', "
                "1, occurred_at, occurred_at FROM events WHERE order_id = :o AND sequence = 1 RETURNING id"),
                {"a": self.hub_channel_account, "o": placed[MAIN]["id"]}).scalar_one()
            for drift_id, account in (("drf_authz", self.channel_account), ("drf_authz_hub", self.hub_channel_account)):
                conn.execute(sa.text(
                    "INSERT INTO channel_drift (id, account_id, seller_id, order_id, order_number, lines, found_at, "
                    "seen_at) SELECT :d, :a, seller_id, id, order_number, :l, created_at, created_at FROM orders "
                    "WHERE id = :o"), {"d": drift_id, "a": account, "l": drift_lines, "o": placed[MAIN]["id"]})
        self.drift, self.hub_drift = "drf_authz", "drf_authz_hub"
        self.zonos_item = f"item_{line(ZONOS)}"
        self.invoice = _ok(self.api.get(f"/v1/orders/{ZONOS}/invoices"))["data"][0]["number"]

        victim = self.bearer(VICTIM)
        self._clients = [victim]
        _ok(victim.post(f"/v1/orders/{MAIN}/cancellations",
                        json={"lines": [{"line_id": line(MAIN), "quantity": 1, "reason_id": 136}]}))
        self.refund_id = _ok(victim.post(f"/v1/orders/{MAIN}/cancellations-with-refund", json={
            "lines": [{"line_id": line(MAIN), "quantity": 1, "reason_id": 136}]}), 201)["refund"]["id"]
        self.return_id = _ok(victim.post(f"/v1/orders/{DELIVERED}/returns", json={
            "lines": [{"line_id": line(DELIVERED), "quantity": 1, "reason_id": 152}]}), 201)["id"]
        # The direct cancel above refunded its unit by itself (the default policy): the payer failed it,
        # so an operator may retry it.
        self.failed_refund = next(r["id"] for r in _ok(victim.get(f"/v1/orders/{MAIN}/refunds"))["data"]
                                  if r["id"] != self.refund_id)
        _ok(self.api.post(f"/v1/refunds/{self.failed_refund}/settle", json={"status": "failed"}))
        # The victim's own refund policy for one channel (its name shows only to the victim).
        _ok(victim.put(f"/v1/refund-policy/channels/{POLICY_CHANNEL}", json={"policy": "manual"}))

        # The faces' own logins and tokens.
        self.hebiar_jwt = {s: _ok(self.anon.post("/Auth/login", json={"UserName": f"{s}-user", "Password": PASSWORD}))
                           ["token"] for s in (VICTIM, INTRUDER)}
        self.akinon_key = {s: _ok(self.anon.post("/api/v1/auth/login/", json={"username": f"{s}-user",
                                                                              "password": PASSWORD}))["key"]
                           for s in (VICTIM, INTRUDER)}
        self.hg_jwt = {s: _ok(self.anon.post("/v1/auth/token", json={
            "grant_type": "client_credentials", "client_id": s, "client_secret": self.token[s]}))["access_token"]
            for s in (VICTIM, INTRUDER)}
        _ok(self.anon.post("/v1/orders", json=hg_order(HG), headers={"Authorization": f"Bearer {self.hg_jwt[VICTIM]}"}),
            201)

        # Akinon: the order's pks, and a cancellation request (a kalem cancel request too).
        akinon = {"Authorization": f"Token {self.akinon_key[VICTIM]}"}
        found = _ok(self.anon.get("/api/v1/orders/", params={"number": MAIN}, headers=akinon))["results"][0]
        self.ak_order = found["pk"]
        opened = [i["pk"] for i in found["orderitem_set"] if i["status"] == "400"]
        made = _ok(self.anon.post("/api/v1/cancellation_requests/", json={"order_item": opened[0], "reason": 136},
                                  headers=akinon), 201)
        self.ak_request, self.cr_id = made["id"], made["attributes"]["kalem_id"]
        self.ak_item = opened[-1]  # still open: the request took the first

        # n11: the orderLineId of the main package's line (minted on this first read).
        shown = _ok(self.anon.get("/rest/delivery/v1/shipmentPackages", params={"size": 100},
                                  headers=self.n11_headers(VICTIM)))["content"]
        self.n11_line = next(p["lines"][0]["orderLineId"] for p in shown if p["id"] == package(MAIN))

        deliveries = _ok(self.api.get("/v1/webhook-deliveries", params={"subscription_id": self.sub_id}))["data"]
        assert deliveries, "the subscription queued no delivery"
        self.delivery_id = deliveries[0]["id"]

        # The hub: a real sign-in per seller, and an anonymous browser's pre-session CSRF token.
        self.hub = {s: self._hub_session(self.token[s]) for s in (VICTIM, INTRUDER)}
        self.hub_operator = self._hub_session(ADMIN)
        with httpx.Client(base_url=server.url, timeout=30) as login_page:
            html = login_page.get("/hub/login").text
            self.hub_pre = (login_page.cookies[PRESESSION_COOKIE], csrf_token(html))

        # Order numbers, ids and names of the victim: none may show in another seller's answer.
        self.markers = [MAIN, DELIVERED, ZONOS, HG, f"AO-{ZONOS}", line(MAIN), package(MAIN), self.cr_id,
                        self.return_id, self.refund_id, self.zonos_order, self.zonos_hook, ZONOS_HOOK_URL,
                        self.sub_id, self.spare_token, self.channel_account, self.failed_refund, POLICY_CHANNEL]

    # --- clients and credentials -----------------------------------------------------------------
    def bearer(self, seller: str) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {self.token[seller]}"}, timeout=30)

    def n11_headers(self, seller: str) -> dict[str, str]:
        appkey, appsecret = self.n11[seller]
        return {"appkey": appkey, "appsecret": appsecret}

    def _hub_session(self, secret: str) -> tuple[str, str]:
        with httpx.Client(base_url=self.url, timeout=30) as browser:
            csrf = csrf_token(browser.get("/hub/login").text)
            signed_in = browser.post("/hub/login", data={"token": secret, "csrf": csrf})
            assert signed_in.status_code == 303, signed_in.text
            return browser.cookies[SESSION_COOKIE], csrf_token(browser.get("/hub/cancel-requests").text)

    def jwts(self) -> dict[str, str]:
        """JWTs no face may accept: expired (the victim's claims), forged and unsigned (an operator's
        claims: the worst case if accepted), and one signed with the right key by another issuer."""
        now = datetime.now(UTC)
        victim = {"sub": f"user:{VICTIM}-user", "role": "seller", "seller_id": VICTIM, "iss": "kalem"}
        operator = {"sub": "admin", "role": "operator", "seller_id": None, "iss": "kalem",
                    "exp": now + timedelta(hours=1)}
        key = self.server.settings.secret_key

        def expired(issued: str) -> str:  # a face's own token, as it was issued, but past its expiry
            claims = jwt.decode(issued, key, algorithms=["HS256"], issuer="kalem")
            return jwt.encode({**claims, "exp": now - timedelta(minutes=5)}, key, algorithm="HS256")
        return {
            "expired JWT": jwt.encode({**victim, "exp": now - timedelta(minutes=5)}, key, algorithm="HS256"),
            "expired Hebiar login JWT": expired(self.hebiar_jwt[VICTIM]),
            "expired HepsiGlobal access token": expired(self.hg_jwt[VICTIM]),
            "expired Akinon key": expired(self.akinon_key[VICTIM]),
            "JWT signed with another key": jwt.encode(operator, WRONG_KEY, algorithm="HS256"),
            "unsigned JWT (alg none)": jwt.encode(operator, None, algorithm="none"),
            "JWT without expiry": jwt.encode(victim, key, algorithm="HS256"),
            "JWT of another issuer": jwt.encode({**victim, "iss": "www.commercelab.com.tr",
                                                 "exp": now + timedelta(hours=1)}, key, algorithm="HS256"),
        }

    def credentials(self, transport: str) -> list[Cred]:
        """Every credential tried on a face: missing, malformed, expired, forged — then another seller's."""
        return {"bearer": self._scheme_creds("Bearer", "Basic", self.token[VICTIM],
                                             [("globex token", self.token[INTRUDER]),
                                              ("globex Hebiar JWT", self.hebiar_jwt[INTRUDER]),
                                              ("globex HepsiGlobal JWT", self.hg_jwt[INTRUDER])]),
                "token": self._scheme_creds("Token", "Bearer", self.akinon_key[VICTIM],
                                            [("globex Akinon key", self.akinon_key[INTRUDER]),
                                             ("globex token", self.token[INTRUDER])]),
                "zonos": self._zonos_creds(),
                "n11": self._n11_creds(),
                "hub": self._hub_creds()}[transport]

    def _scheme_creds(self, scheme: str, other: str, victim_secret: str,
                      foreign: list[tuple[str, str]]) -> list[Cred]:
        def header(value: str) -> dict[str, str]:
            return {"Authorization": value}
        refused = [Cred("no credential", False),
                   Cred("garbage", False, header(f"{scheme} not-a-credential")),
                   Cred("the scheme without a credential", False, header(scheme)),
                   Cred(f"the victim's credential under the {other} scheme", False, header(f"{other} {victim_secret}")),
                   Cred("the victim's credential without a scheme", False, header(victim_secret)),
                   Cred("expired kalem token", False, header(f"{scheme} {self.expired_token}")),
                   Cred("revoked kalem token", False, header(f"{scheme} {self.revoked_token}")),
                   *[Cred(label, False, header(f"{scheme} {value}")) for label, value in self.jwts().items()]]
        return refused + [Cred(label, True, header(f"{scheme} {value}")) for label, value in foreign]

    def _zonos_creds(self) -> list[Cred]:
        def header(value: str) -> dict[str, str]:
            return {"credentialToken": value}
        return [Cred("no credential", False), Cred("garbage", False, header("not-a-credential")),
                Cred("the victim's token with a Bearer prefix", False, header(f"Bearer {self.token[VICTIM]}")),
                Cred("expired kalem token", False, header(self.expired_token)),
                Cred("revoked kalem token", False, header(self.revoked_token)),
                *[Cred(label, False, header(value)) for label, value in self.jwts().items()],
                Cred("globex token", True, header(self.token[INTRUDER])),
                Cred("globex Hebiar JWT", True, header(self.hebiar_jwt[INTRUDER]))]

    def _n11_creds(self) -> list[Cred]:
        (key, secret), (other_key, other_secret) = self.n11[VICTIM], self.n11[INTRUDER]
        return [Cred("no credential", False), Cred("appkey only", False, {"appkey": key}),
                Cred("appsecret only", False, {"appsecret": secret}),
                Cred("garbage pair", False, {"appkey": "n11k_nope", "appsecret": "nope"}),
                Cred("acme appkey with a wrong appsecret", False, {"appkey": key, "appsecret": secret[:-2] + "xx"}),
                Cred("acme appkey with globex's appsecret", False, {"appkey": key, "appsecret": other_secret}),
                Cred("globex appkey with acme's appsecret", False, {"appkey": other_key, "appsecret": secret}),
                Cred("a bearer token instead of the pair", False, {"Authorization": f"Bearer {self.token[VICTIM]}"}),
                Cred("globex appkey/appsecret", True, {"appkey": other_key, "appsecret": other_secret})]

    def _hub_creds(self) -> list[Cred]:
        signer, now = Signer(self.server.settings.secret_key), time.time()
        victim = Principal("seller", "tok_victim", VICTIM)
        expired, _ = signer.issue(victim, now=now - SESSION_SECONDS - 60)
        forged, _ = Signer(WRONG_KEY).issue(Principal("operator", "admin"), now=now)
        payload, signature = self.hub[VICTIM][0].split(".")
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        elevated = base64.urlsafe_b64encode(json.dumps({**claims, "r": "operator", "l": None}).encode()).rstrip(b"=")
        pre_nonce, pre_csrf = self.hub_pre

        def browser(session: str | None) -> Cred:  # the pre-session CSRF pair: only the session is wrong
            cookies = {PRESESSION_COOKIE: pre_nonce, **({SESSION_COOKIE: session} if session else {})}
            return Cred("", False, cookies=cookies, form={"csrf": pre_csrf})
        refused = [("no session", None), ("garbage session", "garbage"), ("expired session", expired),
                   ("session signed with another key", forged),
                   ("victim session re-labelled operator", f"{elevated.decode()}.{signature}"),
                   ("a JWT as the session", self.hebiar_jwt[VICTIM]),
                   ("session of a token revoked since", self.revoked_session)]
        cookie, csrf = self.hub[INTRUDER]
        # Another seller's session with a valid CSRF token, and form fields naming the victim.
        return [replace(browser(session), label=label) for label, session in refused] + [
            Cred("globex session", True, cookies={SESSION_COOKIE: cookie},
                 form={"csrf": csrf, "seller_id": VICTIM, "seller": VICTIM})]

    def owner(self, transport: str, operator: bool = False) -> Cred:
        """The credential that may do it: the victim's (or, for operator-only endpoints, the operator's)."""
        if operator and transport == "hub":
            return Cred("operator", False, cookies={SESSION_COOKIE: self.hub_operator[0]},
                        form={"csrf": self.hub_operator[1]})
        if operator:
            return Cred("operator", False, {"Authorization": f"Bearer {ADMIN}"})
        return {"bearer": Cred("acme", False, {"Authorization": f"Bearer {self.token[VICTIM]}"}),
                "hebiar": Cred("acme", False, {"Authorization": f"Bearer {self.hebiar_jwt[VICTIM]}"}),
                "hg": Cred("acme", False, {"Authorization": f"Bearer {self.hg_jwt[VICTIM]}"}),
                "token": Cred("acme", False, {"Authorization": f"Token {self.akinon_key[VICTIM]}"}),
                "zonos": Cred("acme", False, {"credentialToken": self.token[VICTIM]}),
                "n11": Cred("acme", False, self.n11_headers(VICTIM)),
                "hub": Cred("acme", False, cookies={SESSION_COOKIE: self.hub[VICTIM][0]},
                            form={"csrf": self.hub[VICTIM][1]})}[transport]

    def close(self) -> None:
        for client in (self.api, self.anon, *self._clients):
            client.close()
