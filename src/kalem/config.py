"""One `Settings`, read from the environment (prefix `KALEM_`) once, and passed down."""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from kalem.domain.orders import IntakeLimits

#: Where a setup with no `KALEM_SECRET_KEY` keeps the key generated for it (beside the SQLite database).
SECRET_KEY_FILE = "var/secret_key"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KALEM_", extra="ignore")

    @property
    def intake_limits(self) -> IntakeLimits:
        return IntakeLimits(self.max_line_quantity, self.max_order_lines, self.max_order_units)

    def resolved_secret_key(self, *, create: bool = True) -> str:
        """`secret_key`, or one kept in `var/secret_key` so that restarts keep sessions valid and sealed
        secrets readable (made once, atomically, when `create`; empty if there is none)."""
        if self.secret_key:
            return self.secret_key
        path = Path(SECRET_KEY_FILE)
        if not path.exists() and create:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, draft = tempfile.mkstemp(dir=path.parent, prefix=".secret_key.")   # mode 0600
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_urlsafe(48))
            try:
                os.link(draft, path)   # the first process to get here wins; the others read its key
            except FileExistsError:
                pass
            finally:
                os.unlink(draft)
        return path.read_text().strip() if path.exists() else ""

    database_url: str = "sqlite:///var/kalem.db"
    admin_token: str | None = Field(default=None, repr=False)
    secret_key: str = Field(default="", repr=False, description="signs JWTs and hub sessions; generated if empty")
    # Fernet keys, comma-separated: the first seals stored secrets, every one opens them (store/sealed.py,
    # docs/operations.md "Secrets at rest"). Empty: one key derived from the secret key.
    encryption_keys: str = Field(default="", repr=False)
    host: str = "127.0.0.1"   # `kalem serve`'s defaults (its --host/--port win)
    port: int = 8000
    log_level: Literal["critical", "error", "warning", "info", "debug"] = "info"
    max_body_bytes: int = 1_048_576
    max_batch_body_bytes: int = 16_777_216  # POST /v1/orders/batch: up to 1,000 orders
    # The largest order taken in, on every face (docs/security.md); below 2^31, GraphQL's Int.
    max_line_quantity: int = Field(default=10_000, ge=1, le=2_147_483_647)
    max_order_lines: int = Field(default=500, ge=1, le=500)
    # At most 1,000,000: the Akinon and Hebiar faces number an order's units within a block of ids.
    max_order_units: int = Field(default=10_000, ge=1, le=1_000_000)
    # Per credential and per API process (api/ratelimit.py, docs/api.md "Limits"); 0 disables.
    rate_limit_per_second: float = Field(default=100.0, ge=0)
    rate_limit_burst: int = Field(default=200, ge=1)
    # Password logins (app/logins.py, docs/security.md): checks at once per API process, and per account.
    login_slots: int = Field(default=2, ge=1)
    login_attempts_per_minute: float = Field(default=10.0, gt=0)
    login_burst: int = Field(default=10, ge=1)
    db_pool_size: int = 10
    # On PostgreSQL, the hot writes' transactions run on the event loop (store/on_loop.py); false puts
    # them on the thread pool, as every other write (docs/performance.md has both measured).
    async_writes: bool = True
    # Read-only list endpoints read from this streaming replica when set (docs/scaling.md).
    database_replica_url: str | None = None
    # GET /metrics without an operator token (for a scraper inside a trusted network).
    metrics_public: bool = False
    idempotency_lease_seconds: int = 60
    # How long a stored answer is replayed; `kalem worker` forgets older keys (docs/api.md).
    idempotency_retention_hours: float = Field(default=24.0, gt=0)
    jwt_ttl_seconds: int = 3600
    webhook_allow_private_urls: bool = False
    # The webhook worker (docs/webhooks.md); tests shrink the schedule to run fast.
    webhook_poll_seconds: float = 0.05
    webhook_lease_seconds: float = 60.0
    webhook_timeout_seconds: float = 10.0
    webhook_batch: int = 100
    webhook_concurrency: int = 16
    webhook_retry_base_seconds: float = 5.0
    webhook_retry_factor: float = 4.0
    webhook_retry_cap_seconds: float = 21600.0
    webhook_max_attempts: int = 11
