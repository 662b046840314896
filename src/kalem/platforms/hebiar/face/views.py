"""Hebiar's read model (GetOrderPackages), derived from kalem's order, its ids and its history.

Field names, nesting and types follow the platform's documented example key by key; money is a
JSON number rounded to the currency's minor unit, as the platform sends it.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from kalem.domain.orders import Address, Line, Order, Package, PackageStatus, Payment, UnitSet, UnitState
from kalem.domain.refunds import RefundAccount
from kalem.platforms.hebiar.history import Known
from kalem.platforms.hebiar.units import PACKAGE_STATUS_NAMES, unit_line_id

Shown = dict[str, UnitSet]   # line id → the units a package shows (numbers in spans: nothing per unit)


def _time(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def _number(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def shown_units(order: Order) -> dict[str, Shown]:
    """Which units of each line each package shows: a live package its own; a cancelled unit shows in
    the Cancelled package it was cancelled with, else in the first package that held its line."""
    shown: dict[str, Shown] = {p.package_id: {} for p in order.packages}
    for line in order.lines:
        homeless = line.units_in(UnitState.CANCELLED)
        for package in order.packages:
            units = package.units_of(line.line_id)
            if package.status is PackageStatus.CANCELLED:
                units &= homeless
                homeless -= units
            elif not package.live:
                continue
            if units:
                shown[package.package_id][line.line_id] = units
        home = next((p for p in order.packages if p.quantity_of(line.line_id)), None)
        if homeless and home is not None:
            held = shown[home.package_id]
            held[line.line_id] = held.get(line.line_id, UnitSet()) | homeless
    return shown


def unit_count(shown: Shown) -> int:
    return sum(len(units) for units in shown.values())


def package_view(order: Order, package: Package, shown: Shown, known: Known) -> dict[str, Any]:
    details, customer = order.details, order.details.customer
    account = RefundAccount.for_view(order)
    lines = [_line_view(order, package, line, shown[line.line_id], known, account) for line in order.lines
             if line.line_id in shown]
    total = sum((order.line(line_id).unit_price * len(units) for line_id, units in shown.items()), Decimal(0))
    invoice = details.invoice_address
    return {
        "shipmentAddress": _address(details.shipment_address, known.address("shipment"), invoice=False),
        "lines": lines, "parcels": [],
        "invoiceAddress": _address(invoice, known.address("invoice"), invoice=True),
        "packageHistories": [{"createdDate": _time(h.at), "status": PACKAGE_STATUS_NAMES[h.status]}
                             for h in package.history],
        "payment": _payment(details.payment),
        "sourcePackageId": package.package_id, "orderNumber": order.order_number,
        "taxNumber": invoice.tax_number if invoice else None,
        "customerCode": customer.code if customer else None,
        "customerFirstName": customer.first_name if customer else None,
        "customerEmail": customer.email if customer else None,
        "customerId": _integer(customer.customer_id) if customer else None,
        "customerLastName": customer.last_name if customer else None,
        "id": known.package(package.package_id),
        "cargoTrackingNumber": package.cargo_tracking_number, "cargoTrackingLink": None, "cargoCode": None,
        "cargoKey": package.cargo_tracking_number, "cargoBarcode": None, "cargoAggrementTypeCode": None,
        "orderDate": _time(order.created_at), "dueDate": _time(details.due_date),
        "status": PACKAGE_STATUS_NAMES[package.status],
        "totalListPrice": _number(total), "totalProductPrice": _number(total),
        "lastModifiedDate": _time(order.updated_at), "vendorCode": order.seller_id,
        "vendorCompanyName": details.seller_name, "cargoName": None,
        "channelCode": order.channel, "channelName": order.channel,
    }


def _integer(value: str | None) -> int | None:
    """Hebiar's customer ids are integers: a numeric id is one; any other has none to show."""
    return int(value) if value is not None and value.isascii() and value.isdigit() and len(value) < 19 else None


def _address(address: Address | None, pk: int, *, invoice: bool) -> dict[str, Any] | None:
    if address is None:
        return None
    view = {"id": pk, "firstName": address.first_name, "lastName": address.last_name, "company": address.company,
            "address1": address.address1, "address2": address.address2, "city": address.city,
            # The platform's own example names this `cityCode` on shipment addresses, `cityId` on invoice ones.
            "cityId" if invoice else "cityCode": None,
            "district": address.district, "districtId": None, "postalCode": address.postal_code,
            "countryCode": address.country_code, "neighborhoodId": None, "neighborhood": address.neighborhood,
            "phone": address.phone, "fullName": _joined(" ", address.first_name, address.last_name),
            "fullAddress": _joined(", ", address.address1, address.address2)}
    if invoice:
        view |= {"taxOffice": address.tax_office, "taxNumber": address.tax_number}
    return view


def _joined(separator: str, *parts: str | None) -> str | None:
    """Parts that say something (the platform writes "-" for an empty address line), joined."""
    return separator.join(p for p in parts if p and p != "-") or None


#: The platform's payment object; kalem fills what the channel told it and leaves card data empty.
_PAYMENT_KEYS = ("captureTransactionResult", "captureTransactionId", "authorizationTransactionResult",
                 "authorizationTransactionCode", "authorizationTransactionId", "cardExpirationYear",
                 "subscriptionTransactionId", "cardExpirationMonth", "maskedCreditCardNumber", "cardNumber",
                 "cardName", "cardType", "cardFamily", "cardIssuer", "bankName", "fraudScore", "posName",
                 "allowStoringCreditCardNumber", "cardCvv2", "paidDateUtc", "installmentCount", "paymentStatus",
                 "total", "paymentMethod", "paymentType", "paymentAgent", "transferBankName", "iban")


def _payment(payment: Payment | None) -> dict[str, Any]:
    view: dict[str, Any] = dict.fromkeys(_PAYMENT_KEYS)
    if payment is not None:
        view |= {"bankName": payment.bank_name, "paidDateUtc": _time(payment.paid_at),
                 "installmentCount": payment.installment_count, "paymentStatus": payment.status,
                 "total": _number(payment.total), "paymentMethod": payment.method}
    return view


def _line_view(order: Order, package: Package, line: Line, units: UnitSet, known: Known,
               account: RefundAccount) -> dict[str, Any]:
    return {
        "quantity": len(units), "productSize": None, "vendorSku": None, "productName": line.name,
        "discountDetails": ([{"discountTypeId": None, "couponCode": None, "discountId": None,
                              "amount": _number(line.discount), "realAmount": _number(line.discount),
                              "discountName": None, "discountCode": None}] if line.discount else []),
        # Each unit's share of what the line paid, to the cent; the shares add up to the line's total.
        "itemLines": [_unit_view(order, package, line, n, line.state_of(n), account.unit(line.line_id, n).paid,
                                 known) for n in units],
        "productColor": None, "id": known.item(package.package_id, line.line_id), "sku": line.sku,
        "barcode": line.barcode, "productPrice": _number(line.unit_price), "listPrice": _number(line.unit_price),
        "productImageUrl": None, "dueDate": _time(order.details.due_date), "currency": order.currency,
    }


def _unit_view(order: Order, package: Package, line: Line, n: int, state: UnitState, share: Decimal,
               known: Known) -> dict[str, Any]:
    why = known.why.get((line.line_id, n))
    # The platform shows a cancelled unit's cancel reason in `returnReason` (its own example does).
    given = why and (why.ret if state in (UnitState.RETURNED, UnitState.RETURN_PENDING) else
                     why.cancel if state is UnitState.CANCELLED else None)
    refused = why.reject if why and state not in (UnitState.CANCELLED, UnitState.RETURNED) else None
    return {
        "id": known.unit(line.line_id, n), "productName": line.name,
        "sourceOrderItemLineId": unit_line_id(line.line_id, n), "sourceOrderItemId": line.line_id,
        "orderItemId": known.line(line.line_id), "orderId": known.order_id(),
        "sku": line.sku, "barcode": line.barcode, "vendorId": None,
        "lastPackageId": known.package(package.package_id),
        "lastPackageItemId": known.item(package.package_id, line.line_id), "quantity": 1,
        "isReturn": state in (UnitState.RETURNED, UnitState.RETURN_PENDING),
        "returnReason": given.reason.name_tr if given else None,
        "returnReasonDesc": (given.note or "-") if given else None,
        "isCancel": state is UnitState.CANCELLED,
        "rejectReason": refused.reason.name_tr if refused else None,
        "rejectReasonDesc": (refused.note or "-") if refused else None,
        "isAvaibleCancelRequest": n in line.cancellable_units(),
        "isAvaibleReturnRequest": n in line.returnable_units(), "saleTotal": _number(share),
        "returnLineAttachments": [],
    }
