"""Logins cannot starve the server or tell which users exist: one hash per attempt, known user or not;
checks bounded per process and per account (429 with Retry-After); Argon2id with its parameters stored,
rehashed when they change; users disabled for good; passwords never on a command line."""

from __future__ import annotations

import threading

import httpx
import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

from kalem.app import access
from kalem.app.logins import LoginGuard
from kalem.config import Settings
from kalem.domain.errors import AuthenticationFailed, TooManyLogins
from kalem.store.uow import UnitOfWork
from tests.conftest import ADMIN, serving
from tests.support import csrf_token
from tests.test_cli import kalem

CHEAP = {"time_cost": 1, "memory_cost": 8, "parallelism": 1}


class CountingHasher(PasswordHasher):
    """Argon2id with tiny parameters, counting the hashes it computes (a fake, not a mock: it hashes)."""

    def __init__(self, **params: int) -> None:
        super().__init__(**(params or CHEAP))
        self.verified = 0

    def verify(self, hash: str, password: str | bytes) -> bool:  # noqa: A002 (argon2's name)
        self.verified += 1
        return super().verify(hash, password)


def _stored_hash(db, username: str) -> str:
    with db.engine.connect() as conn:
        return conn.execute(sa.text("SELECT password_hash FROM users WHERE username = :u"),
                            {"u": username}).scalar_one()


def test_known_and_unknown_users_cost_one_hash_each(db, server):
    hasher = CountingHasher()
    access.create_user(UnitOfWork(db), username="ayse", password="right-pass", role="seller", seller_id="acme")
    for username, password in (("ayse", "wrong-pass"), ("nobody", "wrong-pass"), ("ayse", "right-pass")):
        before = hasher.verified
        try:
            access.login(UnitOfWork(db), username, password, hasher)
        except AuthenticationFailed:
            pass
        assert hasher.verified - before == 1, username


def test_hashes_are_argon2id_and_are_replaced_when_their_parameters_change(db, server):
    access.create_user(UnitOfWork(db), username="can", password="right-pass", role="seller", seller_id="acme")
    assert _stored_hash(db, "can").startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    stronger = CountingHasher(time_cost=3, memory_cost=32, parallelism=1)
    access.login(UnitOfWork(db), "can", "right-pass", stronger)
    assert _stored_hash(db, "can").startswith("$argon2id$v=19$m=32,t=3,p=1$")
    access.login(UnitOfWork(db), "can", "right-pass", stronger)   # and still accepted


def test_an_older_scrypt_hash_is_accepted_once_and_replaced(db, server):
    import hashlib

    salt = b"0123456789abcdef"
    legacy = f"scrypt${salt.hex()}${hashlib.scrypt(b'old-pass-1', salt=salt, n=2**14, r=8, p=1).hex()}"
    with db.engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO users (username, password_hash, role, seller_id, created_at) "
                             "VALUES ('eski', :h, 'seller', 'acme', CURRENT_TIMESTAMP)"), {"h": legacy})
    with pytest.raises(AuthenticationFailed):
        access.login(UnitOfWork(db), "eski", "wrong-pass")
    assert access.login(UnitOfWork(db), "eski", "old-pass-1").subject == "user:eski"
    assert _stored_hash(db, "eski").startswith("$argon2id$")


def test_a_disabled_user_can_no_longer_log_in_and_its_jwts_stop(db, server, api):
    access.create_user(UnitOfWork(db), username="gone", password="right-pass", role="operator", seller_id=None)
    login = api.post("/Auth/login", json={"UserName": "gone", "Password": "right-pass"})
    assert login.status_code == 200, login.text
    access.disable_user(UnitOfWork(db), "gone")   # before the JWT is first used: no cached check to wait out
    bearer = {"Authorization": f"Bearer {login.json()['token']}"}
    with httpx.Client(base_url=server.url, timeout=30, headers=bearer) as jwt:
        assert jwt.get("/v1/orders").status_code == 401
    again = api.post("/Auth/login", json={"UserName": "gone", "Password": "right-pass"})
    assert again.status_code == 401, again.text


def test_a_changed_password_ends_the_sessions_and_jwts_issued_before_it(db, server, api):
    access.create_user(UnitOfWork(db), username="leak", password="old-pass-1", role="seller", seller_id="acme")
    login = api.post("/Auth/login", json={"UserName": "leak", "Password": "old-pass-1"})
    assert login.status_code == 200, login.text
    with httpx.Client(base_url=server.url, timeout=30) as browser:
        form = browser.get("/hub/login")
        signed_in = browser.post("/hub/login", data={"csrf": csrf_token(form.text), "username": "leak",
                                                     "password": "old-pass-1"})
        assert signed_in.status_code == 303 and browser.cookies.get("kalem_hub"), signed_in.text
        # changed before either is first used, so no cached check is left to wait out
        access.set_password(UnitOfWork(db), "leak", "new-pass-2")
        after = browser.get("/hub/cancel-requests")
        assert after.status_code == 303 and after.headers["location"].startswith("/hub/login"), after.text
    old = {"Authorization": f"Bearer {login.json()['token']}"}
    with httpx.Client(base_url=server.url, timeout=30, headers=old) as jwt:
        assert jwt.get("/v1/orders").status_code == 401
    assert api.post("/Auth/login", json={"UserName": "leak", "Password": "old-pass-1"}).status_code == 401
    again = api.post("/Auth/login", json={"UserName": "leak", "Password": "new-pass-2"})
    assert again.status_code == 200, again.text
    new = {"Authorization": f"Bearer {again.json()['token']}"}
    with httpx.Client(base_url=server.url, timeout=30, headers=new) as jwt:
        assert jwt.get("/v1/orders").status_code == 200


def test_a_rehash_at_login_is_not_a_password_change(db, server, api):
    access.create_user(UnitOfWork(db), username="kalir", password="right-pass", role="seller", seller_id="acme")
    login = api.post("/Auth/login", json={"UserName": "kalir", "Password": "right-pass"})
    assert login.status_code == 200, login.text
    access.login(UnitOfWork(db), "kalir", "right-pass", CountingHasher(time_cost=3, memory_cost=32, parallelism=1))
    assert _stored_hash(db, "kalir").startswith("$argon2id$v=19$m=32,t=3,p=1$")   # rehashed
    with httpx.Client(base_url=server.url, timeout=30,
                      headers={"Authorization": f"Bearer {login.json()['token']}"}) as jwt:
        assert jwt.get("/v1/orders").status_code == 200


def test_at_most_the_slots_hash_at_once_and_the_rest_are_told_to_retry(db, server):
    access.create_user(UnitOfWork(db), username="busy", password="right-pass", role="seller", seller_id="acme")
    inside, release = threading.Event(), threading.Event()

    class Blocking(CountingHasher):
        def verify(self, hash: str, password: str | bytes) -> bool:  # noqa: A002
            inside.set()
            release.wait(30)
            return super().verify(hash, password)

    guard = LoginGuard(slots=1, hasher=Blocking())
    first = threading.Thread(target=guard.login, args=(UnitOfWork(db), "busy", "right-pass"))
    first.start()
    try:
        assert inside.wait(30)
        with pytest.raises(TooManyLogins) as refused:
            guard.login(UnitOfWork(db), "busy", "right-pass")
        assert refused.value.details["retry_after"] == 1
    finally:
        release.set()
        first.join(30)
    assert guard.login(UnitOfWork(db), "busy", "right-pass").subject == "user:busy"   # the slot is free again


def test_an_account_is_throttled_below_the_hashing_capacity_with_retry_after(db, server):
    """A server with the default login limits: the 11th attempt within a minute on one account is a 429
    in the face's own envelope, with Retry-After, before any hash is computed."""
    settings = Settings(database_url=str(db.engine.url.render_as_string(hide_password=False)), admin_token=ADMIN,
                        secret_key="test-secret-key-of-at-least-32-bytes!", rate_limit_per_second=0)
    access.create_user(UnitOfWork(db), username="target", password="right-pass", role="seller", seller_id="acme")
    with serving(settings, db) as url, httpx.Client(base_url=url, timeout=30) as anon:
        answers = [anon.post("/Auth/login", json={"UserName": "target", "Password": f"guess-{i}"}) for i in range(11)]
        assert [a.status_code for a in answers] == [401] * 10 + [429]
        assert int(answers[-1].headers["Retry-After"]) >= 1
        assert answers[-1].json()["isSuccess"] is False
        other = anon.post("/Auth/login", json={"UserName": "someone-else", "Password": "x" * 8})
        assert other.status_code == 401   # another account is not held back


def test_a_nul_in_a_login_name_is_a_401_not_a_500(api):
    response = api.post("/Auth/login", json={"UserName": "a\u0000b", "Password": "whatever-1"})
    assert response.status_code in (401, 422), response.text



def test_the_cli_takes_passwords_from_stdin_never_as_an_argument(tmp_path):
    env = {"KALEM_DATABASE_URL": f"sqlite:///{tmp_path}/k.db"}
    assert kalem("db", "upgrade", env=env).returncode == 0
    refused = kalem("user", "create", "--username", "u1", "--password", "secret-pass", env=env)
    assert refused.returncode == 2 and "--password" in refused.stderr
    created = kalem("user", "create", "--username", "u1", "--role", "operator", env=env, stdin="secret-pass\n")
    assert created.returncode == 0, created.stderr
    from kalem.store.db import Database
    db = Database.connect(env["KALEM_DATABASE_URL"])
    try:
        assert access.login(UnitOfWork(db), "u1", "secret-pass").role == "operator"
        changed = kalem("user", "password", "u1", env=env, stdin="another-pass\n")
        assert changed.returncode == 0, changed.stderr
        with pytest.raises(AuthenticationFailed):
            access.login(UnitOfWork(db), "u1", "secret-pass")
        assert access.login(UnitOfWork(db), "u1", "another-pass").subject == "user:u1"
        assert kalem("user", "disable", "u1", env=env).returncode == 0
        with pytest.raises(AuthenticationFailed):
            access.login(UnitOfWork(db), "u1", "another-pass")
        missing = kalem("user", "disable", "nobody", env=env)
        assert missing.returncode == 2 and "nobody not found" in missing.stderr
    finally:
        db.dispose()
