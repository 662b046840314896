"""Stored bodies are encoded by orjson (`codec.stored_json`) for speed, but must be the very text the
standard library's `json` wrote for them (`codec.dumps`): rows written before and after compare and
hash alike. The API's answers are encoded the same way (`idempotency.answer`), and must be the very
bytes Starlette's `JSONResponse` wrote. These fail as soon as orjson's output differs from either for
what kalem stores and answers."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
import sqlalchemy as sa
from starlette.responses import JSONResponse

from kalem.api.idempotency import answer
from kalem.store import codec
from tests.support import SEED_ORDER

LINE = "item1691416223190"

EDGES = {
    "text": ["", "ğüşıöçĞÜŞİÖÇ", "emoji 🛒📦", "quote \" backslash \\ slash / </script>", "tab\tnew\nline\r",
             "".join(chr(c) for c in range(0x20)), "\x7f\x80\x9f", "\u2028\u2029", "\ufeff", "日本語"],
    "int": [0, 1, -1, 2**31, 2**53 + 1, 2**63 - 1, -(2**63)],
    "decimal": [Decimal("0"), Decimal("0.10"), Decimal("-12.345"), Decimal("1E+2"), Decimal("-0"),
                Decimal("123456789012345678901234567890.123456789")],
    "time": [datetime(2026, 12, 5, 7, 0, tzinfo=UTC), datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
             datetime(2026, 6, 1, 12, 0, tzinfo=timezone(timedelta(hours=3))), datetime(2026, 6, 1, 12, 0, 0, 500)],
    "plain": [None, True, False, [], {}, [[]], [{"a": [1, (2, 3)]}], (1, "two")],
    "ğ-key": {"nested": {"deeper": [{"x": None}], "": "empty key"}},
}


@pytest.mark.parametrize("value", [EDGES, *EDGES.values(), *(v for vs in EDGES.values() if isinstance(vs, list)
                                                          for v in vs)])
def test_stored_json_is_the_standard_librarys_text(value):
    assert codec.stored_json(value) == codec.dumps(value)


ANSWERS = [v for k, vs in EDGES.items() if k not in ("decimal", "time") for v in (vs if isinstance(vs, list) else [vs])]


@pytest.mark.parametrize("value", [ANSWERS, *ANSWERS, {"money": 199.9, "rate": 0.18, "count": 3.0}])
def test_an_answer_is_the_bytes_starlettes_json_response_writes(value):
    ours, theirs = answer(201, value), JSONResponse(value, status_code=201)
    assert (ours.body, ours.status_code, ours.headers.items()) == (theirs.body, 201, theirs.headers.items())


def test_what_orjson_refuses_is_written_by_the_standard_library():
    for value in ({"big": 2**64}, {1: "int key"}):
        assert codec.stored_json(value) == codec.dumps(value)
    with pytest.raises(TypeError):
        codec.stored_json({"set": {1}})


def test_every_body_kalem_stored_is_the_standard_librarys_text(api, db):
    assert api.post("/v1/orders", json=SEED_ORDER).status_code == 201
    number = SEED_ORDER["order_number"]
    assert api.post(f"/v1/orders/{number}/cancellations",
                    json={"lines": [{"line_id": LINE, "quantity": 1, "reason_id": 136}]}).status_code == 200
    assert api.post(f"/v1/orders/{number}/cancellations-with-refund",
                    json={"lines": [{"line_id": LINE, "quantity": 1, "reason_id": 136}]}).status_code == 201
    with db.engine.connect() as conn:
        orders = conn.execute(sa.text("SELECT * FROM orders")).all()
        stored = [*(r.data for r in conn.execute(sa.text("SELECT data FROM events"))),
                  *(r.body for r in conn.execute(sa.text("SELECT body FROM refunds")))]
    assert orders and len(stored) >= 4
    for row in orders:
        fields = codec.order_fields(codec.load_order(row))   # Decimals and datetimes, as encoded
        assert codec.stored_json(fields) == codec.dumps(fields) == row.body
    for text in stored:
        value = json.loads(text)
        assert codec.stored_json(value) == codec.dumps(value) == text


def test_the_apis_answers_are_the_bytes_starlettes_json_response_writes(api):
    """An order's answer, its replay and a cancel's answer, over HTTP: what `JSONResponse` writes for them."""
    created = api.post("/v1/orders", json=SEED_ORDER, headers={"Idempotency-Key": "answer-bytes"})
    again = api.post("/v1/orders", json=SEED_ORDER, headers={"Idempotency-Key": "answer-bytes"})
    cancelled = api.post(f"/v1/orders/{SEED_ORDER['order_number']}/cancellations",
                         json={"lines": [{"line_id": LINE, "quantity": 1, "reason_id": 136}]})
    assert (created.status_code, again.status_code, cancelled.status_code) == (201, 201, 200)
    assert again.headers["Idempotent-Replayed"] == "true" and again.content == created.content
    for response in (created, cancelled):
        assert response.content == JSONResponse(response.json()).body
