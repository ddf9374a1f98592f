"""Loopback fake of Evolution API v2 (Baileys), self-hosted WhatsApp (Evolution API v2 docs and source).

Routes (header `apikey`: the global key, or the token of the instance named in the path):
  GET  /                                           welcome JSON (no auth)
  POST /message/sendText/{instance}                {number, text, delay?} → 201 Baileys message
  GET  /group/fetchAllGroups/{instance}?getParticipants=false|true → [{id, subject, size, ...}]
  GET  /instance/connectionState/{instance}        {"instance": {"instanceName", "state"}}
  POST /chat/whatsappNumbers/{instance}            {numbers: [...]} → [{exists, jid, number}]
  POST /chat/findChats/{instance}                  {where?} → [{id, remoteJid, pushName, updatedAt, ...}]
  GET  /instance/fetchInstances                    instances the key may see

Errors, all `{"status": N, "error": "<reason>", "response": {"message": ...}}` like main.ts:
  404 ["The \\"x\\" instance does not exist"]       unknown instance — checked BEFORE the key,
                                                    as Evolution's guard order is exists → auth
  401 {"status":401,"error":"Unauthorized","response":{"message":"Unauthorized"}}
  400 [["instance requires property \\"number\\""], ...]   jsonschema validation (nested list)
  400 ["The getParticipants needs to be informed in the query"]
  400 [{"exists": false, "jid": "...", "number": "..."}]   number not on WhatsApp / unknown group
  400 ["Error: Connection Closed"]  state "close" (seen on v2.3.6, issue #2229)
  500 ["Error: Connection Closed"]  state "connecting" (seen on v2.3.0, issue #1772)
      (both for sendText, fetchAllGroups and whatsappNumbers, which need the socket)
Numbers become JIDs with utils/createJid.ts: @g.us/@s.whatsapp.net/@lid/@broadcast pass through;
'-' and ≥ 24 chars (Evolution source, utils/createJid.ts; one upstream version says 23) or ≥ 18 digits → @g.us;
else @s.whatsapp.net after the MX/AR and BR ninth-digit rewrites.
`delay` (ms of "typing…") is honoured, capped by `delay_cap` seconds.
Steering: add_instance, set_state, add_number, add_group, all_numbers_exist, sent/messages_to (takes
a number or a JID); over HTTP POST /_fake/connection-state {instance?, state}, /_fake/number
{number | numbers}, /_fake/group {jid, subject, size?, instance?}, /_fake/instance {name, token?}.
reset() forgets traffic; instances, states, numbers and groups stay.
"""

from __future__ import annotations

import json
import re
import secrets
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from fakes.base import FakeRequest, Reply, json_reply, route
from fakes.messaging import MessagingFake, control, serve_main

STATES = ("open", "connecting", "close")
VERSION = "2.3.6"
INSTANCE = r"(?P<instance>[^/]+)"


class EvolutionError(Exception):
    def __init__(self, status: int, error: str, message: Any) -> None:
        super().__init__(message)
        self.status, self.error, self.message = status, error, message

    def reply(self) -> Reply:
        body = {"status": self.status, "error": self.error, "response": {"message": self.message}}
        return json_reply(body, self.status)


def bad_request(*message: Any) -> EvolutionError:
    return EvolutionError(400, "Bad Request", list(message))


def create_jid(number: str) -> str:
    """Port of Evolution's utils/createJid.ts: what JID a `number` field is sent to."""
    number = re.sub(r":\d+", "", number, count=1)
    if any(s in number for s in ("@g.us", "@s.whatsapp.net", "@lid", "@broadcast")):
        return number
    number = re.sub(r"[\s+()]", "", number).split(":")[0].split("@")[0]
    if "-" in number and len(number) >= 24:
        return re.sub(r"[^\d-]", "", number) + "@g.us"
    number = re.sub(r"\D", "", number)
    if len(number) >= 18:
        return number + "@g.us"
    return _format_br(_format_mx_ar(number)) + "@s.whatsapp.net"


def _format_mx_ar(number: str) -> str:
    """Mexico/Argentina: 13-digit numbers lose the mobile '1'/'9' after the country code."""
    if number[:2] in ("52", "54") and len(number) == 13:
        return number[:2] + number[3:]
    return number


def _format_br(number: str) -> str:
    """Brazil: drop the ninth digit where WhatsApp still uses 8-digit subscriber numbers."""
    match = re.fullmatch(r"(\d{2})(\d{2})\d(\d{8})", number)
    if not match or match.group(1) != "55":
        return number
    joker, ddd = int(match.group(3)[0]), int(match.group(2))
    if joker < 7 or ddd < 31:
        return match.group(0)
    return match.group(1) + match.group(2) + match.group(3)


@dataclass
class Instance:
    name: str
    token: str
    state: str = "open"
    owner: str = "5511999990000@s.whatsapp.net"
    profile_name: str = "PanelRelay"
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    groups: dict[str, dict[str, Any]] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "connectionStatus": self.state,
            "ownerJid": self.owner,
            "profileName": self.profile_name,
            "integration": "WHATSAPP-BAILEYS",
            "number": self.owner.split("@")[0],
            "token": self.token,
        }


class FakeEvolution(MessagingFake):
    """Fake Evolution API: instances with a connection state, WhatsApp numbers, groups, sendText."""

    name = "fake-evolution"
    title = "Fake Evolution API (WhatsApp)"
    default_port = 8104

    def __init__(
        self,
        api_key: str = "evo-key",
        *,
        instances: dict[str, str] | None = None,
        all_numbers_exist: bool = False,
        delay_cap: float = 1.0,
        host: str = "127.0.0.1",
        port: int = 0,
        latency: float = 0.0,
    ) -> None:
        super().__init__(host=host, port=port, latency=latency)
        self.api_key = api_key  # AUTHENTICATION_API_KEY, the global key
        self.all_numbers_exist = all_numbers_exist  # True: any number "is on WhatsApp"
        self.delay_cap = delay_cap
        self.instances: dict[str, Instance] = {}
        self.numbers: set[str] = set()  # JIDs registered on WhatsApp
        for name, token in ({"relay": "relay-token"} if instances is None else instances).items():
            self.add_instance(name, token)

    # ===== Python helpers =====================================================
    def add_instance(self, name: str, token: str | None = None, state: str = "open", owner: str | None = None) -> dict:
        _check_state(state)
        with self.lock:
            instance = Instance(name=name, token=token or str(uuid.uuid4()).upper(), state=state)
            instance.owner = create_jid(owner) if owner else instance.owner
            self.instances[name] = instance
            return instance.summary()

    def set_state(self, instance: str, state: str) -> dict[str, Any]:
        """Connection state: open | connecting | close."""
        _check_state(state)
        with self.lock:
            self.instances[instance].state = state
            return self.instances[instance].summary()

    def write(self, chat: str, text: str, **kwargs: Any) -> dict[str, Any]:
        """Someone writes to the instance: a person who writes is on WhatsApp (a customer, a provider)."""
        if not chat.endswith("@g.us"):
            self.add_number(chat.split("@", 1)[0])
        return super().write(chat, text, **kwargs)

    def add_number(self, *numbers: str) -> list[str]:
        """Register WhatsApp accounts; returns their JIDs."""
        jids = [create_jid(str(n)) for n in numbers]
        with self.lock:
            self.numbers.update(jids)
        return jids

    def add_group(
        self, jid: str, subject: str, size: int = 3, instance: str | None = None, announce: bool = False
    ) -> dict[str, Any]:
        if not jid.endswith("@g.us"):
            raise ValueError("group JIDs end with @g.us")
        with self.lock:
            owner = self._instance_or_first(instance)
            group = _group(jid, subject, int(size), owner.owner, announce)
            owner.groups[jid] = group
            return dict(group)

    # ===== HTTP ==============================================================
    @route("GET", r"/")
    def welcome(self, req: FakeRequest) -> Reply:
        body = {
            "status": 200,
            "message": "Welcome to the Evolution API, it is working!",
            "version": VERSION,
            "clientName": "fake",
            "documentation": "https://doc.evolution-api.com",
        }
        return json_reply(body)

    @route("POST", r"/message/sendText/" + INSTANCE)
    def send_text(self, req: FakeRequest) -> Reply:
        return self._guarded(req, self._send_text)

    @route("GET", r"/group/fetchAllGroups/" + INSTANCE)
    def fetch_all_groups(self, req: FakeRequest) -> Reply:
        return self._guarded(req, self._fetch_all_groups)

    @route("GET", r"/instance/connectionState/" + INSTANCE)
    def connection_state(self, req: FakeRequest) -> Reply:
        return self._guarded(req, self._connection_state)

    @route("POST", r"/chat/whatsappNumbers/" + INSTANCE)
    def whatsapp_numbers(self, req: FakeRequest) -> Reply:
        return self._guarded(req, self._whatsapp_numbers)

    @route("POST", r"/chat/findMessages/" + INSTANCE)
    def find_messages(self, req: FakeRequest) -> Reply:
        return self._guarded(req, self._find_messages)

    @route("POST", r"/chat/findChats/" + INSTANCE)
    def find_chats(self, req: FakeRequest) -> Reply:
        return self._guarded(req, self._find_chats)

    @route("GET", r"/instance/fetchInstances")
    def fetch_instances(self, req: FakeRequest) -> Reply:
        try:
            with self.lock:
                visible = self._visible_instances(req.headers.get("apikey", ""))
                return json_reply([i.summary() for i in visible])
        except EvolutionError as exc:
            return exc.reply()

    def not_found(self, req: FakeRequest) -> Reply:
        return EvolutionError(404, "Not Found", [f"Cannot {req.method} {req.path}"]).reply()

    def _guarded(self, req: FakeRequest, handler: Any) -> Reply:
        """Evolution's guard order: the instance must exist (404), then the key must fit (401)."""
        try:
            with self.lock:
                instance = self.instances.get(req.params["instance"])
                if instance is None:
                    raise EvolutionError(404, "Not Found", [f'The "{req.params["instance"]}" instance does not exist'])
                if req.headers.get("apikey", "") not in (self.api_key, instance.token):
                    raise _unauthorized()
            return handler(req, instance)
        except EvolutionError as exc:
            return exc.reply()

    def _send_text(self, req: FakeRequest, instance: Instance) -> Reply:
        body = _validated(req, ("number", "text"))
        delay = body.get("delay")
        if isinstance(delay, (int, float)) and delay > 0:
            time.sleep(min(delay / 1000, self.delay_cap))  # Evolution shows "typing…" that long
        with self.lock:
            self._require_open(instance)
            jid = self._existing_jid(instance, str(body["number"]))
            message = _baileys_message(instance, jid, body["text"])
            entry = {
                "chat_id": jid,
                "text": body["text"],
                "message_id": message["key"]["id"],
                "at": time.time(),
            }
            self.record_sent({**entry, "instance": instance.name})
        return json_reply(message, 201)

    def _find_messages(self, req: FakeRequest, instance: Instance) -> Reply:
        """POST /chat/findMessages/{instance}: v2's paged {"messages": {"records": […]}}, newest first."""
        body = _validated(req, ())
        where = body.get("where") if isinstance(body.get("where"), dict) else {}
        key = where.get("key") if isinstance(where.get("key"), dict) else {}
        with self.lock:
            rows = [m for m in self.sent if m.get("instance") == instance.name]
            written = [
                self._record(instance, m) for m in self.inbound if m.get("instance", instance.name) == instance.name
            ]
        records = [
            {"id": m["message_id"], "key": {"id": m["message_id"], "fromMe": True, "remoteJid": m["chat_id"]},
             "pushName": "", "messageType": "conversation", "message": {"conversation": m["text"]},
             "messageTimestamp": int(m["at"]), "instanceId": instance.id, "source": "unknown",
             "contextInfo": None, "MessageUpdate": []}
            for m in rows
        ] + written  # fmt: skip
        records.sort(key=lambda r: -r["messageTimestamp"])
        for name in ("remoteJid", "id", "fromMe"):
            if name in key:
                records = [r for r in records if r["key"].get(name) == key[name]]
        page = {"total": len(records), "pages": 1 if records else 0, "currentPage": 1, "records": records[:50]}
        return json_reply({"messages": page})

    def _find_chats(self, req: FakeRequest, instance: Instance) -> Reply:
        """POST /chat/findChats/{instance}: every chat the instance stored, [{id, remoteJid, pushName,
        updatedAt, …}] (Evolution v2's Chat rows; the order is the database's, not promised)."""
        _validated(req, ())
        with self.lock:
            self._require_open(instance)
            last: dict[str, dict[str, Any]] = {}
            for m in [m for m in self.sent if m.get("instance") == instance.name] + [
                m for m in self.inbound if m.get("instance", instance.name) == instance.name
            ]:
                jid = str(m["chat_id"]).removesuffix("@c.us")
                jid = jid if "@" in jid else f"{jid}@s.whatsapp.net"
                if jid not in last or last[jid]["at"] < m["at"]:
                    last[jid] = {"at": m["at"], "name": m.get("name", "") if "sender" in m else ""}
        rows = [
            {"id": f"chat{abs(hash(jid)) % 10**8}", "remoteJid": jid, "name": None, "labels": [],
             "pushName": row["name"] or None, "profilePicUrl": None, "instanceId": instance.id,
             "createdAt": _iso(row["at"]), "updatedAt": _iso(row["at"])}
            for jid, row in sorted(last.items())
        ]  # fmt: skip
        return json_reply(rows)

    def _record(self, instance: Instance, entry: dict[str, Any]) -> dict[str, Any]:
        """A Baileys message someone else wrote, as Evolution v2 stores and posts it."""
        jid = (
            entry["chat_id"].removesuffix("@c.us") + "@s.whatsapp.net"
            if entry["chat_id"].endswith("@c.us")
            else entry["chat_id"]
        )
        key = {"remoteJid": jid, "fromMe": False, "id": entry["message_id"]}
        if jid.endswith("@g.us"):
            key["participant"] = entry["sender"]
        message: dict[str, Any]
        if entry.get("reaction"):  # Baileys' reactionMessage: the emoji and the key of the message reacted to
            reacted = {"remoteJid": jid, "fromMe": True, "id": entry["reply_to"]}
            message = {"reactionMessage": {"key": reacted, "text": entry["text"],
                                           "senderTimestampMs": int(entry["at"] * 1000)}}  # fmt: skip
            kind = "reactionMessage"
        elif entry.get("reply_to"):
            context = {
                "stanzaId": entry["reply_to"],
                "participant": instance.owner,
                "quotedMessage": {"conversation": "…"},
            }
            message = {"extendedTextMessage": {"text": entry["text"], "contextInfo": context}}
            kind = "extendedTextMessage"
        else:
            message, kind = {"conversation": entry["text"]}, "conversation"
        return {"id": entry["message_id"], "key": key, "pushName": entry.get("name", ""), "messageType": kind,
                "message": message, "messageTimestamp": int(entry["at"]), "instanceId": instance.id,
                "source": "android", "contextInfo": message.get("extendedTextMessage", {}).get("contextInfo"),
                "MessageUpdate": []}  # fmt: skip

    def webhook_event(self, entry: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            instance = self.instances.get(entry.get("instance", "")) or next(iter(self.instances.values()))
        return {"event": "messages.upsert", "instance": instance.name, "data": self._record(instance, entry),
                "destination": self.webhook_url, "date_time": time.strftime("%Y-%m-%dT%H:%M:%S"),
                "sender": instance.owner, "server_url": self.url, "apikey": instance.token}  # fmt: skip

    def _fetch_all_groups(self, req: FakeRequest, instance: Instance) -> Reply:
        flag = req.query.get("getParticipants")
        if not flag:
            raise bad_request("The getParticipants needs to be informed in the query")
        with self.lock:
            self._require_open(instance)
            groups = [dict(g) for g in instance.groups.values()]
        if flag.lower() != "true":
            for group in groups:
                group.pop("participants", None)
        return json_reply(groups)

    def _connection_state(self, req: FakeRequest, instance: Instance) -> Reply:
        with self.lock:
            return json_reply({"instance": {"instanceName": instance.name, "state": instance.state}})

    def _whatsapp_numbers(self, req: FakeRequest, instance: Instance) -> Reply:
        numbers = _json_body(req).get("numbers")
        if not isinstance(numbers, list):
            raise EvolutionError(400, "Bad Request", [['instance requires property "numbers"']])
        with self.lock:
            self._require_open(instance)
            return json_reply([self._lookup(instance, str(n)) for n in numbers])

    # ===== internals ==========================================================
    def _visible_instances(self, key: str) -> list[Instance]:
        if key and key == self.api_key:
            return list(self.instances.values())
        mine = [i for i in self.instances.values() if key and i.token == key]
        if not mine:
            raise _unauthorized()
        return mine

    def _instance_or_first(self, name: str | None) -> Instance:
        return self.instances[name] if name is not None else next(iter(self.instances.values()))

    def _require_open(self, instance: Instance) -> None:
        if instance.state == "close":
            raise bad_request("Error: Connection Closed")
        if instance.state == "connecting":
            raise EvolutionError(500, "Internal Server Error", ["Error: Connection Closed"])

    def _lookup(self, instance: Instance, number: str) -> dict[str, Any]:
        """onWhatsApp check as Evolution's whatsappNumber(): {exists, jid, number[, name]}."""
        jid = create_jid(number)
        if jid.endswith("@g.us"):
            group = instance.groups.get(jid)
            found = {"exists": group is not None, "jid": jid, "number": number}
            return {**found, "name": group["subject"]} if group else found
        exists = self.all_numbers_exist or jid in self.numbers or jid.endswith(("@lid", "@broadcast"))
        return {"exists": exists, "jid": jid, "number": number}

    def _existing_jid(self, instance: Instance, number: str) -> str:
        found = self._lookup(instance, number)
        if not found["exists"]:
            raise bad_request(found)
        return found["jid"]

    # ===== MessagingFake hooks ================================================
    def chat_key(self, chat: Any) -> Any:
        return create_jid(str(chat))

    def chat_label(self, chat_id: Any) -> str:
        with self.lock:
            for instance in self.instances.values():
                if chat_id in instance.groups:
                    return f"{instance.groups[chat_id]['subject']} ({chat_id})"
        return str(chat_id)

    def auth_hint(self) -> str:
        with self.lock:
            tokens = ", ".join(f"{i.name}={i.token}" for i in self.instances.values())
        return f"apikey: {self.api_key} (global) or an instance token: {tokens}"

    def seed_demo(self) -> None:
        with self.lock:
            if "relay" not in self.instances:
                self.add_instance("relay", "relay-token")
        self.set_state("relay", "open")
        self.add_number("5511988887777", "5511977776666")
        self.add_group("120363050000000001@g.us", "Provider D · refills", size=5, instance="relay")
        self.add_group("120363050000000002@g.us", "Provider E · cancels", size=8, instance="relay")

    def snapshot(self) -> dict[str, Any]:
        data = super().snapshot()
        with self.lock:
            data["instances"] = [
                {**i.summary(), "groups": [dict(g) for g in i.groups.values()]} for i in self.instances.values()
            ]
            data["numbers"] = sorted(self.numbers)
        return data

    # ===== control endpoints =================================================
    @control("connection-state")
    def _c_connection_state(self, args: dict[str, Any]) -> dict[str, Any]:
        return self.set_state(args.get("instance", "relay"), args["state"])

    @control("number")
    def _c_number(self, args: dict[str, Any]) -> list[str]:
        numbers = args.get("numbers") or [args["number"]]
        return self.add_number(*numbers)

    @control("group")
    def _c_group(self, args: dict[str, Any]) -> dict[str, Any]:
        return self.add_group(**args)

    @control("instance")
    def _c_instance(self, args: dict[str, Any]) -> dict[str, Any]:
        return self.add_instance(**args)


def _check_state(state: str) -> None:
    if state not in STATES:
        raise ValueError(f"state must be one of {STATES}")


def _unauthorized() -> EvolutionError:
    return EvolutionError(401, "Unauthorized", "Unauthorized")


def _json_body(req: FakeRequest) -> dict[str, Any]:
    try:
        body = json.loads(req.body.decode("utf-8")) if req.body else {}
    except (ValueError, UnicodeDecodeError):
        raise bad_request("Unexpected token in JSON body") from None
    if not isinstance(body, dict):
        raise EvolutionError(400, "Bad Request", [["instance is not of a type(s) object"]])
    return body


def _validated(req: FakeRequest, required: tuple[str, ...]) -> dict[str, Any]:
    """jsonschema-style checks; Evolution wraps the list of messages in another list."""
    body = _json_body(req)
    problems = [f'instance requires property "{name}"' for name in required if name not in body]
    problems += [
        f"instance.{name} is not of a type(s) string"
        for name in required
        if name in body and not isinstance(body[name], str)
    ]
    problems += [f'The "{name}" cannot be empty' for name in required if body.get(name) == ""]
    if problems:
        raise EvolutionError(400, "Bad Request", [problems])
    return body


def _group(jid: str, subject: str, size: int, owner: str, announce: bool) -> dict[str, Any]:
    now = int(time.time())
    participants = [{"id": owner, "admin": "superadmin"}]
    participants += [{"id": f"55119000{n:05d}@s.whatsapp.net", "admin": None} for n in range(1, max(size, 1))]
    return {
        "id": jid,
        "subject": subject,
        "subjectOwner": owner,
        "subjectTime": now,
        "pictureUrl": None,
        "size": size,
        "creation": now,
        "owner": owner,
        "desc": "",
        "descId": None,
        "restrict": False,
        "announce": announce,
        "isCommunity": False,
        "isCommunityAnnounce": False,
        "participants": participants,
    }


def _baileys_message(instance: Instance, jid: str, text: str) -> dict[str, Any]:
    return {
        "key": {"remoteJid": jid, "fromMe": True, "id": "3EB0" + secrets.token_hex(8).upper()},
        "pushName": "",
        "status": "PENDING",
        "message": {"conversation": text},
        "contextInfo": None,
        "messageType": "conversation",
        "messageTimestamp": int(time.time()),
        "instanceId": instance.id,
        "source": "unknown",
    }


if __name__ == "__main__":
    serve_main(FakeEvolution)


def _iso(at: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(at)) + f".{int(at * 1000) % 1000:03d}Z"
