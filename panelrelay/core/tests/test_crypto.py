from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from panelrelay.core import crypto


def test_it_round_trips_and_never_stores_plaintext() -> None:
    token = crypto.encrypt("smmrush.com")
    assert "smmrush" not in token
    assert crypto.decrypt(token) == "smmrush.com"
    assert crypto.encrypt("smmrush.com") != token  # random IV: equal values do not look equal


def test_rotation_first_key_encrypts_all_keys_decrypt(settings) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FERNET_KEYS = [old]
    legacy = crypto.encrypt("api-key-1234")
    settings.FERNET_KEYS = [new, old]
    assert crypto.decrypt(legacy) == "api-key-1234"
    rotated = crypto.rotate(legacy)
    settings.FERNET_KEYS = [new]
    assert crypto.decrypt(rotated) == "api-key-1234"
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(legacy)


def test_the_index_is_stable_keyed_and_separated_by_purpose(settings) -> None:
    a = crypto.index_hmac("smmrush.com", "provider")
    assert a == crypto.index_hmac("smmrush.com", "provider")
    assert a != crypto.index_hmac("smmrush.com", "other")
    settings.FERNET_KEYS = [Fernet.generate_key().decode()]  # rotating Fernet keys keeps the index
    assert a == crypto.index_hmac("smmrush.com", "provider")
    settings.INDEX_KEY = "another"
    assert a != crypto.index_hmac("smmrush.com", "provider")


def test_mask_shows_only_a_short_tail() -> None:
    assert crypto.mask("abcdef0123456789") == "••••6789"
    assert crypto.mask("short") == "••••"
    assert crypto.mask("") == ""
