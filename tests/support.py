"""Helpers shared by tests: example orders and tokens."""

from __future__ import annotations

import asyncio
import copy
import re
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import httpx

from kalem.app import access
from kalem.store.db import Database
from kalem.store.uow import UnitOfWork

T = TypeVar("T")

#: How the name of the thread `on_own_loop` runs its event loop in begins.
LOOP_THREAD = "kalem-test-loop"


def on_own_loop(coroutine: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """`asyncio.run(coroutine())` in a thread of its own. Playwright's sync API (the hub's browser, one
    per session) leaves the main thread's event loop marked as running, and `asyncio.run` refuses to
    start there: so a test that runs a loop does not depend on which tests ran before it."""
    with ThreadPoolExecutor(1, thread_name_prefix=LOOP_THREAD) as pool:
        return pool.submit(lambda: asyncio.run(coroutine())).result()


SEED_ORDER: dict[str, Any] = {
    "order_number": "4000000001", "seller_id": "acme", "currency": "TRY",
    "account_order_number": "AO-67890", "shipping_amount": "29.90",
    "lines": [{"line_id": "item1691416223190", "sku": "T123-BLUE", "product_id": "p-1",
               "name": "T-Shirt", "quantity": 3, "unit_price": "199.90", "discount": "20.00",
               "tax_rate": "20"}],
    "packages": [{"package_id": "BB_pid1692966394724", "status": "Picking",
                  "cargo_tracking_number": "7340001",
                  "items": [{"line_id": "item1691416223190", "quantity": 3}]}],
}


def order(number: str = "4000000001", seller: str = "acme", **changes: Any) -> dict[str, Any]:
    body = copy.deepcopy(SEED_ORDER)
    body["order_number"] = number
    body["seller_id"] = seller
    if number != SEED_ORDER["order_number"]:
        suffix = number[-6:]
        body["lines"][0]["line_id"] = f"item{suffix}"
        body["packages"][0]["package_id"] = f"BB_pid{suffix}"
        body["packages"][0]["items"][0]["line_id"] = f"item{suffix}"
    body.update(changes)
    return body


def two_line_order(number: str, seller: str = "acme") -> dict[str, Any]:
    return {
        "order_number": number, "seller_id": seller, "currency": "TRY",
        "lines": [{"line_id": f"{number}-a", "sku": "A", "name": "A", "quantity": 2, "unit_price": "10.00"},
                  {"line_id": f"{number}-b", "sku": "B", "name": "B", "quantity": 5, "unit_price": "4.00"}],
    }


def token(db: Database, role: str = "seller", seller: str | None = "acme", name: str | None = None) -> str:
    return access.create_token(UnitOfWork(db), role=role, seller_id=seller if role == "seller" else None,
                               name=name).secret


def client_for(base: httpx.Client, secret: str) -> httpx.Client:
    return httpx.Client(base_url=base.base_url, headers={"Authorization": f"Bearer {secret}"}, timeout=30)


def csrf_token(html: str) -> str:
    """The CSRF token of a hub page's form."""
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, f"the page has no CSRF token: {html[:300]}"
    return found.group(1)


def manual_refunds(db: Database, seller: str = "acme") -> None:
    """The seller's refund policy `manual`, seller-wide: decisions move no money (for tests about
    something else than the refund a decision makes)."""
    from datetime import UTC, datetime

    from kalem.store.schema import refund_policies
    with db.engine.begin() as conn:
        conn.execute(refund_policies.insert().values(seller_id=seller, channel="", policy="manual",
                                                     updated_at=datetime.now(UTC), updated_by="test"))


class Served:
    """How many requests an app's routes of one kind (`LeanRoute`, `MatchedFirst`) took: each such
    route's own app is wrapped to count them."""

    def __init__(self, app: Any, kind: type) -> None:
        self.count = 0
        for route in app.router.routes:
            if isinstance(route, kind):
                route.app = self._counted(route.app)

    def _counted(self, serve: Any) -> Any:
        async def counted(scope: Any, receive: Any, send: Any) -> None:
            self.count += 1
            await serve(scope, receive, send)
        return counted
