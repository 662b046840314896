"""The webhook worker's composition root (`kalem worker`): Settings in, a configured Worker out."""

from __future__ import annotations

from functools import partial

from kalem.bootstrap import database
from kalem.bootstrap.platforms import PLATFORMS
from kalem.config import Settings
from kalem.domain.webhooks import RetryPolicy
from kalem.observability import tracing
from kalem.store.db import Database
from kalem.store.notify import Listener
from kalem.store.uow import UnitOfWork
from kalem.webhooks.worker import Worker, WorkerConfig


def build_worker(settings: Settings | None = None, db: Database | None = None, **overrides: object) -> Worker:
    """A webhook worker configured from Settings (`overrides` replace WorkerConfig fields)."""
    settings = settings or Settings()
    tracing.configure_from_env()
    db = db or database(settings)
    config = WorkerConfig(
        batch=settings.webhook_batch, concurrency=settings.webhook_concurrency,
        poll_seconds=settings.webhook_poll_seconds, lease_seconds=settings.webhook_lease_seconds,
        timeout_seconds=settings.webhook_timeout_seconds, allow_private=settings.webhook_allow_private_urls,
        retry=RetryPolicy(base_seconds=settings.webhook_retry_base_seconds, factor=settings.webhook_retry_factor,
                          cap_seconds=settings.webhook_retry_cap_seconds,
                          max_attempts=settings.webhook_max_attempts),
        idempotency_retention_seconds=settings.idempotency_retention_hours * 3600)
    for name, value in overrides.items():
        setattr(config, name, value)
    listen = None if db.is_sqlite else (lambda wake: Listener(db, wake).start())  # SQLite: polling only
    uow = partial(UnitOfWork, db)
    # Each platform's payload renderer (kalem.webhooks may not import kalem.platforms itself); one may
    # read the database, to render the order as it is when sent.
    dialects = {p.name: p.webhooks.renderer(uow) for p in PLATFORMS if p.webhooks is not None}
    return Worker(uow, config, listen=listen, dialects=dialects)
