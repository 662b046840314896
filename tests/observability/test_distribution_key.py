"""Every SQL statement a write use case runs against an order-scoped table names the distribution key
(`seller_id`, docs/scaling.md), so on Citus each write is routed to one shard. Statements are
captured as the traces' SQL spans (the real OpenTelemetry SDK, in memory), on SQLite and PostgreSQL.

The use cases run as the seller where a seller may, else as an operator. `LOOKUPS` are the reads
that find rows by an id unique across sellers (an order, a request, a refund by id; an order's
refunds by order id) and do not name the seller yet: on Citus each is a fan-out read, listed in
docs/scaling.md as what changes before a distributed deployment. The list is exact: any other
statement that does not name the key fails here.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
import pytest

from kalem.store import money_with_lock, routing
from tests.observability.test_tracing import spans  # noqa: F401 - the fixture
from tests.support import SEED_ORDER, client_for, token

LINE = "item1691416223190"
PACKAGE = "BB_pid1692966394724"
#: Tables whose rows belong to one order (distributed by seller_id, co-located).
ORDER_SCOPED = {"orders", "order_lines", "events", "cancel_requests", "order_billing", "refunds",
                "return_requests", "n11_line_ids", "akinon_ids", "webhook_deliveries"}
LOOKUPS = {
    "SELECT id, seller_id, order_number, account_order_number, status, version, last_sequence, intake_hash, "
    "created_at, updated_at, body, channel FROM orders WHERE id = ?",
    "SELECT id, order_id, seller_id, order_number, status, created_at, body FROM cancel_requests WHERE id = ?",
    "SELECT id, order_id, seller_id, order_number, status, created_at, iban, body FROM refunds WHERE id = ?",
    "SELECT id, order_id, seller_id, order_number, status, created_at, body FROM return_requests WHERE id = ?",
    "SELECT id, order_id, seller_id, order_number, status, created_at, iban, body FROM refunds "
    "WHERE order_id = ? ORDER BY created_at, id",
}
_TABLE = re.compile(r"\b(?:FROM|JOIN|INTO|UPDATE)\s+(\w+)", re.IGNORECASE)


def normal(sql: str) -> str:
    """One line, every parameter `?` (whether `:name`, psycopg's `%(name)s` or SQLite's), no row lock."""
    flat = re.sub(r"%\(\w+\)s|(?<![:\w]):\w+", "?", " ".join(sql.split()))
    # An order's lock also reads the enabled subscriptions and channel accounts (store/routing.py),
    # and its refunds and its seller's refund settings (store/money_with_lock.py, each naming the
    # order's seller): the order's own look-up is what is checked here.
    return flat.removesuffix(" FOR UPDATE").replace(f", {routing.COLUMNS}", "").replace(
        f", {money_with_lock.COLUMNS}", "")


def tables(sql: str) -> set[str]:
    return {name.lower() for name in _TABLE.findall(sql)}


def names_the_key(sql: str) -> bool:
    """An INSERT sets the seller_id column (and its SELECT, if any, filters on it); anything else has a
    WHERE condition `seller_id = :value`. A statement of several (`WITH … AS (INSERT …)`, one write of
    an order's rows, store/folded_write.py) sets seller_id in each order-scoped table it inserts into,
    and filters on it if it updates."""
    filters = re.search(r"\bWHERE\b.*\bseller_id\s*=\s*\?", sql, re.IGNORECASE) is not None
    if sql.upper().startswith("WITH"):
        inserted = re.findall(r"INSERT INTO (\w+) \(([^)]*)\)", sql, re.IGNORECASE)
        sets_key = all("seller_id" in [c.strip() for c in columns.split(",")]
                       for table, columns in inserted if table.lower() in ORDER_SCOPED)
        return bool(inserted) and sets_key and (re.search(r"\bUPDATE\b", sql, re.IGNORECASE) is None or filters)
    if sql.upper().startswith("INSERT"):
        columns = [c.strip() for c in sql.split("(", 1)[1].split(")", 1)[0].split(",")]
        return "seller_id" in columns and (" SELECT " not in sql.upper() or filters)
    return filters


def use_cases(seller: httpx.Client, operator: httpx.Client) -> list[tuple[str, Callable[[], httpx.Response]]]:
    state: dict[str, str] = {}

    def post(path: str, body: object = None, *, keep: str | None = None,
             headers: dict[str, str] | None = None) -> Callable[[], httpx.Response]:
        def call() -> httpx.Response:
            response = seller.post(path.format(**state), json=body, headers=headers or {})
            if keep is not None:
                state[keep] = response.json().get("id") or response.json()["refund"]["id"]
            return response
        return call

    delivered = {**SEED_ORDER, "order_number": "4000000002",
                 "lines": [{**SEED_ORDER["lines"][0], "line_id": "item2"}],
                 "packages": [{"package_id": "PK2", "status": "Delivered",
                               "items": [{"line_id": "item2", "quantity": 3}]}]}
    return [
        ("intake", post("/v1/orders", SEED_ORDER)),
        ("cancel", post("/v1/orders/4000000001/cancellations",
                        {"lines": [{"line_id": LINE, "quantity": 1, "reason_id": 136}]},
                        headers={"Idempotency-Key": "dk-1"})),
        ("request a cancel", post("/v1/cancel-requests", {"order_number": "4000000001", "lines": [
            {"line_id": LINE, "quantity": 1, "reason_id": 137}]}, keep="request")),
        ("approve a cancel request", post("/v1/cancel-requests/{request}/approve")),
        ("split a package", post(f"/v1/orders/4000000001/packages/{PACKAGE}/split",
                                 {"packages": [{"items": [{"line_id": LINE, "quantity": 1}]}], "cancelled": []})),
        ("cancel with a refund", post("/v1/orders/4000000001/cancellations-with-refund",
                                      {"lines": [{"line_id": LINE, "quantity": 1, "reason_id": 136}]},
                                      keep="refund")),
        ("settle a refund", lambda: operator.post(f"/v1/refunds/{state['refund']}/settle",
                                                  json={"status": "succeeded"})),
        ("intake, delivered", post("/v1/orders", delivered)),
        ("request a return", post("/v1/orders/4000000002/returns", {"lines": [
            {"line_id": "item2", "quantity": 1, "reason_id": 152}]}, keep="return")),
        ("approve a return", lambda: operator.post(f"/v1/returns/{state['return']}/approve")),
    ]


CASES = 10


@pytest.mark.parametrize("case", range(CASES))
def test_write_use_cases_name_the_distribution_key(api, db, spans, case):  # noqa: F811
    api.post("/v1/webhook-subscriptions", json={"url": "http://127.0.0.1:9/hook", "event_types": ["*"],
                                               "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"})
    with client_for(api, token(db, seller="acme")) as seller:
        steps = use_cases(seller, api)
        assert len(steps) == CASES
        for name, step in steps[:case]:
            assert step().status_code < 300, name
        name, step = steps[case]
        spans.clear()
        response = step()
    assert response.status_code < 300, (name, response.text)
    statements = {normal(s.attributes["db.statement"]) for s in spans.get_finished_spans()
                  if s.attributes and "db.statement" in s.attributes}
    touched = {sql for sql in statements if tables(sql) & ORDER_SCOPED}
    assert touched, name
    assert sorted(sql for sql in touched if not names_the_key(sql) and sql not in LOOKUPS) == [], name
