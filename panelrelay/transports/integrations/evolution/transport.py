"""Evolution API v2 transport (Evolution API v2 docs and source: sendText, findMessages, createJid).

Errors come as {"status", "error", "response": {"message": [...]}}. An unknown number answers 400
with [{"exists": false, …}] inside that list: the target is gone, not the request malformed.
A socket that is not open answers "Connection Closed" with 400 or 500 depending on the version.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote

from panelrelay.core.http import Result
from panelrelay.transports.base import Chat, Status, TransportError, epoch, same_text
from panelrelay.transports.incoming import Incoming
from panelrelay.transports.integrations.common import (
    CHECK_TIMEOUT,
    call,
    join,
    json_of,
    nested,
)
from panelrelay.transports.integrations.whatsapp import WhatsAppTransport, incoming, private_chat

STATES = {
    "open": ("working", "connected"),
    "connecting": ("pending", "connecting: scan the QR code in Evolution's manager"),
    "close": ("broken", "disconnected: reconnect the instance in Evolution's manager"),
}


class EvolutionTransport(WhatsAppTransport):
    kind = "evolution"
    label = "Evolution API"

    @property
    def instance(self) -> str:
        return quote(self.connection.config.get("instance", ""), safe="")

    def api(self, method: str, path: str, timeout: float | None = None, **kwargs: Any) -> Any:
        url = join(self.connection.config.get("base_url", ""), path)
        headers = {"apikey": self.connection.secret()}
        result = call(method, url, service="Evolution API", timeout=timeout, headers=headers, **kwargs)
        body = json_of(result)
        if result.status in (200, 201) and body is not None:
            return body
        raise self.error(result, body)

    def send(self, target: str, text: str) -> str:
        # Evolution builds the JID itself from `number`: digits for a person, the id@g.us for a group.
        number = target.removesuffix("@c.us")
        message = self.api("POST", f"/message/sendText/{self.instance}", json={"number": number, "text": text})
        key = message.get("key") if isinstance(message, dict) else None
        return str(key.get("id", "")) if isinstance(key, dict) else ""

    can_find_sent = True

    def find_messages(self, chat: str, from_me: bool) -> list[Any]:
        """POST /chat/findMessages/{instance} {"where": {"key": {"remoteJid", "fromMe"}}}: v2 answers
        {"messages": {"records": […]}}, older versions a bare list; both are read."""
        number = chat.removesuffix("@c.us")  # as send() does; Evolution stores people as @s.whatsapp.net
        jid = number if "@" in number else f"{number}@s.whatsapp.net"
        body = self.api("POST", f"/chat/findMessages/{self.instance}", timeout=CHECK_TIMEOUT,
                        json={"where": {"key": {"remoteJid": jid, "fromMe": from_me}}})  # fmt: skip
        records = body.get("messages", body) if isinstance(body, dict) else body
        if isinstance(records, dict):
            records = records.get("records", [])
        return records if isinstance(records, list) else []

    def find_sent(self, target: str, text: str, since: datetime) -> str | None:
        for item in self.find_messages(target, from_me=True):
            key = item.get("key") if isinstance(item, dict) else None
            if not isinstance(key, dict) or key.get("fromMe") is False:
                continue
            at = epoch(item.get("messageTimestamp"))
            if (at is None or at >= since.timestamp()) and same_text(_text_of(item.get("message")), text):
                return str(key.get("id") or "found")
        return None

    def recent_chats(self, limit: int) -> list[tuple[str, float]]:
        # POST /chat/findChats/{instance}, route and rows as the evolution-api-sdk types them (a guess:
        # docs/DECISIONS.md): [{"id", "remoteJid", "pushName", "updatedAt": ISO time, …}], no promised order.
        items = self.api("POST", f"/chat/findChats/{self.instance}", timeout=CHECK_TIMEOUT, json={})
        found = []
        for item in items if isinstance(items, list) else []:
            chat = private_chat(item.get("remoteJid")) if isinstance(item, dict) else ""
            at = _iso_epoch(item.get("updatedAt")) if chat else None
            if chat and at is not None:
                found.append((chat, at))
        return sorted(found, key=lambda f: -f[1])[:limit]

    def parse_webhook(self, body: Any) -> list[Incoming]:
        # {"event": "messages.upsert" (or MESSAGES_UPSERT), "instance", "data": message or [messages]}
        if not isinstance(body, dict) or str(body.get("event", "")).lower().replace("_", ".") != "messages.upsert":
            return []
        if body.get("instance") not in (None, self.connection.config.get("instance")):
            return []
        data = body.get("data")
        if isinstance(data, dict) and isinstance(data.get("messages"), list):
            data = data["messages"]
        items = data if isinstance(data, list) else [data]
        return [found for found in (_incoming(self, item) for item in items) if found is not None]

    def chat_history(self, chat: str, since: float) -> list[Incoming]:
        found = [_incoming(self, item) for item in self.find_messages(chat, from_me=False)]
        return sorted((f for f in found if f is not None and f.at.timestamp() >= since), key=lambda f: f.at)

    def check(self) -> Status:
        try:
            body = self.api("GET", f"/instance/connectionState/{self.instance}", timeout=CHECK_TIMEOUT)
        except TransportError as exc:
            return Status("broken", str(exc))
        inner = body.get("instance") if isinstance(body, dict) else None
        state = str(inner.get("state", "")) if isinstance(inner, dict) else ""
        found, message = STATES.get(state, ("broken", f"unexpected connection state {state or '(none)'}"))
        return Status(found, message, {"state": state})

    def list_chats(self) -> list[Chat]:
        path = f"/group/fetchAllGroups/{self.instance}"
        groups = self.api("GET", path, timeout=CHECK_TIMEOUT, params={"getParticipants": "false"})
        return [
            Chat("wa_group", str(g["id"]), str(g.get("subject") or ""))
            for g in groups if isinstance(g, dict) and str(g.get("id", "")).endswith("@g.us")
        ] if isinstance(groups, list) else []  # fmt: skip

    def error(self, result: Result, body: Any) -> TransportError:
        status, items = result.status, _messages(body)
        text = "; ".join(str(i) for i in items if not isinstance(i, dict))
        common = self.common_error(result, body, "Evolution API")
        if common is not None:
            return common
        if status == 404:  # "The "x" instance does not exist": waiting will not create it
            return TransportError(f"Evolution API: {text or 'not found'}", kind="auth_failed")
        if "Connection Closed" in text:
            return TransportError("the WhatsApp instance is not connected", kind="unavailable")
        missing = [i for i in items if isinstance(i, dict) and i.get("exists") is False]
        if missing:
            group = str(missing[0].get("jid", "")).endswith("@g.us")
            reason = "the instance does not know this WhatsApp group" if group else "this number is not on WhatsApp"
            return TransportError(reason, kind="target_gone")
        if status == 400:
            return TransportError(f"Evolution API refused the message: {text}", kind="bad_request")
        return TransportError(f"Evolution API answered {status}: {text or 'no details'}", kind="unavailable")


def _incoming(transport: EvolutionTransport, item: Any) -> Incoming | None:
    """A Baileys message someone else wrote; a reaction counts as its emoji, replying to its message."""
    key = item.get("key") if isinstance(item, dict) else None
    if not isinstance(key, dict) or key.get("fromMe") is True:
        return None
    message = nested(item, "message")
    reaction = message.get("reactionMessage") if isinstance(message.get("reactionMessage"), dict) else None
    if reaction is not None:
        reacted = nested(reaction, "key")
        text, reply_to = reaction.get("text") or "", reacted.get("id") or ""
        if not text:
            return None  # a reaction taken back
    else:
        text, reply_to = _text_of(message), _quoted_id(item, message)
    return incoming(transport, chat=key.get("remoteJid"), sender=key.get("participant") or item.get("participant"),
                    name=item.get("pushName"), text=text, message_id=key.get("id"), reply_to=reply_to,
                    at=item.get("messageTimestamp"), raw=item)  # fmt: skip


def _iso_epoch(value: Any) -> float | None:
    if isinstance(value, str) and not value.strip().lstrip("-").isdigit():
        try:
            at = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return at.timestamp() if at.tzinfo else None
    return epoch(value)


def _quoted_id(item: dict[str, Any], message: dict[str, Any]) -> str:
    """contextInfo.stanzaId: inside extendedTextMessage (Baileys), or beside the message (Evolution v2)."""
    for holder in (message.get("extendedTextMessage"), item, message):
        context = holder.get("contextInfo") if isinstance(holder, dict) else None
        if isinstance(context, dict) and context.get("stanzaId"):
            return str(context["stanzaId"])
    return ""


def _text_of(message: Any) -> str:
    """The text of a Baileys message: `conversation`, or `extendedTextMessage.text`."""
    if not isinstance(message, dict):
        return ""
    extended = message.get("extendedTextMessage")
    if isinstance(extended, dict) and extended.get("text"):
        return str(extended["text"])
    for media in ("imageMessage", "videoMessage", "documentMessage"):  # a caption is what was written
        if isinstance(message.get(media), dict) and message[media].get("caption"):
            return str(message[media]["caption"])
    return str(message.get("conversation") or "")


def _messages(body: Any) -> list[Any]:
    """response.message flattened: a string, a list, or a list of lists (jsonschema errors)."""
    response = body.get("response") if isinstance(body, dict) else None
    found = response.get("message") if isinstance(response, dict) else None
    if found is None:
        return []
    items = found if isinstance(found, list) else [found]
    flat: list[Any] = []
    for item in items:
        flat.extend(item if isinstance(item, list) else [item])
    return flat
