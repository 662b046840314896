"""`python -m kalem.devtools.hub_screenshots [OUT]`: screenshots of every hub page, for the README.

Boots kalem on a throwaway SQLite database with the demo data (`kalem demo`) plus one order whose
request is approved in part through the browser (its refund explained on the way), and drives
Debian's headless Chromium through Playwright (`/usr/bin/chromium`; never `playwright install`).
Needs the test extras.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import threading
import time
from decimal import Decimal
from functools import partial
from pathlib import Path

import uvicorn

from kalem.app.cancellation import RequestCancel, request_cancel
from kalem.app.orders import PlaceOrder, place_order
from kalem.app.principals import Principal
from kalem.bootstrap.api import build_app
from kalem.config import Settings
from kalem.demo import load_demo
from kalem.domain.orders import CancelItem, LineSpec, OrderSpec
from kalem.store.db import Database
from kalem.store.migrate import upgrade
from kalem.store.uow import UnitOfWork

CHROMIUM = os.environ.get("KALEM_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _example_request(uow: partial) -> str:
    operator = Principal("operator", "screenshots")
    spec = OrderSpec("acme", "4000009001", "TRY", (
        LineSpec("item40000090011", "S310-WHT", "Sneakers", 3, Decimal("1299.00"), Decimal("0"), Decimal("20")),
        LineSpec("item40000090012", "C050-RED", "Cap", 2, Decimal("149.50"), Decimal("10.00"), Decimal("20"))),
        shipping_amount=Decimal("29.90"), channel="WEB")
    place_order(uow(), PlaceOrder(spec, operator, new_seller=True))
    return request_cancel(uow(), RequestCancel("4000009001", (
        CancelItem("item40000090011", 2, 136, "bedeni küçük"), CancelItem("item40000090012", 1, 151)),
        operator)).id


def main(out: Path) -> None:
    from playwright.sync_api import sync_playwright

    out = out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    home, work = Path.cwd(), Path(tempfile.mkdtemp(prefix="kalem-shots-"))
    os.chdir(work)  # the demo keeps its tokens under ./var
    url = f"sqlite:///{work / 'kalem.db'}"
    upgrade(url)
    db = Database.connect(url)
    uow = partial(UnitOfWork, db)
    tokens = dict(line.split(": ", 1) for line in load_demo(uow, orders=30))
    request_id = _example_request(uow)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(build_app(Settings(database_url=url, secret_key="s" * 40), db),
                                           host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}"
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
            ctx = browser.new_context(base_url=base, viewport={"width": 1280, "height": 860})
            page = ctx.new_page()

            def shot(name: str) -> None:
                page.screenshot(path=str(out / f"{name}.png"), full_page=True)
                print(out / f"{name}.png")

            page.goto("/hub/login")
            shot("login")
            page.fill("input[name=token]", tokens["seller acme token"])
            page.click("button[type=submit].primary")
            page.wait_for_url("**/hub/cancel-requests")
            shot("cancel-requests")
            page.goto(f"/hub/cancel-requests/{request_id}")
            page.fill("input[name='qty:item40000090011']", "1")
            page.wait_for_timeout(800)  # the live refund preview (htmx)
            shot("cancel-request")
            page.locator("[data-testid=explanation] summary").click()
            shot("refund-preview")
            page.get_by_test_id("approve").click()
            page.goto("/hub/cancel-requests?status=approved")
            shot("cancel-requests-approved")
            page.goto("/hub/orders/4000000904")  # the story's order to Germany: invoice, credit note, landed cost
            shot("order")
            page.goto("/hub/orders/4000000001")  # globex's order, opened by acme: the not-found page
            shot("not-found")
            page.goto("/hub/cancel-requests?lang=en")
            shot("cancel-requests-en")
            page.goto("/hub/cancel-requests?lang=tr")
            phone = browser.new_context(base_url=base, viewport={"width": 390, "height": 844}, is_mobile=True,
                                        storage_state=ctx.storage_state())
            page = phone.new_page()
            page.goto("/hub/cancel-requests")
            shot("cancel-requests-phone")
            browser.close()
    finally:
        server.should_exit = True
        os.chdir(home)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path.cwd() / "docs" / "screenshots")
