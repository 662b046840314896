"""The CLI: tokens print alone on stdout, migrations run, the demo loads once."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import sqlalchemy as sa

from kalem.app import access
from kalem.domain.errors import AuthenticationFailed
from kalem.store.db import Database
from kalem.store.uow import UnitOfWork


def kalem(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kalem.cli", *args], env={**os.environ, **env},
                          capture_output=True, text=True, timeout=120)


def test_token_create_prints_the_token_alone(tmp_path):
    env = {"KALEM_DATABASE_URL": f"sqlite:///{tmp_path}/k.db"}
    assert kalem("db", "upgrade", env=env).returncode == 0
    seller = kalem("token", "create", "--role", "seller", "--seller-id", "acme", env=env)
    assert seller.returncode == 0, seller.stderr
    assert seller.stdout.count("\n") == 1 and seller.stdout.startswith("kalem_")
    pair = kalem("token", "create", "--role", "seller", "--seller-id", "acme", "--n11", env=env)
    appkey, appsecret = pair.stdout.split()
    assert appkey.startswith("n11k_") and len(appsecret) > 20
    bad = kalem("token", "create", "--role", "seller", env=env)
    assert bad.returncode != 0 and bad.stdout == ""


def test_token_revoke(tmp_path):
    env = {"KALEM_DATABASE_URL": f"sqlite:///{tmp_path}/k.db"}
    assert kalem("db", "upgrade", env=env).returncode == 0
    created = kalem("token", "create", "--role", "seller", "--seller-id", "acme", env=env)
    token_id = created.stderr.split("token id: ")[1].split()[0]
    secret = created.stdout.strip()
    db = Database.connect(env["KALEM_DATABASE_URL"])
    try:
        assert access.authenticate(UnitOfWork(db), secret).subject == token_id
        revoked = kalem("token", "revoke", token_id, env=env)
        assert revoked.returncode == 0, revoked.stderr
        with pytest.raises(AuthenticationFailed):
            access.authenticate(UnitOfWork(db), secret)
        assert kalem("token", "revoke", token_id, env=env).returncode == 0   # again: nothing changes
        unknown = kalem("token", "revoke", "tok_nope", env=env)
        assert unknown.returncode == 2 and "tok_nope not found" in unknown.stderr
    finally:
        db.dispose()


def test_demo_loads_once(tmp_path):
    env = {"KALEM_DATABASE_URL": f"sqlite:///{tmp_path}/k.db"}
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        assert kalem("db", "upgrade", env=env).returncode == 0
        first = kalem("demo", env=env)
        second = kalem("demo", env=env)
    finally:
        os.chdir(cwd)
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout
    assert "operator token: kalem_" in first.stdout
    engine = sa.create_engine(f"sqlite:///{tmp_path}/k.db")
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM orders")).scalar() == 50
        assert conn.execute(sa.text("SELECT count(DISTINCT seller_id) FROM orders")).scalar() == 2
        assert conn.execute(sa.text("SELECT count(*) FROM cancel_requests WHERE status = 'pending'")).scalar() > 0
        statuses = set(conn.execute(sa.text("SELECT DISTINCT status FROM orders")).scalars())
    engine.dispose()
    assert {"open", "shipped", "delivered"} <= statuses
