"""Loopback fake of the Telegram Bot API (contract: /work/shared/facts/transports.md, section A).

`/bot{token}/{method}` over GET or POST with query, JSON, urlencoded or multipart parameters.
Methods: getMe, sendMessage, getUpdates, setWebhook, deleteWebhook, getWebhookInfo, getChat.
Every error is the Bot API envelope `{"ok":false,"error_code":N,"description":"...",
"parameters":{...}?}` with the documented descriptions:

  401 Unauthorized                                   unknown token
  404 Not Found                                      unknown method
  400 Bad Request: chat_id is empty / chat not found / message text is empty /
      message is too long / can't parse entities: ... / unsupported parse_mode
  400 Bad Request: group chat was upgraded to a supergroup chat  (+ migrate_to_chat_id)
  403 Forbidden: bot was kicked from the {group|supergroup|channel} chat /
      bot is not a member of the ... chat / the group chat was deleted /
      bot was blocked by the user / bot can't initiate conversation with a user /
      user is deactivated
  409 Conflict: can't use getUpdates method while webhook is active; ... /
      terminated by other getUpdates request; ...
  429 Too Many Requests: retry after N  (+ retry_after)  per chat 1/s, per group 20/min (groups,
      supergroups and channels), per bot 30/s (Bot FAQ), all configurable and switchable off with
      strict_limits=False; N = seconds until the fullest window frees up, rounded up, >= 1;
      `force_429(times, retry_after)` for deterministic tests.

Steering from Python: add_bot/add_chat/add_user; conditions kick (= bot_removed), delete_chat,
block/unblock, deactivate, migrate, force_429; updates bot_added, user_starts_bot, user_sends;
inspection sent, messages_to, pending_updates, webhook_deliveries. The same over HTTP (JSON body):
POST /_fake/telegram/{bot-added,bot-removed,user-start,user-message,chat,user},
POST /_fake/{kick,block,unblock,delete-chat,deactivate,migrate,force-429}, GET /_fake/telegram/updates,
plus base's /_fake/{state,reset,fault,config} and GET /_fake/inbox.

Choices where the facts are silent (documented so tests can rely on them):
- Checks run in this order: token, method, forced 429, chat_id present, text present, HTML
  markup, chat resolution and permissions, text length, rate limits.
- HTML is validated like TDLib's parser (same error texts and byte offsets) but loosely:
  tag names, nesting and stray '<' are checked, attributes are only skimmed, an unknown
  '&...' stays literal. Markdown modes are accepted without validation.
- setWebhook accepts http:// too (tests listen on loopback); other schemes get
  "Bad Request: bad webhook: An HTTPS URL must be provided for webhook". A bad secret_token
  gets "Bad Request: secret token contains unallowed characters" (wording chosen).
- Chats, users and their conditions are shared by all bots of the fake; updates are per bot.
- reset() forgets traffic (requests, sent messages, updates, webhooks, rate windows,
  forced 429s) but keeps the directory of bots, chats, users and their conditions.
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import math
import re
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fakes.base import FakeRequest, Reply, json_reply, route
from fakes.messaging import MessagingFake, SlidingWindow, control, serve_main

MAX_TEXT = 4096
CHAT_TYPES = ("private", "group", "supergroup", "channel")
GROUP_TYPES = ("group", "supergroup", "channel")
DEFAULT_TOKENS = {"123:ABC": {"id": 123, "username": "relay_bot", "first_name": "Relay"}}
# Who "did it" when a helper is not told which user added or removed the bot.
DEFAULT_ACTOR = {"id": 100200300, "is_bot": False, "first_name": "Provider", "username": "provider_admin"}
# getUpdates default: everything except these (Bot API docs on allowed_updates).
NOT_BY_DEFAULT = ("chat_member", "message_reaction", "message_reaction_count")
ADMIN_RIGHTS = {
    "can_be_edited": False,
    "is_anonymous": False,
    "can_manage_chat": True,
    "can_delete_messages": True,
    "can_manage_video_chats": True,
    "can_restrict_members": True,
    "can_promote_members": False,
    "can_change_info": True,
    "can_invite_users": True,
    "can_post_stories": False,
    "can_edit_stories": False,
    "can_delete_stories": False,
    "can_pin_messages": True,
}
ALLOWED_TAGS = frozenset(
    {"a", "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "tg-emoji"}
    | {"code", "pre", "blockquote"}
)
_ENTITY = re.compile(r"&(lt|gt|amp|quot|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6});")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_TAG_NAME = re.compile(r"[^\s>]*")
_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")


class TelegramError(Exception):
    """An error reply in Bot API form: raised where detected, rendered once at the top."""

    def __init__(self, code: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def reply(self) -> Reply:
        body: dict[str, Any] = {"ok": False, "error_code": self.code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return json_reply(body, self.code)


def bad_request(detail: str, parameters: dict[str, Any] | None = None) -> TelegramError:
    return TelegramError(400, f"Bad Request: {detail}", parameters)


def forbidden(detail: str) -> TelegramError:
    return TelegramError(403, f"Forbidden: {detail}")


def _ok(result: Any, description: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"ok": True, "result": result}
    if description:
        body["description"] = description
    return body


# ----- HTML parse_mode -------------------------------------------------------
def parse_html(text: str) -> str:
    """The plain text Telegram keeps from HTML `text`, or TelegramError like TDLib's parser."""
    text = text.strip()  # TDLib strips first; byte offsets count in the stripped text
    out: list[str] = []
    stack: list[str] = []
    i = 0
    while i < len(text):
        if text[i] == "&" and (m := _ENTITY.match(text, i)):
            out.append(_decode_entity(m.group(1)))
            i = m.end()
        elif text[i] == "<":
            i = _parse_tag(text, i, stack)
        else:
            out.append(text[i])
            i += 1
    if stack:
        raise _entities_error(f'Can\'t find end tag corresponding to start tag "{stack[-1]}"')
    return "".join(out)


def _decode_entity(name: str) -> str:
    if name.startswith("#"):
        code = int("0" + name[1:], 0) if name[1] == "x" else int(name[1:])  # "#x1F" → "0x1F"
        return chr(min(code, 0x10FFFF))
    return _NAMED[name]


def _entities_error(detail: str) -> TelegramError:
    return bad_request(f"can't parse entities: {detail}")


def _parse_tag(text: str, start: int, stack: list[str]) -> int:
    """Consume the tag at text[start] == '<'; return the index after it."""
    offset = len(text[:start].encode("utf-8"))
    close = text.find(">", start)
    if text.startswith("</", start):
        if not stack:
            raise _entities_error(f"Unexpected end tag at byte offset {offset}")
        if close < 0:
            raise _entities_error(f"Unclosed end tag at byte offset {offset}")
        name = text[start + 2 : close].strip().lower()
        if name and name != stack[-1]:
            raise _entities_error(
                f'Unmatched end tag at byte offset {offset}, expected "</{stack[-1]}>", found "</{name}>"'
            )
        stack.pop()
        return close + 1
    name_match = _TAG_NAME.match(text, start + 1)
    name = name_match.group(0).lower()
    if name_match.end() >= len(text):
        raise _entities_error(f"Unclosed start tag at byte offset {offset}")
    if name not in ALLOWED_TAGS:  # also a stray '<' in prose: "a < b" → tag name ""
        raise _entities_error(f'Unsupported start tag "{name}" at byte offset {offset}')
    if close < 0:
        raise _entities_error(f"Unclosed start tag at byte offset {offset}")
    if name == "span" and "tg-spoiler" not in text[start:close]:
        raise _entities_error(f'Tag "span" must have class "tg-spoiler" at byte offset {offset}')
    stack.append(name)
    return close + 1


def plain_text(text: str, parse_mode: str | None) -> str:
    if not parse_mode:
        return text
    mode = parse_mode.lower()
    if mode == "html":
        return parse_html(text)
    if mode in ("markdown", "markdownv2"):
        return text  # accepted, not validated (see module docstring)
    raise bad_request("unsupported parse_mode")


# ----- the world the fake simulates ----------------------------------------
@dataclass
class BotAccount:
    token: str
    id: int
    username: str
    first_name: str
    updates: list[dict[str, Any]] = field(default_factory=list)
    next_update_id: int = 1000
    allowed_updates: list[str] | None = None
    webhook_url: str = ""
    webhook_secret: str = ""
    webhook_error_date: int | None = None
    webhook_error_message: str | None = None
    webhook_thread: threading.Thread | None = None
    poll_generation: int = 0

    def user(self) -> dict[str, Any]:
        return {"id": self.id, "is_bot": True, "first_name": self.first_name, "username": self.username}


@dataclass
class Chat:
    id: int
    type: str
    title: str | None = None
    username: str | None = None
    bot_status: str = "member"  # the bot's own membership: member | administrator | left | kicked
    deleted: bool = False
    migrated_to: int | None = None

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "title": self.title or f"Chat {self.id}", "type": self.type}
        if self.username:
            data["username"] = self.username
        return data


@dataclass
class User:
    id: int
    first_name: str
    username: str | None = None
    started: bool = False  # has messaged the bot (or pressed Start): the bot may write to them
    blocked: bool = False
    deactivated: bool = False

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.username:
            data["username"] = self.username
        data["language_code"] = "en"
        return data

    def chat_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "first_name": self.first_name, "type": "private"}
        if self.username:
            data["username"] = self.username
        return data


Target = Chat | User


class FakeTelegram(MessagingFake):
    """Fake Telegram Bot API: bots, chats, users, updates, webhooks, flood limits."""

    name = "fake-telegram"
    title = "Fake Telegram"
    default_port = 8102

    def __init__(
        self,
        tokens: dict[str, dict[str, Any]] | None = None,
        *,
        strict_limits: bool = True,
        chat_limit: float = 1,
        chat_window: float = 1.0,
        group_limit: float = 20,
        group_window: float = 60.0,
        bot_limit: float = 30,
        bot_window: float = 1.0,
        long_poll_cap: float = 1.0,
        webhook_retry_delay: float = 0.5,
        webhook_timeout: float = 5.0,
        host: str = "127.0.0.1",
        port: int = 0,
        latency: float = 0.0,
    ) -> None:
        super().__init__(host=host, port=port, latency=latency)
        # Plain attributes on purpose: POST /_fake/config can change any of them at run time.
        self.strict_limits = strict_limits
        self.chat_limit, self.chat_window = chat_limit, chat_window
        self.group_limit, self.group_window = group_limit, group_window
        self.bot_limit, self.bot_window = bot_limit, bot_window
        self.long_poll_cap = long_poll_cap
        self.webhook_retry_delay = webhook_retry_delay
        self.webhook_timeout = webhook_timeout
        self.bots: dict[str, BotAccount] = {}
        self.chats: dict[int, Chat] = {}
        self.users: dict[int, User] = {}
        self.webhook_deliveries: list[dict[str, Any]] = []
        self._windows = SlidingWindow()
        self._forced_429: list[int] = []  # retry_after of each forced 429 still to hand out
        self._message_ids: dict[int, int] = {}
        self._cond = threading.Condition(self.lock)  # wakes long polls and webhook workers
        self._stop_event = threading.Event()
        tokens = DEFAULT_TOKENS if tokens is None else tokens
        for token, info in tokens.items():
            self.add_bot(token, **info)
        # The bot that helpers (bot_added, user_starts_bot, ...) act on when not given a token.
        self.default_token: str | None = next(iter(tokens), None)

    # ===== Python helpers: directory =========================================
    def add_bot(
        self, token: str, id: int | None = None, username: str = "relay_bot", first_name: str = "Relay"
    ) -> dict:
        bot_id = int(id if id is not None else token.split(":", 1)[0])
        with self.lock:
            self.bots[token] = BotAccount(token=token, id=bot_id, username=username, first_name=first_name)
        return self.bots[token].user()

    def add_chat(
        self,
        chat_id: int,
        type: str = "supergroup",
        title: str | None = None,
        username: str | None = None,
        member: bool = True,
    ) -> dict[str, Any]:
        """A chat the bot is in (member=False: it exists but the bot is not a member)."""
        if type not in CHAT_TYPES:
            raise ValueError(f"type must be one of {CHAT_TYPES}")
        with self.lock:
            if type == "private":  # a private chat *is* the user, who has talked to the bot
                self.add_user(chat_id, username=username, first_name=title or f"User {chat_id}")
                self.users[int(chat_id)].started = True
                return self.users[int(chat_id)].chat_dict()
            chat = Chat(id=int(chat_id), type=type, title=title, username=username)
            chat.bot_status = ("administrator" if type == "channel" else "member") if member else "left"
            self.chats[chat.id] = chat
            return chat.as_dict()

    def add_user(self, user_id: int, username: str | None = None, first_name: str | None = None) -> dict[str, Any]:
        with self.lock:
            user = self.users.get(int(user_id))
            if user is None:
                user = self.users[int(user_id)] = User(id=int(user_id), first_name=first_name or f"User {user_id}")
            user.username = username or user.username
            user.first_name = first_name or user.first_name
            return user.as_dict()

    # ===== Python helpers: conditions ========================================
    def kick(
        self, chat_id: int, by_user_id: int | None = None, notify: bool = True, token: str | None = None
    ) -> dict[str, Any] | None:
        """The bot is banned from the chat; queues my_chat_member member→kicked unless notify=False."""
        with self.lock:
            chat = self._known_chat(chat_id)
            old, chat.bot_status = chat.bot_status, "kicked"
            if notify and old in ("member", "administrator"):
                return self._member_update(self._bot(token), chat.as_dict(), old, "kicked", self._actor(by_user_id))
            return None

    bot_removed = kick

    def delete_chat(self, chat_id: int) -> None:
        with self.lock:
            self._known_chat(chat_id).deleted = True

    def block(self, user_id: int, notify: bool = True, token: str | None = None) -> dict[str, Any] | None:
        """The user blocked the bot (private chat my_chat_member member→kicked)."""
        return self._set_blocked(user_id, True, notify, token)

    def unblock(self, user_id: int, notify: bool = True, token: str | None = None) -> dict[str, Any] | None:
        return self._set_blocked(user_id, False, notify, token)

    def deactivate(self, user_id: int) -> None:
        with self.lock:
            self._known_user(user_id).deactivated = True

    def migrate(self, chat_id: int, new_id: int | None = None, token: str | None = None) -> int:
        """Upgrade basic group `chat_id` to a supergroup; returns the new -100… id."""
        with self.lock:
            old = self._known_chat(chat_id)
            if old.type != "group":
                raise ValueError("only basic groups (type 'group') migrate")
            new_id = int(new_id) if new_id is not None else int(f"-100{abs(old.id)}")
            new = Chat(id=new_id, type="supergroup", title=old.title, bot_status=old.bot_status)
            self.chats[new_id] = new
            old.migrated_to = new_id
            if old.bot_status in ("member", "administrator"):
                bot = self._bot(token)
                self._service_update(bot, old.as_dict(), {"migrate_to_chat_id": new_id})
                self._service_update(bot, new.as_dict(), {"migrate_from_chat_id": old.id})
            return new_id

    def force_429(self, times: int = 1, retry_after: int = 5) -> None:
        """The next `times` sendMessage calls get 429 with this retry_after, whatever the limits."""
        with self.lock:
            self._forced_429.extend([int(retry_after)] * int(times))

    # ===== Python helpers: updates ===========================================
    def bot_added(
        self,
        chat_id: int,
        title: str | None = None,
        type: str = "supergroup",
        username: str | None = None,
        by_user_id: int | None = None,
        as_admin: bool = False,
        token: str | None = None,
    ) -> dict[str, Any]:
        """Someone added the bot to a group: my_chat_member left/kicked → member/administrator."""
        with self.lock:
            chat = self.chats.get(int(chat_id))
            if chat is None:
                self.add_chat(chat_id, type=type, title=title, username=username, member=False)
                chat = self.chats[int(chat_id)]
            old = chat.bot_status if chat.bot_status in ("left", "kicked") else "left"
            chat.bot_status = "administrator" if as_admin or chat.type == "channel" else "member"
            chat.deleted, chat.title = False, title or chat.title
            return self._member_update(self._bot(token), chat.as_dict(), old, chat.bot_status, self._actor(by_user_id))

    def user_starts_bot(self, user_id: int, payload: str | None = None, token: str | None = None) -> dict:
        """The user opened t.me/<bot>?start=<payload> and pressed Start: reachable from now on."""
        with self.lock:
            self.add_user(user_id)
            user = self.users[int(user_id)]
            user.started, user.blocked = True, False
            text = "/start" + (f" {payload}" if payload else "")
            return self._message_update(self._bot(token), user.chat_dict(), user, text)

    def user_sends(self, user_id: int, text: str, chat_id: int | None = None, token: str | None = None) -> dict:
        """A user writes to the bot privately (making it reachable) or in group `chat_id`."""
        with self.lock:
            self.add_user(user_id)
            user = self.users[int(user_id)]
            if chat_id is None:
                user.started = True
                chat = user.chat_dict()
            else:
                chat = self._known_chat(chat_id).as_dict()
            return self._message_update(self._bot(token), chat, user, text)

    def pending_updates(self, token: str | None = None) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(u) for u in self._bot(token).updates]

    # ===== HTTP: the Bot API =================================================
    @route("GET", r"/bot(?P<token>[^/]+)/(?P<method>[A-Za-z]*)")
    def api_get(self, req: FakeRequest) -> Reply:
        return self._api(req)

    @route("POST", r"/bot(?P<token>[^/]+)/(?P<method>[A-Za-z]*)")
    def api_post(self, req: FakeRequest) -> Reply:
        return self._api(req)

    def not_found(self, req: FakeRequest) -> Reply:
        return TelegramError(404, "Not Found").reply()

    def _api(self, req: FakeRequest) -> Reply:
        try:
            with self.lock:
                bot = self.bots.get(req.params["token"])
            if bot is None:
                raise TelegramError(401, "Unauthorized")
            method = self._methods().get(req.params["method"].lower())
            if method is None:
                raise TelegramError(404, "Not Found")
            return json_reply(method(bot, _params(req)))
        except TelegramError as exc:
            return exc.reply()

    def _methods(self) -> dict[str, Callable[[BotAccount, dict[str, Any]], dict[str, Any]]]:
        return {
            "getme": self._get_me,
            "sendmessage": self._send_message,
            "getupdates": self._get_updates,
            "setwebhook": self._set_webhook,
            "deletewebhook": self._delete_webhook,
            "getwebhookinfo": self._get_webhook_info,
            "getchat": self._get_chat,
        }

    def _get_me(self, bot: BotAccount, p: dict[str, Any]) -> dict[str, Any]:
        extra = {
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }
        return _ok({**bot.user(), **extra})

    def _send_message(self, bot: BotAccount, p: dict[str, Any]) -> dict[str, Any]:
        self._take_forced_429()
        if _text(p.get("chat_id")).strip() == "":
            raise bad_request("chat_id is empty")
        text = _text(p.get("text"))
        if not text.strip():
            raise bad_request("message text is empty")
        parse_mode = _text(p.get("parse_mode")) or None
        plain = plain_text(text, parse_mode)
        with self.lock:
            target = self._target(p["chat_id"], sending=True)
            if not plain.strip():
                raise bad_request("message text is empty")
            if len(plain) > MAX_TEXT:
                raise bad_request("message is too long")
            self._check_limits(bot, target)
            return _ok(self._deliver(bot, target, text, plain, parse_mode))

    def _get_chat(self, bot: BotAccount, p: dict[str, Any]) -> dict[str, Any]:
        if _text(p.get("chat_id")).strip() == "":
            raise bad_request("chat_id is empty")
        with self.lock:
            target = self._target(p["chat_id"], sending=False)
            info = self._chat_dict(target)
        return _ok({**info, "accent_color_id": 0, "max_reaction_count": 11})

    # ----- getUpdates / webhooks -------------------------------------------
    def _get_updates(self, bot: BotAccount, p: dict[str, Any]) -> dict[str, Any]:
        offset = _int(p.get("offset"), 0)
        limit = min(max(_int(p.get("limit"), 100), 1), 100)
        timeout = max(_int(p.get("timeout"), 0), 0)
        with self._cond:
            self._refuse_if_webhook(bot)
            if "allowed_updates" in p:
                bot.allowed_updates = _list(p["allowed_updates"])
            self._confirm(bot, offset)
            bot.poll_generation += 1
            generation = bot.poll_generation
            self._cond.notify_all()  # an older long poll of this bot ends now with 409
            deadline = time.monotonic() + min(timeout, self.long_poll_cap)
            while not self._deliverable(bot) and not self._stop_event.is_set():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)
                if bot.poll_generation != generation:  # a newer getUpdates took over
                    raise TelegramError(
                        409,
                        "Conflict: terminated by other getUpdates request; "
                        "make sure that only one bot instance is running",
                    )
                self._refuse_if_webhook(bot)
            return _ok([dict(u) for u in bot.updates[:limit]])

    def _refuse_if_webhook(self, bot: BotAccount) -> None:
        if bot.webhook_url:
            raise TelegramError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )

    def _confirm(self, bot: BotAccount, offset: int) -> None:
        """offset > 0 confirms every update below it; offset < 0 keeps only the last -offset."""
        if offset > 0:
            bot.updates[:] = [u for u in bot.updates if u["update_id"] >= offset]
        elif offset < 0:
            del bot.updates[:offset]

    def _deliverable(self, bot: BotAccount) -> bool:
        """Drop updates the bot did not ask for (as Telegram does), then say if any remain."""
        wanted = bot.allowed_updates
        bot.updates[:] = [u for u in bot.updates if _wanted(_kind(u), wanted)]
        return bool(bot.updates)

    def _set_webhook(self, bot: BotAccount, p: dict[str, Any]) -> dict[str, Any]:
        url = _text(p.get("url")).strip()
        if not url:
            return self._delete_webhook(bot, p)
        if not re.match(r"https?://[^/\s]+", url):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = _text(p.get("secret_token"))
        if secret and not _SECRET.fullmatch(secret):
            raise bad_request("secret token contains unallowed characters")
        with self._cond:
            if _flag(p.get("drop_pending_updates")):
                bot.updates.clear()
            if "allowed_updates" in p:
                bot.allowed_updates = _list(p["allowed_updates"])
            already = (bot.webhook_url, bot.webhook_secret) == (url, secret)
            if bot.webhook_url != url:
                bot.webhook_error_date = bot.webhook_error_message = None
            bot.webhook_url, bot.webhook_secret = url, secret
            self._ensure_webhook_worker(bot)
            self._cond.notify_all()  # a long poll in progress must now fail with 409
        return _ok(True, "Webhook is already set" if already else "Webhook was set")

    def _delete_webhook(self, bot: BotAccount, p: dict[str, Any]) -> dict[str, Any]:
        with self._cond:
            if _flag(p.get("drop_pending_updates")):
                bot.updates.clear()
            had = bool(bot.webhook_url)
            bot.webhook_url = bot.webhook_secret = ""
            bot.webhook_error_date = bot.webhook_error_message = None
            self._cond.notify_all()
        return _ok(True, "Webhook was deleted" if had else "Webhook is already deleted")

    def _get_webhook_info(self, bot: BotAccount, p: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            info: dict[str, Any] = {
                "url": bot.webhook_url,
                "has_custom_certificate": False,
                "pending_update_count": len(bot.updates),
            }
            if bot.webhook_url:
                info.update(max_connections=40, ip_address="127.0.0.1")
            if bot.webhook_error_date:
                info.update(last_error_date=bot.webhook_error_date, last_error_message=bot.webhook_error_message)
            if bot.allowed_updates:
                info["allowed_updates"] = list(bot.allowed_updates)
        return _ok(info)

    def _ensure_webhook_worker(self, bot: BotAccount) -> None:
        # Called with the lock held; the worker clears webhook_thread under the same lock
        # when it exits, so a webhook set at that moment always gets a fresh worker.
        if bot.webhook_thread is None:
            bot.webhook_thread = threading.Thread(
                target=self._webhook_loop, args=(bot,), name=f"{self.name}-webhook-{bot.id}", daemon=True
            )
            bot.webhook_thread.start()

    def _webhook_loop(self, bot: BotAccount) -> None:
        """POST pending updates one by one, in order; on failure keep the update and retry later."""
        while True:
            job = self._next_webhook_job(bot)
            if job is None:
                return
            url, secret, update = job
            error = post_update(url, update, secret, self.webhook_timeout)
            self._webhook_done(bot, url, update, error)
            if error:
                self._stop_event.wait(self.webhook_retry_delay)

    def _next_webhook_job(self, bot: BotAccount) -> tuple[str, str, dict[str, Any]] | None:
        with self._cond:
            while True:
                if self._stop_event.is_set() or not bot.webhook_url:
                    bot.webhook_thread = None
                    return None
                if self._deliverable(bot):
                    return bot.webhook_url, bot.webhook_secret, bot.updates[0]
                self._cond.wait(0.5)

    def _webhook_done(self, bot: BotAccount, url: str, update: dict[str, Any], error: str | None) -> None:
        with self._cond:
            self.webhook_deliveries.append(
                {
                    "bot_id": bot.id,
                    "url": url,
                    "update_id": update["update_id"],
                    "error": error,
                    "at": time.time(),
                }
            )
            if error is None:
                if bot.updates and bot.updates[0] is update:
                    bot.updates.pop(0)
            else:
                bot.webhook_error_date, bot.webhook_error_message = int(time.time()), error

    # ===== internals ==========================================================
    def _bot(self, token: str | None) -> BotAccount:
        token = token or self.default_token or next(iter(self.bots))
        return self.bots[token]

    def _known_chat(self, chat_id: int) -> Chat:
        chat = self.chats.get(int(chat_id))
        if chat is None:
            raise KeyError(f"unknown chat {chat_id}; add_chat() it first")
        return chat

    def _known_user(self, user_id: int) -> User:
        user = self.users.get(int(user_id))
        if user is None:
            raise KeyError(f"unknown user {user_id}; add_user() it first")
        return user

    def _actor(self, user_id: int | None) -> dict[str, Any]:
        return self._known_user(user_id).as_dict() if user_id is not None else dict(DEFAULT_ACTOR)

    def _chat_id_of(self, ref: Any) -> int:
        """chat_id as sent (int, digits, "@name") → numeric id; "@name" finds supergroups/channels only."""
        text = _text(ref).strip()
        if text.startswith("@"):
            for chat in self.chats.values():
                if chat.type in ("supergroup", "channel") and (chat.username or "").lower() == text[1:].lower():
                    return chat.id
            raise bad_request("chat not found")
        try:
            return int(text)
        except ValueError:
            raise bad_request("chat not found") from None

    def _target(self, ref: Any, sending: bool) -> Target:
        chat_id = self._chat_id_of(ref)
        user = self.users.get(chat_id)
        if user is not None:
            self._check_user(user, sending)
            return user
        chat = self.chats.get(chat_id)
        if chat is None:
            raise bad_request("chat not found")
        self._check_chat(chat)
        return chat

    def _check_user(self, user: User, sending: bool) -> None:
        if user.deactivated:
            raise forbidden("user is deactivated")
        if not user.started and not sending:
            raise bad_request("chat not found")  # the bot has never seen this private chat
        if sending and user.blocked:
            raise forbidden("bot was blocked by the user")
        if sending and not user.started:
            raise forbidden("bot can't initiate conversation with a user")

    def _check_chat(self, chat: Chat) -> None:
        if chat.deleted:
            raise forbidden("the group chat was deleted")
        if chat.migrated_to is not None:
            raise bad_request("group chat was upgraded to a supergroup chat", {"migrate_to_chat_id": chat.migrated_to})
        if chat.bot_status == "kicked":
            raise forbidden(f"bot was kicked from the {chat.type} chat")
        if chat.bot_status == "left":
            raise forbidden(f"bot is not a member of the {chat.type} chat")

    def _chat_dict(self, target: Target) -> dict[str, Any]:
        return target.chat_dict() if isinstance(target, User) else target.as_dict()

    def _take_forced_429(self) -> None:
        with self.lock:
            retry_after = self._forced_429.pop(0) if self._forced_429 else None
        if retry_after is not None:
            raise _too_many(retry_after)

    def _check_limits(self, bot: BotAccount, target: Target) -> None:
        """Bot FAQ flood limits; counts only messages that were accepted."""
        if not self.strict_limits:
            return
        now = time.monotonic()
        checks = [
            (f"chat:{bot.id}:{target.id}", self.chat_limit, self.chat_window),
            (f"bot:{bot.id}", self.bot_limit, self.bot_window),
        ]
        if isinstance(target, Chat):
            checks.append((f"group:{bot.id}:{target.id}", self.group_limit, self.group_window))
        wait = max(self._windows.wait_time(key, limit, window, now) for key, limit, window in checks)
        if wait > 0:
            raise _too_many(max(1, math.ceil(wait)))
        for key, _, _ in checks:
            self._windows.hit(key, now)

    def _next_message_id(self, chat_id: int) -> int:
        self._message_ids[chat_id] = self._message_ids.get(chat_id, 0) + 1
        return self._message_ids[chat_id]

    def _deliver(self, bot: BotAccount, target: Target, text: str, plain: str, parse_mode: str | None) -> dict:
        message_id, now = self._next_message_id(target.id), time.time()
        self.record_sent(
            {
                "chat_id": target.id,
                "text": text,
                "message_id": message_id,
                "at": now,
                "parse_mode": parse_mode,
                "bot_id": bot.id,
            }
        )
        chat = self._chat_dict(target)
        return {"message_id": message_id, "from": bot.user(), "chat": chat, "date": int(now), "text": plain}

    def _queue(self, bot: BotAccount, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        with self._cond:
            update = {"update_id": bot.next_update_id, kind: payload}
            bot.next_update_id += 1
            bot.updates.append(update)
            self._cond.notify_all()
        return update

    def _member_update(self, bot: BotAccount, chat: dict, old: str, new: str, actor: dict) -> dict[str, Any]:
        payload = {
            "chat": chat,
            "from": actor,
            "date": int(time.time()),
            "old_chat_member": self._member(bot, old),
            "new_chat_member": self._member(bot, new),
        }
        return self._queue(bot, "my_chat_member", payload)

    def _member(self, bot: BotAccount, status: str) -> dict[str, Any]:
        member: dict[str, Any] = {"user": bot.user(), "status": status}
        if status == "kicked":
            member["until_date"] = 0
        if status == "administrator":
            member.update(ADMIN_RIGHTS)
        return member

    def _message_update(self, bot: BotAccount, chat: dict, user: User, text: str) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": self._next_message_id(chat["id"]),
            "from": user.as_dict(),
            "chat": chat,
            "date": int(time.time()),
            "text": text,
        }
        if text.startswith("/"):
            message["entities"] = [{"offset": 0, "length": len(text.split()[0]), "type": "bot_command"}]
        return self._queue(bot, "message", message)

    def _service_update(self, bot: BotAccount, chat: dict, fields: dict[str, Any]) -> dict[str, Any]:
        message = {"message_id": self._next_message_id(chat["id"]), "from": dict(DEFAULT_ACTOR), "chat": chat}
        return self._queue(bot, "message", {**message, "date": int(time.time()), **fields})

    def _set_blocked(self, user_id: int, blocked: bool, notify: bool, token: str | None) -> dict[str, Any] | None:
        with self.lock:
            user = self._known_user(user_id)
            changed = user.blocked != blocked
            user.blocked = blocked
            if not (notify and changed):
                return None
            old, new = ("member", "kicked") if blocked else ("kicked", "member")
            return self._member_update(self._bot(token), user.chat_dict(), old, new, user.as_dict())

    # ===== MessagingFake hooks ================================================
    def chat_key(self, chat: Any) -> Any:
        with self.lock:
            try:
                return self._chat_id_of(chat)
            except TelegramError:
                return chat

    def chat_label(self, chat_id: Any) -> str:
        with self.lock:
            chat, user = self.chats.get(chat_id), self.users.get(chat_id)
        if chat is not None:
            return f"{chat.title or chat.id} ({chat.type} {chat.id})"
        if user is not None:
            return (
                f"{user.first_name} (@{user.username}, {user.id})"
                if user.username
                else f"{user.first_name} ({user.id})"
            )
        return str(chat_id)

    def auth_hint(self) -> str:
        with self.lock:
            return "bot tokens: " + ", ".join(self.bots) + f"  (e.g. {self.url}/bot{next(iter(self.bots))}/getMe)"

    def seed_demo(self) -> None:
        self.add_bot("123456:DEMO", id=123456, username="panelrelay_demo_bot", first_name="PanelRelay Demo")
        self.default_token = "123456:DEMO"
        self.add_chat(-1001000000001, "supergroup", "Provider A · refills", username="provider_a_refills")
        self.add_chat(-1001000000002, "supergroup", "Provider B · support")
        self.add_chat(-4000000003, "group", "Provider C (basic group)")
        self.add_user(500000001, username="provider_alice", first_name="Alice")
        self.users[500000001].started = True
        self.add_user(500000002, username="provider_bob", first_name="Bob")  # never pressed Start

    def snapshot(self) -> dict[str, Any]:
        data = super().snapshot()
        with self.lock:
            data["bots"] = [
                {
                    "id": b.id,
                    "username": b.username,
                    "webhook_url": b.webhook_url,
                    "pending_updates": len(b.updates),
                }
                for b in self.bots.values()
            ]
            data["chats"] = [
                {
                    **c.as_dict(),
                    "bot_status": c.bot_status,
                    "deleted": c.deleted,
                    "migrated_to": c.migrated_to,
                }
                for c in self.chats.values()
            ]
            data["users"] = [{**u.as_dict(), "started": u.started, "blocked": u.blocked} for u in self.users.values()]
            data["forced_429"] = len(self._forced_429)
            data["webhook_deliveries"] = len(self.webhook_deliveries)
        return data

    def reset(self) -> None:
        super().reset()
        with self._cond:
            self._windows.clear()
            self._forced_429.clear()
            self._message_ids.clear()
            self.webhook_deliveries.clear()
            for bot in self.bots.values():
                bot.updates.clear()
                bot.allowed_updates = None
                bot.webhook_url = bot.webhook_secret = ""
                bot.webhook_error_date = bot.webhook_error_message = None
            self._cond.notify_all()

    def stop(self) -> None:
        self._stop_event.set()
        with self._cond:
            self._cond.notify_all()  # release long polls and webhook workers
        super().stop()

    # ===== control endpoints (steering from another process) =================
    @control("telegram/bot-added")
    def _c_bot_added(self, args: dict[str, Any]) -> dict:
        return self.bot_added(**args)

    @control("telegram/bot-removed")
    def _c_bot_removed(self, args: dict[str, Any]) -> dict | None:
        return self.kick(**args)

    @control("telegram/user-start")
    def _c_user_start(self, args: dict[str, Any]) -> dict:
        self.add_user(args["user_id"], args.pop("username", None), args.pop("first_name", None))
        return self.user_starts_bot(**args)

    @control("telegram/user-message")
    def _c_user_message(self, args: dict[str, Any]) -> dict:
        return self.user_sends(**args)

    @control("telegram/chat")
    def _c_chat(self, args: dict[str, Any]) -> dict:
        return self.add_chat(**args)

    @control("telegram/user")
    def _c_user(self, args: dict[str, Any]) -> dict:
        return self.add_user(**args)

    @control("kick")
    def _c_kick(self, args: dict[str, Any]) -> dict | None:
        return self.kick(**args)

    @control("block")
    def _c_block(self, args: dict[str, Any]) -> dict | None:
        return self.block(**args)

    @control("unblock")
    def _c_unblock(self, args: dict[str, Any]) -> dict | None:
        return self.unblock(**args)

    @control("delete-chat")
    def _c_delete_chat(self, args: dict[str, Any]) -> None:
        self.delete_chat(**args)

    @control("deactivate")
    def _c_deactivate(self, args: dict[str, Any]) -> None:
        self.deactivate(**args)

    @control("migrate")
    def _c_migrate(self, args: dict[str, Any]) -> dict:
        return {"migrate_to_chat_id": self.migrate(**args)}

    @control("force-429")
    def _c_force_429(self, args: dict[str, Any]) -> None:
        self.force_429(**args)

    @control("telegram/updates", method="GET")
    def _c_updates(self, args: dict[str, Any]) -> list[dict]:
        return self.pending_updates(args.get("token"))


# ----- module helpers --------------------------------------------------------
def _too_many(retry_after: int) -> TelegramError:
    return TelegramError(429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after})


def _params(req: FakeRequest) -> dict[str, Any]:
    """Query string plus body (JSON, urlencoded or multipart), body winning, nulls dropped."""
    params: dict[str, Any] = dict(req.query)
    if not req.body:
        return params
    ctype = req.headers.get("content-type", "")
    if "json" in ctype:
        try:
            body = json.loads(req.body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            raise bad_request("can't parse JSON object") from None
        if isinstance(body, dict):
            params.update({k: v for k, v in body.items() if v is not None})
    elif "multipart/form-data" in ctype:
        params.update(_multipart(ctype, req.body))
    else:
        params.update(req.form())
    return params


def _multipart(ctype: str, body: bytes) -> dict[str, str]:
    head = f"Content-Type: {ctype}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    fields: dict[str, str] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if name:
            fields[str(name)] = part.get_content() if part.get_content_maintype() == "text" else ""
    return fields


def _text(value: Any) -> str:
    """A parameter as the Bot API sees it: a string (JSON bodies may carry ints, bools, lists)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return str(value)


def _int(value: Any, default: int) -> int:
    try:
        return int(_text(value).strip() or default)
    except ValueError:
        return default


def _flag(value: Any) -> bool:
    return _text(value).strip().lower() in ("1", "true", "yes", "on")


def _list(value: Any) -> list[str] | None:
    if isinstance(value, list):
        return [str(v) for v in value]
    text = _text(value).strip()
    if not text:
        return None
    try:
        parsed = json.loads(text)
    except ValueError:
        raise bad_request("can't parse allowed updates list") from None
    return [str(v) for v in parsed] if isinstance(parsed, list) else None


def _kind(update: dict[str, Any]) -> str:
    return next(k for k in update if k != "update_id")


def _wanted(kind: str, allowed: list[str] | None) -> bool:
    return kind in allowed if allowed else kind not in NOT_BY_DEFAULT


def post_update(url: str, update: dict[str, Any], secret: str, timeout: float) -> str | None:
    """POST one update to a webhook; None on 2xx, else the error getWebhookInfo reports."""
    headers = {"Content-Type": "application/json"}
    if secret:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    request = urllib.request.Request(url, data=json.dumps(update).encode(), headers=headers, method="POST")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via a proxy
    try:
        with opener.open(request, timeout=timeout) as response:
            response.read()
        return None
    except urllib.error.HTTPError as exc:
        return f"Wrong response from the webhook: {exc.code} {exc.reason}"
    except (urllib.error.URLError, OSError) as exc:
        return f"Connection failed: {getattr(exc, 'reason', exc)}"


if __name__ == "__main__":
    serve_main(FakeTelegram)
