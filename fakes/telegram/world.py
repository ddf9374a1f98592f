"""The world the fake simulates: bots, chats, users, and the defaults they start with."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

CHAT_TYPES = ("private", "group", "supergroup", "channel")
GROUP_TYPES = ("group", "supergroup", "channel")
DEFAULT_TOKENS = {"123:ABC": {"id": 123, "username": "relay_bot", "first_name": "Relay"}}
# The demo bot's token has the shape of a real one (digits, a colon, 35 characters), so the
# Connections form, which checks that shape, accepts it when an owner types it in.
DEMO_TOKEN = "123456:AAH-demo-token-of-the-fake-Bot-API0"
# Who "did it" when a helper is not told which user added or removed the bot.
DEFAULT_ACTOR = {"id": 100200300, "is_bot": False, "first_name": "Provider", "username": "provider_admin"}
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
