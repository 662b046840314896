"""A real HTTP receiver on 127.0.0.1 in a thread: records every request, answers from a plan."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.ports import server_port


class Received:
    def __init__(self, headers: dict[str, str], body: bytes, path: str, method: str = "POST") -> None:
        self.headers, self.body, self.path, self.method = headers, body, path, method

    @property
    def id(self) -> str:
        return self.headers["webhook-id"]

    def json(self) -> Any:
        return json.loads(self.body)


class Receiver:
    """`plan`: statuses to answer in order (then 200); `respond`: a function instead.
    `hold`: an Event the first request waits on (a receiver that hangs).
    `delay`: seconds every request takes before it is answered (a receiver that is slow).
    `keep_alive`: answer HTTP/1.1 and keep connections open; `connections` counts those accepted."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or server_port()
        self.url = f"http://127.0.0.1:{self.port}/hooks"
        self.requests: list[Received] = []
        self.plan: list[int | tuple[int, dict[str, str]]] = []
        self.respond: Callable[[Received], tuple[int, dict[str, str]]] | None = None
        self.seen: set[str] = set()
        self.unique: list[str] = []  # webhook-ids in the order a deduplicating receiver processed them
        self.in_flight: dict[str, int] = {}
        self.max_in_flight_same_id = 0
        self.lock = threading.Lock()
        self.first_arrived = threading.Event()
        self.hold: threading.Event | None = None
        self.delay = 0.0
        self.keep_alive = False
        self.connections = 0
        self._server: ThreadingHTTPServer | None = None

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1" if receiver.keep_alive else "HTTP/1.0"

            def setup(self) -> None:
                super().setup()
                with receiver.lock:
                    receiver.connections += 1

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("content-length", 0))
                body = self.rfile.read(length)
                if len(body) < length:  # the sender died mid-request (a killed worker): nothing arrived
                    self.close_connection = True
                    return
                got = Received({k.lower(): v for k, v in self.headers.items()}, body, self.path, self.command)
                with receiver.lock:
                    receiver.requests.append(got)
                    first = len(receiver.requests) == 1
                    key = f"{got.path}|{got.id}"  # one message to one subscription
                    receiver.in_flight[key] = receiver.in_flight.get(key, 0) + 1
                    receiver.max_in_flight_same_id = max(receiver.max_in_flight_same_id, receiver.in_flight[key])
                    if receiver.respond:
                        status, headers = receiver.respond(got)
                    elif receiver.plan:
                        step = receiver.plan.pop(0)
                        status, headers = step if isinstance(step, tuple) else (step, {})
                    else:
                        status, headers = 200, {}
                    if 200 <= status < 300 and got.id not in receiver.seen:
                        receiver.seen.add(got.id)
                        receiver.unique.append(got.id)
                receiver.first_arrived.set()
                if first and receiver.hold is not None:
                    receiver.hold.wait(30)
                if receiver.delay:
                    time.sleep(receiver.delay)
                with receiver.lock:
                    receiver.in_flight[key] -= 1
                try:
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("content-length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except OSError:
                    pass  # the sender died meanwhile

            do_PUT = do_POST  # noqa: N815  (HepsiGlobal's order-cancel hook is a PUT)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
