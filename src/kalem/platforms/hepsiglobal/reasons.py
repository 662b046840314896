"""HepsiGlobal reason strings, for its routes and its webhook bodies."""

from __future__ import annotations

#: HG reason strings ↔ kalem catalog ids. Only `customer_demand` (cancel) and `out_of_stock`,
#: `incorrect_order` (webhook, refund samples) are documented; the rest are kalem's names.
CANCEL_REASONS = {"customer_demand": 136, "out_of_stock": 135, "seller_request": 137, "fraud": 138,
                  "wrong_price": 139, "defective": 140, "changed_mind": 151}
RETURN_REASONS = {"customer_demand": 151, "changed_mind": 151, "defective": 152, "incorrect_order": 153,
                  "wrong_item": 153, "not_as_described": 154}
REASON_NAMES = {v: k for k, v in CANCEL_REASONS.items() if k != "changed_mind"} | {151: "customer_demand"}
#: The shared reason vocabulary (domain/reasons.py) in HG's words: a reason of any channel's catalog
#: (n11's 61 is `out_of_stock`) reaches HG's subscribers as what it means, not as `other`.
CODE_NAMES = {"out_of_stock": "out_of_stock", "customer_request": "customer_demand", "seller_request": "seller_request",
              "fraud": "fraud", "wrong_price": "wrong_price", "defective": "defective",
              "changed_mind": "customer_demand"}
