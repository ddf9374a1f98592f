"""The front door for messages that arrive: every transport that can receive turns what it got
into one `Incoming` value and hands it to `receive()`; apps subscribe to what they care about.

    Telegram bot (getUpdates or webhook) ─┐
    Telegram user account (polled)        ├─► Incoming ─► receive(): drop a duplicate ─► receivers
    WAHA / Evolution / Green-API          ┘   (one per gateway message)        (team bot, start links,
      (webhook or polled)                                                         provider answers, …)

Receivers are called in priority order until one says it handled the message (returns True).
Apps join at start-up from their AppConfig.ready(), so transports imports no app above it.
A gateway delivers the same message again after a timeout or a retry: `receive()` records each
(connection, message id) once, in the same transaction as the receivers' work, so a duplicate is
dropped and a message whose handling failed is handled again on the next delivery.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from panelrelay.transports.models import Connection, ReceivedMessage

log = logging.getLogger("panelrelay.transports")
KEEP_SEEN = timedelta(days=7)  # gateways retry for minutes to hours; a week of ids is plenty


@dataclass(frozen=True)
class Incoming:
    """One message that arrived through a connection, the same shape for every transport."""

    connection: Connection
    chat_id: str  # where it was written: a group, or the private chat / number it came from
    private: bool  # a one-to-one chat (Telegram private, a WhatsApp number) rather than a group
    sender_id: str  # who wrote it (in a private chat, the same as chat_id on most transports)
    sender_name: str
    text: str
    message_id: str  # the gateway's id of this message: duplicates are dropped by it
    reply_to: str = ""  # the id of the message it answers (ours, when a provider replies to us)
    at: datetime = field(default_factory=timezone.now)
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)  # the transport's payload


Receiver = Callable[[Incoming], bool]
_receivers: list[tuple[int, str, Receiver]] = []


def subscribe(name: str, fn: Receiver, priority: int = 100) -> None:
    """Add a receiver (idempotent by name: a second subscribe under one name replaces the first)."""
    global _receivers
    _receivers = sorted([r for r in _receivers if r[1] != name] + [(priority, name, fn)], key=lambda r: r[:2])


def unsubscribe(name: str) -> None:
    global _receivers
    _receivers = [r for r in _receivers if r[1] != name]


@contextmanager
def subscribed(name: str, fn: Receiver, priority: int = 100) -> Iterator[None]:
    """A receiver for the duration of a block (tests, a one-off tool)."""
    subscribe(name, fn, priority)
    try:
        yield
    finally:
        unsubscribe(name)


# Chats a poller reads besides the connection's destinations (the customers app adds the owner's
# customer groups): functions of a connection returning chat ids, joined from AppConfig.ready().
CHAT_SOURCES: list[Callable[[Connection], list[str]]] = []


def more_chats(connection: Connection) -> list[str]:
    return [chat for source in list(CHAT_SOURCES) for chat in source(connection)]


def receivers() -> list[str]:
    return [name for _, name, _ in _receivers]


def receive(incoming: Incoming) -> bool:
    """Hand one message to the receivers, once. Returns False for a duplicate or an unhandled one.

    A receiver's error propagates (and rolls the "received" mark back with its work), so the
    webhook answers 500 and a poll stops there: the gateway's next delivery handles it again.
    """
    if not incoming.message_id:
        log.info("incoming message on connection %s without an id: dropped", incoming.connection.pk)
        return False
    with transaction.atomic():
        try:
            with transaction.atomic():  # only this insert's conflict means "seen before"
                ReceivedMessage.objects.create(connection=incoming.connection, message_id=incoming.message_id[:200])
        except IntegrityError:
            return False  # this gateway message was received before: a retry or a second poller
        for _, name, fn in _receivers:
            if fn(incoming):
                log.debug("incoming %s handled by %s", incoming.message_id, name)
                return True
        return False


def forget_old(now: datetime | None = None) -> int:
    return ReceivedMessage.objects.filter(received__lt=(now or timezone.now()) - KEEP_SEEN).delete()[0]
