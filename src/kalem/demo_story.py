"""The demo's story orders: one of each thing kalem does, with known numbers, so the README and the
hub can point at them. Everything goes through the use cases the API runs: `app/`, and the Zonos
face's own removal of items (`platforms/zonos/billing.py`)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from kalem.app import webhooks
from kalem.app.billing import billing_for_number, charge_invoice
from kalem.app.cancellation import RequestCancel, request_cancel
from kalem.app.orders import PlaceOrder, place_order
from kalem.app.packages import SplitPackage, split_package
from kalem.app.principals import Principal
from kalem.app.refunds import decide_return, request_return
from kalem.domain.orders import CancelItem, LineSpec, OrderSpec, PackageItem, PackageSpec, PackageStatus, ReturnItem
from kalem.platforms.zonos.billing import OrderRef, RemoveItems, remove_items
from kalem.store.uow import UnitOfWork

UowFactory = Callable[..., UnitOfWork]
OPERATOR = Principal("operator", "demo")


def _line(order: str, n: int, sku: str, name: str, quantity: int, price: str, hs: str) -> LineSpec:
    return LineSpec(f"item{order}{n}", sku, name, quantity, Decimal(price), Decimal("0"), Decimal("20"), hs_code=hs)


def _place(uow: UowFactory, number: str, lines: tuple[LineSpec, ...], status: PackageStatus,
           destination: str | None = None, currency: str = "TRY") -> None:
    package = PackageSpec(f"BB_pid{number}", status, tuple(PackageItem(ln.line_id, ln.quantity) for ln in lines))
    place_order(uow(), PlaceOrder(OrderSpec("acme", number, currency, lines, (package,), Decimal("29.90"),
                                            f"AO-{number}", "WEB", destination), OPERATOR, new_seller=True))


def subscribe_receiver(uow: UowFactory, url: str, secret: str) -> None:
    """Every event, signed, to the local receiver `make run` starts (`kalem.devtools.receiver`)."""
    webhooks.create_subscription(uow(), OPERATOR, webhooks.SubscriptionSpec(url=url, event_types=["*"],
                                                                           secret=secret), allow_private=True)


def tell(uow: UowFactory) -> list[str]:
    """Place the story orders; returns one line per order saying what to look at."""
    story = []

    number = "4000000901"  # approve in part
    _place(uow, number, (_line(number, 1, "S310-WHT", "Sneakers", 3, "1299.00", "6404"),
                         _line(number, 2, "T123-BLUE", "T-Shirt", 2, "199.90", "6109")), PackageStatus.PICKING)
    request_cancel(uow(), RequestCancel(number, (CancelItem(f"item{number}1", 2, 136),
                                                 CancelItem(f"item{number}2", 1, 137)), OPERATOR))
    story.append(f"{number}: a pending cancel request for 2 of 3 Sneakers and 1 of 2 T-Shirts — approve it in part")

    number = "4000000902"  # a split package
    _place(uow, number, (_line(number, 1, "J200-BLK", "Jeans", 4, "749.00", "6203"),), PackageStatus.PICKING)
    split_package(uow(), SplitPackage(number, f"BB_pid{number}", ({f"item{number}1": 2}, {f"item{number}1": 2}), (),
                                      OPERATOR))
    story.append(f"{number}: a package of 4 Jeans split into two packages of 2")

    number = "4000000903"  # a return; approving it made its refund (the default policy, refund on decision)
    _place(uow, number, (_line(number, 1, "C050-RED", "Cap", 2, "149.50", "6505"),), PackageStatus.DELIVERED)
    returned = request_return(uow(), OPERATOR, number, (ReturnItem(f"item{number}1", 1, 152),))
    decide_return(uow(), OPERATOR, returned.id, "approve")
    story.append(f"{number}: a Cap returned, its refund awaiting settlement (POST /v1/refunds/{{id}}/settle)")

    number = "4000000904"  # an invoice with a credit note
    _place(uow, number, (_line(number, 1, "B900-BRN", "Leather belt", 3, "89.90", "4203"),), PackageStatus.PICKING,
           destination="DE", currency="EUR")
    billed = billing_for_number(uow(), number, OPERATOR)
    invoice = billed.billing.history.invoices[0].number
    charge_invoice(uow(), billed.order.id, invoice, OPERATOR)
    remove_items(uow(), RemoveItems(OrderRef(billed.order.id), f"item{number}1", None, 1, OPERATOR))
    story.append(f"{number}: to Germany — landed cost, invoice {invoice} paid, then a credit note for a belt removed")
    return story
