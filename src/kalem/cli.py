"""`kalem serve | worker | db upgrade | demo | token create | token revoke | user create`, and
`kalem --version`."""

from __future__ import annotations

import logging
import threading
import time
from importlib.metadata import version as package_version
from typing import Annotated

import typer

from kalem.config import Settings

log = logging.getLogger("kalem")
app = typer.Typer(help="kalem: order-line cancellations, requests, splits, returns and refunds.",
                  no_args_is_help=True, add_completion=False)
db_app = typer.Typer(help="The database.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens.", no_args_is_help=True)
user_app = typer.Typer(help="Users (for face logins and the hub).", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(token_app, name="token")
app.add_typer(user_app, name="user")


def _uow(settings: Settings):  # type: ignore[no-untyped-def]
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


@app.command()
def serve(host: Annotated[str | None, typer.Option(help="default: KALEM_HOST (127.0.0.1)")] = None,
          port: Annotated[int | None, typer.Option(help="default: KALEM_PORT (8000)")] = None,
          workers: Annotated[int, typer.Option(help="API processes")] = 1) -> None:
    """Serve the API (every face) over HTTP."""
    import uvicorn

    from kalem import logs
    settings = Settings()
    host, port = host or settings.host, port or settings.port
    logs.configure()
    threading.Thread(target=_announce, args=(host, port, workers), daemon=True).start()
    uvicorn.run("kalem.bootstrap:app_from_env", factory=True, host=host, port=port, workers=workers,
                log_config=None, log_level="warning", access_log=False)
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


_WORKER = Settings.model_fields


@app.command()
def worker(concurrency: Annotated[int, typer.Option(help="parallel HTTP sends", envvar="KALEM_WEBHOOK_CONCURRENCY")]
           = _WORKER["webhook_concurrency"].default,
           batch: Annotated[int, typer.Option(help="deliveries claimed per round", envvar="KALEM_WEBHOOK_BATCH")]
           = _WORKER["webhook_batch"].default) -> None:
    """Deliver webhooks: claim due deliveries, send, retry (run any number on PostgreSQL, one on SQLite)."""
    import signal

    from kalem import logs
    from kalem.bootstrap import build_worker
    settings = Settings()
    logs.configure()
    runner = build_worker(settings, concurrency=concurrency, batch=batch)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: runner.stop_event.set())
    log.info("kalem %s worker delivering webhooks (database %s, %d parallel sends)", package_version("kalem"),
             _redacted(settings.database_url), concurrency)
    try:
        runner.run()
    finally:
        runner.close()
        log.info("kalem worker stopped")


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
                 new_seller: Annotated[bool, typer.Option("--new-seller", help="create the seller if kalem "
                                                          "does not know it yet")] = False) -> None:
    """Print a new token (or `APPKEY APPSECRET`) alone on stdout. The seller must be known (an order or
    a token named it), unless --new-seller."""
    from kalem.app import access
    from kalem.domain.errors import KalemError
    uow = _uow(Settings())
    try:
        if n11:
            if role != "seller" or not seller_id:
                raise typer.BadParameter("an n11 key pair needs --role seller and --seller-id")
            typer.echo(" ".join(access.create_key_pair(uow(), seller_id=seller_id, name=name,
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


@user_app.command("create")
def user_create(username: Annotated[str, typer.Option()], password: Annotated[str, typer.Option()],
                role: Annotated[str, typer.Option()] = "seller",
                seller_id: Annotated[str | None, typer.Option("--seller-id")] = None) -> None:
    """Create a user that can log in to the faces' login endpoints and the hub."""
    from sqlalchemy.exc import IntegrityError

    from kalem.app import access
    from kalem.domain.errors import KalemError
    try:
        access.create_user(_uow(Settings())(), username=username, password=password, role=role, seller_id=seller_id)
    except KalemError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(2) from exc
    except IntegrityError as exc:
        typer.echo(f"error: user {username} exists", err=True)
        raise typer.Exit(2) from exc
    typer.echo(username)


@app.command()
def demo(orders: Annotated[int, typer.Option(help="orders to create")] = 50,
         receiver_url: Annotated[str | None, typer.Option(help="subscribe this URL to every event (the demo "
                                                           "receiver of `make run`)")] = None) -> None:
    """Load demo data once (two sellers, orders in mixed states, pending cancel requests, story orders)."""
    from kalem.demo import load_demo
    settings = Settings()
    for line in load_demo(_uow(settings), orders=orders, receiver_url=receiver_url):
        typer.echo(line)


def _redacted(url: str) -> str:
    from sqlalchemy.engine import make_url
    return make_url(url).render_as_string(hide_password=True)


if __name__ == "__main__":
    app()
