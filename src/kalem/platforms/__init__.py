"""One package per platform face. A face is a thin translator: wire → command → wire.

Each package's `__init__` describes its platform in one `PLATFORM`: what it adds to each kind of
process, behind functions that import it only when called — the API builds the face, the webhook
worker only the payload renderer (which loads no web framework), the schema's users only the tables.
The composition root lists the platforms (`kalem.bootstrap.platforms`); a package re-exports nothing
else.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import sqlalchemy as sa

    from kalem.api.app import Face
    from kalem.app.channel_connectors import Connector
    from kalem.store.uow import UnitOfWork

#: An event (as a dict) → the bodies its subscribers in the dialect receive (`kalem.webhooks.registry`).
Renderer = Callable[[dict[str, Any]], Sequence[Any]]


@dataclass(frozen=True, slots=True)
class Webhooks:
    """A platform's webhook dialect (named like the platform)."""

    renderer: Callable[[Callable[[], UnitOfWork]], Renderer]  # built once per worker, with its units of work
    schemas: Callable[[], Mapping[str, dict[str, Any]]]       # event type → the JSON Schema of one body
    #: A marketplace's or platform's dialect: a subscription in it that names no channels hears of the
    #: orders of the platform's own channel (named like it) only. An OMS's hears of every channel.
    own_channel: bool = False


def _no_tables() -> Sequence[sa.Table]:
    return ()


@dataclass(frozen=True, slots=True)
class Platform:
    name: str                        # labels the face's requests in metrics and traces; its webhook dialect
    face: Callable[[], Face]         # its routes, case-insensitive paths, error envelope and body claims
    tables: Callable[[], Sequence[sa.Table]] = _no_tables  # its own tables, on the store's metadata
    webhooks: Webhooks | None = None
    connector: Callable[[], Connector] | None = None  # its client, for channel accounts (docs/channels.md)
