"""The database engine's share: connections in use (pool events) and, while tracing, a span per SQL
statement (engine events; the hot path's driver-level statements call `statement` themselves)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

from kalem.observability import metrics, tracing


def instrument(engine: sa.Engine) -> None:
    system = engine.dialect.name

    @event.listens_for(engine, "checkout")
    def _checkout(*_: Any) -> None:
        metrics.DB_POOL_IN_USE.inc()

    @event.listens_for(engine, "checkin")
    def _checkin(*_: Any) -> None:
        metrics.DB_POOL_IN_USE.dec()

    @event.listens_for(engine, "before_cursor_execute")
    def _before(_conn: sa.Connection, _cursor: Any, sql: str, _params: Any, context: Any, _many: bool) -> None:
        if context is not None:
            context.kalem_span = statement(sql, system)

    @event.listens_for(engine, "after_cursor_execute")
    def _after(_conn: sa.Connection, _cursor: Any, _sql: str, _params: Any, context: Any, _many: bool) -> None:
        current = getattr(context, "kalem_span", None)
        if current is not None:
            current.end()

    @event.listens_for(engine, "handle_error")
    def _error(exception_context: sa.engine.ExceptionContext) -> None:
        current = getattr(exception_context.execution_context, "kalem_span", None)
        if current is not None:
            tracing.fail(current)
            current.end()


def statement(sql: str, system: str) -> Any:
    """A span for one SQL statement, child of the current one; None when tracing is off. End it."""
    if not tracing.active():
        return None
    return tracing.start_child(f"SQL {sql.split(None, 1)[0].upper()}",
                               {"db.system": system, "db.statement": sql})
