"""Channels: where an order was sold — a platform (`n11`, `hepsiglobal`, `zonos`, `hebiar`, `akinon`),
the seller's own storefront (`direct`, the default), or a name the seller gives (`WEB`, `app`).

Every order belongs to exactly one channel, named at intake and never changed. A platform's face
sees its own channel's orders only; an order-management system's face sees every channel.
"""

from __future__ import annotations

import re

from kalem.domain.errors import ChannelNameInvalid

#: The channel of an order taken in without one: the seller's own sale.
DIRECT = "direct"
#: How long a channel's name may be.
MAX_CHANNEL_LENGTH = 40
#: Letters, digits, `.`, `_` and `-`, beginning with a letter or digit: a name fit for a query
#: string, a path, a metric label and a file name alike.
CHANNEL_PATTERN = rf"^[A-Za-z0-9][A-Za-z0-9._-]{{0,{MAX_CHANNEL_LENGTH - 1}}}$"
_CHANNEL = re.compile(CHANNEL_PATTERN)


def channel_name(value: str | None) -> str:
    """The channel named (`direct` when none is), refused unless it is a valid name."""
    if value is None:
        return DIRECT
    if not _CHANNEL.match(value):
        raise ChannelNameInvalid(
            f"channel {value[:80]!r} is not a valid name: 1 to {MAX_CHANNEL_LENGTH} letters, digits, '.', '_' "
            "or '-', beginning with a letter or digit", field="channel")
    return value
