"""A seller id kalem does not know is refused wherever an operator names one — `POST /v1/orders`, its
batch, `kalem import`, `kalem user create`, as `kalem token create` refuses it — unless the operator says
to create the seller (`create_seller: true`, `--new-seller`): a typo creates no seller."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import sqlalchemy as sa

from tests.conftest import snapshot
from tests.support import client_for, order, token


def _sellers(db) -> list[str]:
    with db.engine.connect() as conn:
        return list(conn.execute(sa.text("SELECT id FROM sellers ORDER BY id")).scalars())


def test_an_operators_order_for_an_unknown_seller_is_refused_and_changes_nothing(api, db):
    before = snapshot(db)
    refused = api.post("/v1/orders", json=order("4000000001", seller="acmee"))
    assert refused.status_code == 404, refused.text
    error = refused.json()["error"]
    assert error["code"] == "unknown_seller"
    assert error["details"]["seller_id"] == "acmee"
    assert error["details"]["errors"][0]["field"] == "seller_id"
    assert snapshot(db) == before
    assert api.get("/v1/orders/4000000001").status_code == 404


def test_create_seller_takes_the_order_in_and_the_seller_is_known_from_then_on(api, db):
    created = api.post("/v1/orders", json={**order("4000000001", seller="initech"), "create_seller": True})
    assert created.status_code == 201, created.text
    assert created.json()["seller_id"] == "initech" and "create_seller" not in created.json()
    assert "initech" in _sellers(db)
    assert api.post("/v1/orders", json=order("4000000002", seller="initech")).status_code == 201
    # the same order again, with or without the flag, is the same order
    assert api.post("/v1/orders", json=order("4000000001", seller="initech")).status_code == 200


def test_a_sellers_own_order_names_a_seller_that_is_known(api, db):
    seller = client_for(api, token(db, "seller", "acme"))
    assert seller.post("/v1/orders", json={**order("4000000001"), "seller_id": None}).status_code == 201
    assert seller.post("/v1/orders", json={**order("4000000002"), "create_seller": True}).status_code == 201
    assert _sellers(db).count("acme") == 1


def test_create_seller_must_be_a_boolean(api, db):
    before = snapshot(db)
    refused = api.post("/v1/orders", json={**order("4000000001", seller="initech"), "create_seller": "yes"})
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "invalid_request"
    assert refused.json()["error"]["details"]["errors"][0]["field"] == "create_seller"
    assert snapshot(db) == before


def test_a_batch_refuses_each_order_of_an_unknown_seller_on_its_own(api, db):
    batch = api.post("/v1/orders/batch", json={"orders": [
        order("4000000001"),                                                 # acme is known
        order("4000000002", seller="initech"),                               # unknown: refused
        {**order("4000000003", seller="initech"), "create_seller": True},    # created here…
        order("4000000004", seller="initech"),                               # …so known from here on
        order("4000000005", seller="umbrella"),
    ]})
    assert batch.status_code == 200, batch.text
    results = batch.json()["results"]
    assert [r["status"] for r in results] == [201, 404, 201, 201, 404]
    assert [r["error"]["code"] for r in results if r["error"]] == ["unknown_seller", "unknown_seller"]
    assert results[4]["error"]["details"]["seller_id"] == "umbrella"
    assert "umbrella" not in _sellers(db)
    assert api.get("/v1/orders/4000000002").status_code == 404


def _kalem(*args: str, database_url: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kalem.cli", *args], input=stdin, capture_output=True, text=True,
                          timeout=300, env={**os.environ, "KALEM_DATABASE_URL": database_url})


def test_kalem_import_refuses_unknown_sellers_unless_told_to_create_them(tmp_path, server, db, api):
    path = tmp_path / "orders.jsonl"
    path.write_text("".join(json.dumps(o) + "\n" for o in (
        order("4000000001"), order("4000000002", seller="initech"),
        {**order("4000000003", seller="umbrella"), "create_seller": True})))
    url = server.settings.database_url
    run = _kalem("import", str(path), "--no-progress", database_url=url)
    assert run.returncode == 1, run.stderr
    assert "2 taken in, 0 already there, 1 refused" in run.stdout, run.stdout
    assert "line 2: unknown_seller: seller initech is not known" in run.stdout
    assert "run the import again with --new-seller" in run.stdout
    assert "initech" not in _sellers(db) and "umbrella" in _sellers(db)

    again = _kalem("import", str(path), "--no-progress", "--new-seller", database_url=url)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "1 taken in, 2 already there, 0 refused" in again.stdout, again.stdout
    assert api.get("/v1/orders/4000000002").json()["seller_id"] == "initech"


def test_kalem_user_create_refuses_an_unknown_seller_unless_told_to_create_it(server, db):
    url = server.settings.database_url
    before = snapshot(db)
    typo = _kalem("user", "create", "--username", "ayse", "--seller-id", "acmee", database_url=url,
                  stdin="a-long-password\n")
    assert typo.returncode == 2 and typo.stdout == ""
    assert "seller acmee is not known" in typo.stderr
    assert snapshot(db) == before
    known = _kalem("user", "create", "--username", "ayse", "--seller-id", "acme", database_url=url,
                   stdin="a-long-password\n")
    assert known.returncode == 0, known.stderr
    new = _kalem("user", "create", "--username", "mehmet", "--seller-id", "initech", "--new-seller",
                 database_url=url, stdin="a-long-password\n")
    assert new.returncode == 0, new.stderr
    assert "initech" in _sellers(db)
