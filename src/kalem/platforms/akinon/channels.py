"""Akinon's integer channel ids: Omnitron keys a sales channel by an integer (the `channel_id` of its
paths, an order's `channel`), kalem by name.

The channels kalem knows by name have fixed ids (`KNOWN`). A seller's own channel name has the number
`channel_numbers` gave it, from 100 up, when the channel's first order was inserted. A table rather than
a hash of the name: a hash short enough for an integer id can collide, a number handed out once cannot;
and the database hands it out in the intake transaction, so every process reads the same id and
showing an order never writes.
"""

from __future__ import annotations

from kalem.store.serials import ChannelNumberRepository
from kalem.store.uow import UnitOfWork

#: The channels kalem knows by name, and their ids (the numbers migration 0016_channel_numbers gives them).
KNOWN = {"direct": 1, "n11": 2, "hepsiglobal": 3, "zonos": 4, "hebiar": 5, "akinon": 6}
_KNOWN_IDS = {n: name for name, n in KNOWN.items()}
#: What a `channel_id` no channel has selects: the name of no order's channel (names are never empty).
NO_CHANNEL = ""


def channel_id(uow: UnitOfWork, channel: str) -> int | None:
    """The id of the channel (None only for a seller's channel with no order yet)."""
    known = KNOWN.get(channel)
    return known if known is not None else uow.repository(ChannelNumberRepository).all().get(channel)


def channel_named(uow: UnitOfWork, channel_id: int) -> str:
    """The name of the channel with this id; NO_CHANNEL when no channel has it."""
    known = _KNOWN_IDS.get(channel_id)
    if known is not None:
        return known
    return next((name for name, n in uow.repository(ChannelNumberRepository).all().items()
                 if n == channel_id and name not in KNOWN), NO_CHANNEL)
