"""The native order body (`schemas.OrderIn`) read as the domain's `OrderSpec`: one reading for
`POST /v1/orders`, its batch and `kalem import` (which loads no web framework, so neither does this)."""

from __future__ import annotations

from kalem.api.schemas import AddressIn, OrderIn
from kalem.domain.orders import Address, Customer, LineSpec, OrderDetails, OrderSpec, PackageItem, PackageSpec, Payment


def spec_of(body: OrderIn) -> OrderSpec:
    return OrderSpec(
        seller_id=body.seller_id or "", order_number=body.order_number, currency=body.currency.upper(),
        lines=tuple(LineSpec(ln.line_id, ln.sku, ln.name, ln.quantity, ln.unit_price, ln.discount, ln.tax_rate,
                             ln.product_id, ln.barcode, ln.hs_code) for ln in body.lines),
        packages=tuple(PackageSpec(p.package_id, p.status, tuple(PackageItem(i.line_id, i.quantity) for i in p.items),
                                   p.cargo_tracking_number) for p in body.packages),
        shipping_amount=body.shipping_amount, account_order_number=body.account_order_number,
        channel=body.channel, destination_country=body.destination_country, details=details_of(body),
    )


def details_of(body: OrderIn) -> OrderDetails:
    def address(a: AddressIn | None) -> Address | None:
        if a is None:
            return None
        return Address(**{**a.model_dump(), "country_code": a.country_code and a.country_code.upper()})

    payment = body.payment
    return OrderDetails(
        customer=None if body.customer is None else Customer(**body.customer.model_dump()),
        shipment_address=address(body.shipment_address), invoice_address=address(body.invoice_address),
        payment=None if payment is None else Payment(**payment.model_dump()),
        due_date=body.due_date, seller_name=body.seller_name)
