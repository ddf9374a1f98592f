"""The Bot API over HTTP: `/bot{token}/{method}`, getMe, sendMessage, getChat, flood limits."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import Any

from fakes.base import FakeRequest, Reply, json_reply, route
from fakes.messaging import SlidingWindow
from fakes.telegram.errors import TelegramError, bad_request, forbidden, ok, too_many
from fakes.telegram.markup import plain_text
from fakes.telegram.params import as_text, request_params
from fakes.telegram.world import BotAccount, Chat, Target, User

MAX_TEXT = 4096


class BotApi:
    """FakeTelegram's Bot API routes and the checks a message passes before it is kept."""

    # State set by FakeTelegram.__init__ (lock by FakeServer's), named here so this part reads alone.
    lock: threading.RLock
    bots: dict[str, BotAccount]
    chats: dict[int, Chat]
    users: dict[int, User]
    strict_limits: bool
    chat_limit: float
    chat_window: float
    group_limit: float
    group_window: float
    bot_limit: float
    bot_window: float
    _windows: SlidingWindow
    _forced_429: list[int]
    _message_ids: dict[int, int]

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
            return json_reply(method(bot, request_params(req)))
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
        return ok({**bot.user(), **extra})

    def _send_message(self, bot: BotAccount, p: dict[str, Any]) -> dict[str, Any]:
        self._take_forced_429()
        if as_text(p.get("chat_id")).strip() == "":
            raise bad_request("chat_id is empty")
        text = as_text(p.get("text"))
        if not text.strip():
            raise bad_request("message text is empty")
        parse_mode = as_text(p.get("parse_mode")) or None
        plain = plain_text(text, parse_mode)
        with self.lock:
            target = self._target(p["chat_id"], sending=True)
            if not plain.strip():
                raise bad_request("message text is empty")
            if len(plain) > MAX_TEXT:
                raise bad_request("message is too long")
            self._check_limits(bot, target)
            return ok(self._deliver(bot, target, text, plain, parse_mode))

    def _get_chat(self, bot: BotAccount, p: dict[str, Any]) -> dict[str, Any]:
        if as_text(p.get("chat_id")).strip() == "":
            raise bad_request("chat_id is empty")
        with self.lock:
            target = self._target(p["chat_id"], sending=False)
            info = self._chat_dict(target)
        return ok({**info, "accent_color_id": 0, "max_reaction_count": 11})

    def _chat_id_of(self, ref: Any) -> int:
        """chat_id as sent (int, digits, "@name") → numeric id; "@name" finds supergroups/channels only."""
        text = as_text(ref).strip()
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
            raise too_many(retry_after)

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
            raise too_many(max(1, math.ceil(wait)))
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
