"""Webhook fixtures: a local receiver, a fast in-process worker, helpers to drive it."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from kalem.bootstrap.worker import build_worker
from kalem.domain.webhooks import RetryPolicy
from kalem.webhooks.worker import Worker
from tests.webhooks.receiver import Receiver

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#: Retries in milliseconds instead of hours: the schedule's shape, fast.
FAST = RetryPolicy(base_seconds=0.01, factor=2.0, cap_seconds=0.05, max_attempts=6, jitter=0.2)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver().start()
    yield r
    r.stop()


@pytest.fixture
def worker(server: Any) -> Iterator[Worker]:
    w = build_worker(server.settings, server.db, poll_seconds=0.01, lease_seconds=30, timeout_seconds=5,
                     concurrency=4, retry=FAST)
    yield w
    w.close()


def drain(worker: Worker, until: Callable[[], bool], timeout: float = 15.0) -> None:
    """Run rounds until `until()` holds (or fail after `timeout`, a hang guard, not a timing assert)."""
    deadline = time.monotonic() + timeout
    while not until():
        assert time.monotonic() < deadline, "the worker did not get there"
        if worker.run_once() == 0:
            time.sleep(0.005)


def subscribe(api: httpx.Client, url: str, **extra: Any) -> dict[str, Any]:
    body = {"url": url, "event_types": ["*"], "dialect": "native", "secret": SECRET, **extra}
    response = api.post("/v1/webhook-subscriptions", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def deliveries(api: httpx.Client, **params: Any) -> list[dict[str, Any]]:
    response = api.get("/v1/webhook-deliveries", params={"limit": 100, **params})
    assert response.status_code == 200, response.text
    return response.json()["data"]
