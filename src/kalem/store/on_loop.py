"""Transactions on the event loop, on PostgreSQL: the same use cases and unit of work, no thread hop.

A hot write's endpoint is synchronous code (use case, unit of work, repositories). Served on the
event loop, it runs in a greenlet of the request's own task (`run`): each statement sends its
message on psycopg's async connection and, instead of blocking a thread, switches back to the loop
until the answer arrives (`wait`); the loop meanwhile serves other requests. So one code path serves
both ways — the thread pool's sync connections and the loop's async ones — and the business logic is
not written twice: the unit of work checks out from the loop's engine (`Database.loop_engine`) when
it runs here (`on_loop`). Contextvars (request id, trace) are the request task's own.

SQLite keeps the thread pool: its driver has no async form, and its single writer makes a wait on
the database a wait on the file lock, which an event loop must not do.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy.util.concurrency import await_, greenlet_spawn, in_greenlet

T = TypeVar("T")


def on_loop() -> bool:
    """Whether this code runs in a greenlet on the event loop (`run`), so may `wait`."""
    return in_greenlet()


async def run(fn: Callable[..., T], /, **kwargs: Any) -> T:
    """Call synchronous `fn` on the event loop, in a greenlet whose database waits are awaits.

    In a task of its own (with a copy of the request's context): each database wait then resumes
    that task alone, instead of the request's task with every ASGI middleware's coroutine awaiting
    down to here. A cancelled request cancels it, as it would its own awaits."""
    return await asyncio.ensure_future(greenlet_spawn(fn, **kwargs))


def wait(awaitable: Awaitable[T]) -> T:
    """The result of `awaitable`, from synchronous code running under `run`."""
    return await_(awaitable)
