"""Green-API transport (Green-API docs: SendMessage, GetChatHistory, notifications).

The instance token travels in the URL path, and Green-API's error bodies echo that path: an
error message is therefore built only from `message` and the quota descriptions, never `path`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

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
from panelrelay.transports.integrations.whatsapp import WhatsAppTransport, incoming

API_URL = "https://api.green-api.com"
MAX_NOTIFICATIONS = 50  # notifications read per poll; the rest wait in the queue for the next one
QUOTA_WAIT = 3600.0  # a monthly quota does not free up in minutes; look again in an hour
STATES = {
    "authorized": ("working", "authorised"),
    "notAuthorized": ("pending", "not authorised: scan the QR code in the Green-API console"),
    "starting": ("pending", "the instance is starting"),
    "sleepMode": ("pending", "sleep mode: the phone is offline; messages wait in Green-API's queue"),
    "blocked": ("broken", "the WhatsApp account is blocked"),
    "yellowCard": ("broken", "suspended by WhatsApp for suspected spam (yellow card); messages are queued"),
}


class GreenApiTransport(WhatsAppTransport):
    kind = "greenapi"
    label = "Green-API"
    max_length = 4000  # the docs disagree (20000 / 4000): the lower bound is safe
    rate_limit_wait = 5.0  # Green-API limits requests per second, not per minute

    def api(self, method: str, name: str, timeout: float | None = None, suffix: str = "", **kwargs: Any) -> Any:
        config = self.connection.config
        path = f"/waInstance{config.get('id_instance', '')}/{name}/{self.connection.secret()}{suffix}"
        result = call(method, join(config.get("api_url") or API_URL, path), service="Green-API", timeout=timeout,
                      **kwargs)  # fmt: skip
        body = json_of(result)
        if result.status == 200 and body is not None:
            return body
        if result.status == 200 and result.content.strip() in (b"null", b""):  # receiveNotification: nothing queued
            return None
        raise self.error(result, body)

    def send(self, target: str, text: str) -> str:
        body = self.api("POST", "sendMessage", json={"chatId": target, "message": text, "linkPreview": False})
        if not isinstance(body, dict) or not body.get("idMessage"):
            # Accepted or not? Green-API gave no id; retrying may duplicate, dropping may lose.
            raise TransportError("Green-API answered without a message id", kind="unavailable")
        return str(body["idMessage"])

    can_find_sent = True

    def find_sent(self, target: str, text: str, since: datetime) -> str | None:
        # getChatHistory: the chat's latest messages, newest first, `type` outgoing/incoming.
        body = self.api("POST", "getChatHistory", timeout=CHECK_TIMEOUT, json={"chatId": target, "count": 50})
        for item in body if isinstance(body, list) else []:
            if not isinstance(item, dict) or item.get("type") != "outgoing":
                continue
            at = epoch(item.get("timestamp"))
            words = item.get("textMessage") or item.get("text") or ""
            extended = item.get("extendedTextMessage")
            if not words and isinstance(extended, dict):
                words = extended.get("text") or ""
            if (at is None or at >= since.timestamp()) and same_text(str(words), text):
                return str(item.get("idMessage") or "found")
        return None

    def parse_webhook(self, body: Any) -> list[Incoming]:
        # {"typeWebhook": "incomingMessageReceived", "instanceData", "idMessage", "senderData", "messageData"}
        if not isinstance(body, dict) or body.get("typeWebhook") != "incomingMessageReceived":
            return []
        instance = nested(body, "instanceData")
        if str(instance.get("idInstance", "")) not in ("", str(self.connection.config.get("id_instance", ""))):
            return []
        found = _incoming(self, body)
        return [found] if found else []

    def poll_incoming(
        self, chats: list[str], since: dict[str, float], handle: Callable[[Incoming], object]
    ) -> dict[str, float]:
        """Green-API keeps one queue per instance: receiveNotification, handle, then deleteNotification.
        A notification is deleted only once handled: a worker that dies, or a handler that fails, leaves
        it at the head of the queue for the next poll."""
        for _ in range(MAX_NOTIFICATIONS):
            note = self.api("GET", "receiveNotification", timeout=CHECK_TIMEOUT, params={"receiveTimeout": "0"})
            if not isinstance(note, dict) or note.get("receiptId") is None:
                break  # null: the queue is empty
            for item in self.parse_webhook(note.get("body")):
                handle(item)
            self.api("DELETE", "deleteNotification", timeout=CHECK_TIMEOUT, suffix=f"/{note['receiptId']}")
        return since

    def check(self) -> Status:
        try:
            body = self.api("GET", "getStateInstance", timeout=CHECK_TIMEOUT)
        except TransportError as exc:
            return Status("broken", str(exc))
        state = str(body.get("stateInstance", "")) if isinstance(body, dict) else ""
        found, message = STATES.get(state, ("broken", f"unexpected instance state {state or '(none)'}"))
        return Status(found, message, {"state": state})

    def list_chats(self) -> list[Chat]:
        # Groups are sometimes missing from getContacts (forum reports): then ask getChats.
        chats = _groups(self.api("GET", "getContacts", timeout=CHECK_TIMEOUT))
        return chats or _groups(self.api("GET", "getChats", timeout=CHECK_TIMEOUT))

    def error(self, result: Result, body: Any) -> TransportError:
        status = result.status
        message = str(body.get("message") or "") if isinstance(body, dict) else ""
        if status == 401:
            return TransportError("Green-API refused the instance token (401)", kind="auth_failed")
        if status == 403:
            return TransportError("Green-API does not know this instance id (403)", kind="auth_failed")
        if status == 466:
            return TransportError(f"Green-API quota exceeded: {_quota(body)}", kind="quota", retry_after=QUOTA_WAIT)
        common = self.common_error(result, body, "Green-API")
        if common is not None:
            return common
        if status == 400 and ("not authorized" in message or "starting" in message):
            return TransportError(f"Green-API: {message}", kind="unavailable")
        if status == 400:
            return TransportError(f"Green-API refused the message: {message}", kind="bad_request")
        if status == 404:
            return TransportError("Green-API: no such method at this API URL (404)", kind="auth_failed")
        return TransportError(f"Green-API answered {status}: {message or 'no details'}", kind="unavailable")


def _groups(items: Any) -> list[Chat]:
    if not isinstance(items, list):
        return []
    return [
        Chat("wa_group", str(c["id"]), str(c.get("name") or c.get("contactName") or ""))
        for c in items
        if isinstance(c, dict) and str(c.get("id", "")).endswith("@g.us")
    ]


def _quota(body: Any) -> str:
    """The description of whichever quota is exceeded (chats or calls), without the sales pitch."""
    if not isinstance(body, dict):
        return "monthly limit reached"
    for part in ("correspondentsStatus", "invokeStatus"):
        status = body.get(part)
        if isinstance(status, dict) and status.get("description"):
            return str(status["description"]).split(" Please go to")[0]
    return "monthly limit reached"


def _incoming(transport: GreenApiTransport, body: dict[str, Any]) -> Incoming | None:
    """incomingMessageReceived: text in textMessageData or extendedTextMessageData; a reply or a
    reaction names the message it answers in quotedMessage.stanzaId (Green-API docs, "Quoted message")."""
    sender = nested(body, "senderData")
    data = nested(body, "messageData")
    plain = nested(data, "textMessageData")
    extended = nested(data, "extendedTextMessageData")
    quoted = nested(data, "quotedMessage")
    caption = nested(data, "fileMessageData")
    text = plain.get("textMessage") or extended.get("text") or caption.get("caption") or ""
    if data.get("typeMessage") == "reactionMessage" and not text:
        return None  # a reaction taken back
    return incoming(transport, chat=sender.get("chatId"), sender=sender.get("sender"),
                    name=sender.get("senderName") or sender.get("chatName"), text=text,
                    message_id=body.get("idMessage"), reply_to=quoted.get("stanzaId") or extended.get("stanzaId"),
                    at=body.get("timestamp"), raw=body)  # fmt: skip
