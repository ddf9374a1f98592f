"""Targets are checked and normalised: Telegram ids and names, WhatsApp numbers and groups."""

from __future__ import annotations

import pytest

from panelrelay.transports.targets import TargetError, normalize


@pytest.mark.parametrize(
    ("kind", "raw", "stored"),
    [
        ("tg_group", "-1001234567890", "-1001234567890"),
        ("tg_group", " -4001234567 ", "-4001234567"),
        ("tg_group", "@provider_a", "@provider_a"),
        ("tg_user", "500000001", "500000001"),
        ("wa_number", "+44 7700 900123", "447700900123@c.us"),
        ("wa_number", "0044 (7700) 900-123", "447700900123@c.us"),
        ("wa_number", "447700900123@c.us", "447700900123@c.us"),
        ("wa_number", "5511988887777@s.whatsapp.net", "5511988887777@c.us"),
        ("wa_group", "120363040000000001@g.us", "120363040000000001@g.us"),
        ("wa_group", "79001112233-1600000000", "79001112233-1600000000@g.us"),
    ],
)
def test_it_normalises_valid_targets(kind: str, raw: str, stored: str) -> None:
    assert normalize(kind, raw) == stored


@pytest.mark.parametrize(
    ("kind", "raw", "hint"),
    [
        ("tg_group", "1234567890", "negative id"),
        ("tg_group", "@ab", "negative id"),
        ("tg_group", "https://t.me/provider_a", "negative id"),
        ("tg_user", "@alice", "start link"),
        ("tg_user", "-100123456", "positive numeric id"),
        ("wa_number", "7700 900", "country code"),
        ("wa_number", "+44 7700 900123 ext 5", "country code"),
        ("wa_number", "0447700900123456789", "country code"),
        ("wa_group", "Provider A group", "@g.us"),
        ("wa_number", "   ", "Enter the chat id"),
    ],
)
def test_it_refuses_invalid_targets_with_a_hint(kind: str, raw: str, hint: str) -> None:
    with pytest.raises(TargetError) as caught:
        normalize(kind, raw)
    assert hint in str(caught.value)
