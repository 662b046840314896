"""`kalem channel add|list|remove|pushes|replay` and `kalem sync` (docs/channels.md)."""

from __future__ import annotations

import json
import logging
import signal
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

from kalem.config import Settings

if TYPE_CHECKING:
    from kalem.app.channel_reconcile import AccountReport
    from kalem.store.channel_accounts import ChannelAccount, Push
    from kalem.store.channel_drift import Drift
    from kalem.store.uow import UnitOfWork

log = logging.getLogger("kalem")
channel_app = typer.Typer(help="Channel accounts: the seller's accounts on the platforms kalem connects to.",
                          no_args_is_help=True)

_OPERATOR_CLI = ("operator", "cli")


def _uow() -> Callable[[], UnitOfWork]:
    from functools import partial

    from kalem.bootstrap import database
    from kalem.store.uow import UnitOfWork
    return partial(UnitOfWork, database(Settings()))


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


@channel_app.command("add")
def channel_add(platform: Annotated[str, typer.Option(help="the platform's name, e.g. n11")],
                seller_id: Annotated[str, typer.Option("--seller-id")],
                base_url: Annotated[str, typer.Option("--base-url", help="the platform API's base URL")],
                credential: Annotated[list[str], typer.Option(help="NAME=VALUE, once per credential "
                                                              "(n11: appkey, appsecret)")],
                channel: Annotated[str | None, typer.Option(help="the channel's name (default: the platform's)")]
                = None,
                reason_map: Annotated[list[str] | None, typer.Option(
                    "--reason-map", help="CODE=ID, once per reason: the platform's reason id for a kalem reason "
                                         "code (e.g. out_of_stock=12); a code left out is sent as kalem's id")]
                = None) -> None:
    """Add a channel account; prints its id alone on stdout."""
    from kalem.app import channels
    from kalem.app.principals import Principal
    from kalem.bootstrap.platforms import connectors
    from kalem.domain.errors import KalemError
    pairs = [c.partition("=") for c in credential]
    if any(not sep for _, sep, _ in pairs):
        raise typer.BadParameter("each --credential is NAME=VALUE")
    reasons = [r.partition("=") for r in reason_map or ()]
    if any(not sep or not value.strip().isdigit() for _, sep, value in reasons):
        raise typer.BadParameter("each --reason-map is CODE=ID, the ID a number")
    try:
        account = channels.add_account(_uow()(), channels.AddAccount(
            platform=platform, base_url=base_url, credentials={k: v for k, _, v in pairs},
            principal=Principal(*_OPERATOR_CLI), seller_id=seller_id, channel=channel,
            reason_map={code.strip(): int(value) for code, _, value in reasons}), connectors())
    except KalemError as exc:
        raise _fail(exc.message) from exc
    typer.echo(account.id)


@channel_app.command("list")
def channel_list(seller_id: Annotated[str | None, typer.Option("--seller-id")] = None) -> None:
    """Every channel account with its health, one JSON object a line (credentials are never shown)."""
    from kalem.app import channels
    from kalem.app.principals import Principal
    for account in channels.list_accounts(_uow()(), Principal(*_OPERATOR_CLI), seller_id):
        typer.echo(json.dumps(account_view(account)))


@channel_app.command("remove")
def channel_remove(account_id: Annotated[str, typer.Argument()]) -> None:
    """Remove an account and what its outbox still held."""
    from kalem.app import channels
    from kalem.app.principals import Principal
    from kalem.domain.errors import KalemError
    try:
        channels.remove_account(_uow()(), account_id, Principal(*_OPERATOR_CLI))
    except KalemError as exc:
        raise _fail(exc.message) from exc
    typer.echo(f"removed {account_id}", err=True)


@channel_app.command("pushes")
def channel_pushes(account_id: Annotated[str | None, typer.Option("--account")] = None,
                   status: Annotated[str | None, typer.Option(help="pending, done or dead")] = None) -> None:
    """The channel outbox, newest first, one JSON object a line (a dead letter keeps the platform's answer)."""
    from kalem.app import channels
    from kalem.app.principals import Principal
    from kalem.domain.errors import KalemError
    try:
        found = channels.list_pushes(_uow()(), Principal(*_OPERATOR_CLI), account_id=account_id, status=status)
    except KalemError as exc:
        raise _fail(exc.message) from exc
    for push in found:
        typer.echo(json.dumps(push_view(push)))


@channel_app.command("replay")
def channel_replay(push_id: Annotated[int, typer.Argument()]) -> None:
    """Send a dead push again."""
    from kalem.app import channels
    from kalem.app.principals import Principal
    from kalem.domain.errors import KalemError
    try:
        channels.replay_push(_uow()(), push_id, Principal(*_OPERATOR_CLI))
    except KalemError as exc:
        raise _fail(exc.message) from exc
    typer.echo(f"push {push_id} queued again", err=True)


def account_view(account: ChannelAccount) -> dict[str, Any]:
    return {"id": account.id, "seller_id": account.seller_id, "platform": account.platform,
            "channel": account.channel, "base_url": account.base_url,
            "credential_names": list(account.credential_names), "enabled": account.enabled,
            "health": {"last_success_at": _iso(account.last_success_at), "last_error_at": _iso(account.last_error_at),
                       "last_error_kind": account.last_error_kind, "last_error": account.last_error,
                       "consecutive_failures": account.consecutive_failures,
                       "next_pull_at": _iso(account.next_pull_at)},
            "watermark": account.watermark, "reason_map": dict(account.settings.get("reason_map") or {})}


def push_view(push: Push) -> dict[str, Any]:
    return {"id": push.id, "account_id": push.account_id, "order_id": push.order_id, "event_id": push.event_id,
            "event_type": push.event_type, "status": push.status, "attempts": push.attempts,
            "next_attempt_at": _iso(push.next_attempt_at), "last_error_kind": push.last_error_kind,
            "last_error": push.last_error, "last_body": push.last_body, "created_at": _iso(push.created_at),
            "finished_at": _iso(push.finished_at)}


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def sync(once: bool = False) -> None:
    """`kalem sync`: pull due channel accounts and send the channel outbox until SIGTERM/SIGINT."""
    import os

    from kalem import logs
    from kalem.app.channel_reconcile import Reconciler
    from kalem.app.channel_sync import ChannelSync, SyncSettings
    from kalem.bootstrap.platforms import connectors
    env = os.environ
    settings = SyncSettings(pull_every=float(env.get("KALEM_SYNC_PULL_SECONDS", "60")),
                            push_workers=int(env.get("KALEM_SYNC_PUSH_WORKERS", "4")),
                            lease=float(env.get("KALEM_SYNC_LEASE_SECONDS", "60")),
                            backoff_base=float(env.get("KALEM_SYNC_BACKOFF_SECONDS", "2")),
                            backoff_max=float(env.get("KALEM_SYNC_BACKOFF_MAX_SECONDS", "3600")))
    poll = float(env.get("KALEM_SYNC_POLL_SECONDS", "1"))
    logs.configure()
    runner = ChannelSync(_uow(), connectors(), settings)
    reconciler = Reconciler(_uow(), connectors(), float(env.get("KALEM_SYNC_RECONCILE_SECONDS", "3600")),
                            time.monotonic)
    if once:
        runner.run_once()
        _log_reports(reconciler.run_due())
        return
    stop_signals = {signal.SIGTERM, signal.SIGINT}
    signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)  # before the thread starts: it inherits the mask
    stopping = threading.Event()

    def reconciling() -> None:
        # A reconciliation reads every recent order of an account from its platform: in a thread of its
        # own, so that pulls and pushes never wait for it.
        while not stopping.is_set():
            try:
                _log_reports(reconciler.run_due())
            except Exception:
                log.exception("kalem sync: a reconciliation failed")
            stopping.wait(poll)

    threading.Thread(target=reconciling, name="kalem-reconcile", daemon=True).start()
    log.info("kalem sync running (pull every %.0f s)", settings.pull_every)
    while True:
        try:
            busy = runner.run_once()
        except Exception:  # the database went away for a moment: keep going, never spin
            log.exception("kalem sync: a round failed")
            busy = 0
        if signal.sigtimedwait(stop_signals, 0 if busy else poll) is not None:
            break
    stopping.set()
    log.info("kalem sync stopped")


def _log_reports(reports: list[AccountReport]) -> None:
    for report in reports:
        if report.status != "reconciled" or report.drift:
            log.warning("channel account %s: reconciliation %s, %d orders drifting%s", report.account_id,
                        report.status, len(report.drift), f" ({report.error})" if report.error else "")


def report_view(report: AccountReport) -> dict[str, Any]:
    return {"account_id": report.account_id, "seller_id": report.seller_id, "platform": report.platform,
            "channel": report.channel, "status": report.status, "compared": report.compared,
            "drift": report.drift, "error": report.error}


def drift_view(drift: Drift) -> dict[str, Any]:
    return {"id": drift.id, "account_id": drift.account_id, "order_number": drift.order_number,
            "lines": drift.lines, "found_at": _iso(drift.found_at), "seen_at": _iso(drift.seen_at)}


def reconcile(channel: str | None, seller_id: str | None) -> None:
    """`kalem reconcile`: one JSON object a line per account; drift is stored and listed on the account."""
    from kalem import logs
    from kalem.app.channel_reconcile import reconcile as run
    from kalem.bootstrap.platforms import connectors
    logs.configure()
    for report in run(_uow(), connectors(), channel=channel, seller_id=seller_id):
        typer.echo(json.dumps(report_view(report)))


@channel_app.command("drift")
def channel_drift(account_id: Annotated[str, typer.Argument()]) -> None:
    """The account's drift as the last reconciliation found it, one JSON object a line."""
    from kalem.app import channel_reconcile
    from kalem.app.principals import Principal
    from kalem.domain.errors import KalemError
    try:
        found = channel_reconcile.list_drift(_uow()(), Principal(*_OPERATOR_CLI), account_id)
    except KalemError as exc:
        raise _fail(exc.message) from exc
    for drift in found:
        typer.echo(json.dumps(drift_view(drift)))


@channel_app.command("resolve")
def channel_resolve(drift_id: Annotated[str, typer.Argument()],
                    take: Annotated[str, typer.Option(help="platform: take the platform's state; kalem: push "
                                                           "kalem's")]) -> None:
    """Resolve one drift."""
    from kalem.app import channel_reconcile
    from kalem.app.principals import Principal
    from kalem.bootstrap.platforms import connectors
    from kalem.domain.errors import KalemError
    if take not in ("platform", "kalem"):
        raise typer.BadParameter("--take is platform or kalem")
    try:
        left = channel_reconcile.resolve_drift(
            _uow(), Principal(*_OPERATOR_CLI), drift_id,
            channel_reconcile.TAKE_PLATFORM if take == "platform" else channel_reconcile.PUSH_KALEM, connectors())
    except KalemError as exc:
        raise _fail(exc.message) from exc
    typer.echo(json.dumps({"id": drift_id, "left": left}))
