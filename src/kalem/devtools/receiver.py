"""`python -m kalem.devtools.receiver --port 8001 --secret-file var/demo-webhook-secret`: the demo's
webhook receiver. Verifies each request's Standard Webhooks signature with the subscription's
secret, prints one line per event and answers 204 (401 when the signature does not verify)."""

from __future__ import annotations

import argparse
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from standardwebhooks import Webhook, WebhookVerificationError


def serve(port: int, secret: str) -> None:
    verifier = Webhook(secret)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the http.server name
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            try:
                event = verifier.verify(body, {k.lower(): v for k, v in self.headers.items()})
            except WebhookVerificationError as exc:
                print(f"receiver: refused a request whose signature does not verify ({exc})", flush=True)
                self.send_response(401)
            else:
                print(f"receiver: {event['type']} order {event['order_number']} #{event['sequence']} "
                      f"(signature verified) {json.dumps(event['data'], ensure_ascii=False)[:120]}", flush=True)
                self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    with ThreadingHTTPServer(("127.0.0.1", port), Handler) as server:
        print(f"receiver: listening on http://127.0.0.1:{port}/hooks", flush=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--secret-file", type=Path, default=Path("var/demo-webhook-secret"))
    args = parser.parse_args(argv)
    serve(args.port, args.secret_file.read_text().strip())


if __name__ == "__main__":
    main(sys.argv[1:])
