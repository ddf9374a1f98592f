"""Reading a bot's updates (getUpdates) to learn where it may send, so nobody types raw ids.

- my_chat_member in a group: the bot was added (→ a pickable group) or removed (→ its
  destinations are broken, the owner is alerted, before any message fails);
- a group upgraded to a supergroup (migrate_to_chat_id): destinations follow the new id;
- every message (private or group) goes through the front door (transports.incoming) as an
  Incoming: "/start <token>" of a start link is `start_link_receiver`'s (the person becomes a
  pickable Telegram user), staff commands are the team bot's (the intake app subscribes);
- a user blocking the bot breaks their destinations.
Handling is idempotent: an update read twice (two pollers, a webhook retry) changes nothing more.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from panelrelay.transports.base import Chat
from panelrelay.transports.bookkeeping import close_incidents, mark_broken, remember_chat
from panelrelay.transports.incoming import Incoming, receive
from panelrelay.transports.integrations.common import nested
from panelrelay.transports.integrations.telegram.transport import TelegramTransport
from panelrelay.transports.models import Connection, Destination, DiscoveredChat, StartLink
from panelrelay.worker.queue import enqueue

log = logging.getLogger("panelrelay.transports")
PRESENT = ("member", "administrator", "creator")
START_LINK_VALID = timedelta(days=7)
GREETING = "✓ Connected. Requests will arrive in this chat."


def poll(connection: Connection, timeout: int = 0) -> int:
    """Fetch and handle the pending updates; returns how many there were."""
    updates = TelegramTransport(connection).get_updates(connection.updates_offset, timeout)
    for update in updates:
        try:
            handle(connection, update)
        except Exception:  # one odd update must not block the ones after it forever
            log.exception("telegram update %s of connection %s not handled", update.get("update_id"), connection.pk)
    if updates:
        offset = max(u["update_id"] for u in updates) + 1
        Connection.objects.filter(pk=connection.pk, updates_offset__lt=offset).update(updates_offset=offset)
        connection.updates_offset = max(connection.updates_offset, offset)
    return len(updates)


def handle(connection: Connection, update: dict[str, Any]) -> None:
    if isinstance(update.get("my_chat_member"), dict):
        _membership(connection, update["my_chat_member"])
    elif isinstance(update.get("message"), dict):
        _message(connection, update["message"])
    elif isinstance(update.get("message_reaction"), dict):
        found = reaction_of(connection, update["message_reaction"])
        if found is not None:
            receive(found)


def _membership(connection: Connection, event: dict[str, Any]) -> None:
    chat = event.get("chat") or {}
    member = event.get("new_chat_member") or {}
    status = member.get("status")
    present = status in PRESENT or (status == "restricted" and member.get("is_member") is True)
    chat_id = str(chat.get("id", ""))
    if not chat_id:
        return
    if chat.get("type") == "private":  # for private chats: the user blocked or unblocked the bot
        DiscoveredChat.objects.filter(connection=connection, chat_id=chat_id).update(active=present)
        reason = "the user blocked the bot"
    else:
        remember_chat(
            connection, Chat("tg_group", chat_id, chat.get("title") or "", chat.get("username") or ""), present
        )
        reason = f"bot was {'kicked from' if status == 'kicked' else 'removed from'} the group chat"
    targets = [chat_id] + ([f"@{chat['username']}"] if chat.get("username") else [])
    _follow_presence(connection, targets, present, reason)


def _follow_presence(connection: Connection, targets: list[str], present: bool, reason: str) -> None:
    destinations = Destination.objects.filter(connection=connection, target__in=targets).select_related("connection")
    for destination in destinations:
        if not present and not destination.broken:
            mark_broken(destination, reason)
        elif present and destination.broken:  # the bot is back: sending will work again
            Destination.objects.filter(pk=destination.pk).update(broken=False, broken_reason="")
            close_incidents(connection.workspace_id, [f"destination:{destination.code}"])


def _message(connection: Connection, message: dict[str, Any]) -> None:
    chat = message.get("chat") or {}
    if message.get("migrate_to_chat_id"):
        _migrate(connection, str(chat.get("id", "")), str(message["migrate_to_chat_id"]), chat)
        return
    _seen_in_group(connection, chat)
    found = incoming_of(connection, message)
    if found is not None:
        receive(found)


def _seen_in_group(connection: Connection, chat: dict[str, Any]) -> None:
    """A message from a group the picker does not offer yet: the bot is in it, so it becomes pickable.

    The Bot API has no "list my chats" method, and the my_chat_member update of a bot added long
    ago is gone (updates are kept 24 hours). A command sent in the group ("/start@our_bot"), which
    reaches the bot even in privacy mode, is then how the owner makes the group known.
    """
    chat_id = str(chat.get("id") or "")
    if chat.get("type") not in ("group", "supergroup") or not chat_id:
        return
    if not DiscoveredChat.objects.filter(connection=connection, chat_id=chat_id, active=True).exists():
        remember_chat(connection, Chat("tg_group", chat_id, chat.get("title") or "", chat.get("username") or ""))


def incoming_of(connection: Connection, message: dict[str, Any]) -> Incoming | None:
    """A Bot API Message as the front door's Incoming. Its id is chat:message_id (unique per chat)."""
    chat = message.get("chat") or {}
    chat_id, number = str(chat.get("id") or ""), message.get("message_id")
    if not chat_id or number is None:
        return None
    sender = message.get("from") or {}
    name = " ".join(str(sender.get(k) or "") for k in ("first_name", "last_name")).strip()
    reply = nested(message, "reply_to_message")
    date = message.get("date")
    return Incoming(
        connection=connection,
        chat_id=chat_id,
        private=chat.get("type") == "private",
        sender_id=str(sender.get("id") or ""),
        sender_name=name or str(sender.get("username") or ""),
        text=str(message.get("text") or message.get("caption") or ""),
        message_id=f"{chat_id}:{number}",
        reply_to=str(reply.get("message_id") or ""),
        at=datetime.fromtimestamp(date, UTC) if isinstance(date, int) else timezone.now(),
        raw=message,
    )


def reaction_of(connection: Connection, event: dict[str, Any]) -> Incoming | None:
    """A reaction (👍 on our message) as an Incoming whose text is the emoji and that replies to it."""
    chat = event.get("chat") or {}
    chat_id, number = str(chat.get("id") or ""), event.get("message_id")
    emoji = [r.get("emoji", "") for r in event.get("new_reaction") or [] if isinstance(r, dict)]
    if not chat_id or number is None or not any(emoji):
        return None  # a reaction taken back, or a custom emoji: nothing to read
    user = event.get("user") or event.get("actor_chat") or {}
    date = event.get("date")
    return Incoming(
        connection=connection,
        chat_id=chat_id,
        private=chat.get("type") == "private",
        sender_id=str(user.get("id") or ""),
        sender_name=str(user.get("first_name") or user.get("title") or ""),
        text=" ".join(e for e in emoji if e),
        message_id=f"{chat_id}:{number}:reaction:{user.get('id', '')}:{date}",
        reply_to=str(number),
        at=datetime.fromtimestamp(date, UTC) if isinstance(date, int) else timezone.now(),
        raw={"chat": chat, "reaction": event},
    )


def start_link_receiver(incoming: Incoming) -> bool:
    """ "/start <token>" in a private chat with a bot: the person opened a one-time start link."""
    if not (incoming.connection.is_telegram and incoming.private and incoming.text.startswith("/start")):
        return False
    token = incoming.text.split(maxsplit=1)[1].strip() if " " in incoming.text else ""
    _link_user(incoming.connection, incoming.raw.get("from") or incoming.raw.get("chat") or {}, token)
    return True


def _migrate(connection: Connection, old: str, new: str, chat: dict[str, Any]) -> None:
    with transaction.atomic():
        DiscoveredChat.objects.filter(connection=connection, chat_id=old).update(active=False)
        remember_chat(connection, Chat("tg_group", new, chat.get("title") or ""))
        Destination.objects.filter(connection=connection, target=old).update(target=new)


def _link_user(connection: Connection, user: dict[str, Any], token: str) -> None:
    fresh = timezone.now() - START_LINK_VALID
    link = StartLink.objects.filter(connection=connection, token=token, used_at__isnull=True, created__gte=fresh)
    if not token or not user.get("id") or not link.exists():
        return  # an ordinary /start, or a used or expired link: nobody is linked
    user_id = str(user["id"])
    name = " ".join(str(user.get(k) or "") for k in ("first_name", "last_name")).strip() or user_id
    with transaction.atomic():
        if not link.update(used_at=timezone.now(), user_id=user_id, user_name=name[:200]):
            return  # another poller took it first
        remember_chat(connection, Chat("tg_user", user_id, name, user.get("username") or ""))
    _follow_presence(connection, [user_id], True, "")
    _greet(connection, user_id)


def _greet(connection: Connection, user_id: str) -> None:
    """Tell the person pressing Start that it worked, through the one paced send path (a job)."""
    enqueue("transports.send", {"connection": connection.pk, "chat": user_id, "text": GREETING},
            workspace=connection.workspace, max_attempts=3)  # fmt: skip
