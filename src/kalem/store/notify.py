"""Waking the webhook worker: PostgreSQL's `LISTEN`/`NOTIFY`.

`outbox.enqueue` notifies `CHANNEL` in the very transaction that queues deliveries, so the
notification leaves at commit and never for a rolled-back change. A `Listener` holds one connection
of its own that listens, and calls `wake` for each notification (and once after every (re)connect,
for what was queued while it was not listening). Polling stays beside it — a lost connection, a
retry coming due, a delivery released by a stopping worker — and is the only wake-up on SQLite.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy.engine import Connection

from kalem.store.db import Database

CHANNEL = "kalem_webhooks"
log = logging.getLogger("kalem.webhooks")


def notify(conn: Connection) -> None:
    """Announce queued deliveries at this transaction's commit (PostgreSQL folds repeats into one)."""
    conn.exec_driver_sql(f"NOTIFY {CHANNEL}")


class Listener:
    def __init__(self, db: Database, wake: Callable[[], None], *, check_seconds: float = 0.5) -> None:
        self._db = db
        self._wake = wake
        self._check = check_seconds   # how often the listening thread looks at `stop`
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="kalem-webhook-listener", daemon=True)

    def start(self) -> Listener:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening; returns once the thread has ended. A connection attempt under way is waited
        out (it gives up after the connect timeout): a listener left behind would still listen, wake
        and log after its worker is gone, or its database is."""
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                driver = self._db.own_connection()   # its own, for good: never a pooled connection
                try:
                    if self._stop.is_set():   # stopped while connecting: nothing to listen for
                        return
                    driver.autocommit = True
                    driver.execute(f"LISTEN {CHANNEL}")
                    failures = 0
                    self._wake()
                    while not self._stop.is_set():
                        for _ in driver.notifies(timeout=self._check):
                            self._wake()
                finally:
                    driver.close()
            except Exception as exc:  # the database went away: polling carries on meanwhile
                if self._stop.is_set():   # stopped meanwhile: the failure no longer matters
                    return
                failures += 1
                wait = min(5.0, 0.5 * 2 ** min(failures - 1, 8))
                log.warning("webhook worker: not listening for new deliveries (%s: %s); polling, retrying in "
                            "%.1f s", exc.__class__.__name__, str(exc)[:200], wait)
                self._stop.wait(wait)
