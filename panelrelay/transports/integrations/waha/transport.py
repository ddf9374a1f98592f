"""WAHA transport (WAHA docs: sendText, sessions, Events; WAHA source, manager.abc.ts).

A session that is not WORKING answers 422: that is the gateway being down, not the message being
wrong, so it is `unavailable` (retry later) and the connection's status check tells the owner.
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
    "WORKING": ("working", "session WORKING"),
    "SCAN_QR_CODE": ("pending", "waiting for the QR code to be scanned"),
    "STARTING": ("pending", "the session is starting"),
    "STOPPED": ("broken", "the session is stopped: start it in WAHA"),
    "FAILED": ("broken", "the session failed: restart it in WAHA"),
}


class WahaTransport(WhatsAppTransport):
    kind = "waha"
    label = "WAHA"

    @property
    def session(self) -> str:
        return self.connection.config.get("session") or "default"

    def request(self, method: str, path: str, timeout: float | None = None, **kwargs: Any) -> Result:
        headers = kwargs.pop("headers", {})
        key = self.connection.secret()
        if key:
            headers["X-Api-Key"] = key
        url = join(self.connection.config.get("base_url", ""), path)
        return call(method, url, service="WAHA", timeout=timeout, headers=headers, **kwargs)

    def api(self, method: str, path: str, timeout: float | None = None, **kwargs: Any) -> Any:
        result = self.request(method, path, timeout=timeout, **kwargs)
        body = json_of(result)
        if result.status in (200, 201) and body is not None:
            return body
        raise self.error(result, body)

    def send(self, target: str, text: str) -> str:
        body = {"session": self.session, "chatId": target, "text": text, "linkPreview": False}
        message = self.api("POST", "/api/sendText", json=body)
        return message_id(message)

    can_find_sent = True

    def parse_webhook(self, body: Any) -> list[Incoming]:
        # {"event": "message" | "message.any" | "message.reaction", "session", "payload": WAMessage}
        # (WAHA docs, Events); a reaction's payload carries reaction {text, messageId}.
        if not isinstance(body, dict) or body.get("event") not in ("message", "message.any", "message.reaction"):
            return []
        if body.get("session") not in (None, self.session):
            return []
        found = _incoming(self, body.get("payload"))
        return [found] if found else []

    def chat_history(self, chat: str, since: float) -> list[Incoming]:
        path = f"/api/{quote(self.session, safe='')}/chats/{quote(chat, safe='@.')}/messages"
        params = {"limit": "50", "downloadMedia": "false", "filter.fromMe": "false",
                  "filter.timestamp.gte": str(int(since))}  # fmt: skip
        items = self.api("GET", path, timeout=CHECK_TIMEOUT, params=params)
        found = [_incoming(self, item) for item in (items if isinstance(items, list) else [])]
        return sorted((f for f in found if f is not None), key=lambda f: f.at)

    def recent_chats(self, limit: int) -> list[tuple[str, float]]:
        # GET /api/{session}/chats?sortBy=conversationTimestamp&sortOrder=desc&limit=&offset= as the
        # waha.js SDK types getChats (docs/DECISIONS.md: read from the SDK, not a WAHA docs page); ids
        # are strings, or {"_serialized"} objects on some engines.
        params = {"limit": str(limit), "offset": "0", "sortBy": "conversationTimestamp", "sortOrder": "desc"}
        items = self.api("GET", f"/api/{quote(self.session, safe='')}/chats", timeout=CHECK_TIMEOUT, params=params)
        found = []
        for item in items if isinstance(items, list) else []:
            chat = private_chat(_serialized(item.get("id"))) if isinstance(item, dict) else ""
            at = epoch(item.get("conversationTimestamp") or item.get("timestamp")) if chat else None
            if chat and at is not None:
                found.append((chat, at))
        return sorted(found, key=lambda f: -f[1])[:limit]

    def find_sent(self, target: str, text: str, since: datetime) -> str | None:
        # GET /api/{session}/chats/{chatId}/messages with WAHA's filter.* query (newest first).
        path = f"/api/{quote(self.session, safe='')}/chats/{quote(target, safe='@.')}/messages"
        params = {"limit": "50", "downloadMedia": "false", "filter.fromMe": "true",
                  "filter.timestamp.gte": str(int(since.timestamp()))}  # fmt: skip
        found = self.api("GET", path, timeout=CHECK_TIMEOUT, params=params)
        for item in found if isinstance(found, list) else []:
            if not isinstance(item, dict) or item.get("fromMe") is False:
                continue
            at = epoch(item.get("timestamp"))
            if (at is None or at >= since.timestamp()) and same_text(str(item.get("body") or ""), text):
                return message_id(item) or "found"
        return None

    def check(self) -> Status:
        try:
            info = self.api("GET", f"/api/sessions/{quote(self.session, safe='')}", timeout=CHECK_TIMEOUT)
        except TransportError as exc:
            return Status("broken", str(exc))
        status = str(info.get("status", "")) if isinstance(info, dict) else ""
        state, message = STATES.get(status, ("broken", f"unexpected session status {status or '(none)'}"))
        me = info.get("me") if isinstance(info, dict) else None
        if state == "working" and isinstance(me, dict) and me.get("id"):
            message = f"WORKING as +{str(me['id']).split('@')[0]}"
        return Status(state, message, {"session_status": status})

    def qr_png(self) -> bytes | None:
        """The pairing QR code as a PNG while the session waits for it, else None."""
        try:
            result = self.request("GET", f"/api/{quote(self.session, safe='')}/auth/qr", timeout=CHECK_TIMEOUT,
                                  params={"format": "image"}, headers={"Accept": "image/png"})  # fmt: skip
        except TransportError:
            return None
        if result.status == 200 and result.headers.get("content-type", "").startswith("image/png"):
            return result.content
        return None

    def list_chats(self) -> list[Chat]:
        path = f"/api/{quote(self.session, safe='')}/groups"
        groups = self.api("GET", path, timeout=CHECK_TIMEOUT, params={"exclude": "participants"})
        # The shape "depends on the engine": a list of groups, or an object keyed by group id.
        items = list(groups.values()) if isinstance(groups, dict) else groups if isinstance(groups, list) else []
        chats = []
        for group in items:
            if isinstance(group, dict) and (chat_id := _serialized(group.get("id"))).endswith("@g.us"):
                chats.append(Chat("wa_group", chat_id, str(group.get("subject") or group.get("name") or "")))
        return chats

    def error(self, result: Result, body: Any) -> TransportError:
        status, text = result.status, _message(body)
        if status == 422:
            found = body.get("status") if isinstance(body, dict) else None
            detail = f"the WhatsApp session is {found}, not WORKING" if found else text or "session not ready"
            return TransportError(detail, kind="unavailable")
        common = self.common_error(result, body, "WAHA")
        if common is not None:
            return common
        if status == 404:
            return TransportError(f"WAHA: {text or 'not found'}", kind="unavailable")
        if status == 400:
            return TransportError(f"WAHA refused the message: {text}", kind="bad_request")
        return TransportError(f"WAHA answered {status}: {text}", kind="unavailable")


def _incoming(transport: WahaTransport, payload: Any) -> Incoming | None:
    """A WAMessage someone else wrote: `from` is the chat, `participant` the sender in a group,
    `replyTo.id` the message it answers; our own (fromMe, also sent by message.any) are skipped.
    A reaction reads as its emoji answering `reaction.messageId`; one taken back ("") as nothing."""
    if not isinstance(payload, dict) or payload.get("fromMe") is True:
        return None
    data = nested(payload, "_data")
    reply = nested(payload, "replyTo")
    text, reply_to = payload.get("body"), _serialized(reply.get("id"))
    if "reaction" in payload:
        reaction = nested(payload, "reaction")
        text, reply_to = reaction.get("text"), _serialized(reaction.get("messageId"))
        if not text:
            return None
    return incoming(transport, chat=payload.get("from"), sender=payload.get("participant") or payload.get("from"),
                    name=data.get("notifyName") or data.get("pushName") or payload.get("notifyName") or "",
                    text=text, message_id=message_id(payload), reply_to=reply_to,
                    at=payload.get("timestamp"), raw=payload)  # fmt: skip


def _serialized(value: Any) -> str:
    """Ids are strings, or {"_serialized": "…@g.us", …} objects on some engines."""
    if isinstance(value, dict):
        value = value.get("_serialized") or value.get("id") or ""
    return str(value or "")


def message_id(message: Any) -> str:
    if not isinstance(message, dict):
        return ""
    found = _serialized(message.get("id"))
    if not found and isinstance(message.get("key"), dict):  # NOWEB/GOWS answer with a Baileys key
        found = str(message["key"].get("id") or "")
    return found


def _message(body: Any) -> str:
    if not isinstance(body, dict):
        return ""
    text = body.get("message") or body.get("error") or ""
    return "; ".join(map(str, text)) if isinstance(text, list) else str(text)
