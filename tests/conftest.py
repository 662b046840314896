"""Test fixtures: real SQLite and real PostgreSQL, real HTTP.

One throwaway PostgreSQL per test process (or `KALEM_TEST_POSTGRES_URL`), one migrated database
per backend, one uvicorn server per backend in a thread; tables are emptied before every test.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import uvicorn

from kalem.bootstrap.api import build_app
from kalem.bootstrap.platforms import metadata as whole_schema
from kalem.config import Settings
from kalem.devtools.postgres import ThrowawayPostgres
from kalem.store import sealed
from kalem.store.db import Database
from kalem.store.migrate import upgrade
from tests.ports import server_port

ADMIN = "test-admin-token"
#: Every table, the platforms' own included.
metadata = whole_schema()
BACKENDS = ("sqlite", "postgresql")


@pytest.fixture(scope="session")
def postgres() -> Iterator[str]:
    url = os.environ.get("KALEM_TEST_POSTGRES_URL")
    if url:
        yield url
        return
    with ThrowawayPostgres() as pg:
        yield pg.url


@pytest.fixture(scope="session")
def sqlite_template() -> Iterator[Path]:
    root = Path(tempfile.mkdtemp(prefix="kalem-sqlite-"))
    path = root / "template.db"
    upgrade(f"sqlite:///{path}")
    yield path
    shutil.rmtree(root, ignore_errors=True)


class Server:
    def __init__(self, url: str, db: Database, settings: Settings) -> None:
        self.url, self.db, self.settings = url, db, settings


@pytest.fixture(scope="session")
def servers(postgres: str, sqlite_template: Path) -> Iterator[dict[str, Server]]:
    sqlite_path = sqlite_template.parent / "live.db"
    shutil.copy(sqlite_template, sqlite_path)
    upgrade(postgres)
    urls = {"sqlite": f"sqlite:///{sqlite_path}", "postgresql": postgres}
    with contextlib.ExitStack() as stack:
        started: dict[str, Server] = {}
        for name, db_url in urls.items():
            settings = Settings(database_url=db_url, admin_token=ADMIN,
                                secret_key="test-secret-key-of-at-least-32-bytes!",
                                max_body_bytes=65536, webhook_allow_private_urls=True, rate_limit_per_second=0,
                                login_attempts_per_minute=60_000, login_burst=10_000)  # tests sign in a lot
            db = Database.connect(db_url, sealer=sealed.from_settings(settings))
            started[name] = Server(stack.enter_context(serving(settings, db)), db, settings)
        yield started


@contextlib.contextmanager
def serving(settings: Settings, db: Database, app: Any = None) -> Iterator[str]:
    """kalem's app (or `app`) on a free loopback port, uvicorn in a thread: yields its base URL."""
    port = server_port()
    server = uvicorn.Server(uvicorn.Config(app or build_app(settings, db), host="127.0.0.1", port=port,
                                           log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started, "the test server did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


#: The sellers the tests' orders name, there before each test as a seller is set up before its first order
#: (an operator's order for a seller kalem does not know is refused unless it says `create_seller`).
KNOWN_SELLERS = ("acme", "globex", "other")


def empty(db: Database) -> None:
    """No rows but the known sellers'."""
    with db.engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            conn.execute(table.delete())
        conn.execute(metadata.tables["sellers"].insert(),
                     [{"id": seller, "created_at": datetime.now(UTC)} for seller in KNOWN_SELLERS])


@pytest.fixture(params=BACKENDS)
def server(request: pytest.FixtureRequest, servers: dict[str, Server]) -> Server:
    chosen = servers[request.param]
    empty(chosen.db)
    return chosen


@pytest.fixture
def db(server: Server) -> Database:
    return server.db


@pytest.fixture
def api(server: Server) -> Iterator[httpx.Client]:
    """An operator's client."""
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {ADMIN}"}, timeout=30) as client:
        yield client


@pytest.fixture
def anon(server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        yield client


def snapshot(db: Database) -> dict[str, list[tuple]]:
    """Every row of every table: compared before and after a refused request."""
    with db.engine.connect() as conn:
        return {t.name: sorted(tuple(str(v) for v in row) for row in conn.execute(sa.select(t)))
                for t in metadata.sorted_tables if t.name not in ("idempotency_keys",)}
