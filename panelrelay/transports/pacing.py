"""How fast messages may go out, shared by every process through core.ratelimit.

Telegram's Bot FAQ: about one message a second per chat, at most 20 a minute per group, about
30 a second per bot. WhatsApp gateways have no published limit; sending like a bot gets the
number banned (WAHA docs: "How to avoid blocking"), so each WhatsApp connection has its own
slow pace (Connection.pace_seconds) stretched by random jitter.

The Telegram intervals and the WhatsApp jitter can be overridden in settings (the tests shorten
them so a hundred messages take seconds, not minutes):
PACING_TELEGRAM_GROUP_SECONDS, PACING_TELEGRAM_PRIVATE_SECONDS, PACING_TELEGRAM_BOT_SECONDS,
PACING_WHATSAPP_JITTER, PACING_TELEGRAM_USER_SECONDS, PACING_TELEGRAM_USER_JITTER.
"""

from __future__ import annotations

from django.conf import settings

DEFAULTS = {
    "PACING_TELEGRAM_GROUP_SECONDS": 3.0,  # 20 / minute per group
    "PACING_TELEGRAM_PRIVATE_SECONDS": 1.0,  # 1 / second per private chat
    "PACING_TELEGRAM_BOT_SECONDS": 1 / 30,  # 30 / second per bot
    "PACING_WHATSAPP_JITTER": 0.5,
    # A Telegram user account (Telethon): one message per 5–7.5 s for the whole account, because
    # Telegram limits user accounts that send like bots (PEER_FLOOD) far sooner than bots.
    "PACING_TELEGRAM_USER_SECONDS": 5.0,
    "PACING_TELEGRAM_USER_JITTER": 0.5,  # each WhatsApp interval is 100–150 % of the connection's pace
}


def value(name: str) -> float:
    return float(getattr(settings, name, DEFAULTS[name]))
