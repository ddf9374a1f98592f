"""The contract every transport fulfils: send(target, text) → remote message id, or one error.

A transport never decides what to do about a failure; it says what kind of failure it was:

| kind          | permanent | the caller…                                                    |
|---------------|-----------|----------------------------------------------------------------|
| rate_limited  | no        | waits `retry_after` seconds and tries again                     |
| target_moved  | no        | stores `new_target` on the destination and resends at once      |
| target_gone   | yes       | marks the destination broken and alerts the owner once          |
| auth_failed   | yes       | marks the connection broken and alerts the owner once           |
| unavailable   | no        | retries later (gateway down, session not WORKING, not authorised)|
| quota         | no        | retries much later (Green-API 466), alerts the owner once       |
| bad_request   | yes       | fails the message with the transport's text                     |
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from panelrelay.transports.incoming import Incoming
from panelrelay.transports.models import Connection
from panelrelay.transports.pacing import Limits

PERMANENT_KINDS = {"target_gone", "auth_failed", "bad_request"}
KINDS = {"rate_limited", "target_moved", "target_gone", "auth_failed", "unavailable", "quota", "bad_request"}


class TransportError(Exception):
    def __init__(
        self,
        message: str,
        *,
        kind: str,
        retry_after: float | None = None,
        new_target: str | None = None,
        local: bool = False,
    ) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown transport error kind {kind}")
        super().__init__(message)
        self.kind = kind
        self.retry_after = retry_after
        self.new_target = new_target
        # True when nothing went over the wire: our own pacing said "not yet". The caller then
        # waits without recording a delivery attempt.
        self.local = local

    @property
    def permanent(self) -> bool:
        return self.kind in PERMANENT_KINDS


@dataclass
class Status:
    """What a connection's health check found."""

    state: str  # working | pending | broken (Connection.WORKING, …)
    message: str = ""
    details: dict[str, Any] = field(default_factory=dict)  # e.g. the bot's username


@dataclass
class Chat:
    """A chat a connection can send to, as a destination target."""

    kind: str  # tg_group | tg_user | wa_group | wa_number
    chat_id: str
    title: str = ""
    username: str = ""


class Transport:
    """Base class of transports/integrations/<kind>/transport.py, built around one Connection."""

    kind: str = ""
    label: str = ""
    max_length: int = 4096  # longer texts are split at line boundaries by split_text()

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def send(self, target: str, text: str) -> str:
        """Send one text (≤ max_length) to target; return the remote message id."""
        raise NotImplementedError

    def pacing(self, target: str) -> tuple[Limits, float]:
        """Rate-limit keys → minimum interval (s) or pacing.Budget for one message to target, and
        the jitter. The first key is the one a 429 blocks (push_back_key)."""
        raise NotImplementedError

    def push_back_key(self, target: str) -> str:
        """The key a 429 from the service blocks for its retry_after."""
        return next(iter(self.pacing(target)[0]))

    def check(self) -> Status:
        """Ask the service whether this connection works (bot token, session, instance state)."""
        raise NotImplementedError

    def list_chats(self) -> list[Chat]:
        """The groups the service can list for the destination picker ([] where it cannot)."""
        return []

    # Whether find_sent() can read back what this connection sent (the Bot API cannot).
    can_find_sent: bool = False

    def find_sent(self, target: str, text: str, since: datetime) -> str | None:
        """The remote id of a message with exactly this text that we sent to target at or after
        `since`, or None when the chat has none. Used after a send was interrupted, to learn
        whether it arrived before sending again. Raises TransportError when it cannot tell."""
        raise TransportError(f"{self.label} cannot list what it sent", kind="unavailable")

    # Receiving (transports.incoming): whether the connection can read messages written to it
    # by webhook or polling. A Telegram bot receives through its updates instead (updates.py).
    can_receive: bool = False

    def parse_webhook(self, body: Any) -> list[Incoming]:
        """The messages in one webhook body the gateway POSTed to us ([] for other events)."""
        return []

    def poll_incoming(
        self, chats: list[str], since: dict[str, float], handle: Callable[[Incoming], object]
    ) -> dict[str, float]:
        """Hand each message written in `chats` after `since` (per chat: where the last poll stopped)
        to `handle`, oldest first, and return the new positions. A chat never polled starts now: old
        history is not replayed. An error from `handle` propagates: the caller keeps the old
        positions, so nothing read after it is lost (the next poll reads it again)."""
        return since


def same_text(a: str, b: str) -> bool:
    """Whether a gateway's copy of a message is the text we sent (gateways may trim or use CRLF)."""
    return _normal(a) == _normal(b)


def _normal(text: str) -> str:
    return "\n".join(line.rstrip() for line in str(text).replace("\r\n", "\n").strip().split("\n"))


def epoch(value: Any) -> float | None:
    """A Unix timestamp from a gateway (seconds, or milliseconds), or None."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number / 1000 if number > 1e11 else number


def split_text(text: str, limit: int) -> list[str]:
    """Split at line boundaries into parts of at most `limit` characters.

    A single line longer than the limit (it should never happen with lists of ids) is cut hard.
    """
    if len(text) <= limit:
        return [text]
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            if current:
                parts.append(current)
                current = ""
            parts.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            parts.append(current)
            current = line
        else:
            current = candidate
    if current:
        parts.append(current)
    return parts
