"""Telegram user account through MTProto (Telethon), for providers who will not start a bot
(Telethon docs).

Telethon is asyncio inside. Web requests and worker jobs here are synchronous, so every call runs
one short-lived client in a fresh event loop (asyncio.run): create, connect, do one thing,
disconnect. No client, loop or socket outlives the call, which keeps it safe in any thread.
flood_sleep_threshold=0: Telethon must never sleep inside a request; a FLOOD_WAIT becomes
rate_limited with Telegram's own wait, and the pacing/retry machinery waits instead.

The secret (Connection.secret()) is JSON {"api_hash": …, "session": <StringSession>}: both are
secrets, so nothing secret sits in `config` (which holds api_id and the account's @username).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar

from django.utils import timezone
from telethon import TelegramClient, errors
from telethon.sessions import StringSession

from panelrelay.transports import pacing
from panelrelay.transports.base import Status, Transport, TransportError, same_text
from panelrelay.transports.incoming import Incoming
from panelrelay.transports.models import Connection

T = TypeVar("T")
CALL_TIMEOUT = 20.0  # the whole connect + call, on top of Telethon's own 15 s per request
GONE = {
    errors.UserPrivacyRestrictedError: "this person's privacy settings do not let the account write to them",
    errors.UsernameNotOccupiedError: "no Telegram account or group has this @username",
    errors.UsernameInvalidError: "this @username is not valid",
    errors.ChatWriteForbiddenError: "the account may not write in this chat (not a member, or muted)",
}
AUTH = (errors.AuthKeyUnregisteredError, errors.SessionRevokedError, errors.UserDeactivatedError,
        errors.UserDeactivatedBanError)  # fmt: skip


def secrets_of(connection: Connection) -> dict[str, str]:
    """{"api_hash", "session"} from the encrypted secret; empty strings when nothing is saved."""
    try:
        data = json.loads(connection.secret() or "{}")
    except ValueError:
        data = {}
    return {"api_hash": str(data.get("api_hash", "")), "session": str(data.get("session", ""))}


def set_secrets(connection: Connection, api_hash: str, session: str) -> None:
    connection.set_secret(json.dumps({"api_hash": api_hash, "session": session}))
    connection.secret_tail = ""  # the tail of a JSON blob says nothing and must not leak the session


def client_factory(connection: Connection) -> TelegramClient:
    """The one place a client is built; tests replace it with a stub (there is no MTProto fake)."""
    secret = secrets_of(connection)
    return TelegramClient(
        StringSession(secret["session"]),
        int(connection.config.get("api_id") or 0),
        secret["api_hash"],
        connection_retries=1,
        retry_delay=1,
        timeout=15,
        request_retries=1,
        flood_sleep_threshold=0,
        receive_updates=False,
    )


def run(connection: Connection, action: Callable[[Any], Awaitable[T]]) -> T:
    """Connect a fresh client, await action(client), always disconnect. Network trouble → unavailable."""

    async def go() -> T:
        client = client_factory(connection)
        try:
            await asyncio.wait_for(client.connect(), CALL_TIMEOUT)
            return await asyncio.wait_for(action(client), CALL_TIMEOUT)
        finally:
            await client.disconnect()

    try:
        return asyncio.run(go())
    except (TimeoutError, ConnectionError, OSError) as exc:
        raise TransportError(f"Telegram unreachable: {type(exc).__name__}", kind="unavailable") from None


def error_from(exc: Exception) -> TransportError:
    """One Telethon error as the transport contract's kinds (base.py)."""
    if isinstance(exc, errors.FloodWaitError):
        return TransportError(f"Telegram flood wait: retry after {exc.seconds} s", kind="rate_limited",
                              retry_after=float(exc.seconds))  # fmt: skip
    if isinstance(exc, errors.PeerFloodError):
        return TransportError("Telegram limited this account for sending to strangers (PEER_FLOOD); "
                              "check @SpamBot and slow down", kind="quota", retry_after=6 * 3600)  # fmt: skip
    for cls, text in GONE.items():
        if isinstance(exc, cls):
            return TransportError(text, kind="target_gone")
    if isinstance(exc, AUTH):
        return TransportError("the Telegram session ended (signed out, revoked or account banned): sign in again",
                              kind="auth_failed")  # fmt: skip
    if isinstance(exc, ValueError):  # Telethon: "Cannot find any entity corresponding to …"
        return TransportError("Telegram cannot find this chat from the account; use an @username, a "
                              "+phone in its contacts or a t.me link", kind="target_gone")  # fmt: skip
    if isinstance(exc, errors.RPCError):
        return TransportError(f"Telegram refused: {exc.message}", kind="bad_request")
    return TransportError(f"Telegram failed: {type(exc).__name__}", kind="unavailable")


POLL_CHATS = 20


def _incoming(transport: Transport, chat: str, message: Any) -> Incoming:
    reply = getattr(message, "reply_to", None)
    sender = getattr(message, "sender", None)
    name = " ".join(str(getattr(sender, k, "") or "") for k in ("first_name", "last_name")).strip()
    when = getattr(message, "date", None)
    return Incoming(
        connection=transport.connection,
        chat_id=chat,
        private=not chat.startswith(("https://t.me/+", "t.me/+")) and getattr(message, "is_private", True) is True,
        sender_id=str(getattr(message, "sender_id", "") or ""),
        sender_name=name or str(getattr(sender, "username", "") or ""),
        text=str(getattr(message, "message", "") or ""),
        message_id=f"{chat}:{getattr(message, 'id', '')}",
        reply_to=str(getattr(reply, "reply_to_msg_id", "") or ""),
        at=when if isinstance(when, datetime) else timezone.now(),
    )


class TelegramUserTransport(Transport):
    kind = "telegram_user"
    label = "Telegram user account"
    max_length = 4096

    def call(self, action: Callable[[Any], Awaitable[T]]) -> T:
        try:
            return run(self.connection, action)
        except TransportError:
            raise
        except Exception as exc:  # noqa: BLE001 — every Telethon error is mapped, see error_from
            raise error_from(exc) from None

    def send(self, target: str, text: str) -> str:
        async def action(client: Any) -> Any:
            if not await client.is_user_authorized():
                raise errors.AuthKeyUnregisteredError(request=None)
            return await client.send_message(target, text, link_preview=False)

        message = self.call(action)
        return str(getattr(message, "id", "") or "")

    can_find_sent = True

    def find_sent(self, target: str, text: str, since: datetime) -> str | None:
        async def action(client: Any) -> Any:
            return await client.get_messages(target, limit=30)

        for message in self.call(action) or []:
            when = getattr(message, "date", None)
            if not getattr(message, "out", False) or (isinstance(when, datetime) and when < since):
                continue
            if same_text(str(getattr(message, "message", "") or ""), text):
                return str(getattr(message, "id", "") or "found")
        return None

    can_receive = True

    def poll_incoming(
        self, chats: list[str], since: dict[str, float], handle: Callable[[Incoming], object]
    ) -> dict[str, float]:
        """New messages in the chats we send to, by message id (Telethon's get_messages(min_id=…)).
        A chat never read starts at its newest message. Reads share the account's flood limits."""
        chats = chats[:POLL_CHATS]

        async def action(client: Any) -> dict[str, list[Any]]:
            found = {}
            for chat in chats:
                last = since.get(chat)
                kwargs = {"limit": 1} if last is None else {"limit": 50, "min_id": int(last)}
                found[chat] = list(await client.get_messages(chat, **kwargs) or [])
            return found

        positions, items = dict(since), []
        for chat, messages in self.call(action).items():
            first_look = since.get(chat) is None
            newest = int(positions.get(chat, 0))
            for message in messages:
                newest = max(newest, int(getattr(message, "id", 0) or 0))
                if not first_look and not getattr(message, "out", False):
                    items.append((chat, _incoming(self, chat, message)))
            if first_look:
                positions[chat] = newest
        for chat, item in sorted(items, key=lambda pair: (pair[1].at, pair[1].message_id)):
            handle(item)  # the position moves only past what was handled
            positions[chat] = max(int(positions.get(chat, 0)), int(item.message_id.rsplit(":", 1)[1]))
        return positions

    def pacing(self, target: str) -> tuple[dict[str, float], float]:
        # User accounts get banned much faster than bots: one slow lane for the whole account.
        keys = {f"tgu:{self.connection.code}": pacing.value("PACING_TELEGRAM_USER_SECONDS")}
        return keys, pacing.value("PACING_TELEGRAM_USER_JITTER")

    def check(self) -> Status:
        async def action(client: Any) -> Any:
            return await client.get_me() if await client.is_user_authorized() else None

        try:
            me = self.call(action)
        except TransportError as exc:
            return Status("broken", str(exc))
        if me is None:
            return Status("broken", "not signed in: sign in again")
        username = getattr(me, "username", "") or ""
        shown = f"@{username}" if username else f"user {getattr(me, 'id', '')}"
        return Status("working", f"signed in as {shown}", {"username": username})
