"""Channel accounts: a seller's accounts on the platforms kalem connects to (docs/channels.md).

A seller adds, lists and removes its own; an operator any seller's. Credentials are sealed at rest by
the store and never leave it again except to the connector that calls the platform: every view of an
account shows the names of its credentials, never their values.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from kalem.app.access import known_seller
from kalem.app.channel_connectors import Connector
from kalem.app.ids import new_id
from kalem.app.principals import Principal, seller_for_new_order
from kalem.domain.errors import Conflict, InvalidInput, NotFound
from kalem.domain.reasons import CATALOG
from kalem.store.channel_accounts import ChannelAccount, Push
from kalem.store.uow import UnitOfWork

_CHANNEL = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
_URL = re.compile(r"^https?://[^\s/?#]+[^\s?#]*$", re.IGNORECASE)


class PlatformNotConnectable(InvalidInput):
    """A platform kalem has no connector for."""
    code = "platform_not_connectable"


class CredentialsIncomplete(InvalidInput):
    """The credentials lack one the platform needs, or hold one it does not take."""
    code = "credentials_incomplete"


class ChannelAccountInvalid(InvalidInput):
    """A channel name or base URL kalem cannot use."""
    code = "channel_account_invalid"


class ChannelAccountNotFound(NotFound):
    code = "channel_account_not_found"


class ChannelPushNotFound(NotFound):
    """No dead push with this id (among the caller's)."""
    code = "channel_push_not_found"


class ChannelAccountExists(Conflict):
    """The seller has an account for this channel already (one account per channel)."""
    code = "channel_account_exists"



@dataclass(frozen=True, slots=True)
class AddAccount:
    platform: str
    base_url: str
    credentials: Mapping[str, str]
    principal: Principal
    seller_id: str | None = None
    channel: str | None = None   # default: the platform's name
    #: kalem reason code (the shared vocabulary: `out_of_stock`, …) → the platform's reason id, for a
    #: platform whose reasons are the tenant's own; a code left out is sent as kalem's own id.
    reason_map: Mapping[str, int] | None = None


#: The codes a reason map may name: the shared vocabulary of every catalog's reasons.
REASON_CODES = frozenset(r.code for r in CATALOG)


def _reason_map(given: Mapping[str, int] | None) -> dict[str, int]:
    found = dict(given or {})
    unknown = sorted(code for code in found if code not in REASON_CODES)
    if unknown:
        raise ChannelAccountInvalid(f"reason_map: {unknown[0][:64]!r} is not a reason code; the codes are "
                                    f"{', '.join(sorted(REASON_CODES))}", field="reason_map")
    if not all(type(v) is int and 0 < v < 2**63 for v in found.values()):
        raise ChannelAccountInvalid("reason_map: each platform reason id is a positive integer", field="reason_map")
    return found


def add_account(uow: UnitOfWork, cmd: AddAccount, connectors: Mapping[str, Connector]) -> ChannelAccount:
    connector = connectors.get(cmd.platform)
    if connector is None:
        raise PlatformNotConnectable(f"platform must be one of {', '.join(sorted(connectors))}", field="platform")
    seller_id = seller_for_new_order(cmd.principal, cmd.seller_id)
    channel = cmd.channel or cmd.platform
    if not _CHANNEL.match(channel):
        raise ChannelAccountInvalid("channel: lower-case letters, digits, '.', '_' or '-', at most 64",
                                    field="channel")
    if not _URL.match(cmd.base_url) or len(cmd.base_url) > 2000:
        raise ChannelAccountInvalid("base_url must be an http(s) URL", field="base_url")
    reason_map = _reason_map(cmd.reason_map)
    wanted, given = set(connector.credential_names), set(cmd.credentials)
    if wanted != given or not all(isinstance(v, str) and v for v in cmd.credentials.values()):
        raise CredentialsIncomplete(f"{cmd.platform} takes exactly these credentials, each non-empty: "
                                    f"{', '.join(connector.credential_names)}", field="credentials",
                                    missing=sorted(wanted - given), unexpected=sorted(given - wanted))
    account_id = new_id("cha")
    with uow:
        now = uow.now()
        known_seller(uow, seller_id, now, new_seller=cmd.principal.role == "operator")
        if uow.channel_accounts.exists(seller_id, channel):
            raise ChannelAccountExists(f"seller {seller_id} has an account for channel {channel} already",
                                       channel=channel)
        uow.channel_accounts.add(account_id=account_id, seller_id=seller_id, platform=cmd.platform,
                                 channel=channel, base_url=cmd.base_url.rstrip("/"),
                                 credentials=dict(cmd.credentials), push_types=sorted(connector.pushes), now=now,
                                 settings={"reason_map": reason_map} if reason_map else None)
        found = uow.channel_accounts.get(account_id)
        assert found is not None
        uow.commit(found)
    return found


def receiving_account(uow: UnitOfWork, seller_id: str, channel: str, platform: str,
                      platform_name: str) -> ChannelAccount:
    """The enabled account of `platform` a webhook from it is addressed to (by seller and channel), with
    its credentials open to check the hook's signature; `ChannelAccountNotFound` otherwise."""
    with uow:
        found = next((a for a in uow.channel_accounts.listed(seller_id)
                      if a.channel == channel and a.platform == platform), None)
        account = None if found is None else uow.channel_accounts.get(found.id, open_credentials=True)
    if account is None or not account.enabled:
        raise ChannelAccountNotFound(f"no {platform_name} channel account {channel} of seller {seller_id}",
                                     channel=channel)
    return account


def list_accounts(uow: UnitOfWork, principal: Principal, seller_id: str | None = None) -> list[ChannelAccount]:
    with uow:
        return uow.channel_accounts.listed(principal.scope or seller_id)


def get_account(uow: UnitOfWork, account_id: str, principal: Principal) -> ChannelAccount:
    with uow:
        found = uow.channel_accounts.get(account_id, principal.scope)
    if found is None:
        raise ChannelAccountNotFound(f"no channel account {account_id}", account_id=account_id)
    return found


def remove_account(uow: UnitOfWork, account_id: str, principal: Principal) -> None:
    with uow:
        if uow.channel_accounts.get(account_id, principal.scope) is None:
            raise ChannelAccountNotFound(f"no channel account {account_id}", account_id=account_id)
        uow.channel_accounts.remove(account_id)
        uow.channel_drift.remove_account(account_id)
        uow.commit()


def list_pushes(uow: UnitOfWork, principal: Principal, *, account_id: str | None = None,
                status: str | None = None) -> list[Push]:
    with uow:
        if account_id is not None and uow.channel_accounts.get(account_id, principal.scope) is None:
            raise ChannelAccountNotFound(f"no channel account {account_id}", account_id=account_id)
        found = uow.channel_accounts.pushes(account_id, status)
    return [p for p in found if principal.scope is None or p.seller_id == principal.scope]


def replay_push(uow: UnitOfWork, push_id: int, principal: Principal) -> None:
    """A dead push, sent again from its first attempt."""
    with uow:
        if not uow.channel_accounts.replay(push_id, uow.now(), principal.scope):
            raise ChannelPushNotFound(f"no dead push {push_id}", push_id=push_id)
        uow.commit()
