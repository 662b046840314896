"""The hot writes' lean routes answer exactly as FastAPI's routes do: every refusal byte for byte and
changing nothing, every success the same order view; and they do serve the well-formed requests."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from kalem.api.lean import PASSED_ON, LeanRoute
from kalem.api.request_id import HEADER
from kalem.bootstrap.api import build_app
from tests.conftest import ADMIN, serving, snapshot
from tests.support import Served, order, token

CANCEL = "/v1/orders/{n}/cancellations"
SPLIT = "/v1/orders/{n}/packages/{p}/split"
REFUND = "/v1/orders/{n}/cancellations-with-refund"
JSON = {"Content-Type": "application/json"}


class Seen:
    """The app, noting the requests its lean routes took, and each request a lean route passed on to
    FastAPI's route."""

    def __init__(self, app: Any) -> None:
        self.app, self.served, self.passed_on = app, Served(app, LeanRoute), []

    @property
    def lean(self) -> int:
        return self.served.count

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)
        if scope["type"] == "http" and scope.get(PASSED_ON):
            self.passed_on.append(scope["path"])


@pytest.fixture(params=[False, True], ids=["thread-pool", "event-loop"])
def clients(server: Any, request: pytest.FixtureRequest) -> Iterator[tuple[httpx.Client, httpx.Client, Seen]]:
    """Two apps on the test's database, over HTTP: with the lean routes, and without. The lean routes'
    transactions run on the thread pool, or on PostgreSQL on the event loop (`KALEM_ASYNC_WRITES`)."""
    lean = Seen(build_app(server.settings.model_copy(update={"async_writes": request.param}), server.db))
    ordinary = build_app(server.settings, server.db)
    ordinary.router.routes[:] = [r for r in ordinary.router.routes if not isinstance(r, LeanRoute)]
    headers = {"Authorization": f"Bearer {ADMIN}", HEADER: "0123456789abcdef0123456789abcdef"}  # one id: same bodies
    with serving(server.settings, server.db, lean) as a, serving(server.settings, server.db, ordinary) as b, \
            httpx.Client(base_url=a, headers=headers, timeout=30) as to_lean, \
            httpx.Client(base_url=b, headers=headers, timeout=30) as to_it:
        yield to_lean, to_it, lean


def answer(response: Any) -> tuple[int, str | None, bytes]:
    return response.status_code, response.headers.get("content-type"), response.content


def test_every_refusal_is_fastapis_own_and_changes_nothing(clients, server):
    lean, ordinary, seen = clients
    assert lean.post("/v1/orders", json=order("4000000801")).status_code == 201
    n, line, package = "4000000801", "item000801", "BB_pid000801"
    other = token(server.db, seller="someone-else")
    cancel = {"lines": [{"line_id": line, "quantity": 1, "reason_id": 136}]}
    cases: list[tuple[str, dict[str, Any]]] = [
        (CANCEL, {"json": cancel, "headers": {"Content-Type": "text/plain"}}),
        (CANCEL, {"content": b'{"lines": [{"line_id": "item000801", "quantity": 1, "reason_id": 136}]}',
                  "headers": {"Content-Type": ""}}),
        (CANCEL, {"content": b'{"lines": [],}', "headers": JSON}),
        (CANCEL, {"content": b"", "headers": JSON}),
        (CANCEL, {"content": b"null", "headers": JSON}),
        (CANCEL, {"content": b"[1]", "headers": JSON}),
        (CANCEL, {"json": {"lines": []}}),
        (CANCEL, {"json": {"lines": [{"line_id": line, "quantity": "1", "reason_id": 136}]}}),
        (CANCEL, {"json": {**cancel, "extra": 1}}),
        (CANCEL, {"json": {"lines": [{"line_id": line, "quantity": 4, "reason_id": 136}]}}),
        (CANCEL, {"json": {"lines": [{"line_id": "nope", "quantity": 1, "reason_id": 136}]}}),
        (CANCEL, {"json": {"lines": [{"line_id": line, "quantity": 1, "reason_id": 999}]}}),
        (CANCEL.replace("{n}", "nope"), {"json": cancel}),
        (CANCEL, {"json": cancel, "headers": {"Idempotency-Key": "k" * 256}}),
        (CANCEL, {"json": cancel, "headers": {"If-Match": "seven"}}),
        (CANCEL, {"json": cancel, "headers": {"If-Match": 'W/"7"'}}),
        (CANCEL + "?seller_id=" + "s" * 65, {"json": cancel}),
        (CANCEL + "?seller_id=acme&seller_id=" + "s" * 65, {"json": cancel}),   # the last one counts
        (CANCEL, {"json": cancel, "headers": {"Authorization": "Bearer nope"}}),
        (CANCEL, {"json": cancel, "headers": {"Authorization": f"Bearer {other}"}}),
        (SPLIT, {"json": {"packages": [{"items": [{"line_id": line, "quantity": 4}]}]}}),
        (SPLIT, {"json": {"packages": [{"items": []}]}}),
        (SPLIT.replace("{p}", "nope"), {"json": {"packages": [{"items": [{"line_id": line, "quantity": 1}]}]}}),
        (REFUND, {"json": {"lines": [{"line_id": line, "quantity": 1, "reason_id": 136}], "method": "cash"}}),
        (REFUND, {"json": {"lines": [{"line_id": line, "quantity": 1, "reason_id": 136}],
                           "method": "fund_transfer"}}),
        (REFUND, {"json": {"lines": [{"line_id": line, "quantity": 9, "reason_id": 136}]}}),
        ("/v1/orders", {"json": {"order_number": "4000000802"}}),
        ("/v1/orders", {"json": {**order("4000000801"), "currency": "TRY "}}),
        ("/v1/orders", {"json": {"items": []}}),   # HepsiGlobal's shape: its face answers
        ("/v1/orders/batch", {"json": {"orders": []}}),
        ("/v1/cancel-requests", {"json": {"order_number": "nope", "lines": cancel["lines"]}}),
        ("/v1/cancel-requests", {"json": {"order_number": n, "lines": [{**cancel["lines"][0], "quantity": 9}]}}),
        ("/v1/cancel-requests/cr_nope/approve", {}),
        ("/v1/cancel-requests/cr_nope/approve", {"json": {"lines": "all"}}),
        ("/v1/cancel-requests/cr_nope/reject", {"json": {"reason_id": 140}}),
        ("/v1/cancel-requests/cr_nope/reject", {"json": {}}),
        ("/v1/cancel-requests/cr_nope/withdraw", {}),
    ]
    before = snapshot(server.db)
    for path, request in cases:
        url = path.replace("{n}", n).replace("{p}", package)
        got, want = lean.post(url, **request), ordinary.post(url, **request)
        assert answer(got) == answer(want), (url, request)
        assert 400 <= got.status_code < 500, (url, request, got.text)
    assert snapshot(server.db) == before
    assert seen.lean == 1 + len(cases) and len(seen.passed_on) > 10   # what is not plainly well formed
    claimed = len(seen.passed_on)
    assert lean.post("/v1/orders", json={"items": []}).status_code == 400   # in HepsiGlobal's envelope
    assert seen.passed_on[claimed:] == ["/v1/orders"]   # a body HepsiGlobal's face claims
    assert lean.get(CANCEL.replace("{n}", n)).status_code == ordinary.get(CANCEL.replace("{n}", n)).status_code == 405


def same_view(body: dict[str, Any], number: str) -> str:
    """The answer without what differs between two orders alike: their numbers and line ids, the ids
    kalem made up and the moments things were written."""
    text = re.sub(r'"\d{4}-\d\d-\d\dT[^"]*"', '"<time>"', json.dumps(body))
    text = re.sub(r'\b[a-z]+_[0-9a-z]{26}\b|"\d{12}(\d{3})?"', "<made>", text)   # ids, package and tracking numbers
    return re.sub(r"\w*" + number[-6:] + r"\w*", "<id>", text)


@pytest.mark.parametrize(("path", "body"), [
    (CANCEL, lambda line: {"lines": [{"line_id": line, "quantity": 1, "reason_id": 136, "note": "n"}]}),
    (SPLIT, lambda line: {"packages": [{"items": [{"line_id": line, "quantity": 1}]}],
                          "cancelled": [{"line_id": line, "quantity": 1, "reason_id": 136}]}),
    (REFUND, lambda line: {"lines": [{"line_id": line, "quantity": 2, "reason_id": 136}], "include_cargo": False}),
], ids=["cancel", "split", "cancel-with-refund"])
def test_a_well_formed_write_is_served_lean_and_answers_as_fastapis_route(clients, path, body):
    lean, ordinary, seen = clients
    answers = []
    for client, number in ((lean, "4000000811"), (ordinary, "4000000812")):
        assert client.post("/v1/orders", json=order(number)).status_code == 201
        suffix = number[-6:]
        url = path.replace("{n}", number).replace("{p}", f"BB_pid{suffix}")
        sent = body(f"item{suffix}")
        response = client.post(url, json=sent, headers={"Idempotency-Key": f"key-{number}"})
        again = client.post(url, json=sent, headers={"Idempotency-Key": f"key-{number}"})
        assert response.status_code in (200, 201), response.text
        assert (again.status_code, again.json(), again.headers["Idempotent-Replayed"]) == (
            response.status_code, response.json(), "true")
        answers.append((response.status_code, same_view(response.json(), number)))
    assert answers[0] == answers[1]
    assert (seen.lean, seen.passed_on) == (3, [])   # the order taken in, the write and its replay
