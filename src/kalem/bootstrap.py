"""The composition root: Settings in, a database, units of work and the app out. Nothing is built
at import time."""

from __future__ import annotations

import logging
import os
import secrets
from functools import partial
from pathlib import Path

from fastapi import FastAPI

from kalem.api.auth import Authenticator
from kalem.api.context import Context
from kalem.api.idempotency import Idempotency
from kalem.config import Settings
from kalem import hub, logs
from kalem.api.app import create_app
from kalem.dialects import akinon, hebiar, hepsiglobal, n11, zonos
from kalem.dialects.hebiar import hooks as hebiar_hooks
from kalem.domain.webhooks import RetryPolicy
from kalem.observability import tracing
from kalem.store.db import Database
from kalem.store.notify import Listener
from kalem.store.uow import UnitOfWork
from kalem.webhooks import catalog
from kalem.webhooks.worker import Worker, WorkerConfig

log = logging.getLogger("kalem")


def database(settings: Settings) -> Database:
    return Database.connect(settings.database_url, pool_size=settings.db_pool_size)


def secret_key(settings: Settings) -> str:
    """The configured key, or one kept beside the SQLite database so restarts keep sessions valid."""
    if settings.secret_key:
        return settings.secret_key
    path = Path("var/secret_key")
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def build_app(settings: Settings | None = None, db: Database | None = None) -> FastAPI:
    settings = settings or Settings()
    tracing.configure_from_env()
    db = db or database(settings)
    uow = partial(UnitOfWork, db)
    replica = (Database.connect(settings.database_replica_url, pool_size=settings.db_pool_size)
               if settings.database_replica_url else None)
    ctx = Context(
        settings=settings, uow=uow,
        auth=Authenticator(uow, admin_token=settings.admin_token, secret_key=secret_key(settings),
                           jwt_ttl_seconds=settings.jwt_ttl_seconds),
        idempotency=Idempotency(uow, settings.idempotency_lease_seconds),
        replica_uow=partial(UnitOfWork, replica) if replica else None,
    )
    return create_app(ctx, faces={"hebiar": hebiar.face(), "zonos": zonos.face(), "n11": n11.face(),
                                  "hepsiglobal": hepsiglobal.face(), "akinon": akinon.face()},
                      extra={"hub": hub.install(secret_key(settings)), "native": catalog.install(WEBHOOK_SCHEMAS)})


#: Payload renderers of the faces (kalem.webhooks may not import kalem.dialects itself).
#: Zonos renders with the order as it is when sent, so its renderer is built with the database (`build_worker`).
WEBHOOK_DIALECTS = {"hebiar": hebiar_hooks.hook_payloads, "hepsiglobal": hepsiglobal.hook_payloads}
#: The JSON Schema of each body those renderers produce, per event type (the event catalog publishes them).
WEBHOOK_SCHEMAS = {"hebiar": hebiar_hooks.HOOK_SCHEMAS, "hepsiglobal": hepsiglobal.HOOK_SCHEMAS,
                   "zonos": zonos.HOOK_SCHEMAS}


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
                  dialects={**WEBHOOK_DIALECTS, "zonos": zonos.hook_renderer(partial(UnitOfWork, db))})


def app_from_env() -> FastAPI:
    """For `uvicorn --factory kalem.bootstrap:app_from_env` (one app per worker process)."""
    logs.configure()  # a worker process started by uvicorn begins with no logging set up
    app = build_app()
    log.info("API process %d ready", os.getpid())
    return app
