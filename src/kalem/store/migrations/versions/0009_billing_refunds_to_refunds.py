"""billing refunds: refunds of amounts kept in an order's billing body move to the refunds table

Every refund of an order lives in its refund account (the refunds table); a refund recorded by Zonos
`orderRefundCreate` becomes a pending refund of cause `amounts` whose breakdown names its subtotals.

Revision ID: 0009
Revises: 0005
Depends on: 0004
"""
import json
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0005"
branch_labels = None
depends_on = "0004"


def _breakdown(currency, subtotals, total, note):
    shipping = sum((Decimal(str(a)) for t, a in subtotals if t == "SHIPPING"), Decimal(0))
    return {"currency": currency, "lines": [], "subtotals": [{"type": t, "amount": str(a)} for t, a in subtotals],
            "shipping_amount": str(shipping), "taxes": [], "computed_total": str(total),
            "total": str(total), "note": note,
            "explanation": [f"{t} {a}" for t, a in subtotals] + [f"total refunded {total} {currency}"]}


def upgrade() -> None:
    conn = op.get_bind()
    rows = conn.execute(sa.text(
        "SELECT b.order_id, b.body, o.seller_id, o.order_number FROM order_billing b "
        "JOIN orders o ON o.id = b.order_id")).fetchall()
    for row in rows:
        body = json.loads(row.body)
        for rid, amount, currency, note, subtotals, at, by in body.pop("refunds", []):
            record = {"cause": "amounts", "lines": [], "breakdown": _breakdown(currency, subtotals, amount, note),
                      "amount": str(amount), "currency": currency, "method": "original", "holder_name": None,
                      "created_by": by, "forced_amount": None, "forced_by": None, "reference": None,
                      "return_id": None, "settled_by": None, "settled_at": None, "units": []}
            conn.execute(sa.text(
                "INSERT INTO refunds (id, order_id, seller_id, order_number, status, created_at, iban, body) "
                "VALUES (:id, :o, :s, :n, 'pending', :at, NULL, :body)"),
                {"id": rid, "o": row.order_id, "s": row.seller_id, "n": row.order_number,
                 "at": datetime.fromisoformat(at), "body": json.dumps(record)})
        conn.execute(sa.text("UPDATE order_billing SET body = :body WHERE order_id = :o"),
                     {"body": json.dumps(body), "o": row.order_id})


def downgrade() -> None:
    """Refunds stay in the refunds table: the older code ignores the ones of cause `amounts`."""
