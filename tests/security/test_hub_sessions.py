"""Hub sessions end on the server: signing out, or revoking the token a session was opened with, ends
every copy of its cookie; the cookie is HttpOnly, SameSite and, over TLS, Secure."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import httpx

from kalem.app import access
from kalem.store.uow import UnitOfWork
from tests.support import SEED_ORDER, csrf_token

QUEUE = "/hub/cancel-requests"



@contextlib.contextmanager
def signed_in(base: str, secret: str, **headers: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base, timeout=30, headers=headers) as browser:
        _sign_in(browser, secret)
        yield browser


def _sign_in(browser: httpx.Client, secret: str) -> None:
    signed_in = browser.post("/hub/login", data={"csrf": csrf_token(browser.get("/hub/login").text), "token": secret})
    assert signed_in.status_code == 303, signed_in.text


def _session_cookie(browser: httpx.Client) -> str:
    return browser.cookies["kalem_hub"]


def test_signing_out_ends_every_copy_of_the_session(server, db, api):
    api.post("/v1/orders", json=SEED_ORDER)
    issued = access.create_token(UnitOfWork(db), role="seller", seller_id="acme")
    with signed_in(server.url, issued.secret) as browser:
        copied = _session_cookie(browser)
        assert browser.get(QUEUE).status_code == 200
        page = browser.get(QUEUE)
        out = browser.post("/hub/logout", data={"csrf": csrf_token(page.text)})
        assert out.status_code == 303
    with httpx.Client(base_url=server.url, timeout=30, cookies={"kalem_hub": copied}) as thief:
        after = thief.get(QUEUE)
        assert after.status_code == 303 and after.headers["location"].startswith("/hub/login"), after.text


def test_revoking_the_token_ends_its_hub_sessions(server, db, api):
    issued = access.create_token(UnitOfWork(db), role="seller", seller_id="acme")
    with signed_in(server.url, issued.secret) as browser:
        assert browser.get(QUEUE).status_code == 200
        assert api.delete(f"/v1/tokens/{issued.token_id}").status_code == 204
        after = browser.get(QUEUE)
        assert after.status_code == 303 and after.headers["location"].startswith("/hub/login"), after.text


def test_the_session_cookie_is_httponly_samesite_and_secure_over_tls(server, db):
    issued = access.create_token(UnitOfWork(db), role="seller", seller_id="acme")
    # uvicorn trusts X-Forwarded-Proto from 127.0.0.1, as from a TLS-terminating proxy on the same host
    for headers, secure in (({}, False), ({"X-Forwarded-Proto": "https"}, True)):
        with httpx.Client(base_url=server.url, timeout=30, headers=headers) as browser:
            login = browser.post("/hub/login", data={"csrf": csrf_token(browser.get("/hub/login").text),
                                                     "token": issued.secret})
            cookies = [v for k, v in login.headers.multi_items() if k == "set-cookie"]
            cookie = next((v for v in cookies if v.startswith("kalem_hub=")), str(cookies))
            assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/hub" in cookie, cookie
            assert ("Secure" in cookie) is secure, cookie
