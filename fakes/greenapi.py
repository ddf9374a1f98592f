"""Loopback fake of Green-API, hosted WhatsApp (Green-API docs).

Routes: /waInstance{idInstance}/{method}/{apiTokenInstance}, method names case-insensitive:
  POST sendMessage        {chatId, message} → 200 {"idMessage": "BAE5..."}
  GET  getStateInstance   {"stateInstance": "authorized|notAuthorized|blocked|sleepMode|starting|yellowCard"}
  GET  getContacts        [{id, name, contactName, type: "user"|"group"}]
  GET/POST getChats       [{id, name, type}] (groups always listed, see contacts_include_groups)

Errors are Green-API's JSON envelope {"statusCode", "timestamp", "path", "message"} (as seen in the
wild — note that `path` echoes the token, so adapters must redact it before logging):
  403 "Forbidden"      unknown idInstance (checked first)
  401 "Unauthorized"   wrong apiTokenInstance for a known instance
  404 "Not Found"      unknown method, or the wrong HTTP verb for it
  429 "Too Many Requests"   more than `rate_per_second` calls per instance (0 = no limit)
  400 "Unexpected token in JSON at position N"
  400 "Validation failed. Details: 'chatId' is required" / "'message' is required" /
      "'chatId' must be one of the next formats: 'phone_number@c.us' or 'group_id@g.us'" /
      "'message' length must be less than or equal to 20000 characters long" (max_message_length)
  400 "instance account not authorized"           state notAuthorized or blocked (Green-API docs)
  400 "instance in starting process try later"    state starting (Green-API common errors)
  466 quota (Developer plan), body as Green-API documents it (values chosen by the fake):
      chats:   {"invokeStatus": {"method": "sendmessage", "used": n, "total": 0, "status": "QUOTE_ALLOWED"},
                "correspondentsStatus": {"method": "correspondents", "used": 3, "total": 3,
                 "status": "CORRESPONDENTS_QUOTE_EXCEEDED", "description": "Monthly quota has been
                 exceeded. You can only send or receive messages from these numbers: a,b,c. ..."}}
      calls:   {"invokeStatus": {"method": "sendmessage", "used": n, "total": n, "status": "QUOTE_EXCEEDED",
                 "description": "Monthly quota has been exceeded. ..."}}
In sleepMode and yellowCard the message is accepted and queued (Green-API keeps a 24 h queue):
the `sent` entry has status "queued" instead of "sent".
Steering: add_instance, set_state, set_quota, add_contact/add_group, rate_per_second,
max_message_length, contacts_include_groups, sent/messages_to; over HTTP POST /_fake/instance-state
{id_instance?, state}, /_fake/quota {id_instance, correspondents?, method_calls?}, /_fake/contact
{chat_id, name, contact_name?, type?}, and /_fake/config for the settings.
reset() forgets traffic and quota usage; instances, states, quotas and contacts stay.
"""

from __future__ import annotations

import datetime
import json
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fakes.base import FakeRequest, RateLimiter, Reply, json_reply, route
from fakes.messaging import MessagingFake, control, serve_main

STATES = ("authorized", "notAuthorized", "blocked", "sleepMode", "starting", "yellowCard")
QUEUED_STATES = ("sleepMode", "yellowCard")
CHAT_ID = re.compile(r"^(\d{5,20}@c\.us|\d+(-\d+)?@g\.us)$")
UPGRADE = "Please go to your personal account and change the tariff to business https://console.green-api.com"


class GreenError(Exception):
    def __init__(self, status: int, message: str | None = None, body: dict[str, Any] | None = None) -> None:
        super().__init__(message or status)
        self.status, self.message, self.body = status, message, body

    def reply(self, path: str) -> Reply:
        if self.body is not None:
            return json_reply(self.body, self.status)
        stamp = datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        return json_reply(
            {"statusCode": self.status, "timestamp": stamp, "path": path, "message": self.message},
            self.status,
        )


def invalid(detail: str) -> GreenError:
    return GreenError(400, f"Validation failed. Details: {detail}")


@dataclass
class GreenInstance:
    id: int
    token: str
    state: str = "authorized"
    wid: str = "79990000000@c.us"
    correspondents_quota: int | None = None  # Developer plan: 3 chats a month
    calls_quota: int | None = None  # monthly sendMessage calls
    correspondents: list[str] = field(default_factory=list)
    calls: int = 0
    contacts: dict[str, dict[str, Any]] = field(default_factory=dict)


class FakeGreenAPI(MessagingFake):
    """Fake Green-API: instances with an authorisation state, quotas, contacts, sendMessage."""

    name = "fake-greenapi"
    title = "Fake Green-API (WhatsApp)"
    default_port = 8105

    def __init__(
        self,
        instances: dict[int, str] | None = None,
        *,
        rate_per_second: float = 50,
        max_message_length: int = 20000,
        contacts_include_groups: bool = True,
        host: str = "127.0.0.1",
        port: int = 0,
        latency: float = 0.0,
    ) -> None:
        super().__init__(host=host, port=port, latency=latency)
        self._limiter = RateLimiter(rate_per_second)
        self.max_message_length = max_message_length
        # False reproduces the forum report that groups are sometimes missing from getContacts.
        self.contacts_include_groups = contacts_include_groups
        self.instances: dict[int, GreenInstance] = {}
        self.queue: list[dict[str, Any]] = []  # receiveNotification's queue
        self._receipts = 0
        for id_instance, token in ({1101000001: "green-token"} if instances is None else instances).items():
            self.add_instance(id_instance, token)

    @property
    def rate_per_second(self) -> float:
        return self._limiter.per_second

    @rate_per_second.setter
    def rate_per_second(self, value: float) -> None:  # settable through POST /_fake/config
        self._limiter.per_second = value

    # ===== Python helpers =====================================================
    def add_instance(
        self, id_instance: int, token: str, state: str = "authorized", wid: str = "79990000000@c.us"
    ) -> dict[str, Any]:
        _check_state(state)
        with self.lock:
            self.instances[int(id_instance)] = GreenInstance(id=int(id_instance), token=token, state=state, wid=wid)
        return {"idInstance": int(id_instance), "stateInstance": state}

    def set_state(self, id_instance: int, state: str) -> dict[str, Any]:
        _check_state(state)
        with self.lock:
            self.instances[int(id_instance)].state = state
        return {"idInstance": int(id_instance), "stateInstance": state}

    def set_quota(
        self, id_instance: int, correspondents: int | None = 3, method_calls: int | None = None
    ) -> dict[str, Any]:
        """Developer-plan limits: distinct chats per month and/or sendMessage calls per month."""
        with self.lock:
            instance = self.instances[int(id_instance)]
            instance.correspondents_quota, instance.calls_quota = correspondents, method_calls
        return {"correspondents": correspondents, "method_calls": method_calls}

    def add_contact(
        self,
        chat_id: str,
        name: str,
        contact_name: str = "",
        type: str | None = None,
        id_instance: int | None = None,
    ) -> dict[str, Any]:
        contact = {"id": chat_id, "name": name, "contactName": contact_name}
        contact["type"] = type or ("group" if chat_id.endswith("@g.us") else "user")
        with self.lock:
            self._instance_or_first(id_instance).contacts[chat_id] = contact
        return dict(contact)

    def add_group(self, chat_id: str, name: str, id_instance: int | None = None) -> dict[str, Any]:
        return self.add_contact(chat_id, name, type="group", id_instance=id_instance)

    # ===== HTTP ==============================================================
    @route("GET", r"/waInstance(?P<id>[^/]+)/(?P<method>[^/]+)/(?P<token>[^/]+)")
    def api_get(self, req: FakeRequest) -> Reply:
        return self._api(req)

    @route("DELETE", r"/waInstance(?P<id>[^/]+)/deleteNotification/(?P<token>[^/]+)/(?P<receipt>\d+)")
    def delete_notification(self, req: FakeRequest) -> Reply:
        try:
            instance = self._authenticate(req.params["id"], req.params["token"])
            receipt = int(req.params["receipt"])
            with self.lock:
                before = len(self.queue)
                self.queue = [n for n in self.queue if not (n["receiptId"] == receipt and n["instance"] == instance.id)]
                return json_reply({"result": len(self.queue) < before})
        except GreenError as exc:
            return exc.reply(req.path)

    @route("POST", r"/waInstance(?P<id>[^/]+)/(?P<method>[^/]+)/(?P<token>[^/]+)")
    def api_post(self, req: FakeRequest) -> Reply:
        return self._api(req)

    def not_found(self, req: FakeRequest) -> Reply:
        return GreenError(404, "Not Found").reply(req.path)

    def _api(self, req: FakeRequest) -> Reply:
        try:
            instance = self._authenticate(req.params["id"], req.params["token"])
            handler = self._methods().get((req.method, req.params["method"].lower()))
            if handler is None:
                raise GreenError(404, "Not Found")
            if not self._limiter.allow(str(instance.id)):
                raise GreenError(429, "Too Many Requests")
            return handler(req, instance)
        except GreenError as exc:
            return exc.reply(req.path)

    def _methods(self) -> dict[tuple[str, str], Callable[[FakeRequest, GreenInstance], Reply]]:
        return {
            ("POST", "sendmessage"): self._send_message,
            ("GET", "getstateinstance"): self._get_state,
            ("GET", "getcontacts"): self._get_contacts,
            ("GET", "getchats"): self._get_chats,
            ("POST", "getchathistory"): self._get_chat_history,
            ("GET", "receivenotification"): self._receive_notification,
            ("POST", "getchats"): self._get_chats,
        }

    def _authenticate(self, id_text: str, token: str) -> GreenInstance:
        with self.lock:
            instance = self.instances.get(int(id_text)) if id_text.isdigit() else None
        if instance is None:
            raise GreenError(403, "Forbidden")
        if not secrets.compare_digest(token, instance.token):
            raise GreenError(401, "Unauthorized")
        return instance

    def _send_message(self, req: FakeRequest, instance: GreenInstance) -> Reply:
        chat_id, message = self._validated(req)
        with self.lock:
            self._check_state_allows_sending(instance)
            self._check_quota(instance, chat_id)
            instance.calls += 1
            if chat_id not in instance.correspondents:
                instance.correspondents.append(chat_id)
            id_message = secrets.token_hex(8).upper()
            status = "queued" if instance.state in QUEUED_STATES else "sent"
            self.record_sent(
                {
                    "chat_id": chat_id,
                    "text": message,
                    "message_id": id_message,
                    "at": time.time(),
                    "status": status,
                    "instance": instance.id,
                }
            )
        return json_reply({"idMessage": id_message})

    def _get_chat_history(self, req: FakeRequest, instance: GreenInstance) -> Reply:
        """POST getChatHistory {"chatId", "count"=100}: the chat's messages, newest first."""
        try:
            body = json.loads(req.body.decode("utf-8")) if req.body else {}
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise GreenError(400, "bad request data") from None
        chat_id = body.get("chatId") if isinstance(body, dict) else None
        if not isinstance(chat_id, str) or not CHAT_ID.match(chat_id):
            raise invalid("'chatId' is required")
        count = body.get("count", 100)
        if not isinstance(count, int) or count < 1:
            raise invalid("'count' must be a positive integer")
        with self.lock:
            rows = [m for m in self.sent if m["chat_id"] == chat_id and m.get("instance") == instance.id]
            written = [m for m in self.inbound if m["chat_id"] == chat_id and not m.get("reaction")]
        items = [
            {"type": "outgoing", "idMessage": m["message_id"], "timestamp": int(m["at"]),
             "typeMessage": "textMessage", "chatId": chat_id, "textMessage": m["text"],
             "statusMessage": "delivered" if m.get("status") == "sent" else "pending", "sendByApi": True}
            for m in rows
        ] + [
            {"type": "incoming", "idMessage": m["message_id"], "timestamp": int(m["at"]), "typeMessage": "textMessage",
             "chatId": chat_id, "senderId": m["sender"], "senderName": m.get("name", ""), "textMessage": m["text"]}
            for m in written
        ]  # fmt: skip
        items.sort(key=lambda item: -item["timestamp"])
        return json_reply(items[:count])

    def _receive_notification(self, req: FakeRequest, instance: GreenInstance) -> Reply:
        """The oldest notification not yet deleted ({"receiptId", "body"}), or null when none."""
        with self.lock:
            for note in self.queue:
                if note["instance"] == instance.id:
                    return json_reply({"receiptId": note["receiptId"], "body": note["body"]})
        return Reply(200, b"null", {"Content-Type": "application/json"})  # Green-API answers a JSON null

    def write(self, chat: str, text: str, **kwargs: Any) -> dict[str, Any]:
        entry = super().write(chat, text, **kwargs)
        with self.lock:  # the notification also waits in the queue until the client deletes it
            self._receipts += 1
            instance = next(iter(self.instances.values()))
            self.queue.append({"receiptId": self._receipts, "instance": instance.id, "body": self.webhook_event(entry)})
        return entry

    def webhook_event(self, entry: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            instance = next(iter(self.instances.values()))
        text_data: dict[str, Any]
        if entry.get("reaction"):  # Green-API docs, "Incoming reaction message"
            text_data = {"typeMessage": "reactionMessage", "extendedTextMessageData": {"text": entry["text"]},
                         "quotedMessage": {"stanzaId": entry["reply_to"], "participant": instance.wid}}  # fmt: skip
        elif entry.get("reply_to"):
            text_data = {"typeMessage": "quotedMessage",
                         "extendedTextMessageData": {"text": entry["text"], "stanzaId": entry["reply_to"],
                                                     "participant": instance.wid},
                         "quotedMessage": {"stanzaId": entry["reply_to"], "participant": instance.wid,
                                           "typeMessage": "textMessage", "textMessage": "…"}}  # fmt: skip
        else:
            text_data = {"typeMessage": "textMessage", "textMessageData": {"textMessage": entry["text"]}}
        return {"typeWebhook": "incomingMessageReceived",
                "instanceData": {"idInstance": instance.id, "wid": instance.wid, "typeInstance": "whatsapp"},
                "timestamp": int(entry["at"]), "idMessage": entry["message_id"],
                "senderData": {"chatId": entry["chat_id"], "chatName": entry.get("name", ""), "sender": entry["sender"],
                               "senderName": entry.get("name", ""), "senderContactName": ""},
                "messageData": text_data}  # fmt: skip

    def _get_state(self, req: FakeRequest, instance: GreenInstance) -> Reply:
        with self.lock:
            return json_reply({"stateInstance": instance.state})

    def _get_contacts(self, req: FakeRequest, instance: GreenInstance) -> Reply:
        with self.lock:
            contacts = [dict(c) for c in instance.contacts.values()]
        if not self.contacts_include_groups:
            contacts = [c for c in contacts if c["type"] != "group"]
        return json_reply(contacts)

    def _get_chats(self, req: FakeRequest, instance: GreenInstance) -> Reply:
        with self.lock:
            chats = [{"id": c["id"], "name": c["name"], "type": c["type"]} for c in instance.contacts.values()]
        return json_reply(chats)

    # ===== internals ==========================================================
    def _validated(self, req: FakeRequest) -> tuple[str, str]:
        try:
            body = json.loads(req.body.decode("utf-8")) if req.body else {}
        except json.JSONDecodeError as exc:
            raise GreenError(400, f"Unexpected token in JSON at position {exc.pos}") from None
        except UnicodeDecodeError:
            raise GreenError(400, "bad request data") from None
        if not isinstance(body, dict):
            raise GreenError(400, "bad request data")
        chat_id, message = body.get("chatId"), body.get("message")
        if chat_id in (None, ""):
            raise invalid("'chatId' is required")
        if message in (None, ""):
            raise invalid("'message' is required")
        if not isinstance(chat_id, str) or not CHAT_ID.match(chat_id):
            raise invalid("'chatId' must be one of the next formats: 'phone_number@c.us' or 'group_id@g.us'")
        if not isinstance(message, str):
            raise invalid("'message' must be a string")
        if len(message) > self.max_message_length:
            raise invalid(f"'message' length must be less than or equal to {self.max_message_length} characters long")
        return chat_id, message

    def _check_state_allows_sending(self, instance: GreenInstance) -> None:
        if instance.state in ("notAuthorized", "blocked"):
            raise GreenError(400, "instance account not authorized")
        if instance.state == "starting":
            raise GreenError(400, "instance in starting process try later")

    def _check_quota(self, instance: GreenInstance, chat_id: str) -> None:
        calls = {"method": "sendmessage", "used": instance.calls, "total": instance.calls_quota or 0}
        if instance.calls_quota is not None and instance.calls >= instance.calls_quota:
            description = f"Monthly quota has been exceeded. {UPGRADE}"
            raise GreenError(
                466, body={"invokeStatus": {**calls, "status": "QUOTE_EXCEEDED", "description": description}}
            )
        quota = instance.correspondents_quota
        if quota is None or chat_id in instance.correspondents or len(instance.correspondents) < quota:
            return
        allowed = ",".join(instance.correspondents)
        description = (
            "Monthly quota has been exceeded. You can only send or receive messages from these numbers: "
            f"{allowed}. {UPGRADE}"
        )
        correspondents = {"method": "correspondents", "used": len(instance.correspondents), "total": quota}
        body = {
            "invokeStatus": {**calls, "status": "QUOTE_ALLOWED"},
            "correspondentsStatus": {
                **correspondents,
                "status": "CORRESPONDENTS_QUOTE_EXCEEDED",
                "description": description,
            },
        }
        raise GreenError(466, body=body)

    def _instance_or_first(self, id_instance: int | None) -> GreenInstance:
        return self.instances[int(id_instance)] if id_instance is not None else next(iter(self.instances.values()))

    # ===== MessagingFake hooks ================================================
    def chat_label(self, chat_id: Any) -> str:
        with self.lock:
            for instance in self.instances.values():
                if chat_id in instance.contacts:
                    return f"{instance.contacts[chat_id]['name']} ({chat_id})"
        return str(chat_id)

    def auth_hint(self) -> str:
        with self.lock:
            pairs = ", ".join(f"waInstance{i.id}/…/{i.token}" for i in self.instances.values())
        return f"id/token in the path: {pairs}"

    def seed_demo(self) -> None:
        with self.lock:
            if 1101000001 not in self.instances:
                self.add_instance(1101000001, "green-token")
        self.set_state(1101000001, "authorized")
        self.add_contact("79001112233@c.us", "Provider F", contact_name="Fiona (Provider F)")
        self.add_group("79001112233-1600000000@g.us", "Provider F · refills")
        self.add_group("120363060000000001@g.us", "Provider G · support")

    def snapshot(self) -> dict[str, Any]:
        data = super().snapshot()
        with self.lock:
            data["instances"] = [
                {
                    "idInstance": i.id,
                    "stateInstance": i.state,
                    "correspondents": list(i.correspondents),
                    "calls": i.calls,
                    "correspondents_quota": i.correspondents_quota,
                    "calls_quota": i.calls_quota,
                    "contacts": list(i.contacts.values()),
                }
                for i in self.instances.values()
            ]
        return data

    def reset(self) -> None:
        super().reset()
        with self.lock:
            for instance in self.instances.values():
                instance.correspondents.clear()
                instance.calls = 0

    # ===== control endpoints =================================================
    @control("instance-state")
    def _c_instance_state(self, args: dict[str, Any]) -> dict[str, Any]:
        return self.set_state(args.get("id_instance", 1101000001), args["state"])

    @control("quota")
    def _c_quota(self, args: dict[str, Any]) -> dict[str, Any]:
        return self.set_quota(**args)

    @control("contact")
    def _c_contact(self, args: dict[str, Any]) -> dict[str, Any]:
        return self.add_contact(**args)


def _check_state(state: str) -> None:
    if state not in STATES:
        raise ValueError(f"state must be one of {STATES}")


if __name__ == "__main__":
    serve_main(FakeGreenAPI)
