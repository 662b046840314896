"""A client that leaves mid-body is its own doing: one access-log line with status 499 (the
convention of nginx), no traceback, no error record, nothing stored."""

from __future__ import annotations

import logging
import socket
import time
from urllib.parse import urlsplit

import pytest

from tests.conftest import ADMIN, snapshot


def _leave_mid_body(url: str, path: str) -> None:
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port)) as conn:
        conn.sendall((f"POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {ADMIN}\r\n"
                      "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"order_num").encode())


def _access_line(caplog: pytest.LogCaptureFixture, path: str) -> logging.LogRecord:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = [r for r in caplog.records if r.name == "kalem.access" and getattr(r, "path", None) == path]
        if found:
            return found[0]
        time.sleep(0.02)
    raise AssertionError(f"no access line for {path}")


@pytest.mark.parametrize("path", ["/v1/orders", "/v1/orders/4000000001/cancellations", "/v1/cancel-requests",
                                  "/graphql", "/v1/webhook-subscriptions"])
def test_a_client_leaving_mid_body_is_logged_as_499_without_a_traceback(server, db, caplog, path):
    before = snapshot(db)
    caplog.set_level(logging.INFO)
    _leave_mid_body(server.url, path)
    line = _access_line(caplog, path)
    assert line.status == 499, line.getMessage()
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert errors == [], [r.getMessage() for r in errors]
    assert snapshot(db) == before
