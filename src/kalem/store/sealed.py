"""Secrets at rest: values sealed when the store writes them and opened when it reads them.

A sealed value is `sealed:v1:` and a Fernet token (AES-128-CBC and HMAC-SHA256, from the
`cryptography` package), so use cases and the domain only ever see plain text, and a value stored
before sealing existed (no prefix) still reads as itself until `kalem secrets rotate` seals it.

Keys (docs/operations.md, "Secrets at rest"): `KALEM_ENCRYPTION_KEYS`, Fernet keys separated by
commas — the first seals, every one opens (MultiFernet), so a new key goes first and old ones stay
until `rotate` has re-sealed every value. Without it, one key is derived from `KALEM_SECRET_KEY`
(HKDF-SHA256), so a development setup needs nothing; that derived key also keeps opening (never
sealing) once explicit keys are set, which makes moving to them one `kalem secrets rotate`.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from functools import cached_property
from typing import TYPE_CHECKING

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from kalem.domain.errors import KalemError

if TYPE_CHECKING:
    from kalem.config import Settings

PREFIX = "sealed:v1:"
#: HKDF's `info`: a key derived for sealing is never the one that signs sessions and JWTs.
PURPOSE = b"kalem secrets at rest v1"


class SecretsUnavailable(KalemError):
    """Stored secrets cannot be opened (or sealed) with the configured keys: a key was removed
    before `kalem secrets rotate` re-sealed what it sealed, or no key is configured."""

    code = "secrets_unavailable"
    status = 503


_UNOPENED = ("a secret kalem stores cannot be opened with the configured encryption keys "
             "(KALEM_ENCRYPTION_KEYS); see docs/operations.md, \"Secrets at rest\"")


class InvalidEncryptionKeys(ValueError):
    """`KALEM_ENCRYPTION_KEYS` holds something that is not a Fernet key (refused at start-up)."""


def derived_key(secret_key: str) -> bytes:
    """The Fernet key derived from `KALEM_SECRET_KEY`, for a setup that names no keys of its own."""
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=PURPOSE).derive(secret_key.encode())
    return base64.urlsafe_b64encode(raw)


def parse_keys(text: str) -> list[bytes]:
    """The keys of `KALEM_ENCRYPTION_KEYS`; an unfit one is named by its position, never shown."""
    keys = [part.strip().encode() for part in text.split(",") if part.strip()]
    for position, key in enumerate(keys, 1):
        try:
            Fernet(key)
        except (ValueError, TypeError):
            raise InvalidEncryptionKeys(
                f"KALEM_ENCRYPTION_KEYS: key {position} of {len(keys)} is not a Fernet key (32 bytes, "
                "url-safe base64; see docs/operations.md, \"Secrets at rest\")") from None
    return keys


class Sealer:
    """Seals, opens and re-seals text with the first of `keys` sealing and all of them opening.

    `keys` may be a function, called once on first use: a derived key is only worked out (and the
    development secret key file only read) by a process that meets a secret."""

    def __init__(self, keys: Sequence[bytes] | Callable[[], Sequence[bytes]]) -> None:
        self._keys = keys

    @cached_property
    def _fernets(self) -> tuple[Fernet, MultiFernet] | None:
        keys = self._keys() if callable(self._keys) else self._keys
        if not keys:
            return None
        fernets = [Fernet(key) for key in keys]
        return fernets[0], MultiFernet(fernets)

    def _keyed(self) -> tuple[Fernet, MultiFernet]:
        if self._fernets is None:
            raise SecretsUnavailable("no encryption key is configured for the secrets kalem stores")
        return self._fernets

    def seal(self, text: str) -> str:
        return PREFIX + self._keyed()[1].encrypt(text.encode()).decode()

    def open(self, stored: str) -> str:
        """The plain text of a stored value; one stored plain (before sealing) is returned as it is."""
        if not stored.startswith(PREFIX):
            return stored
        try:
            return self._keyed()[1].decrypt(stored[len(PREFIX):].encode()).decode()
        except InvalidToken:
            raise SecretsUnavailable(_UNOPENED) from None

    def rotate(self, stored: str) -> str:
        """`stored` sealed with the first key: a plain value is sealed, one sealed with another key is
        re-sealed, and one sealed with the first key already comes back unchanged (so a rotation that
        is run twice changes nothing the second time)."""
        first, every = self._keyed()
        if not stored.startswith(PREFIX):
            return self.seal(stored)
        token = stored[len(PREFIX):].encode()
        try:
            first.decrypt(token)
            return stored
        except InvalidToken:
            pass
        try:
            return PREFIX + every.rotate(token).decode()
        except InvalidToken:
            raise SecretsUnavailable(_UNOPENED) from None


#: A sealer with no key: it opens values stored plain and refuses everything else.
UNKEYED = Sealer(())


def from_settings(settings: Settings) -> Sealer:
    """`KALEM_ENCRYPTION_KEYS` (then the key derived from the secret key, to open only), else the key
    derived from the secret key (`Settings.resolved_secret_key`). Unfit keys raise here, at start-up."""
    explicit = parse_keys(settings.encryption_keys)
    if explicit:
        def keys() -> list[bytes]:
            fallback = settings.resolved_secret_key(create=False)
            return explicit + ([derived_key(fallback)] if fallback else [])
        return Sealer(keys)
    return Sealer(lambda: [derived_key(settings.resolved_secret_key())])
