"""Demo data for `make run`: two sellers, about fifty orders in mixed states, pending cancel requests,
the story orders of `demo_story` and a webhook subscription to the local demo receiver.

Loaded once; the demo tokens are kept in `var/demo-tokens.txt` (a local demo, never production)
so every later `make run` can print them again, and the subscription's signing secret in
`var/demo-webhook-secret` for the receiver.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

from kalem import demo_story
from kalem.app import access, webhooks
from kalem.app.cancellation import (
    CancelLines,
    DecideCancelRequest,
    RequestCancel,
    cancel_lines,
    decide_cancel_request,
    request_cancel,
)
from kalem.app.orders import PlaceOrder, place_order
from kalem.app.principals import Principal
from kalem.domain.orders import CancelItem, LineSpec, OrderSpec, PackageItem, PackageSpec, PackageStatus
from kalem.store.uow import UnitOfWork

TOKENS = Path("var/demo-tokens.txt")
WEBHOOK_SECRET = Path("var/demo-webhook-secret")
SELLERS = ("acme", "globex")
PRODUCTS = (("T123-BLUE", "T-Shirt", "199.90", "6109"), ("J200-BLK", "Jeans", "749.00", "6203"),
            ("S310-WHT", "Sneakers", "1299.00", "6404"), ("C050-RED", "Cap", "149.50", "6505"),
            ("B900-BRN", "Leather belt", "389.90", "4203"))


def load_demo(uow: Callable[..., UnitOfWork], *, orders: int = 50, receiver_url: str | None = None) -> Iterator[str]:
    """Load once; `receiver_url`: subscribe it to every event (signed with a secret kept for the receiver)."""
    if TOKENS.exists():
        yield from TOKENS.read_text().splitlines()
        return
    TOKENS.parent.mkdir(parents=True, exist_ok=True)
    if receiver_url:  # first, so the receiver gets the demo's own events too
        WEBHOOK_SECRET.write_text(webhooks.new_secret())
        WEBHOOK_SECRET.chmod(0o600)
        demo_story.subscribe_receiver(uow, receiver_url, WEBHOOK_SECRET.read_text())
    rng = random.Random(7)
    operator = Principal("operator", "demo")
    for n in range(1, orders + 1):
        seller = SELLERS[n % 2]
        _demo_order(uow, rng, operator, seller, n)
    story = demo_story.tell(uow)
    lines = [f"operator token: {access.create_token(uow(), role='operator', name='demo operator').secret}"]
    for seller in SELLERS:
        issued = access.create_token(uow(), role='seller', seller_id=seller, name=f'{seller} demo')
        lines.append(f"seller {seller} token: {issued.secret}")
        access.create_user(uow(), username=f"{seller}-user", password="demo-password", role="seller",
                           seller_id=seller)
        lines.append(f"seller {seller} login: {seller}-user / demo-password")
    lines += [f"story order {line}" for line in story]
    if receiver_url:
        lines.append(f"webhooks: every event goes to {receiver_url} (signing secret in {WEBHOOK_SECRET})")
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
    place_order(uow(), PlaceOrder(spec, operator, new_seller=True))
    first = lines[0]
    if state in (1, 2):  # a request for up to 2 units of every line, so "approve in part" can be tried
        items = tuple(CancelItem(ln.line_id, min(2, ln.quantity), rng.choice((136, 137, 138))) for ln in lines)
        request = request_cancel(uow(), RequestCancel(number, items, operator))
        if n % 10 == 1:  # decided already: approved in part when there is a part to leave
            decide_cancel_request(uow(), DecideCancelRequest(request.id, operator, "approve",
                                                             quantities={first.line_id: 1}))
    elif state == 0 and n % 3 == 0:
        cancel_lines(uow(), CancelLines(number, (CancelItem(first.line_id, 1, 135),), operator))
