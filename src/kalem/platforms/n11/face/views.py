"""n11 read models (GetShipmentPackages), derived from kalem's order and the face's orderLineIds.

kalem holds no customer or address data, so those fields are present and null; money and rates are
JSON numbers with a fraction (`100.0`), as n11 sends them, rounded to the currency's minor unit.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from kalem.domain.money import quantize
from kalem.domain.orders import Order, Package
from kalem.platforms.n11.line_ids import Numbers

_ADDRESS_FIELDS = ("address", "city", "district", "neighborhood", "fullName", "gsm", "tcId", "postalCode",
                   "taxId", "taxHouse", "invoiceType")
_NULL_PACKAGE_FIELDS = ("customerId", "customerfullName", "customerEmail", "tcIdentityNumber", "taxId", "taxOffice",
                        "cargoSenderNumber", "cargoTrackingLink", "shipmentCompanyId", "cargoProviderName",
                        "shipmentMethod", "agreedDeliveryDate", "deliveryAddressType", "productOrigin", "micro",
                        "hsCode", "invoiceLink", "invoiceDate", "etgbNo", "etgbDate")
_NULL_LINE_FIELDS = ("commissionRate", "taxDeductionRate", "totalLaborCostExcludingVAT", "netMarketingFeeRate",
                     "netMarketplaceFeeRate")


def epoch_ms(value: datetime) -> int:
    return int(value.timestamp() * 1000)


def last_modified(package: Package) -> datetime:
    return package.history[-1].at


def _number(value: Decimal) -> float:
    return float(value)


def package_view(order: Order, package: Package, numbers: Numbers) -> dict[str, Any]:
    lines: list[dict[str, Any]]
    lines, total, discount = [], Decimal(0), Decimal(0)
    for item in package.items:
        line = order.line(item.line_id)
        gross = line.unit_price * item.quantity
        seller_discount = quantize(line.discount * item.quantity / line.quantity, order.currency)
        due = quantize(gross - seller_discount, order.currency)
        total += gross
        discount += seller_discount
        lines.append({
            "orderLineId": numbers.get((order.id, package.package_id, item.line_id)),
            "productId": line.product_id, "productName": line.name, "stockCode": line.sku,
            "barcode": line.barcode, "quantity": item.quantity, "variantAttributes": [],
            "customTextOptionValues": [], "price": _number(line.unit_price), "dueAmount": _number(due),
            "installmentChargeWithVAT": _number(due), "sellerCouponDiscount": 0.0,
            "sellerDiscount": _number(seller_discount), "mallDiscount": 0.0, "sellerInvoiceAmount": _number(due),
            "totalMallDiscountPrice": 0.0, "totalSellerDiscountPrice": _number(seller_discount),
            "orderItemLineItemStatusName": package.status.value, "vatRate": _number(line.tax_rate),
            **dict.fromkeys(_NULL_LINE_FIELDS),
        })
    return {
        "id": package.package_id, "orderNumber": order.order_number, "sellerId": order.seller_id,
        **dict.fromkeys(_NULL_PACKAGE_FIELDS),
        "billingAddress": dict.fromkeys(_ADDRESS_FIELDS), "shippingAddress": dict.fromkeys(_ADDRESS_FIELDS),
        "cargoTrackingNumber": package.cargo_tracking_number,
        "installmentChargeWithVATprice": _number(quantize(total - discount, order.currency)),
        "lastModifiedDate": epoch_ms(last_modified(package)),
        "totalAmount": _number(quantize(total, order.currency)),
        "totalDiscountAmount": _number(quantize(discount, order.currency)),
        "packageHistories": [{"createdDate": epoch_ms(h.at), "status": h.status.value} for h in package.history],
        "shipmentPackageStatus": package.status.value,
        "countryCode": order.attributes.get("destination_country"),
        "lines": lines,
    }
