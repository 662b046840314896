"""The webhook worker's composition root (`kalem worker`): Settings in, a configured Worker out."""

from __future__ import annotations

from functools import partial

from kalem.bootstrap import database
from kalem.config import Settings
from kalem.domain.webhooks import RetryPolicy
from kalem.observability import tracing
from kalem.platforms.hebiar import hooks as hebiar_hooks
from kalem.platforms.hepsiglobal.face import views as hepsiglobal_views
from kalem.platforms.zonos import hooks as zonos_hooks
from kalem.store.db import Database
from kalem.store.notify import Listener
from kalem.store.uow import UnitOfWork
from kalem.webhooks.worker import Worker, WorkerConfig

#: Payload renderers of the faces (kalem.webhooks may not import kalem.platforms itself).
#: Zonos renders with the order as it is when sent, so its renderer is built with the database (`build_worker`).
WEBHOOK_DIALECTS = {"hebiar": hebiar_hooks.hook_payloads, "hepsiglobal": hepsiglobal_views.hook_payloads}


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
    return Worker(partial(UnitOfWork, db), config, listen=listen,
                  dialects={**WEBHOOK_DIALECTS, "zonos": zonos_hooks.renderer(partial(UnitOfWork, db))})
