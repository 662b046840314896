"""`kalem serve | worker | doctor | db upgrade | import | demo | openapi | token create | token revoke |
user create|password|disable | secrets rotate |
channel add|list|remove|pushes|replay|drift|resolve | sync | reconcile`, and `kalem --version`."""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from importlib.metadata import version as package_version
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from kalem.config import Settings

if TYPE_CHECKING:  # imported where used: `kalem --help` stays quick
    from contextlib import AbstractContextManager

    from kalem.store.channel_drift import AccountHealth
    from kalem.store.uow import UnitOfWork

log = logging.getLogger("kalem")
app = typer.Typer(help="kalem: order-line cancellations, requests, splits, returns and refunds.",
                  no_args_is_help=True, add_completion=False)
db_app = typer.Typer(help="The database.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens.", no_args_is_help=True)
user_app = typer.Typer(help="Users (for face logins and the hub).", no_args_is_help=True)
secrets_app = typer.Typer(help="The secrets kalem stores, sealed with KALEM_ENCRYPTION_KEYS.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(token_app, name="token")
app.add_typer(user_app, name="user")
app.add_typer(secrets_app, name="secrets")


def _channels() -> None:
    from kalem.channels_cli import channel_app
    app.add_typer(channel_app, name="channel")


_channels()


def _uow(settings: Settings) -> Callable[[], UnitOfWork]:
    from functools import partial

    from kalem.bootstrap import database
    from kalem.store.uow import UnitOfWork
    return partial(UnitOfWork, database(settings))


def _version(shown: bool) -> None:
    if shown:
        typer.echo(f"kalem {package_version('kalem')}")
        raise typer.Exit()


@app.callback()
def main(version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                               help="Print the version and exit.")] = False) -> None:
    """kalem: order-line cancellations, requests, splits, returns and refunds."""


#: After SIGTERM, requests in flight (serve) and sends under way (worker) get this long to finish:
#: process managers send SIGKILL about 10 s after SIGTERM.
GRACEFUL_SHUTDOWN_SECONDS = 7
WORKER_SHUTDOWN_SECONDS = 8


@app.command()
def serve(host: Annotated[str | None, typer.Option(help="default: KALEM_HOST (127.0.0.1)")] = None,
          port: Annotated[int | None, typer.Option(help="default: KALEM_PORT (8000)")] = None,
          workers: Annotated[int, typer.Option(help="API processes")] = 1) -> None:
    """Serve the API (every face) over HTTP. On SIGTERM: stop accepting, finish what is in flight, exit."""
    import uvicorn

    from kalem import logs
    settings = Settings()
    host, port = host or settings.host, port or settings.port
    logs.configure()
    threading.Thread(target=_announce, args=(host, port, workers), daemon=True).start()
    with _metrics_directory(workers):
        uvicorn.run("kalem.bootstrap.api:app_from_env", factory=True, host=host, port=port, workers=workers,
                    log_config=None, log_level="warning", access_log=False,
                    timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS)
    log.info("kalem stopped serving http://%s:%d", host, port)


def _announce(host: str, port: int, workers: int, wait_seconds: float = 120.0) -> None:
    """The startup line, once the port accepts connections (uvicorn listens only when the app is ready)."""
    import socket
    deadline = time.monotonic() + wait_seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection((host, port), timeout=1.0).close()
        except OSError:
            time.sleep(0.1)
            continue
        log.info("kalem %s serving http://%s:%d (database %s, %d API %s)", package_version("kalem"), host, port,
                 _redacted(Settings().database_url), workers, "process" if workers == 1 else "processes")
        return


def _metrics_directory(processes: int) -> AbstractContextManager[str | None]:
    """Several processes: prometheus-client's multiprocess mode, in `PROMETHEUS_MULTIPROC_DIR` if set
    (start it empty; `kalem worker`s given the same directory show up in the API's /metrics), else
    in a directory of our own, removed on exit. Set before prometheus-client is imported."""
    import contextlib
    import tempfile
    if processes <= 1 or os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return contextlib.nullcontext()
    directory = tempfile.TemporaryDirectory(prefix="kalem-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory.name
    return directory


_WORKER = Settings.model_fields


@app.command()
def worker(concurrency: Annotated[int, typer.Option(help="parallel HTTP sends", envvar="KALEM_WEBHOOK_CONCURRENCY")]
           = _WORKER["webhook_concurrency"].default,
           batch: Annotated[int, typer.Option(help="deliveries claimed at a time", envvar="KALEM_WEBHOOK_BATCH")]
           = _WORKER["webhook_batch"].default,
           metrics_port: Annotated[int | None, typer.Option(help="serve Prometheus metrics on this port")] = None,
           metrics_host: Annotated[str, typer.Option(help="the metrics port's address")] = "127.0.0.1") -> None:
    """Deliver webhooks: claim due deliveries, send, retry (run any number on PostgreSQL, one on SQLite).
    On SIGTERM: finish the sends under way (answered and recorded, unsent claims released), exit."""
    import signal

    from kalem import logs
    from kalem.bootstrap.worker import build_worker
    from kalem.observability import metrics
    # SIGTERM/SIGINT are taken by `sigwait` below, never by a handler: a handler runs between two
    # bytecodes of the main thread, and setting a threading.Event from there deadlocks when the
    # signal lands while that thread holds the same Event's lock (it polls it all the time).
    # Blocked before any thread starts, so every thread inherits the mask.
    stop_signals = {signal.SIGTERM, signal.SIGINT}
    signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)
    settings = Settings()
    logs.configure()
    runner = build_worker(settings, concurrency=concurrency, batch=batch)
    if metrics_port is not None:
        metrics.serve_metrics(metrics_host, metrics_port)
    loop = threading.Thread(target=runner.run, name="kalem-worker")
    loop.start()
    log.info("kalem %s worker delivering webhooks (database %s, %d parallel sends)", package_version("kalem"),
             _redacted(settings.database_url), concurrency)
    while loop.is_alive() and signal.sigtimedwait(stop_signals, 0.5) is None:
        pass
    runner.stop()
    loop.join(WORKER_SHUTDOWN_SECONDS)
    metrics.process_exited(os.getpid())
    if loop.is_alive():  # a send outlived the grace: its claim returns to the queue when the lease ends
        log.warning("kalem worker: sends still under way after %d s; exiting", WORKER_SHUTDOWN_SECONDS)
        os._exit(1)
    runner.close()
    log.info("kalem worker stopped")


@app.command("sync")
def sync_command(once: Annotated[bool, typer.Option("--once", help="one round, then exit")] = False) -> None:
    """Pull the channel accounts' orders and send decisions to their platforms (docs/channels.md)."""
    from kalem.channels_cli import sync
    sync(once)


@app.command("reconcile")
def reconcile_command(
        channel: Annotated[str | None, typer.Option(help="only this channel's accounts")] = None,
        seller_id: Annotated[str | None, typer.Option("--seller", "--seller-id", help="only this seller's accounts")]
        = None) -> None:
    """Compare each channel's view of its orders with kalem's ledger; store and print the drift (docs/channels.md)."""
    from kalem.channels_cli import reconcile
    reconcile(channel, seller_id)


@app.command()
def doctor() -> None:
    """Check what /readyz checks, for an operator at a terminal: the database, the migration head, the
    outbox lag. Exits 1 when the process would not be ready. It only looks: a SQLite file that is not
    there is reported, never created."""
    from kalem.bootstrap import database
    from kalem.store.db import sqlite_file
    from kalem.store.uow import UnitOfWork
    settings = Settings()
    typer.echo(f"database      {_redacted(settings.database_url)}")
    missing = sqlite_file(settings.database_url)
    if missing is not None and not missing.exists():
        typer.echo(f"reachable     no (no database file at {missing.resolve()}: check KALEM_DATABASE_URL, "
                   "or create it with kalem db upgrade)")
        raise typer.Exit(1)
    db = database(settings)
    try:
        with UnitOfWork(db, write=False) as uow:
            migrations = uow.health.migrations()
            outbox = uow.health.outbox(uow.now()) if migrations.at_head else None
            channels = uow.channel_drift.health() if migrations.at_head else []
    except Exception as exc:  # whatever stops the connection is the diagnosis
        typer.echo(f"reachable     no ({exc.__class__.__name__}: {str(exc).splitlines()[0][:200]})")
        raise typer.Exit(1) from None
    finally:
        db.dispose()
    typer.echo("reachable     yes")
    typer.echo(f"migrations    {', '.join(sorted(migrations.current)) or 'none'}"
               f" ({'at head' if migrations.at_head else 'behind: run kalem db upgrade'};"
               f" head {', '.join(sorted(migrations.expected))})")
    if outbox is None:
        typer.echo("ready         no")
        raise typer.Exit(1)
    typer.echo(f"outbox        {outbox.depth} undelivered, oldest {outbox.oldest_age_seconds:.1f} s,"
               f" {outbox.dead} dead")
    _doctor_channels(channels)
    typer.echo("ready         yes")


def _doctor_channels(channels: list[AccountHealth]) -> None:
    """Unhealthy channel accounts, one a line: what failed, never a credential. Not a reason to be unready."""
    unhealthy = [a for a in channels if a.consecutive_failures or a.dead_pushes or a.drift]
    typer.echo(f"channels      {len(channels)} accounts, {len(unhealthy)} unhealthy")
    for a in unhealthy:
        said = []
        if a.consecutive_failures:
            said.append(f"{a.last_error_kind or 'failing'}, {a.consecutive_failures} failures in a row, "
                        f"next attempt {a.next_pull_at.isoformat(timespec='seconds')}")
        if a.dead_pushes:
            said.append(f"{a.dead_pushes} dead pushes (kalem channel pushes --status dead)")
        if a.drift:
            said.append(f"{a.drift} orders drifting (kalem channel drift {a.id})")
        typer.echo(f"  {a.id} {a.seller_id}/{a.channel} ({a.platform}): {'; '.join(said)}")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every migration."""
    from kalem.store.migrate import upgrade
    settings = Settings()
    upgrade(settings.database_url)
    typer.echo(f"database at head: {_redacted(settings.database_url)}", err=True)


@token_app.command("create")
def token_create(role: Annotated[str, typer.Option(help="operator or seller")],
                 seller_id: Annotated[str | None, typer.Option("--seller-id")] = None,
                 name: Annotated[str | None, typer.Option()] = None,
                 n11: Annotated[bool, typer.Option("--n11", help="an appkey/appsecret pair instead")] = False,
                 new_seller: Annotated[bool, typer.Option("--new-seller", help=_NEW_SELLER_HELP)] = False) -> None:
    """Print a new token (or `APPKEY APPSECRET`) alone on stdout. The seller must be known (an order or
    a token named it), unless --new-seller."""
    from kalem.app import access
    from kalem.domain.errors import KalemError
    from kalem.platforms.n11 import key_pairs
    uow = _uow(Settings())
    try:
        if n11:
            if role != "seller" or not seller_id:
                raise typer.BadParameter("an n11 key pair needs --role seller and --seller-id")
            typer.echo(" ".join(key_pairs.create_key_pair(uow(), seller_id=seller_id, name=name,
                                                          new_seller=new_seller)))
        else:
            issued = access.create_token(uow(), role=role, seller_id=seller_id, name=name, new_seller=new_seller)
            typer.echo(f"token id: {issued.token_id} (to revoke it: kalem token revoke {issued.token_id})", err=True)
            typer.echo(issued.secret)
    except KalemError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(2) from exc


@token_app.command("revoke")
def token_revoke(token_id: Annotated[str, typer.Argument(help="tok_…, or an n11 key pair's appkey")]) -> None:
    """Revoke a token for good: refused at once by the database, and by every API process within
    10 s (each caches a token that long; `DELETE /v1/tokens/{id}` is at once on the process that answers it)."""
    from kalem.app import access
    from kalem.app.principals import Principal
    from kalem.domain.errors import KalemError
    try:
        access.revoke_token(_uow(Settings())(), token_id, Principal("operator", "cli"))
    except KalemError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"revoked {token_id}", err=True)


def _password() -> str:
    """A password from the terminal (asked twice, not echoed) or, piped in, the first line of stdin:
    never an argument, which `ps` and the shell's history would show."""
    if sys.stdin.isatty():
        return str(typer.prompt("password", hide_input=True, confirmation_prompt=True))
    return sys.stdin.readline().rstrip("\r\n")


def _user_command(action: Callable[[], object], username: str) -> None:
    from sqlalchemy.exc import IntegrityError

    from kalem.domain.errors import KalemError
    try:
        action()
    except KalemError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(2) from exc
    except IntegrityError as exc:
        typer.echo(f"error: user {username} exists", err=True)
        raise typer.Exit(2) from exc
    typer.echo(username)


_NEW_SELLER_HELP = "create the seller if kalem does not know it yet"


@user_app.command("create")
def user_create(username: Annotated[str, typer.Option()], role: Annotated[str, typer.Option()] = "seller",
                seller_id: Annotated[str | None, typer.Option("--seller-id")] = None,
                new_seller: Annotated[bool, typer.Option("--new-seller", help=_NEW_SELLER_HELP)] = False) -> None:
    """Create a user that can log in to the faces' login endpoints and the hub (password: asked, or stdin).
    The seller must be known (an order, a token or a user named it), unless --new-seller."""
    from kalem.app import access
    password = _password()
    _user_command(lambda: access.create_user(_uow(Settings())(), username=username, password=password, role=role,
                                             seller_id=seller_id, new_seller=new_seller), username)


@user_app.command("password")
def user_password(username: Annotated[str, typer.Argument()]) -> None:
    """Set a user's password (asked, or stdin); its sessions and JWTs keep working until they expire."""
    from kalem.app import access
    password = _password()
    _user_command(lambda: access.set_password(_uow(Settings())(), username, password), username)


@user_app.command("disable")
def user_disable(username: Annotated[str, typer.Argument()]) -> None:
    """Disable a user for good: no more logins, and its sessions and JWTs stop working."""
    from kalem.app import access
    _user_command(lambda: access.disable_user(_uow(Settings())(), username), username)


@secrets_app.command("rotate")
def secrets_rotate() -> None:
    """Seal every stored secret with the first key of KALEM_ENCRYPTION_KEYS: those sealed with another
    key and those stored plain. Safe to run again, and while the API and workers run (every key still
    opens). Then a key no longer first can be removed (docs/operations.md, "Secrets at rest")."""
    from kalem.domain.errors import KalemError
    from kalem.store.sealed import InvalidEncryptionKeys
    try:
        with _uow(Settings())() as uow:
            changed, total = uow.webhooks.rotate_secrets()
            uow.commit()
    except InvalidEncryptionKeys as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    except KalemError as exc:  # a key that sealed some value is missing: nothing was changed
        typer.echo(f"error: {exc.message}; nothing was changed", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"{changed} of {total} webhook subscriptions re-sealed with the current key")


@app.command("import")
def import_(file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True,
                                                 help="JSON lines: one native order (POST /v1/orders body) a line")],
            batch: Annotated[int, typer.Option(min=1, max=1000, help="orders per transaction")] = 500,
            jobs: Annotated[int, typer.Option(min=1, max=64, help="processes taking batches in (one core each; "
                                                               "PostgreSQL needs CPU too)")] = 1,
            progress: Annotated[bool, typer.Option(help="show a progress bar on stderr")] = True,
            new_seller: Annotated[bool, typer.Option("--new-seller", help="create the sellers kalem does not know "
                                                                          "yet (else their orders are refused)")]
            = False) -> None:
    """Take in orders from a JSON-lines file, as an operator. Run it again after a stop: orders already
    there are skipped, a stored number with another body is reported. An order for a seller kalem does
    not know is refused, unless --new-seller (or the line's own `create_seller: true`). Exits 1 if any
    line was refused."""
    import gc
    from functools import partial

    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    from kalem.app.access import UnknownSeller
    from kalem.importer import import_orders
    settings = Settings()
    # What is loaded by now (the modules: most of the heap) lives as long as the process: kept out of the
    # collector's full scans, which otherwise cost a third of the CPU of taking in an order.
    gc.freeze()
    bar = Progress(TextColumn("importing"), BarColumn(), DownloadColumn(), TimeRemainingColumn(),
                   console=Console(stderr=True), disable=not progress)
    started = time.perf_counter()
    with bar:
        task = bar.add_task("import", total=file.stat().st_size)
        summary = import_orders(file, partial(_uow, settings), batch=batch, jobs=jobs, limits=settings.intake_limits,
                                advanced=lambda read: bar.advance(task, read), new_seller=new_seller)
    seconds = time.perf_counter() - started
    typer.echo(f"{summary.lines:,} orders read in {seconds:.1f} s: {summary.created:,} taken in, "
               f"{summary.existing:,} already there, {len(summary.refused):,} refused")
    for refused in summary.refused:
        typer.echo(f"line {refused.line}: {refused.code}: {refused.message}")
    if any(refused.code == UnknownSeller.code for refused in summary.refused):
        typer.echo("to create the sellers kalem does not know yet, run the import again with --new-seller")
    if summary.refused:
        raise typer.Exit(1)


@app.command()
def demo(orders: Annotated[int, typer.Option(help="orders to create")] = 50,
         receiver_url: Annotated[str | None, typer.Option(help="subscribe this URL to every event (the demo "
                                                           "receiver of `make run`)")] = None) -> None:
    """Load demo data once (two sellers, orders in mixed states, pending cancel requests, story orders)."""
    from kalem.demo import load_demo
    settings = Settings()
    for line in load_demo(_uow(settings), orders=orders, receiver_url=receiver_url):
        typer.echo(line)


@app.command()
def openapi() -> None:
    """Print the OpenAPI document the server publishes at /openapi.json (docs/openapi.json is this)."""
    import json
    import tempfile

    from kalem.bootstrap.api import build_app
    # A throwaway database in a directory that goes with it, and a throwaway key: no file is left behind.
    with tempfile.TemporaryDirectory() as scratch:
        document = build_app(Settings(database_url=f"sqlite:///{scratch}/unopened.db",
                                      secret_key="k" * 32)).openapi()
    typer.echo(json.dumps(document, indent=2, ensure_ascii=False))


def _redacted(url: str) -> str:
    from sqlalchemy.engine import make_url
    return make_url(url).render_as_string(hide_password=True)


if __name__ == "__main__":
    app()
