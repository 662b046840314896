"""A platform answering HTTP 429 (a login locked after failed attempts, as the Hebiar OMS and HepsiGlobal
do): the account shows `throttled`, not a platform error, and is left alone for as long as the
answer's `Retry-After` asks — its next pull and every push of it wait, the pushes held back without an
attempt counted — even when kalem's own backoff is far shorter: never a tight loop. In process, on both
databases, the sync driven round by round against a platform that answers nothing but 429."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from functools import partial
from typing import Any

import httpx
import pytest

from kalem.app.channel_connectors import RETRY_AFTER_MAX, retry_after_seconds
from kalem.app.channel_sync import ChannelSync, SyncSettings
from kalem.bootstrap.platforms import connectors
from kalem.store.db import Database
from kalem.store.uow import UnitOfWork
from tests.channels.kalems import Stub
from tests.support import two_line_order

#: kalem's own backoff, far shorter than what the platform asks: only Retry-After keeps the sync away.
QUICK = SyncSettings(backoff_base=0.01, backoff_max=0.02)
HEBIAR = {"platform": "hebiar", "seller_id": "acme",
          "credentials": {"UserName": "ops", "Password": "wrong", "webhookSecret": "hook-secret"}}
HEPSIGLOBAL = {"platform": "hepsiglobal", "seller_id": "acme",
               "credentials": {"client_id": "mp", "client_secret": "wrong", "webhookSecret": "whsec_aGc="}}


class Locked(Stub):
    """A platform whose every answer is 429 with `Retry-After`; it keeps the requests' paths."""

    def __init__(self, retry_after: str) -> None:
        super().__init__(429, b'{"message": "too many failed logins"}',
                         {"Retry-After": retry_after, "content-type": "application/json"})


@pytest.fixture
def locked() -> Any:
    platform = Locked("120")
    yield platform
    platform.close()


def cancel_twice(api: httpx.Client, number: str, channel: str) -> None:
    assert api.post("/v1/orders", json={**two_line_order(number), "channel": channel}).status_code == 201
    for _ in range(2):
        done = api.post(f"/v1/orders/{number}/cancellations",
                        json={"lines": [{"line_id": f"{number}-b", "quantity": 1, "reason_id": 135}]})
        assert done.status_code == 200, done.text


def when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_a_locked_login_leaves_the_account_alone_until_retry_after(api: httpx.Client, db: Database,
                                                                   locked: Locked) -> None:
    account = api.post("/v1/channel-accounts", json={**HEBIAR, "base_url": locked.url}).json()
    cancel_twice(api, "4600000001", "hebiar")
    sync = ChannelSync(partial(UnitOfWork, db), connectors(), QUICK)
    started = datetime.now(UTC)

    sync.run_once()
    assert locked.paths == ["/Auth/login"]   # the pull's login; both pushes held back, unsent
    health = api.get(f"/v1/channel-accounts/{account['id']}").json()["health"]
    assert health["last_error_kind"] == "throttled" and "120 s" in health["last_error"]
    assert when(health["next_pull_at"]) >= started + timedelta(seconds=119)
    pushes = api.get(f"/v1/channel-accounts/{account['id']}/pushes").json()["data"]
    assert len(pushes) == 2
    for push in pushes:
        assert push["status"] == "pending" and push["attempts"] == 0 and push["last_error_kind"] == "throttled"
        assert when(push["next_attempt_at"]) >= started + timedelta(seconds=119)

    for _ in range(3):   # kalem's own backoff is long over: still nothing is sent
        sync.run_once()
    assert locked.paths == ["/Auth/login"]

    metrics = api.get("/metrics").text
    assert (f'kalem_channel_account_failing{{account="{account["id"]}",channel="hebiar",kind="throttled",'
            'platform="hebiar",seller="acme"} 1.0') in metrics


def test_a_push_answered_429_waits_and_holds_the_account_back(api: httpx.Client, db: Database) -> None:
    later = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=10)
    locked = Locked(format_datetime(later, usegmt=True))   # Retry-After as an HTTP date
    try:
        account = api.post("/v1/channel-accounts", json={**HEPSIGLOBAL, "base_url": locked.url}).json()
        cancel_twice(api, "4600000002", "hepsiglobal")
        sync = ChannelSync(partial(UnitOfWork, db), connectors(), QUICK)

        sync.push_due()
        assert locked.paths == ["/v1/auth/token"]   # the first push's token; the rest held back
        pushes = api.get(f"/v1/channel-accounts/{account['id']}/pushes").json()["data"]
        assert sorted(p["attempts"] for p in pushes) == [0, 0, 1]   # the order, then the two cancels
        assert all(p["status"] == "pending" and p["last_error_kind"] == "throttled" for p in pushes)
        assert all(when(p["next_attempt_at"]) >= later - timedelta(seconds=2) for p in pushes)
        health = api.get(f"/v1/channel-accounts/{account['id']}").json()["health"]
        assert health["last_error_kind"] == "throttled"
        assert when(health["next_pull_at"]) >= later - timedelta(seconds=2)

        sync.run_once()   # neither pulled nor pushed before the date HepsiGlobal gave
        assert locked.paths == ["/v1/auth/token"]
    finally:
        locked.close()


def test_retry_after_is_read_as_seconds_or_a_date_and_bounded() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert retry_after_seconds("120", now) == 120
    assert retry_after_seconds("Thu, 01 Jan 2026 00:02:00 GMT", now) == 120
    assert retry_after_seconds("Wed, 31 Dec 2025 23:00:00 GMT", now) == 0     # in the past: now
    assert retry_after_seconds("99999999", now) == RETRY_AFTER_MAX
    assert retry_after_seconds("soon", now) is None
    assert retry_after_seconds(None, now) is None


@pytest.mark.parametrize(("platform", "credentials", "first", "pushed"), [
    ("n11", {"appkey": "k", "appsecret": "wrong"}, "/rest/delivery/v1/shipmentPackages", "4600000003"),
    ("akinon", {"username": "ops", "password": "wrong"}, "/api/v1/auth/login/", "4600000004"),
])
def test_n11_and_omnitron_answering_429_are_waited_out_too(api: httpx.Client, db: Database, locked: Locked,
                                                          platform: str, credentials: dict[str, str],
                                                          first: str, pushed: str) -> None:
    account = api.post("/v1/channel-accounts", json={"platform": platform, "seller_id": "acme",
                                                     "credentials": credentials, "base_url": locked.url}).json()
    cancel_twice(api, pushed, platform)
    sync = ChannelSync(partial(UnitOfWork, db), connectors(), QUICK)
    started = datetime.now(UTC)

    sync.run_once()
    assert locked.paths == [first]   # the pull's first request; the pushes held back, unsent
    health = api.get(f"/v1/channel-accounts/{account['id']}").json()["health"]
    assert health["last_error_kind"] == "throttled" and "120 s" in health["last_error"]
    assert when(health["next_pull_at"]) >= started + timedelta(seconds=119)
    for _ in range(3):
        sync.run_once()
    assert locked.paths == [first]
