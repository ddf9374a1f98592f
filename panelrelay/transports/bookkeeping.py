"""The bookkeeping after a send or a check: what the owner sees on a connection or destination.

A destination's last delivery and broken mark, a connection's status, the incidents and alerts
that tell the owner once, and the chats a connection can send to. `services.deliver()`, the
Telegram updates, the Telegram account's sign-in and the worker's checks all record through here;
it imports no transport, so any integration may call it (pyproject.toml's import-linter contracts).
"""

from __future__ import annotations

import hashlib

from django.db import IntegrityError, transaction
from django.utils import timezone

from panelrelay.accounts.models import Workspace
from panelrelay.transports.base import Chat, Status
from panelrelay.transports.models import Connection, Destination, DiscoveredChat, Incident
from panelrelay.transports.privacy import mask_domains
from panelrelay.worker.queue import enqueue


def record(destination: Destination, ok: bool, message: str, **extra: object) -> None:
    """A delivery's outcome on the destination's row (and on the object in hand)."""
    fields = {"last_delivery_at": timezone.now(), "last_delivery_ok": ok, "last_delivery_message": message[:300]}
    fields.update(extra)
    # An UPDATE of these columns only: the owner may be toggling `enabled` at this very moment.
    Destination.objects.filter(pk=destination.pk).update(**fields)
    for name, value in fields.items():
        setattr(destination, name, value)


def mark_broken(destination: Destination, reason: str) -> None:
    """The chat cannot be reached any more (bot kicked, chat deleted, user blocked the bot)."""
    record(destination, False, reason, broken=True, broken_reason=reason[:300])
    send_alert(
        destination.workspace,
        f"Destination {destination} is broken: {reason}. Messages to it fail until it is fixed.",
        key=f"destination:{destination.code}",
    )


def set_status(connection: Connection, status: Status) -> None:
    """Store a status check's result; a connection going broken alerts the owner, once."""
    previous = connection.status
    connection.status, connection.status_message = status.state, status.message[:300]
    connection.checked_at = timezone.now()
    if status.details:
        connection.config = {**connection.config, **status.details}
    Connection.objects.filter(pk=connection.pk).update(
        status=connection.status,
        status_message=connection.status_message,
        checked_at=connection.checked_at,
        config=connection.config,
    )
    key = f"connection:{connection.code}"
    if status.state == Connection.WORKING:
        close_incidents(connection.workspace_id, [key])
    elif status.state == Connection.BROKEN:
        send_alert(connection.workspace, f"Connection {connection} is broken: {status.message}", key=key)
    elif status.state == Connection.PENDING and previous == Connection.WORKING:
        send_alert(connection.workspace, f"Connection {connection} needs attention: {status.message}", key=key)


def send_alert(workspace: Workspace, text: str, key: str | None = None) -> None:
    """Tell the owner, through their alert destination, once per incident `key`.

    The alert itself goes out from the worker (transports.alert job), paced and retried like any
    message, so a failing delivery never waits on it. Without a key, the text is the key.
    """
    key = key or "text:" + hashlib.sha256(text.encode()).hexdigest()[:32]
    try:
        with transaction.atomic():
            incident = Incident.objects.create(workspace=workspace, key=key[:200], text=text[:500])
    except IntegrityError:
        return  # this incident is open already: the owner has been told
    enqueue("transports.alert", {"incident": incident.pk}, workspace=workspace, key=f"alert:{incident.pk}")


def close_incidents(workspace_id: int, keys: list[str]) -> None:
    """The problems under these keys are over: the next failure is a new incident and alerts again."""
    Incident.objects.filter(workspace_id=workspace_id, key__in=keys, closed__isnull=True).update(closed=timezone.now())


def remember_chat(connection: Connection, chat: Chat, active: bool = True) -> None:
    """Record (or update) a chat the connection can send to, its title cleared of provider domains."""
    DiscoveredChat.objects.update_or_create(
        connection=connection,
        chat_id=chat.chat_id,
        defaults={
            "workspace_id": connection.workspace_id,
            "kind": chat.kind,
            "title": mask_domains(connection.workspace_id, chat.title)[:200],
            "username": chat.username[:100],
            "active": active,
            "seen_at": timezone.now(),
        },
    )
