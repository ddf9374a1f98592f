"""Loopback fake of the Telegram Bot API (contract: the Telegram Bot API docs and Bot FAQ).

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

Choices where the Bot API docs are silent (documented so tests can rely on them):
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

The parts, by API area: botapi.py (the /bot routes, getMe, sendMessage, getChat, flood limits),
updates.py (getUpdates, webhooks, the update queue), steering.py (the Python helpers above),
markup.py (parse_mode=HTML), params.py (reading parameters), errors.py (the error envelope),
world.py (bots, chats, users). FakeTelegram below joins them with the MessagingFake hooks and
the control endpoints; `python -m fakes.telegram` runs __main__.py.
"""

from __future__ import annotations

import threading
from typing import Any

from fakes.messaging import MessagingFake, SlidingWindow, control
from fakes.telegram.botapi import MAX_TEXT, BotApi
from fakes.telegram.errors import TelegramError, bad_request, forbidden
from fakes.telegram.markup import parse_html, plain_text
from fakes.telegram.steering import Steering
from fakes.telegram.updates import Updates, post_update
from fakes.telegram.world import DEFAULT_TOKENS, DEMO_TOKEN, BotAccount, Chat, User

__all__ = [
    "DEMO_TOKEN",
    "MAX_TEXT",
    "BotAccount",
    "Chat",
    "FakeTelegram",
    "TelegramError",
    "User",
    "bad_request",
    "forbidden",
    "parse_html",
    "plain_text",
    "post_update",
]


class FakeTelegram(Steering, BotApi, Updates, MessagingFake):
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

    # ----- provider behaviours (fakes/behaviours.py): a provider answers as a Telegram user ----
    provider_user = 700000001

    def _provider(self, sender: str) -> int:
        user_id = int(sender) if sender else self.provider_user
        self.add_user(user_id, first_name="Provider")
        return user_id

    def _group_of(self, chat: Any) -> int | None:
        """None for a private chat (the user is the chat), else the group's id."""
        return None if int(chat) in self.users and int(chat) not in self.chats else int(chat)

    def answer_reply(self, chat: Any, text: str, ours: dict[str, Any], sender: str) -> dict[str, Any]:
        user = int(chat) if self._group_of(chat) is None else self._provider(sender)
        token = self._token_of(ours)
        return self.user_sends(user, text, chat_id=self._group_of(chat), token=token, reply_to=int(ours["message_id"]))

    def answer_quote(self, chat: Any, text: str, ours: dict[str, Any], sender: str) -> dict[str, Any]:
        # Reaches a bot in privacy mode only as an admin (Bot API, privacy mode); the fake delivers it.
        user = int(chat) if self._group_of(chat) is None else self._provider(sender)
        return self.user_sends(user, text, chat_id=self._group_of(chat), token=self._token_of(ours))

    def answer_react(self, chat: Any, emoji: str, ours: dict[str, Any], sender: str) -> dict[str, Any]:
        user = int(chat) if self._group_of(chat) is None else self._provider(sender)
        return self.user_reacts(user, int(chat), int(ours["message_id"]), emoji, token=self._token_of(ours))

    def _token_of(self, ours: dict[str, Any]) -> str | None:
        """The bot that sent our message: its updates carry the answer."""
        with self.lock:
            return next((t for t, b in self.bots.items() if b.id == ours.get("bot_id")), None)

    def auth_hint(self) -> str:
        with self.lock:
            return "bot tokens: " + ", ".join(self.bots) + f"  (e.g. {self.url}/bot{next(iter(self.bots))}/getMe)"

    def seed_demo(self) -> None:
        """The demo's one bot (DEMO_TOKEN, a token of the real shape), in three provider groups.

        The groups are joined with bot_added, as on Telegram: each join queues the my_chat_member
        update through which the Bot API tells a bot about a chat (it has no "list my chats"
        method), so the product's chat picker finds them on its first getUpdates.
        """
        with self.lock:
            self.bots.clear()  # only the demo bot: the fake's banner prints tokens an owner can paste
        self.add_bot(DEMO_TOKEN, id=123456, username="panelrelay_demo_bot", first_name="PanelRelay Demo")
        self.default_token = DEMO_TOKEN
        self.bot_added(-1001000000001, "FastLikes_A · refills", type="supergroup", username="provider_a_refills")
        self.bot_added(-1001000000002, "Rush_B · support", type="supergroup")
        self.bot_added(-4000000003, "Storm_D · orders", type="group")  # a basic group
        self.add_user(500000001, username="provider_alice", first_name="Alice")
        self.users[500000001].started = True
        self.add_user(500000002, username="provider_bob", first_name="Bob")  # never pressed Start
        self.add_user(500000003, username="demo_owner", first_name="Demo owner")  # the owner's own chat
        self.users[500000003].started = True

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
