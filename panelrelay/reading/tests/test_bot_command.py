"""Team-bot commands: "/refill 123 456" typed by staff in a private chat with the workspace's bot."""

from __future__ import annotations

import pytest

from panelrelay.reading.parser import parse_bot_command


@pytest.mark.parametrize(
    ("text", "command", "ids"),
    [
        ("/refill 123 456", "refill", ["123", "456"]),
        ("/speed_up 1", "speed_up", ["1"]),
        ("/speedup 1", "speed_up", ["1"]),
        ("/cancel@relay_bot 1,2", "cancel", ["1", "2"]),
        ("/partial 98765", "partial", ["98765"]),
        ("/REFILL 123", "refill", ["123"]),
        ("  /refill\n123\n456\n123", "refill", ["123", "456"]),
        ("/refill, 77", "refill", ["77"]),
    ],
)
def test_it_reads_commands_and_every_id_after_them(text: str, command: str, ids: list[str]) -> None:
    parsed = parse_bot_command(text)
    assert (parsed.command, parsed.ids) == (command, ids), parsed.reason


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("/refill 9999999999999999999910001", "1 longer than 20 digits"),
        ("/refill -5", "1 with a minus sign"),
        ("/refill 2**70", "2 in arithmetic"),
        ("/refill 10^6", "2 in arithmetic"),
        ("/refill 1e5", "2 glued to letters"),
        ("/refill 1.5", "2 in a decimal number"),
        ("/refill 12345\u200b67890", "2 split by an invisible character"),
    ],
)
def test_it_never_takes_part_of_a_number_as_an_id(text: str, said: str) -> None:
    parsed = parse_bot_command(text)
    assert parsed.ids == [] and said in parsed.reason, parsed.reason


def test_it_still_refuses_dates_links_and_glued_digits() -> None:
    parsed = parse_bot_command("/refill 5 2025-05-15 https://t.me/c/123 x9 9x 07")
    assert parsed.ids == ["5"]
    assert "ignored" in parsed.reason


def test_it_says_when_ids_are_missing() -> None:
    parsed = parse_bot_command("/refill")
    assert parsed.command == "refill" and parsed.ids == []
    assert "no order ids after /refill" in parsed.reason


def test_it_rejects_what_is_not_a_command() -> None:
    assert parse_bot_command("refill 123").command is None
    assert "not a bot command" in parse_bot_command("refill 123").reason
    assert parse_bot_command("").command is None
    assert parse_bot_command("/").command is None
    assert parse_bot_command("/start").reason.startswith("unknown command /start")
    assert parse_bot_command("/refill123").command is None  # the name runs into the digits


def test_it_takes_owner_names_and_new_commands() -> None:
    commands = {"refill": ["r", "докрутка"], "fake_complete": ["fake-complete"], "": ["x"]}
    assert parse_bot_command("/r 123", commands).command == "refill"
    assert parse_bot_command("/x 123", commands).command is None  # a command needs a name
    assert parse_bot_command("/Докрутка 123", commands).command == "refill"
    assert parse_bot_command("/fake_complete 123", commands).command == "fake_complete"
    assert parse_bot_command("/refill 123", commands).command == "refill"
    only_owner = parse_bot_command("/cancel 123", commands, use_defaults=False)
    assert only_owner.command is None and only_owner.reason.startswith("unknown command /cancel")
    assert parse_bot_command("/refill 123", commands, use_defaults=False).command == "refill"  # a slug names itself


def test_it_ignores_a_command_addressed_to_another_bot() -> None:
    parsed = parse_bot_command("/refill@other_bot 123", bot_username="@relay_bot")
    assert parsed.command is None and parsed.ids == []
    assert "addressed to @other_bot" in parsed.reason
    assert parse_bot_command("/refill@Relay_Bot 123", bot_username="relay_bot").command == "refill"
