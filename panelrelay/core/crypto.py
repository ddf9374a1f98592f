"""Secrets at rest: Fernet with rotation, a keyed index, and masking for display.

Every secret column (panel API keys, bot tokens, gateway keys, provider domains) holds the
output of encrypt(). Reading one back is always an explicit decrypt() call, so a grep for
decrypt( shows every place a secret is in clear.
"""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class DecryptionError(Exception):
    """A stored secret cannot be read with any configured key."""


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key.encode()) for key in keys])


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.FERNET_KEYS))


def encrypt(value: str) -> str:
    return fernet().encrypt(value.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    try:
        return fernet().decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, ValueError) as exc:
        raise DecryptionError("stored secret cannot be decrypted with the configured FERNET_KEYS") from exc


def rotate(token: str) -> str:
    """Re-encrypt with the first (newest) key."""
    return fernet().rotate(token.encode("ascii")).decode("ascii")


@lru_cache(maxsize=4)
def _first(key: str) -> Fernet:
    return Fernet(key.encode())


def is_current(token: str) -> bool:
    """Whether the first (newest) key reads this token, i.e. rotating it would change nothing."""
    try:
        _first(settings.FERNET_KEYS[0]).decrypt(token.encode("ascii"))
    except (InvalidToken, ValueError):
        return False
    return True


def rotated(token: str) -> str | None:
    """The token re-encrypted under the first key, or None when it already is (so that a second
    `manage.py rotate_keys` writes nothing). The clear value is never handed back to the caller."""
    if is_current(token):
        return None
    try:
        return rotate(token)
    except (InvalidToken, ValueError) as exc:
        raise DecryptionError("stored secret cannot be decrypted with the configured FERNET_KEYS") from exc


def index_hmac(value: str, purpose: str) -> str:
    """A stable keyed digest, to find rows by an encrypted value without decrypting it.

    `purpose` separates uses, so the digest of a domain cannot be matched against the
    digest of, say, an API key that happens to have the same text.
    """
    key = hashlib.sha256(f"{purpose}:{settings.INDEX_KEY}".encode()).digest()
    return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()


def mask(secret: str, visible: int = 4) -> str:
    """`••••1234`: enough for the owner to recognise a key, never enough to use it."""
    if not secret:
        return ""
    tail = secret[-visible:] if len(secret) > visible * 3 else ""
    return "••••" + tail
