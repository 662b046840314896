"""Metrics read from the database at scrape time: they describe shared state (the outbox, the cancel
request queue), so any one process can report them, and no process has to keep them current."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

if TYPE_CHECKING:  # the store imports this package; types only, no import cycle
    from kalem.store.channel_drift import AccountHealth
    from kalem.store.health import Migrations, Outbox


class _Families(Collector):
    def __init__(self, families: Sequence[Metric]) -> None:
        self._families = families

    def collect(self) -> Iterable[Metric]:
        return self._families


def database_state(migrations: Migrations | None, outbox: Outbox | None,
                   pending_ages: dict[str, float], channels: Sequence[AccountHealth] = ()) -> CollectorRegistry:
    """The families for one scrape; `migrations` is None when the database did not answer."""
    families: list[Metric] = [GaugeMetricFamily("kalem_database_up", "1 if the database answered this scrape",
                                  value=0 if migrations is None else 1)]
    if migrations is not None:
        families.append(GaugeMetricFamily("kalem_migrations_at_head", "1 if the schema is at this code's "
                                          "migration head", value=1 if migrations.at_head else 0))
    if outbox is not None:
        families += [
            GaugeMetricFamily("kalem_outbox_depth", "Webhook deliveries not yet delivered nor given up",
                              value=outbox.depth),
            GaugeMetricFamily("kalem_outbox_oldest_undelivered_age_seconds", "Age of the oldest of them (the "
                              "outbox lag); 0 when none", value=outbox.oldest_age_seconds),
            GaugeMetricFamily("kalem_webhook_dead_letters", "Webhook deliveries given up (status dead)",
                              value=outbox.dead),
        ]
    ages = GaugeMetricFamily("kalem_cancel_request_oldest_pending_age_seconds", "Per seller, age of its oldest "
                             "cancel request awaiting an answer", labels=["seller"])
    for seller, age in sorted(pending_ages.items()):
        ages.add_metric([seller], age)
    families.append(ages)
    families += channel_families(channels)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Families(families))
    return registry


#: An account's labels: what names it, never what authenticates it.
_ACCOUNT = ["account", "seller", "platform", "channel"]


def channel_families(channels: Sequence[AccountHealth]) -> list[Metric]:
    """Per channel account: its consecutive failures, dead pushes and drifting orders, and when it last
    worked (docs/channels.md, "Health")."""
    failures = GaugeMetricFamily("kalem_channel_account_consecutive_failures", "Per channel account, its failed "
                                 "pulls and pushes in a row (0: healthy)", labels=_ACCOUNT)
    dead = GaugeMetricFamily("kalem_channel_dead_pushes", "Per channel account, pushes given up (dead letters)",
                             labels=_ACCOUNT)
    drift = GaugeMetricFamily("kalem_channel_drift", "Per channel account, orders the platform shows otherwise "
                              "than kalem's ledger (as the last reconciliation found them)", labels=_ACCOUNT)
    success = GaugeMetricFamily("kalem_channel_account_last_success_timestamp_seconds", "Per channel account, "
                                "when a pull or push last worked (Unix time; absent: never)", labels=_ACCOUNT)
    failing = GaugeMetricFamily("kalem_channel_account_failing", "Per failing channel account, its failures in a "
                                "row, labelled with the kind of the last one (e.g. credentials_rejected, "
                                "throttled); absent: healthy", labels=[*_ACCOUNT, "kind"])
    next_attempt = GaugeMetricFamily("kalem_channel_account_next_attempt_timestamp_seconds", "Per failing channel "
                                     "account, when it is tried next (Unix time; later and later while it fails, "
                                     "and not before the platform's Retry-After)", labels=_ACCOUNT)
    for account in channels:
        labels = [account.id, account.seller_id, account.platform, account.channel]
        failures.add_metric(labels, account.consecutive_failures)
        dead.add_metric(labels, account.dead_pushes)
        drift.add_metric(labels, account.drift)
        if account.last_success_at is not None:
            success.add_metric(labels, account.last_success_at.timestamp())
        if account.consecutive_failures:
            failing.add_metric([*labels, account.last_error_kind or "unknown"], account.consecutive_failures)
            next_attempt.add_metric(labels, account.next_pull_at.timestamp())
    return [failures, dead, drift, success, failing, next_attempt]
