"""`/docs` and the hub work without internet: a browser that may reach no other host
renders every page, and no page asks for anything from another host."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.hub.test_hub_e2e import _request, _sign_in
from tests.support import token

pytestmark = pytest.mark.slow


def test_no_page_needs_another_host(server, api, browser) -> None:  # noqa: ANN001
    request_id = _request(api, "6300000001", "acme", [("a", 2, 136)])
    context = browser.new_context(base_url=server.url)
    own = urlsplit(server.url).netloc
    foreign: list[str] = []

    def only_kalem(route, request) -> None:  # noqa: ANN001
        if urlsplit(request.url).scheme in ("data", "blob") or urlsplit(request.url).netloc == own:
            route.continue_()
        else:
            foreign.append(request.url)
            route.abort()

    context.route("**/*", only_kalem)
    try:
        page = context.new_page()
        page.goto("/docs")
        page.wait_for_selector(".opblock-tag")  # Swagger UI rendered the operations
        assert page.locator(".opblock").count() > 20
        page = _sign_in(context, token(server.db, "seller", "acme"))
        for path in ("/hub/cancel-requests", f"/hub/cancel-requests/{request_id}", "/hub/orders",
                     "/hub/orders/6300000001"):
            page.goto(path)
            page.wait_for_load_state("networkidle")
        html = page.content()
    finally:
        context.close()
    assert foreign == []
    assert "cdn." not in html and "googleapis" not in html
