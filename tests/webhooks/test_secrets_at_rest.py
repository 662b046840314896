"""Secrets at rest, on SQLite and PostgreSQL: signing secrets and receiver credentials are stored
sealed (never plain), deliveries still carry the right signature and auth, rows stored plain still
work until `kalem secrets rotate` seals them, an older key keeps opening what it sealed until the
rotation, and keys that cannot open a value give a clear error — never a secret in a log, an error
body or an API answer."""

from __future__ import annotations

import base64
import dataclasses
import logging
import os
import secrets
import subprocess
import sys
import traceback
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet
from standardwebhooks import Webhook

from kalem.app import webhooks
from kalem.app.principals import Principal
from kalem.bootstrap.worker import build_worker
from kalem.config import Settings
from kalem.store import sealed
from kalem.store.db import Database
from kalem.store.uow import UnitOfWork
from tests.conftest import ADMIN, serving
from tests.support import order
from tests.webhooks.conftest import FAST, SECRET, deliveries, drain, subscribe
from tests.webhooks.receiver import Receiver

OPERATOR = Principal("operator", "secrets-test")
USERNAME = "hook-user-7c1d"
PASSWORD = "pa55w0rd-of-the-receiver-3f9a"
TOKEN = "bearer-t0ken-of-the-receiver-81be"
SECRET_PATH = "T0p53cr3t-path-5e02"
NEW_SECRET = "whsec_" + base64.b64encode(b"n" * 32).decode()
PLAIN = (SECRET, NEW_SECRET, PASSWORD, TOKEN, SECRET_PATH)
KEY_OLD, KEY_NEW, KEY_OTHER = (Fernet.generate_key().decode() for _ in range(3))
BASIC = {"kind": "basic", "username": USERNAME, "password": PASSWORD}
BEARER = {"kind": "bearer", "token": TOKEN}


def stored(db: Database, sub_id: str) -> dict[str, Any]:
    """The subscription's row as the database holds it."""
    with db.engine.connect() as conn:
        row = conn.execute(sa.text("SELECT url, secret, previous_secret, basic_username FROM webhook_subscriptions "
                                   "WHERE id = :id"), {"id": sub_id}).one()
    return dict(row._mapping)


def every_row(db: Database) -> str:
    with db.engine.connect() as conn:
        return repr(conn.execute(sa.text("SELECT * FROM webhook_subscriptions")).all())


def write_plain(db: Database, sub_id: str, **columns: str) -> None:
    """A row as kalem stored it before sealing: the credential in plain text."""
    sets = ", ".join(f"{name} = :{name}" for name in columns)
    with db.engine.begin() as conn:
        conn.execute(sa.text(f"UPDATE webhook_subscriptions SET {sets} WHERE id = :id"), {**columns, "id": sub_id})


def with_keys(server: Any, **settings: str) -> tuple[Settings, Database]:
    """The test server's settings with other keys, and its database (the same engine) with them."""
    changed = server.settings.model_copy(update=settings)
    return changed, dataclasses.replace(server.db, sealer=sealed.from_settings(changed))


def rotate(cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """`kalem secrets rotate` in a process of its own, with only the keys in `env`."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("KALEM_")}
    return subprocess.run([sys.executable, "-m", "kalem.cli", "secrets", "rotate"], env={**clean, **env},
                          cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


def opened_with(key: str, value: str) -> str:
    assert value.startswith(sealed.PREFIX), value
    return Fernet(key.encode()).decrypt(value[len(sealed.PREFIX):].encode()).decode()


def test_the_database_holds_no_plaintext_secret(api, db):
    standard = subscribe(api, "http://127.0.0.1:9/standard")
    basic = subscribe(api, "http://127.0.0.1:9/basic", secret=None, auth=BASIC)
    bearer = subscribe(api, "http://127.0.0.1:9/bearer", secret=None, auth=BEARER)
    secret_url = subscribe(api, f"http://127.0.0.1:9/{SECRET_PATH}", secret=None, auth={"kind": "secret_url"})
    rotated = api.patch(f"/v1/webhook-subscriptions/{standard['id']}", json={"secret": NEW_SECRET})
    assert rotated.status_code == 200, rotated.text

    rows = every_row(db)
    assert [plain for plain in PLAIN if plain in rows] == []
    assert stored(db, standard["id"])["secret"].startswith(sealed.PREFIX)
    assert stored(db, standard["id"])["previous_secret"].startswith(sealed.PREFIX)
    assert stored(db, basic["id"])["secret"].startswith(sealed.PREFIX)
    assert stored(db, bearer["id"])["secret"].startswith(sealed.PREFIX)
    assert stored(db, secret_url["id"])["url"].startswith(sealed.PREFIX)
    # What is no credential stays readable where it is stored.
    assert stored(db, basic["id"])["basic_username"] == USERNAME
    assert stored(db, standard["id"])["url"] == "http://127.0.0.1:9/standard"
    # The API keeps showing no secret, and no sealed value either.
    answers = api.get("/v1/webhook-subscriptions").text + api.get(f"/v1/webhook-subscriptions/{secret_url['id']}").text
    assert [plain for plain in PLAIN if plain in answers] == [] and sealed.PREFIX not in answers
    assert f"http://127.0.0.1:9/{SECRET_PATH}" in [
        s["url"] for s in webhooks.list_subscriptions(UnitOfWork(db), OPERATOR)]   # use cases see it plain


def test_deliveries_are_signed_and_authenticated_with_the_original_secrets(api, receiver, worker):
    standard = subscribe(api, f"{receiver.url}/standard")
    subscribe(api, f"{receiver.url}/basic", secret=None, auth=BASIC)
    subscribe(api, f"{receiver.url}/bearer", secret=None, auth=BEARER)
    subscribe(api, f"{receiver.url}/{SECRET_PATH}", secret=None, auth={"kind": "secret_url"})
    assert api.patch(f"/v1/webhook-subscriptions/{standard['id']}", json={"secret": NEW_SECRET}).status_code == 200
    assert api.post("/v1/orders", json=order("4000000951")).status_code == 201
    drain(worker, lambda: len(receiver.requests) == 4)

    got = {r.path: r for r in receiver.requests}
    signed = got["/hooks/standard"]
    # During the rotation window both the new secret and the one it replaced sign (both were sealed).
    assert Webhook(NEW_SECRET).verify(signed.body, signed.headers)["order_number"] == "4000000951"
    assert Webhook(SECRET).verify(signed.body, signed.headers)["order_number"] == "4000000951"
    basic = base64.b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode()
    assert got["/hooks/basic"].headers["authorization"] == f"Basic {basic}"
    assert got["/hooks/bearer"].headers["authorization"] == f"Bearer {TOKEN}"
    assert "authorization" not in got[f"/hooks/{SECRET_PATH}"].headers
    drain(worker, lambda: all(d["status"] == "delivered" for d in deliveries(api)))


def test_a_row_stored_plain_is_used_and_then_sealed_by_rotate(api, db, server, receiver, worker, tmp_path):
    standard = subscribe(api, f"{receiver.url}/standard")
    bearer = subscribe(api, f"{receiver.url}/bearer", secret=None, auth=BEARER)
    secret_url = subscribe(api, f"{receiver.url}/{SECRET_PATH}", secret=None, auth={"kind": "secret_url"})
    write_plain(db, standard["id"], secret=SECRET)
    write_plain(db, bearer["id"], secret=TOKEN)
    write_plain(db, secret_url["id"], url=f"{receiver.url}/{SECRET_PATH}")
    assert stored(db, bearer["id"])["secret"] == TOKEN

    assert api.post("/v1/orders", json=order("4000000952")).status_code == 201
    drain(worker, lambda: len(receiver.requests) == 3)
    got = {r.path: r for r in receiver.requests}
    Webhook(SECRET).verify(got["/hooks/standard"].body, got["/hooks/standard"].headers)
    assert got["/hooks/bearer"].headers["authorization"] == f"Bearer {TOKEN}"
    assert f"/hooks/{SECRET_PATH}" in got

    result = rotate(tmp_path, KALEM_DATABASE_URL=server.settings.database_url,
                    KALEM_SECRET_KEY=server.settings.secret_key)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "3 of 3 webhook subscriptions re-sealed with the current key"
    rows = every_row(db)
    assert [plain for plain in PLAIN if plain in rows] == []
    assert stored(db, secret_url["id"])["url"].startswith(sealed.PREFIX)
    again = rotate(tmp_path, KALEM_DATABASE_URL=server.settings.database_url,
                   KALEM_SECRET_KEY=server.settings.secret_key)
    assert again.stdout.strip() == "0 of 3 webhook subscriptions re-sealed with the current key", again.stderr
    assert every_row(db) == rows   # nothing rewritten the second time

    assert api.post("/v1/orders", json=order("4000000953")).status_code == 201
    drain(worker, lambda: len(receiver.requests) == 6)
    later = {r.path: r for r in receiver.requests[3:]}
    assert Webhook(SECRET).verify(later["/hooks/standard"].body, later["/hooks/standard"].headers)
    assert later["/hooks/bearer"].headers["authorization"] == f"Bearer {TOKEN}"
    assert f"/hooks/{SECRET_PATH}" in later


def test_an_older_key_opens_until_rotate_seals_under_the_new_one(api, server, db, receiver, tmp_path):
    _, old = with_keys(server, encryption_keys=KEY_OLD)
    both_settings, both = with_keys(server, encryption_keys=f"{KEY_NEW},{KEY_OLD}")
    _, new_only = with_keys(server, encryption_keys=KEY_NEW, secret_key="another-secret-key-of-at-least-32-bytes")
    worker = build_worker(both_settings, both, poll_seconds=0.01, lease_seconds=30, timeout_seconds=5, retry=FAST)
    try:
        sub, _ = webhooks.create_subscription(UnitOfWork(old), OPERATOR, webhooks.SubscriptionSpec(
            url=receiver.url, event_types=["*"], auth=BEARER), allow_private=True)
        assert opened_with(KEY_OLD, stored(db, sub["id"])["secret"]) == TOKEN

        # The new key seals, the old one still opens: the worker and the use cases carry on.
        assert webhooks.get_subscription(UnitOfWork(both), OPERATOR, sub["id"])["secret"] == TOKEN
        assert api.post("/v1/orders", json=order("4000000954")).status_code == 201
        drain(worker, lambda: len(receiver.requests) == 1)
        assert receiver.requests[0].headers["authorization"] == f"Bearer {TOKEN}"
        with pytest.raises(sealed.SecretsUnavailable):   # not without the old key, yet
            webhooks.get_subscription(UnitOfWork(new_only), OPERATOR, sub["id"])

        result = rotate(tmp_path, KALEM_DATABASE_URL=server.settings.database_url,
                        KALEM_ENCRYPTION_KEYS=f"{KEY_NEW},{KEY_OLD}")
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == "1 of 1 webhook subscriptions re-sealed with the current key"
        assert opened_with(KEY_NEW, stored(db, sub["id"])["secret"]) == TOKEN
        assert webhooks.get_subscription(UnitOfWork(new_only), OPERATOR, sub["id"])["secret"] == TOKEN
        again = rotate(tmp_path, KALEM_DATABASE_URL=server.settings.database_url,
                       KALEM_ENCRYPTION_KEYS=f"{KEY_NEW},{KEY_OLD}")
        assert again.stdout.strip() == "0 of 1 webhook subscriptions re-sealed with the current key"
    finally:
        worker.close()


def test_keys_that_cannot_open_a_secret_give_a_clear_error(api, server, db, receiver, tmp_path, caplog):
    sub = subscribe(api, receiver.url, secret=None, auth=BEARER)
    before = every_row(db)
    other = "another-secret-key-of-at-least-32-bytes"   # the secret key changed, and with it the derived key
    wrong_settings, wrong = with_keys(server, secret_key=other)
    worker = build_worker(wrong_settings, wrong, poll_seconds=0.01, lease_seconds=30, timeout_seconds=5, retry=FAST)
    try:
        with serving(wrong_settings, wrong) as url:
            answer = httpx.get(f"{url}/v1/webhook-subscriptions/{sub['id']}",
                               headers={"Authorization": f"Bearer {ADMIN}"}, timeout=30)
        assert answer.status_code == 503, answer.text
        error = answer.json()["error"]
        assert error["code"] == "secrets_unavailable" and "KALEM_ENCRYPTION_KEYS" in error["message"]
        assert "Traceback" not in answer.text and TOKEN not in answer.text

        # The worker sends nothing and records the failure with a stable reason; it is retried later.
        with caplog.at_level(logging.INFO):
            assert api.post("/v1/orders", json=order("4000000955")).status_code == 201
            drain(worker, lambda: bool(deliveries(api)[0]["attempts"]))
        [delivery] = deliveries(api)
        assert delivery["status"] == "failed" and delivery["last_error"].startswith("secrets_unavailable: ")
        assert receiver.requests == []
        assert any("not sent" in r.getMessage() and r.levelno == logging.ERROR for r in caplog.records)
        assert [r for r in caplog.records if TOKEN in r.getMessage()] == []

        # Rotating with those keys changes nothing, and says why.
        result = rotate(tmp_path, KALEM_DATABASE_URL=server.settings.database_url, KALEM_SECRET_KEY=other)
        assert result.returncode == 1 and "cannot be opened" in result.stderr and "nothing was changed" in result.stderr
        assert every_row(db) == before
    finally:
        worker.close()


@pytest.mark.parametrize("command", [("secrets", "rotate"), ("worker",)])
def test_a_key_that_is_no_fernet_key_stops_start_up_without_showing_it(tmp_path, command):
    bad = "not-a-fernet-key-" + secrets.token_hex(8)
    env = {k: v for k, v in os.environ.items() if not k.startswith("KALEM_")}
    started = subprocess.run([sys.executable, "-m", "kalem.cli", *command], cwd=tmp_path, capture_output=True,
                             text=True, timeout=120, check=False, env={**env, "KALEM_DATABASE_URL": f"sqlite:///{tmp_path}/k.db",
                                                          "KALEM_ENCRYPTION_KEYS": f"{KEY_NEW},{bad}"})
    assert started.returncode != 0
    assert "KALEM_ENCRYPTION_KEYS: key 2 of 2 is not a Fernet key" in started.stderr, started.stderr[-2000:]
    assert bad not in started.stdout + started.stderr and KEY_NEW not in started.stdout + started.stderr


def test_a_failed_statement_carrying_secrets_shows_them_in_no_log_and_no_body(api, db, server, caplog):
    """A statement refused by the database (a trigger here) fails without its parameters: not in the
    error's message, its traceback, a log record, or the answer."""
    url = f"http://127.0.0.1:9/{SECRET_PATH}"
    hidden = (PASSWORD, USERNAME, SECRET_PATH, sealed.PREFIX)
    with refusing_inserts(db):
        with caplog.at_level(logging.INFO):   # SQLAlchemy logs every statement at this level
            answer = api.post("/v1/webhook-subscriptions", json={"url": url, "event_types": ["*"], "auth": BASIC})
        with pytest.raises(sa.exc.DBAPIError) as failed:
            webhooks.create_subscription(UnitOfWork(db), OPERATOR, webhooks.SubscriptionSpec(
                url=url, event_types=["*"], auth=BASIC), allow_private=True)
    # PostgreSQL: an unexpected database error, logged with its traceback (500); SQLite's trigger
    # raises a constraint failure, answered as a conflict (409).
    assert answer.status_code == (409 if db.is_sqlite else 500), answer.text
    logged = "\n".join(logging.Formatter().format(r) for r in caplog.records)
    assert db.is_sqlite or "refused by a test trigger" in logged   # the error was logged, traceback and all
    shown = "".join(traceback.format_exception(failed.value))
    assert "refused by a test trigger" in shown and "hide_parameters=True" in shown
    assert [v for v in hidden if v in answer.text or v in logged or v in shown] == []


class refusing_inserts:
    """A trigger that makes every insert of a subscription fail, on either database."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def __enter__(self) -> None:
        with self.db.engine.begin() as conn:
            if self.db.is_sqlite:
                conn.exec_driver_sql("CREATE TRIGGER refuse_subscriptions BEFORE INSERT ON webhook_subscriptions "
                                     "BEGIN SELECT RAISE(ABORT, 'refused by a test trigger'); END")
            else:
                conn.exec_driver_sql("CREATE FUNCTION refuse_subscriptions() RETURNS trigger LANGUAGE plpgsql AS "
                                     "$$ BEGIN RAISE EXCEPTION 'refused by a test trigger'; END $$")
                conn.exec_driver_sql("CREATE TRIGGER refuse_subscriptions BEFORE INSERT ON webhook_subscriptions "
                                     "FOR EACH ROW EXECUTE FUNCTION refuse_subscriptions()")

    def __exit__(self, *_: object) -> None:
        with self.db.engine.begin() as conn:
            conn.exec_driver_sql("DROP TRIGGER IF EXISTS refuse_subscriptions"
                                 + ("" if self.db.is_sqlite else " ON webhook_subscriptions"))
            if not self.db.is_sqlite:
                conn.exec_driver_sql("DROP FUNCTION IF EXISTS refuse_subscriptions()")


def test_a_failed_send_to_a_secret_url_does_not_show_its_path(api, worker):
    closed = Receiver()   # never started: the connection is refused
    subscribe(api, f"{closed.url}/{SECRET_PATH}", secret=None, auth={"kind": "secret_url"})
    assert api.post("/v1/orders", json=order("4000000956")).status_code == 201
    drain(worker, lambda: bool(deliveries(api)[0]["attempts"]))
    answers = api.get("/v1/webhook-deliveries").text
    assert deliveries(api)[0]["last_error"] and SECRET_PATH not in answers


# -- the sealer itself (no database) ------------------------------------------------------------------

def test_the_first_key_seals_every_key_opens_and_rotate_moves_values_to_the_first():
    old, both = sealed.Sealer([KEY_OLD.encode()]), sealed.Sealer([KEY_NEW.encode(), KEY_OLD.encode()])
    by_old = old.seal(TOKEN)
    assert by_old.startswith(sealed.PREFIX) and TOKEN not in by_old and old.seal(TOKEN) != by_old  # fresh IV
    assert both.open(by_old) == TOKEN and opened_with(KEY_NEW, both.seal(TOKEN)) == TOKEN
    moved = both.rotate(by_old)
    assert moved != by_old and opened_with(KEY_NEW, moved) == TOKEN
    assert both.rotate(moved) == moved                       # already under the first key: unchanged
    assert opened_with(KEY_NEW, both.rotate(TOKEN)) == TOKEN  # plain: sealed
    assert both.open(TOKEN) == TOKEN and sealed.UNKEYED.open(TOKEN) == TOKEN   # plain reads as itself
    for refused in (lambda: sealed.Sealer([KEY_OTHER.encode()]).open(by_old), lambda: sealed.UNKEYED.seal(TOKEN),
                    lambda: sealed.Sealer([KEY_OTHER.encode()]).rotate(by_old)):
        with pytest.raises(sealed.SecretsUnavailable):
            refused()


def test_without_keys_one_is_derived_from_the_secret_key_and_still_opens_once_keys_are_set():
    derived = sealed.from_settings(Settings(secret_key="s" * 40))
    value = derived.seal(TOKEN)
    assert sealed.from_settings(Settings(secret_key="s" * 40)).open(value) == TOKEN   # the same key every time
    with pytest.raises(sealed.SecretsUnavailable):
        sealed.from_settings(Settings(secret_key="t" * 40)).open(value)
    explicit = sealed.from_settings(Settings(secret_key="s" * 40, encryption_keys=f" {KEY_NEW} , {KEY_OLD} "))
    assert explicit.open(value) == TOKEN                           # the derived key opens, never seals
    assert opened_with(KEY_NEW, explicit.rotate(value)) == TOKEN
    with pytest.raises(sealed.InvalidEncryptionKeys, match="key 2 of 2") as refused:
        sealed.from_settings(Settings(encryption_keys=f"{KEY_NEW},{KEY_OLD[:-4]}"))
    assert KEY_OLD[:-4] not in str(refused.value)


def test_a_generated_secret_key_is_kept_owner_only_and_reused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = Settings(secret_key="")
    assert settings.resolved_secret_key(create=False) == ""
    key = settings.resolved_secret_key()
    assert len(key) >= 32 and settings.resolved_secret_key() == key == Settings(secret_key="").resolved_secret_key()
    assert (tmp_path / "var/secret_key").stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in (tmp_path / "var").iterdir()) == ["secret_key"]   # no draft left behind
