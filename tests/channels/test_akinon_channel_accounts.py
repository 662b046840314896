"""Akinon channels over real HTTP, on both databases: a channel's integer id is the same in every kalem
process on one database, and an account's reason map turns kalem's reasons into the tenant's reason
pks on push (a reason it does not map is sent as kalem's own id)."""

from __future__ import annotations

import httpx
import pytest

from tests.channels.kalems import Kalem, eventually, kalems
from tests.channels.test_akinon_kalem_to_kalem import (
    LINE,
    NUMBER,
    PASSWORD,
    cancel_in_b,
    cancelled,
    create_user,
    events,
)
from tests.observability.processes import kalem_run
from tests.support import two_line_order

pytestmark = pytest.mark.slow

BACKENDS = ["sqlite", "postgresql"]
WRONG_PRICE = 139   # a reason A's face knows, other than the one B decides with (135, out_of_stock)


def omnitron(kalem: Kalem) -> httpx.Client:
    key = httpx.post(f"{kalem.base}/api/v1/auth/login/", json={"username": "integrator", "password": PASSWORD},
                     timeout=10).json()["key"]
    return httpx.Client(base_url=kalem.base, timeout=10, headers={"Authorization": f"Token {key}"})


def channel_ids(kalem: Kalem) -> dict[str, int]:
    with omnitron(kalem) as client:
        return {o["number"]: o["channel"] for o in client.get("/api/v1/orders/").json()["results"]}


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_channel_id_is_the_same_in_every_process(backend, postgres):
    with kalems(backend, postgres) as (a, _):
        create_user(a, "integrator", "acme")
        other = Kalem("a2", a.env["KALEM_DATABASE_URL"], a.logs)   # a second server on A's database
        try:
            a.serve()
            other.serve()
            # Each process takes in the first order of a channel of the seller's own.
            for kalem, number, channel in ((a, "4300000011", "web-shop"), (other, "4300000012", "mobile-app"),
                                           (a, "4300000013", None), (other, "4300000014", "web-shop")):
                body = two_line_order(number) | ({"channel": channel} if channel else {})
                with kalem.api() as api:
                    assert api.post("/v1/orders", json=body).status_code == 201
            seen_by_a, seen_by_other = channel_ids(a), channel_ids(other)
            assert seen_by_a == seen_by_other
            assert seen_by_a["4300000011"] == seen_by_a["4300000014"] >= 100
            assert seen_by_a["4300000012"] >= 100 and seen_by_a["4300000012"] != seen_by_a["4300000011"]
            assert seen_by_a["4300000013"] == 1   # direct
            # Each process finds an order under its channel's path, and under no other channel's.
            own = seen_by_a["4300000012"]
            for kalem in (a, other):
                with omnitron(kalem) as client:
                    page = client.get("/api/v1/orders/", params={"channel": own}).json()
                    assert [o["number"] for o in page["results"]] == ["4300000012"]
            # Restarted, the processes still agree.
            other.close()
            other.serve()
            assert channel_ids(other) == seen_by_a
        finally:
            other.close()


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_reason_map_names_the_tenants_reason_on_push(backend, postgres):
    with kalems(backend, postgres) as (a, b):
        create_user(a, "integrator", "acme")
        a.serve()
        with a.api() as api:
            assert api.post("/v1/orders", json=two_line_order(NUMBER) | {"channel": "akinon"}).status_code == 201
        # A code kalem does not know, or an id that is not a number, adds no account.
        for wrong in ("not_a_reason=12", "out_of_stock=twelve"):
            done = kalem_run("channel", "add", "--platform", "akinon", "--seller-id", "acme", "--base-url", a.base,
                             "--credential", "username=integrator", "--credential", f"password={PASSWORD}",
                             "--reason-map", wrong, env=b.env)
            assert done.returncode == 2 and "reason" in done.stderr.lower(), done.stderr[-2000:]
        assert b.accounts() == []
        b.run("channel", "add", "--platform", "akinon", "--seller-id", "acme", "--base-url", a.base,
              "--credential", "username=integrator", "--credential", f"password={PASSWORD}",
              "--reason-map", f"out_of_stock={WRONG_PRICE}", "--reason-map", "fraud=7")
        assert b.accounts()[0]["reason_map"] == {"out_of_stock": WRONG_PRICE, "fraud": 7}
        b.serve()
        b.sync()
        eventually(lambda: cancelled(b) == 0, "the order did not reach B")
        cancel_in_b(b)   # out_of_stock, kalem's 135
        eventually(lambda: cancelled(a) == 1, "B's cancel did not reach A")
        eventually(lambda: all(p["status"] == "done" for p in b.pushes()), "B's push did not finish")
        [on_a] = events(a, NUMBER, "lines.cancelled")
        assert [(i["line_id"], i["reason_id"]) for i in on_a["data"]["items"]] == [(LINE, WRONG_PRICE)]
        # A reason the map leaves out goes as kalem's own id.
        with b.api() as api:
            done = api.post(f"/v1/orders/{NUMBER}/cancellations",
                            json={"lines": [{"line_id": LINE, "quantity": 1, "reason_id": 136}]})
        assert done.status_code == 200, done.text
        eventually(lambda: cancelled(a) == 2, "B's second cancel did not reach A")
        assert events(a, NUMBER, "lines.cancelled")[1]["data"]["items"][0]["reason_id"] == 136
