"""Logging for `kalem serve` and `kalem worker`: text lines by default, JSON lines with
`KALEM_LOG_FORMAT=json` (python-json-logger); every record carries the request id of the request it
belongs to (asgi-correlation-id), `-` outside one. `KALEM_LOG_LEVEL` (Settings.log_level) sets the level."""

from __future__ import annotations

import logging
import os
import sys

from asgi_correlation_id import CorrelationIdFilter
from pythonjsonlogger.json import JsonFormatter

from kalem.config import Settings

TEXT = "%(asctime)s %(levelname)s %(name)s [%(correlation_id)s] %(message)s"
JSON_FIELDS = ("asctime", "levelname", "name", "message", "correlation_id")
JSON_NAMES = {"asctime": "time", "levelname": "level", "name": "logger", "correlation_id": "request_id"}


def configure(fmt: str | None = None, level: str | None = None) -> None:
    """Replace the root handlers with one on stderr in the chosen format (idempotent)."""
    fmt = (fmt or os.environ.get("KALEM_LOG_FORMAT") or "text").lower()
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(CorrelationIdFilter(default_value="-"))
    if fmt == "json":
        handler.setFormatter(JsonFormatter(JSON_FIELDS, rename_fields=JSON_NAMES))
    else:
        handler.setFormatter(logging.Formatter(TEXT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel((level or Settings().log_level).upper())
    # uvicorn's own start/stop chatter is replaced by kalem's lines, the webhook worker records every
    # send itself (urllib3 would log each one again), and alembic's plugin setup (the readiness check
    # reads the migration head) says nothing an operator needs; their warnings and errors still show.
    # At debug level every library says everything.
    chatter = logging.DEBUG if root.level <= logging.DEBUG else logging.WARNING
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "urllib3", "alembic"):
        logging.getLogger(name).setLevel(chatter)
