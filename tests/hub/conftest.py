"""A headless Debian Chromium driven by Playwright (never `playwright install`: the browser is
Debian's `/usr/bin/chromium`, which `make test` installs when it is missing)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

CHROMIUM = os.environ.get("KALEM_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


#: How long any wait of a page may take (Playwright's default is 30 s). Every wait ends as soon as what
#: it waits for happens; on a loaded 2-core machine Swagger UI's hundreds of operations can take a while.
WAIT_MS = 180_000


class Browser:
    """Chromium whose contexts wait up to `WAIT_MS` for anything."""

    def __init__(self, chromium: object) -> None:
        self._chromium = chromium

    def new_context(self, **options: object) -> object:
        context = self._chromium.new_context(**options)  # type: ignore[attr-defined]
        context.set_default_timeout(WAIT_MS)
        context.set_default_navigation_timeout(WAIT_MS)
        return context


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: run `make test` (it installs Debian's chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield Browser(chromium)
        chromium.close()
