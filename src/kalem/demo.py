"""Demo data for `make run`: two sellers, about fifty orders in mixed states, pending cancel requests.

Loaded once; the demo tokens are kept in `var/demo-tokens.txt` (a local demo, never production)
so every later `make run` can print them again.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

from kalem.app import access
from kalem.app.cancellation import CancelLines, DecideCancelRequest, RequestCancel, cancel_lines, \
    decide_cancel_request, request_cancel
from kalem.app.orders import PlaceOrder, place_order
from kalem.app.principals import Principal
from kalem.domain.cancellation import CancelItem
from kalem.domain.orders import LineSpec, OrderSpec, PackageItem, PackageSpec, PackageStatus
from kalem.store.uow import UnitOfWork

TOKENS = Path("var/demo-tokens.txt")
SELLERS = ("acme", "globex")
PRODUCTS = (("T123-BLUE", "T-Shirt", "199.90", "6109"), ("J200-BLK", "Jeans", "749.00", "6203"),
            ("S310-WHT", "Sneakers", "1299.00", "6404"), ("C050-RED", "Cap", "149.50", "6505"),
            ("B900-BRN", "Leather belt", "389.90", "4203"))


def load_demo(uow: Callable[..., UnitOfWork], *, orders: int = 50) -> Iterator[str]:
    if TOKENS.exists():
        yield from TOKENS.read_text().splitlines()
        return
    rng = random.Random(7)
    operator = Principal("operator", "demo")
    for n in range(1, orders + 1):
        seller = SELLERS[n % 2]
        _demo_order(uow, rng, operator, seller, n)
    lines = [f"operator token: {access.create_token(uow(), role='operator', name='demo operator').secret}"]
    for seller in SELLERS:
        lines.append(f"seller {seller} token: {access.create_token(uow(), role='seller', seller_id=seller).secret}")
        access.create_user(uow(), username=f"{seller}-user", password="demo-password", role="seller",
                           seller_id=seller)
        lines.append(f"seller {seller} login: {seller}-user / demo-password")
    TOKENS.parent.mkdir(parents=True, exist_ok=True)
    TOKENS.write_text("\n".join(lines) + "\n")
    TOKENS.chmod(0o600)
    yield from lines


def _demo_order(uow: Callable[..., UnitOfWork], rng: random.Random, operator: Principal, seller: str,
                n: int) -> None:
    number = f"40000{n:05d}"
    picks = rng.sample(PRODUCTS, rng.randint(1, 3))
    lines = tuple(LineSpec(f"item{number}{i}", sku, name, rng.randint(1, 4), Decimal(price),
                           Decimal("10.00") if rng.random() < 0.3 else Decimal("0"), Decimal("20"), hs_code=hs)
                  for i, (sku, name, price, hs) in enumerate(picks, start=1))
    state = n % 5
    status = {0: PackageStatus.CREATED, 1: PackageStatus.PICKING, 2: PackageStatus.PICKING,
              3: PackageStatus.SHIPPED, 4: PackageStatus.DELIVERED}[state]
    package = PackageSpec(f"BB_pid{number}", status, tuple(PackageItem(ln.line_id, ln.quantity) for ln in lines),
                          f"73{n:05d}")
    spec = OrderSpec(seller, number, "TRY", lines, (package,), Decimal("29.90"), f"AO-{number}", "WEB")
    place_order(uow(), PlaceOrder(spec, operator))
    first = lines[0]
    if state in (1, 2) and first.quantity >= 1:
        request = request_cancel(uow(), RequestCancel(number, (CancelItem(first.line_id, 1, rng.choice((136, 137, 138))),),
                                                      operator))
        if n % 10 == 1:
            decide_cancel_request(uow(), DecideCancelRequest(request.id, operator, "approve"))
    elif state == 0 and n % 3 == 0:
        cancel_lines(uow(), CancelLines(number, (CancelItem(first.line_id, 1, 135),), operator))
