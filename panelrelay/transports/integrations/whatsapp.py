"""What the three WhatsApp gateways share: pacing, ids, and reading a message that arrived.

WAHA, Evolution API and Green-API differ in paths and payloads, not in how a WhatsApp message is
paced (one slow lane per connection, with jitter: unofficial gateways get banned when they send
like a bot) or in how ids look. Their transports derive from `WhatsAppTransport`; each reads its
own webhook body and history into the front door's `Incoming` (transports.incoming).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from django.utils import timezone

from panelrelay.core.http import Result
from panelrelay.transports import pacing
from panelrelay.transports.base import Transport, TransportError, epoch
from panelrelay.transports.incoming import Incoming
from panelrelay.transports.integrations.common import not_json, retry_after

POLL_CHATS = 20  # chats read per poll of one connection: the destinations first used


class WhatsAppTransport(Transport):
    max_length = 4096
    can_receive = True
    rate_limit_wait = 30.0  # seconds after a 429 without Retry-After

    def pacing(self, target: str) -> tuple[dict[str, float], float]:
        return {f"wa:{self.connection.code}": self.connection.pace_seconds}, pacing.value("PACING_WHATSAPP_JITTER")

    def poll_incoming(
        self, chats: list[str], since: dict[str, float], handle: Callable[[Incoming], object]
    ) -> dict[str, float]:
        positions = dict(since)
        now = float(int(timezone.now().timestamp()))  # gateways stamp whole seconds: that second is read too
        for chat in chats[:POLL_CHATS]:
            start = positions.get(chat)
            if start is None:  # first look at this chat: from now on, not its old history
                positions[chat] = now
                continue
            for item in self.chat_history(chat, start):
                handle(item)
                positions[chat] = max(positions[chat], item.at.timestamp())
        return positions

    def chat_history(self, chat: str, since: float) -> list[Incoming]:
        """Messages others wrote in `chat` at or after `since` (a Unix time), oldest first."""
        return []

    def recent_chats(self, limit: int) -> list[tuple[str, float]]:
        """The gateway's most recently active private chats, newest first, as (our chat id, Unix time
        of the last activity): how a poller finds a customer who never wrote before. [] if unknown."""
        return []

    def common_error(self, result: Result, body: Any, service: str) -> TransportError | None:
        """The errors every gateway reports alike: a refused key, a 429, a body that is not JSON."""
        if result.status in (401, 403):
            return TransportError(f"{service} refused the API key ({result.status})", kind="auth_failed")
        if result.status == 429:
            wait = retry_after(result, self.rate_limit_wait)
            return TransportError(f"{service} rate limit: retry after {wait:g} s", kind="rate_limited",
                                  retry_after=wait)  # fmt: skip
        if body is None:
            return not_json(result, service)
        return None


def chat_id(jid: Any) -> str:
    """Our spelling of a WhatsApp chat: people as <number>@c.us (Baileys says @s.whatsapp.net)."""
    value = str(jid or "")
    return value.removesuffix("@s.whatsapp.net") + "@c.us" if value.endswith("@s.whatsapp.net") else value


def private_chat(jid: Any) -> str:
    """Our id of a person's chat (<number>@c.us), or "" for a group, a broadcast or anything else."""
    value = chat_id(jid)
    number = value.removesuffix("@c.us")
    return value if value.endswith("@c.us") and number.isdigit() else ""


def when(value: Any) -> datetime:
    seconds = epoch(value)
    return datetime.fromtimestamp(seconds, UTC) if seconds is not None else timezone.now()


def incoming(transport: Transport, *, chat: Any, sender: Any, name: Any, text: Any, message_id: Any,
             reply_to: Any = "", at: Any = None, raw: dict[str, Any] | None = None) -> Incoming | None:  # fmt: skip
    """An Incoming from a gateway's fields, or None when the message has no chat or no id."""
    chat_text, id_text = chat_id(chat), str(message_id or "")
    if not chat_text or not id_text or chat_text == "status@broadcast":
        return None
    return Incoming(
        connection=transport.connection,
        chat_id=chat_text,
        private=not chat_text.endswith("@g.us"),
        sender_id=chat_id(sender) or chat_text,
        sender_name=str(name or ""),
        text=str(text or ""),
        message_id=id_text,
        reply_to=str(reply_to or ""),
        at=when(at),
        raw=raw or {},
    )
