"""The API's composition root (`kalem serve`): Settings in, a database, units of work and the app out."""

from __future__ import annotations

import logging
import os
from functools import partial

from fastapi import FastAPI

from kalem import hub, logs
from kalem.api.app import create_app
from kalem.api.auth import Authenticator
from kalem.api.context import Context
from kalem.api.idempotency import Idempotency
from kalem.app.logins import LoginGuard
from kalem.bootstrap import database
from kalem.config import Settings
from kalem.observability import tracing
from kalem.platforms.akinon.face import routes as akinon
from kalem.platforms.hebiar import hooks as hebiar_hooks
from kalem.platforms.hebiar.face import routes as hebiar
from kalem.platforms.hepsiglobal.face import routes as hepsiglobal
from kalem.platforms.hepsiglobal.face import views as hepsiglobal_views
from kalem.platforms.n11.face import routes as n11
from kalem.platforms.zonos.face import routes as zonos
from kalem.platforms.zonos.face import views as zonos_views
from kalem.store.db import Database
from kalem.store.uow import UnitOfWork
from kalem.webhooks import catalog

log = logging.getLogger("kalem")

#: The JSON Schema of each body the faces' webhook renderers produce (bootstrap.worker.WEBHOOK_DIALECTS),
#: per event type: the event catalog publishes them.
WEBHOOK_SCHEMAS = {"hebiar": hebiar_hooks.HOOK_SCHEMAS, "hepsiglobal": hepsiglobal_views.HOOK_SCHEMAS,
                   "zonos": zonos_views.HOOK_SCHEMAS}


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
    )
    return create_app(ctx, faces={"hebiar": hebiar.face(), "zonos": zonos.face(), "n11": n11.face(),
                                  "hepsiglobal": hepsiglobal.face(), "akinon": akinon.face()},
                      extra={"hub": hub.install(secret_key(settings)), "native": catalog.install(WEBHOOK_SCHEMAS)})


def app_from_env() -> FastAPI:
    """For `uvicorn --factory kalem.bootstrap.api:app_from_env` (one app per worker process)."""
    logs.configure()  # a worker process started by uvicorn begins with no logging set up
    app = build_app()
    log.info("API process %d ready", os.getpid())
    return app
