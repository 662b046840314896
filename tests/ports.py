"""Ports for the servers the tests start."""

from __future__ import annotations

import itertools
import os
import socket

# The ports of the servers these tests start: a range per xdist worker, below the kernel's ephemeral
# ports (32768 and up here), which bind(0) (`kalem.devtools.postgres.free_port`) and every client
# connection are given. A port chosen so is not handed to another process between the choice and the
# server's bind, so a test cannot reach another worker's server (or client) that took it meanwhile.
_PORTS_PER_WORKER = 500
_worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
_next_port = itertools.cycle(range(20_000 + _PORTS_PER_WORKER * _worker, 20_000 + _PORTS_PER_WORKER * (_worker + 1)))


def server_port() -> int:
    """A free port of this worker's range (see above) for a server a test starts."""
    for _ in range(_PORTS_PER_WORKER):
        port = next(_next_port)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue   # taken, or a just-closed server's connections still hold it
            return port
    raise RuntimeError("no free port in this worker's range")
