"""Loopback fake of WAHA, the self-hosted WhatsApp HTTP API (WAHA docs and source).

Routes (all but /ping need `X-Api-Key` when the fake has an api_key):
  POST /api/sendText                      {session, chatId, text} → 201 WAMessage
  GET  /api/sessions[?all=true]           list of sessions
  GET  /api/sessions/{session}            {name, status, config, me, engine}
  GET  /api/{session}/auth/qr             PNG (format=image, default) or, with
                                          `Accept: application/json`, {mimetype, data}; format=raw → {value}
  GET  /api/{session}/groups              list [{id, subject, ...}] or, with groups_shape="dict",
                                          {"<id>": {...}}; limit, offset, sortBy=id|subject,
                                          sortOrder=asc|desc, exclude=participants
  GET  /api/{session}/groups/count        {"count": n}
  GET  /api/{session}/chats               [{id, name, conversationTimestamp}], sortBy/sortOrder/limit/offset
  GET  /ping                              {"message": "pong"}

Errors (NestJS shapes, as WAHA answers):
  401 {"message":"Unauthorized","statusCode":401}                       missing/wrong X-Api-Key
  400 {"message":[...],"error":"Bad Request","statusCode":400}           missing/blank session,
      chatId, text (class-validator style messages), or a body that is not a JSON object
  400 {"message":"Invalid chatId '...': ...","error":"Bad Request","statusCode":400}
      chatId not `<digits>@c.us`, `<id>@g.us`, `<id>@lid`, `<id>@newsletter`, `status@broadcast`
      (so `@s.whatsapp.net` and bare numbers are refused; wording chosen)
  404 {"message":"We didn't find a session with name 'x'.\\nPlease start it first by using
      POST /api/sessions/x/start request","error":"Not Found","statusCode":404}
      unknown session, or a STOPPED one (WAHA's getSession() treats stopped as absent)
  422 {"error":"Session status is not as expected. Try again later or restart the session",
      "session":"default","status":"SCAN_QR_CODE","expected":["WORKING"]}
      session STARTING / SCAN_QR_CODE / FAILED (expected ["SCAN_QR_CODE"] for the QR route)
  422 "WAHA Core support only 'default' session..." when constructed with core=True.
Sends to chats the account does not know succeed (WhatsApp Web engines do not check first).
Steering: set_status/add_session, add_group/remove_group, groups_shape, sent/messages_to; over HTTP
POST /_fake/session-status {session?, status}, /_fake/group {id, subject, session?}, /_fake/remove-group.
reset() forgets traffic; sessions, statuses and groups stay.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import struct
import time
import zlib
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from fakes.base import FakeRequest, Reply, json_reply, route
from fakes.messaging import MessagingFake, control, serve_main

STATUSES = ("STOPPED", "STARTING", "SCAN_QR_CODE", "WORKING", "FAILED")
NOT_EXPECTED = "Session status is not as expected. Try again later or restart the session"
CHAT_ID = re.compile(r"^(\d{5,20}@c\.us|\d+(-\d+)?@g\.us|\d+@lid|\d+@newsletter|status@broadcast)$")
DOCS_URL = "https://waha.devlike.pro/"


class WahaError(Exception):
    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(body)
        self.status = status
        self.body = body

    def reply(self) -> Reply:
        return json_reply(self.body, self.status)


def nest_error(status: int, error: str, message: Any) -> WahaError:
    """NestJS HttpException body: {"message", "error", "statusCode"}."""
    return WahaError(status, {"message": message, "error": error, "statusCode": status})


@dataclass
class Session:
    name: str
    status: str = "WORKING"
    me_id: str = "79990000000@c.us"
    push_name: str = "PanelRelay"
    groups: dict[str, dict[str, Any]] = field(default_factory=dict)

    def info(self, engine: str) -> dict[str, Any]:
        me = {"id": self.me_id, "pushName": self.push_name} if self.status == "WORKING" else None
        return {
            "name": self.name,
            "status": self.status,
            "config": {"metadata": None, "webhooks": []},
            "me": me,
            "engine": {"engine": engine},
        }


class FakeWAHA(MessagingFake):
    """Fake WAHA: sessions with a status, groups, QR codes, sendText."""

    name = "fake-waha"
    title = "Fake WAHA (WhatsApp)"
    default_port = 8103

    def __init__(
        self,
        api_key: str | None = "waha-key",
        *,
        groups_shape: str = "list",
        engine: str = "WEBJS",
        core: bool = False,
        host: str = "127.0.0.1",
        port: int = 0,
        latency: float = 0.0,
    ) -> None:
        super().__init__(host=host, port=port, latency=latency)
        self.api_key = api_key  # None = no auth; "sha512:<hex>" = WAHA's hashed form
        self.groups_shape = groups_shape  # "list" or "dict": the shape "depends on engine"
        self.engine = engine
        self.core = core  # WAHA Core: only the "default" session may exist
        self.sessions: dict[str, Session] = {"default": Session("default")}

    # ===== Python helpers =====================================================
    def add_session(self, name: str, status: str = "WORKING", me_id: str | None = None) -> dict[str, Any]:
        _check_status(status)
        with self.lock:
            session = self.sessions.setdefault(name, Session(name))
            session.status = status
            session.me_id = me_id or session.me_id
            return session.info(self.engine)

    def set_status(self, session: str, status: str) -> dict[str, Any]:
        """Move a session to STOPPED / STARTING / SCAN_QR_CODE / WORKING / FAILED (creates it)."""
        return self.add_session(session, status)

    def add_group(self, id: str, subject: str, session: str = "default", participants: int = 3) -> dict:
        if not id.endswith("@g.us"):
            raise ValueError("group ids end with @g.us")
        with self.lock:
            group = {"id": id, "subject": subject, "participants": self._participants(session, participants)}
            self.sessions.setdefault(session, Session(session)).groups[id] = group
            return dict(group)

    def remove_group(self, id: str, session: str = "default") -> None:
        with self.lock:
            self.sessions[session].groups.pop(id, None)

    # ===== HTTP ==============================================================
    @route("GET", r"/ping")
    def ping(self, req: FakeRequest) -> Reply:
        return json_reply({"message": "pong"})

    @route("POST", r"/api/sendText")
    def send_text(self, req: FakeRequest) -> Reply:
        return self._guarded(req, self._send_text)

    @route("GET", r"/api/sessions")
    def list_sessions(self, req: FakeRequest) -> Reply:
        return self._guarded(req, self._list_sessions)

    @route("GET", r"/api/sessions/(?P<session>[^/]+)")
    def get_session(self, req: FakeRequest) -> Reply:
        return self._guarded(req, self._get_session)

    @route("GET", r"/api/(?P<session>[^/]+)/auth/qr")
    def auth_qr(self, req: FakeRequest) -> Reply:
        return self._guarded(req, self._auth_qr)

    @route("GET", r"/api/(?P<session>[^/]+)/groups")
    def groups(self, req: FakeRequest) -> Reply:
        return self._guarded(req, self._groups)

    @route("GET", r"/api/(?P<session>[^/]+)/chats/(?P<chat>[^/]+)/messages")
    def chat_messages(self, req: FakeRequest) -> Reply:
        return self._guarded(req, self._chat_messages)

    @route("GET", r"/api/(?P<session>[^/]+)/chats")
    def chats(self, req: FakeRequest) -> Reply:
        return self._guarded(req, self._chats)

    @route("GET", r"/api/(?P<session>[^/]+)/groups/count")
    def groups_count(self, req: FakeRequest) -> Reply:
        return self._guarded(req, self._groups_count)

    def not_found(self, req: FakeRequest) -> Reply:
        message = f"Cannot {req.method} {req.path}"
        return json_reply({"message": message, "error": "Not Found", "statusCode": 404}, 404)

    def _guarded(self, req: FakeRequest, handler: Any) -> Reply:
        try:
            self._authenticate(req)
            return handler(req)
        except WahaError as exc:
            return exc.reply()

    def _authenticate(self, req: FakeRequest) -> None:
        if self.api_key is None:
            return
        given = req.headers.get("x-api-key", "")
        if self.api_key.startswith("sha512:"):
            given = hashlib.sha512(given.encode()).hexdigest()
            expected = self.api_key.removeprefix("sha512:").lower()
        else:
            expected = self.api_key
        if not given or not hmac.compare_digest(given, expected):
            raise WahaError(401, {"message": "Unauthorized", "statusCode": 401})

    def _send_text(self, req: FakeRequest) -> Reply:
        body = _validated_body(req, ("session", "chatId", "text"))
        chat_id = body["chatId"]
        with self.lock:
            session = self._session(body["session"], expected="WORKING")
            if not CHAT_ID.match(chat_id):
                raise nest_error(400, "Bad Request", _chat_id_problem(chat_id))
            message = self._message(session, chat_id, body["text"])
            self.record_sent(
                {
                    "chat_id": chat_id,
                    "text": body["text"],
                    "message_id": message["id"],
                    "at": time.time(),
                    "session": session.name,
                }
            )
        return json_reply(message, 201)

    def _chat_messages(self, req: FakeRequest) -> Reply:
        """GET /api/{session}/chats/{chatId}/messages: newest first, with WAHA's filter.* query."""
        chat_id = unquote(req.params["chat"])
        query = req.query
        with self.lock:
            session = self._session(req.params["session"], expected="WORKING")
            rows = [m for m in self.sent if m["chat_id"] == chat_id and m.get("session") == session.name]
            # A reaction is an event (message.reaction), not a message of the chat's history.
            written = [m for m in self.inbound if m["chat_id"] == chat_id and not m.get("reaction")]
            me = session.me_id
        items = [
            {"id": m["message_id"], "timestamp": int(m["at"]), "from": me, "fromMe": True, "source": "api",
             "to": chat_id, "body": m["text"], "hasMedia": False, "ack": 2, "ackName": "DEVICE", "_at": m["at"]}
            for m in rows
        ] + [{**self._wa_message(m, me), "_at": m["at"]} for m in written]  # fmt: skip
        items = [{k: v for k, v in i.items() if k != "_at"} for i in sorted(items, key=lambda i: -i["_at"])]
        if "filter.fromMe" in query:
            wanted = query["filter.fromMe"].lower() == "true"
            items = [i for i in items if i["fromMe"] is wanted]
        for name, keep in (("filter.timestamp.gte", int.__ge__), ("filter.timestamp.lte", int.__le__)):
            if name in query:
                if not query[name].lstrip("-").isdigit():
                    raise nest_error(400, "Bad Request", [f"{name} must be an integer number"])
                items = [i for i in items if keep(i["timestamp"], int(query[name]))]
        offset, limit = _count(query.get("offset"), 0), _count(query.get("limit"), 10)
        return json_reply(items[offset : offset + limit])

    def _chats(self, req: FakeRequest) -> Reply:
        """GET /api/{session}/chats?sortBy=conversationTimestamp|id|name&sortOrder=desc|asc&limit&offset
        (as the waha.js SDK types getChats): every chat with a message, as the NOWEB engine lists them."""
        query = req.query
        sort_by, order = query.get("sortBy", ""), query.get("sortOrder", "desc")
        if sort_by not in ("", "conversationTimestamp", "id", "name") or order not in ("desc", "asc"):
            raise nest_error(400, "Bad Request", ["sortBy or sortOrder must be one of the allowed values"])
        with self.lock:
            session = self._session(req.params["session"], expected="WORKING")
            last: dict[str, float] = {}
            for m in [m for m in self.sent if m.get("session") == session.name] + self.inbound:
                last[m["chat_id"]] = max(last.get(m["chat_id"], 0.0), m["at"])
        items = [{"id": chat, "name": None, "conversationTimestamp": int(at)} for chat, at in last.items()]
        key = {"id": "id", "name": "name"}.get(sort_by, "conversationTimestamp")
        items.sort(key=lambda i: str(i[key] or "") if key != "conversationTimestamp" else i[key],
                   reverse=order == "desc")  # fmt: skip
        offset, limit = _count(query.get("offset"), 0), _count(query.get("limit"), 100)
        return json_reply(items[offset : offset + limit])

    def _wa_message(self, entry: dict[str, Any], me: str) -> dict[str, Any]:
        """A WAMessage someone else wrote (WEBJS shape): `from` the chat, `participant` the sender."""
        group = entry["chat_id"].endswith("@g.us")
        reply = {"id": entry["reply_to"], "participant": me, "body": None} if entry.get("reply_to") else None
        return {
            "id": f"false_{entry['chat_id']}_{entry['message_id']}" + (f"_{entry['sender']}" if group else ""),
            "timestamp": int(entry["at"]), "from": entry["chat_id"], "fromMe": False, "source": "app",
            "to": me, "participant": entry["sender"] if group else None, "body": entry["text"],
            "hasMedia": False, "ack": 1, "ackName": "SERVER", "replyTo": reply,
            "_data": {"notifyName": entry.get("name", "")},
        }  # fmt: skip

    def webhook_event(self, entry: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            session = self.sessions.get("default") or next(iter(self.sessions.values()))
        event, payload = "message", self._wa_message(entry, session.me_id)
        if entry.get("reaction"):
            event, payload = "message.reaction", self._wa_reaction(entry, session.me_id)
        return {"id": f"evt_{secrets.token_hex(8)}", "timestamp": int(entry["at"] * 1000), "event": event,
                "session": session.name, "me": {"id": session.me_id, "pushName": session.push_name},
                "payload": payload, "engine": "WEBJS",
                "environment": {"version": "fake", "engine": "WEBJS", "tier": "CORE"}}  # fmt: skip

    def _wa_reaction(self, entry: dict[str, Any], me: str) -> dict[str, Any]:
        """message.reaction's payload (WAHA docs, Events): `reaction.text` is the emoji ("" when taken
        back), `reaction.messageId` the full id of the message reacted to."""
        message = self._wa_message(entry, me)
        keep = ("id", "timestamp", "from", "fromMe", "source", "to", "participant")
        return {**{k: message[k] for k in keep}, "reaction": {"text": entry["text"], "messageId": entry["reply_to"]}}

    def answer_reply(self, chat: Any, text: str, ours: dict[str, Any], sender: str) -> dict[str, Any]:
        # A reply's replyTo.id is the bare message ID, not "true_<chat>_<ID>" (WAHA's ReplyToMessage:
        # MessageIdOnlyProperty): the product must find its message by either form.
        short = str(ours["message_id"]).split("_")[-1]
        return self.write(chat, text, sender=self._who(chat, sender), reply_to=short)

    def _list_sessions(self, req: FakeRequest) -> Reply:
        show_all = req.query.get("all", "").lower() in ("true", "1")
        with self.lock:
            found = [s.info(self.engine) for s in self.sessions.values() if show_all or s.status != "STOPPED"]
        return json_reply(found)

    def _get_session(self, req: FakeRequest) -> Reply:
        name = req.params["session"]
        with self.lock:
            self._only_default(name)
            session = self.sessions.get(name)
            if session is None:
                raise _no_session(name)
            return json_reply(session.info(self.engine))

    def _auth_qr(self, req: FakeRequest) -> Reply:
        with self.lock:
            self._session(req.params["session"], expected="SCAN_QR_CODE")
        fmt = req.query.get("format", "image")
        if fmt == "raw":
            return json_reply({"value": "2@" + secrets.token_urlsafe(48)})
        png = qr_png()
        if "application/json" in req.headers.get("accept", ""):
            return json_reply({"mimetype": "image/png", "data": base64.b64encode(png).decode()})
        return Reply(200, png, {"Content-Type": "image/png"})

    def _groups(self, req: FakeRequest) -> Reply:
        with self.lock:
            session = self._session(req.params["session"], expected="WORKING")
            groups = [dict(g) for g in session.groups.values()]
        groups = _page(_sorted(groups, req.query), req.query)
        if "participants" in req.query.get("exclude", ""):
            for group in groups:
                group.pop("participants", None)
        if self.groups_shape == "dict":
            return json_reply({g["id"]: g for g in groups})
        return json_reply(groups)

    def _groups_count(self, req: FakeRequest) -> Reply:
        with self.lock:
            session = self._session(req.params["session"], expected="WORKING")
            return json_reply({"count": len(session.groups)})

    # ===== internals ==========================================================
    def _only_default(self, name: str) -> None:
        if self.core and name != "default":
            encoded = base64.b64encode(name.encode()).decode()
            message = (
                f"WAHA Core support only 'default' session. You tried to access '{name}' session "
                f"(base64: {encoded}). If you want to run more then one WhatsApp account - please get "
                f"WAHA PLUS version. Check this out: {DOCS_URL}"
            )
            raise nest_error(422, "Unprocessable Entity", message)

    def _session(self, name: str, expected: str) -> Session:
        """The running session `name`, or WAHA's 404 (absent/stopped) or 422 (wrong status)."""
        self._only_default(name)
        session = self.sessions.get(name)
        if session is None or session.status == "STOPPED":
            raise _no_session(name)
        if session.status != expected:
            body = {"error": NOT_EXPECTED, "session": name, "status": session.status, "expected": [expected]}
            raise WahaError(422, body)
        return session

    def _message(self, session: Session, chat_id: str, text: str) -> dict[str, Any]:
        serialized = f"true_{chat_id}_3EB0{secrets.token_hex(8).upper()}"
        return {
            "id": serialized,
            "timestamp": int(time.time()),
            "from": session.me_id,
            "fromMe": True,
            "source": "api",
            "to": chat_id,
            "body": text,
            "hasMedia": False,
            "ack": 1,
            "ackName": "SERVER",
        }

    def _participants(self, session: str, count: int) -> list[dict[str, Any]]:
        me = self.sessions[session].me_id if session in self.sessions else "79990000000@c.us"
        others = [{"id": f"7999000{n:04d}@c.us", "role": "participant"} for n in range(1, max(count, 1))]
        return [{"id": me, "role": "admin"}, *others]

    # ===== MessagingFake hooks ================================================
    def chat_label(self, chat_id: Any) -> str:
        with self.lock:
            for session in self.sessions.values():
                if chat_id in session.groups:
                    return f"{session.groups[chat_id]['subject']} ({chat_id})"
        return str(chat_id)

    def auth_hint(self) -> str:
        return f"X-Api-Key: {self.api_key}" if self.api_key else "no API key"

    def seed_demo(self) -> None:
        self.set_status("default", "WORKING")
        # The demo's names (panelrelay/demo): Peak_C's WhatsApp group, and the owner's own team.
        self.add_group("120363040000000001@g.us", "Peak_C · WhatsApp")
        self.add_group("120363040000000002@g.us", "Manual team")

    def snapshot(self) -> dict[str, Any]:
        data = super().snapshot()
        with self.lock:
            data["sessions"] = [
                {**s.info(self.engine), "groups": [dict(g) for g in s.groups.values()]} for s in self.sessions.values()
            ]
        return data

    # ===== control endpoints =================================================
    @control("session-status")
    def _c_session_status(self, args: dict[str, Any]) -> dict[str, Any]:
        return self.set_status(args.get("session", "default"), args["status"])

    @control("group")
    def _c_group(self, args: dict[str, Any]) -> dict[str, Any]:
        return self.add_group(**args)

    @control("remove-group")
    def _c_remove_group(self, args: dict[str, Any]) -> None:
        self.remove_group(**args)


def _check_status(status: str) -> None:
    if status not in STATUSES:
        raise ValueError(f"status must be one of {STATUSES}")


def _no_session(name: str) -> WahaError:
    message = (
        f"We didn't find a session with name '{name}'.\n"
        f"Please start it first by using POST /api/sessions/{name}/start request"
    )
    return nest_error(404, "Not Found", message)


def _validated_body(req: FakeRequest, required: tuple[str, ...]) -> dict[str, Any]:
    """The JSON body with every required field a non-empty string, else a ValidationPipe 400."""
    try:
        body = json.loads(req.body.decode("utf-8")) if req.body else {}
    except (ValueError, UnicodeDecodeError):
        raise nest_error(400, "Bad Request", "Unexpected token in JSON body") from None
    if not isinstance(body, dict):
        raise nest_error(400, "Bad Request", ["body must be a JSON object"])
    problems: list[str] = []
    for name in required:
        value = body.get(name)
        if not isinstance(value, str):
            problems.append(f"{name} must be a string")
        if value is None or value == "":
            problems.append(f"{name} should not be empty")
    if problems:
        raise nest_error(400, "Bad Request", problems)
    return body


def _chat_id_problem(chat_id: str) -> str:
    if chat_id.endswith("@s.whatsapp.net"):
        hint = "use <phone>@c.us for people, <id>@g.us for groups (not @s.whatsapp.net)"
    else:
        hint = "expected <phone digits>@c.us, <id>@g.us, <id>@lid, <id>@newsletter or status@broadcast"
    return f"Invalid chatId '{chat_id}': {hint}"


def _sorted(groups: list[dict[str, Any]], query: dict[str, str]) -> list[dict[str, Any]]:
    key = query.get("sortBy")
    if key not in ("id", "subject"):
        return groups
    return sorted(groups, key=lambda g: str(g.get(key, "")), reverse=query.get("sortOrder") == "desc")


def _page(groups: list[dict[str, Any]], query: dict[str, str]) -> list[dict[str, Any]]:
    offset = _count(query.get("offset"), 0)
    limit = _count(query.get("limit"), len(groups))
    return groups[offset : offset + limit]


def _count(value: str | None, default: int) -> int:
    return int(value) if value and value.isdigit() else default


def qr_png(modules: int = 25, scale: int = 4) -> bytes:
    """A small valid greyscale PNG that looks QR-ish (finder squares and noise); not scannable."""
    noise = secrets.token_bytes(modules * modules)
    rows = []
    for y in range(modules * scale):
        my = y // scale
        pixels = bytes(0 if _dark(x // scale, my, modules, noise) else 255 for x in range(modules * scale))
        rows.append(b"\x00" + pixels)  # filter type 0 per scanline
    size = modules * scale
    header = struct.pack(">IIBBBBB", size, size, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(b"".join(rows)))
        + _chunk(b"IEND", b"")
    )


def _dark(x: int, y: int, n: int, noise: bytes) -> bool:
    for fx, fy in ((0, 0), (n - 7, 0), (0, n - 7)):  # the three finder patterns
        if fx <= x < fx + 7 and fy <= y < fy + 7:
            dx, dy = x - fx, y - fy
            return dx in (0, 6) or dy in (0, 6) or (2 <= dx <= 4 and 2 <= dy <= 4)
    return noise[y * n + x] & 1 == 1


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


if __name__ == "__main__":
    serve_main(FakeWAHA)
