"""Destination targets: what the owner typed or picked, checked and put in the one form we store.

Telegram: a group is a negative id (-100… for supergroups) or a public @name (supergroups and
channels only); a user is a positive id, never an @username (bots cannot resolve those).
A Telegram *user account* (Telethon) is different: it resolves @usernames (people too), phone
numbers in its contacts and t.me links, but not a bare numeric id it has never met (the id is
useless without the access_hash Telegram gave when the account saw that chat).
WhatsApp: a number is normalised to `<country code and number>@c.us`; a group is `<id>@g.us`.
"""

from __future__ import annotations

import re

USERNAME = re.compile(r"@[A-Za-z][A-Za-z0-9_]{3,31}")
GROUP_ID = re.compile(r"\d+(-\d+)?")
TME = re.compile(
    r"(?:https?://)?(?:www\.)?(?:t\.me|telegram\.me)/(\+[\w-]{8,}|joinchat/[\w-]{8,}|[A-Za-z][\w]{3,31})/?"
)


class TargetError(ValueError):
    """The text cannot be a target of this kind; the message says what would be."""


def normalize(kind: str, raw: str, connection_kind: str = "") -> str:
    value = raw.strip()
    if not value:
        raise TargetError("Enter the chat id, number or group, or pick one from the list.")
    if connection_kind == "telegram_user" and kind in ("tg_group", "tg_user"):
        return _tg_user_account(value)
    return {"tg_group": _tg_group, "tg_user": _tg_user, "wa_number": _wa_number, "wa_group": _wa_group}[kind](value)


def _tg_group(value: str) -> str:
    if USERNAME.fullmatch(value) or re.fullmatch(r"-\d{5,20}", value):
        return value
    raise TargetError(
        "A Telegram group is a negative id such as -1001234567890 (supergroups start with -100) "
        "or a public supergroup's @name. Easier: add the bot to the group and pick it from the list."
    )


def _tg_user(value: str) -> str:
    if value.startswith("@"):
        raise TargetError(
            "Bots cannot write to a person by @username. Send them a one-time start link; once they "
            "press Start they appear in the list."
        )
    if re.fullmatch(r"\d{3,20}", value):
        return value
    raise TargetError("A Telegram user is a positive numeric id, e.g. 500000001.")


def _tg_user_account(value: str) -> str:
    """@name, +phone or a t.me link: the forms a user account can resolve without having met the chat."""
    if USERNAME.fullmatch(value):
        return value
    link = TME.fullmatch(value)
    if link:
        path = link.group(1)
        # A public name becomes @name (one form per chat); an invite link stays a link.
        return f"https://t.me/{path}" if path.startswith(("+", "joinchat/")) else f"@{path}"
    phone = re.sub(r"[\s\-().]", "", value)
    if re.fullmatch(r"\+[1-9]\d{7,14}", phone):
        return phone
    if re.fullmatch(r"-?\d{3,20}", value):
        raise TargetError(
            "A Telegram user account cannot write to a bare numeric id it has never seen. Enter the "
            "@username, the +phone number (saved in the account's contacts) or a t.me link instead."
        )
    raise TargetError("Enter an @username, a +phone number with the country code, or a t.me link.")


def _wa_number(value: str) -> str:
    number = value.removesuffix("@c.us").removesuffix("@s.whatsapp.net")
    number = re.sub(r"[\s\-().]", "", number)
    number = number.removeprefix("+")
    if number.startswith("00"):  # the international call prefix in much of the world
        number = number[2:]
    if re.fullmatch(r"[1-9]\d{7,14}", number):
        return f"{number}@c.us"
    raise TargetError("A WhatsApp number is the full international number, with the country code: +44 7700 900123.")


def _wa_group(value: str) -> str:
    group = value.removesuffix("@g.us")
    if GROUP_ID.fullmatch(group):
        return f"{group}@g.us"
    raise TargetError("A WhatsApp group id looks like 120363040000000001@g.us. Pick the group from the list.")
