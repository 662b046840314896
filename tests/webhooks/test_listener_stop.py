"""A listener has ended when `stop()` returns, even when the stop comes while it connects: it does
not listen, wake its worker or log about a connection that no longer matters."""

from __future__ import annotations

import logging
import socket
import threading
import time

import pytest
import sqlalchemy as sa

from kalem.store.db import Database
from kalem.store.notify import Listener


class Gate(threading.Thread):
    """A TCP hop in front of PostgreSQL that holds the first connection until `open(passes)`: then
    carries it through, or closes it (a connect that fails)."""

    def __init__(self, target_port: int) -> None:
        super().__init__(daemon=True)
        self.target_port = target_port
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.arrived = threading.Event()
        self._opened = threading.Event()
        self._passes = False

    def open(self, passes: bool) -> None:
        self._passes = passes
        self._opened.set()

    def run(self) -> None:
        client, _ = self.server.accept()
        self.arrived.set()
        self._opened.wait()
        if not self._passes:
            client.close()
            return
        upstream = socket.create_connection(("127.0.0.1", self.target_port))
        for source, sink in ((client, upstream), (upstream, client)):
            threading.Thread(target=carry, args=(source, sink), daemon=True).start()

    def close(self) -> None:
        self._opened.set()
        self.server.close()


def carry(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        sink.close()


@pytest.mark.parametrize("connect", ["succeeds", "fails"])
def test_a_stop_while_the_listener_connects_ends_it(postgres: str, connect: str,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    gate = Gate(sa.engine.make_url(postgres).port)
    gate.start()
    db = Database.connect(sa.engine.make_url(postgres).set(port=gate.port).render_as_string(hide_password=False))
    woken: list[bool] = []
    listener = Listener(db, lambda: woken.append(True)).start()
    stopping = threading.Thread(target=listener.stop, daemon=True)
    try:
        assert gate.arrived.wait(30)   # the listener is mid-connect, held at the gate
        stopping.start()
        while not listener._stop.is_set():   # the stop has been asked for ...
            time.sleep(0.01)
        gate.open(passes=connect == "succeeds")   # ... and only then does the connect finish
        stopping.join(30)
        assert not stopping.is_alive() and not listener._thread.is_alive()
        assert woken == []
        assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text
    finally:
        gate.close()
        db.dispose()
