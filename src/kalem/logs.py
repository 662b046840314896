"""Logging for `kalem serve` and `kalem worker`: text lines by default, JSON lines with
`KALEM_LOG_FORMAT=json` (python-json-logger); every record carries the request id of the request it
belongs to (asgi-correlation-id), `-` outside one. `KALEM_LOG_LEVEL` (Settings.log_level) sets the level."""

from __future__ import annotations

import logging
import os
import re
import sys

from asgi_correlation_id import CorrelationIdFilter
from pythonjsonlogger.json import JsonFormatter

from kalem.config import Settings

TEXT = "%(asctime)s %(levelname)s %(name)s [%(correlation_id)s] %(message)s"
JSON_FIELDS = ("asctime", "levelname", "name", "message", "correlation_id")
JSON_NAMES = {"asctime": "time", "levelname": "level", "name": "logger", "correlation_id": "request_id"}


#: C0 and C1 control characters, DEL, and the Unicode line and paragraph separators: any of them in a
#: logged value (a request path with `%0a`, a header) could start a forged line in the text format.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _escape(match: re.Match[str]) -> str:
    return match.group().encode("unicode_escape").decode("ascii")


class TextFormatter(logging.Formatter):
    """One record, one line: control characters in the message are written escaped (`\\n`, `\\x1b`).
    A traceback, appended after the message, keeps its own lines."""

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 (logging's name)
        return _CONTROL.sub(_escape, super().formatMessage(record))


def configure(fmt: str | None = None, level: str | None = None) -> None:
    """Replace the root handlers with one on stderr in the chosen format (idempotent)."""
    fmt = (fmt or os.environ.get("KALEM_LOG_FORMAT") or "text").lower()
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(CorrelationIdFilter(default_value="-"))
    if fmt == "json":
        handler.setFormatter(JsonFormatter(JSON_FIELDS, rename_fields=JSON_NAMES))
    else:
        handler.setFormatter(TextFormatter(TEXT))
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
