"""Steering from Python: the directory of bots, chats and users, their conditions, and the
updates a person's action produces (bot added, user pressed Start, user wrote)."""

from __future__ import annotations

import threading
import time
from typing import Any

from fakes.telegram.world import CHAT_TYPES, DEFAULT_ACTOR, BotAccount, Chat, User


class Steering:
    """FakeTelegram's Python helpers; the HTTP control endpoints call these too."""

    # State set by FakeTelegram.__init__ (lock by FakeServer's), named here so this part reads alone.
    lock: threading.RLock
    bots: dict[str, BotAccount]
    chats: dict[int, Chat]
    users: dict[int, User]
    default_token: str | None
    _forced_429: list[int]
    _queue: Any  # Updates._queue

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

    def user_sends(
        self, user_id: int, text: str, chat_id: int | None = None, token: str | None = None, reply_to: int | None = None
    ) -> dict:
        """A user writes to the bot privately (making it reachable) or in group `chat_id`,
        replying to the bot's message `reply_to` if given."""
        with self.lock:
            self.add_user(user_id)
            user = self.users[int(user_id)]
            if chat_id is None:
                user.started = True
                chat = user.chat_dict()
            else:
                chat = self._known_chat(chat_id).as_dict()
            return self._message_update(self._bot(token), chat, user, text, reply_to)

    def user_reacts(
        self, user_id: int, chat_id: int, message_id: int, emoji: str = "👍", token: str | None = None
    ) -> dict[str, Any]:
        """The user puts `emoji` on message `message_id` of `chat_id`: a message_reaction update, which
        Telegram sends only to a bot that is an administrator there and asked for it by name in
        allowed_updates (Bot API: Update.message_reaction); the fake checks only the second."""
        with self.lock:
            self.add_user(user_id)
            user = self.users[int(user_id)]
            chat = user.chat_dict() if int(chat_id) == user.id else self._known_chat(chat_id).as_dict()
            event = {"chat": chat, "message_id": int(message_id), "user": user.as_dict(), "date": int(time.time()),
                     "old_reaction": [], "new_reaction": [{"type": "emoji", "emoji": emoji}]}  # fmt: skip
            return self._queue(self._bot(token), "message_reaction", event)

    def pending_updates(self, token: str | None = None) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(u) for u in self._bot(token).updates]

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

    def _set_blocked(self, user_id: int, blocked: bool, notify: bool, token: str | None) -> dict[str, Any] | None:
        with self.lock:
            user = self._known_user(user_id)
            changed = user.blocked != blocked
            user.blocked = blocked
            if not (notify and changed):
                return None
            old, new = ("member", "kicked") if blocked else ("kicked", "member")
            return self._member_update(self._bot(token), user.chat_dict(), old, new, user.as_dict())
