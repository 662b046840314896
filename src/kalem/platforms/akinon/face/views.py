"""Akinon order views: `pk`, `number`, numeric status codes, `orderitem_set` with one item per unit.

The keys are those of Omnitron's order and order item (Akinon Omnitron's API reference); what kalem holds no data
for (invoice, carrier, estimated delivery, the shipping tax rate) is null. An order's `channel` is its channel's
integer id (`platforms/akinon/channels.py`).
"""

from __future__ import annotations

from typing import Any

from kalem.domain.money import quantize
from kalem.domain.orders import OrderStatus, Package, PackageStatus, UnitState
from kalem.domain.refunds import RefundAccount
from kalem.platforms.akinon.pks import Numbered

#: Omnitron order-item status codes (Akinon's Order Status Codes page) for kalem's unit states.
ITEM_STATUS = {UnitState.OPEN: "400", UnitState.PENDING_CANCEL: "50", UnitState.CANCELLED: "100",
               UnitState.SHIPPED: "500", UnitState.DELIVERED: "550", UnitState.RETURN_PENDING: "50",
               UnitState.RETURNED: "600"}
ORDER_STATUS = {OrderStatus.OPEN: "400", OrderStatus.PARTIALLY_SHIPPED: "500", OrderStatus.SHIPPED: "500",
                OrderStatus.DELIVERED: "550", OrderStatus.CANCELLED: "100", OrderStatus.RETURNED: "600"}


def _time(value: Any) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def _delivered(package: Package | None) -> str | None:
    """When the unit's package was delivered (the last time, should it have gone back and forth)."""
    if package is None:
        return None
    return _time(next((c.at for c in reversed(package.history) if c.status is PackageStatus.DELIVERED), None))


def order_detail(n: Numbered) -> dict[str, Any]:
    order = n.order
    amount = str(RefundAccount.for_view(order).paid)
    items = []
    computed = n.unit_pks()
    for line in order.lines:
        unit_discount = quantize(line.discount / line.quantity, order.currency)
        for number, state in line.units.layout():
            package = order.live_package_of(line.line_id, number)   # none once cancelled
            items.append({
                "pk": n.unit_pk(line.line_id, number, computed), "order": n.pk, "status": ITEM_STATUS[state],
                "remote_id": line.line_id, "product": {"sku": line.sku, "name": line.name,
                                                       "product_id": line.product_id, "barcode": line.barcode},
                "price": format(line.unit_price - unit_discount, "f"), "retail_price": format(line.unit_price, "f"),
                "discount_amount": format(unit_discount, "f"), "price_currency": order.currency,
                "tax_rate": format(line.tax_rate, "f"), "invoice_number": None, "invoice_date": None,
                "tracking_number": package.cargo_tracking_number if package else None,
                "carrier_shipping_code": None, "delivered_date": _delivered(package), "estimated_delivery_date": None,
            })
    return {
        "pk": n.pk, "number": order.order_number, "status": ORDER_STATUS[order.status],
        "channel": n.channel_id,   # the channel's integer id, as Omnitron's order names its channel
        "currency": order.currency, "amount": amount,
        "discount_amount": format(sum((ln.discount for ln in order.lines), order.shipping_amount * 0), "f"),
        "shipping_amount": format(order.shipping_amount, "f"),
        "shipping_tax_rate": None,   # kalem's order holds no tax rate for shipping
        "created_date": _time(order.created_at), "modified_date": _time(order.updated_at),
        "orderitem_set": items,
    }
