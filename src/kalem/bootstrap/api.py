"""The API's composition root (`kalem serve`): Settings in, a database, units of work and the app out."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from functools import partial

from fastapi import FastAPI

from kalem import hub, logs
from kalem.api.app import create_app
from kalem.api.auth import Authenticator
from kalem.api.context import Context
from kalem.api.idempotency import Idempotency
from kalem.api.routes import channel_accounts
from kalem.app.logins import LoginGuard
from kalem.bootstrap import database
from kalem.bootstrap.platforms import PLATFORMS, connectors
from kalem.config import Settings
from kalem.observability import tracing
from kalem.store.db import Database
from kalem.store.uow import UnitOfWork
from kalem.webhooks import catalog

log = logging.getLogger("kalem")


def secret_key(settings: Settings) -> str:
    """The configured key, or one kept beside the SQLite database so restarts keep sessions valid."""
    return settings.resolved_secret_key()


def build_app(settings: Settings | None = None, db: Database | None = None) -> FastAPI:
    settings = settings or Settings()
    tracing.configure_from_env()
    db = db or database(settings)
    uow = partial(UnitOfWork, db)
    replica = (Database.connect(settings.database_replica_url, pool_size=settings.db_pool_size,
                                sealer=db.sealer) if settings.database_replica_url else None)
    ctx = Context(
        settings=settings, uow=uow,
        auth=Authenticator(uow, admin_token=settings.admin_token, secret_key=secret_key(settings),
                           jwt_ttl_seconds=settings.jwt_ttl_seconds),
        idempotency=Idempotency(uow, settings.idempotency_lease_seconds),
        logins=LoginGuard(slots=settings.login_slots, per_minute=settings.login_attempts_per_minute,
                          burst=settings.login_burst),
        replica_uow=partial(UnitOfWork, replica) if replica else None,
        own_channel_dialects=frozenset(p.name for p in PLATFORMS if p.webhooks is not None and p.webhooks.own_channel),
        on_loop=settings.async_writes and db.loop_engine is not None,
    )
    # The event catalog publishes, per dialect and event type, the JSON Schema of the body the worker sends.
    schemas = {p.name: p.webhooks.schemas() for p in PLATFORMS if p.webhooks is not None}
    return create_app(ctx, faces={p.name: p.face() for p in PLATFORMS},
                      extra={"hub": hub.install(secret_key(settings)), "native": _both(
                          catalog.install(schemas), channel_accounts.install(connectors()))})


def _both(*hooks: Callable[[FastAPI], None]) -> Callable[[FastAPI], None]:
    def add(app: FastAPI) -> None:
        for hook in hooks:
            hook(app)
    return add


def app_from_env() -> FastAPI:
    """For `uvicorn --factory kalem.bootstrap.api:app_from_env` (one app per worker process)."""
    logs.configure()  # a worker process started by uvicorn begins with no logging set up
    app = build_app()
    log.info("API process %d ready", os.getpid())
    return app
