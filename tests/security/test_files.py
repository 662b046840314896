"""Secrets at rest: the embedded database and its WAL files are their owner's only."""

from __future__ import annotations

import stat

import sqlalchemy as sa

from kalem.store.db import Database


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_database_and_its_wal_files_are_owner_only(tmp_path):
    path = tmp_path / "var" / "kalem.db"
    db = Database.connect(f"sqlite:///{path}")
    try:
        with db.engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE t (x)")
            conn.execute(sa.text("INSERT INTO t VALUES (1)"))
        files = [path, path.with_name("kalem.db-wal"), path.with_name("kalem.db-shm")]
        assert all(f.exists() for f in files)
        assert {f.name: _mode(f) for f in files} == {f.name: 0o600 for f in files}
        assert _mode(path.parent) == 0o700
    finally:
        db.dispose()


def test_an_older_world_readable_database_is_tightened(tmp_path):
    path = tmp_path / "kalem.db"
    path.touch(mode=0o644)
    path.chmod(0o644)
    Database.connect(f"sqlite:///{path}").dispose()
    assert _mode(path) == 0o600
