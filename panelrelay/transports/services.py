"""What other apps call: deliver a text to a destination, its length limit, alert the owner
(`send_alert` and `close_incidents`, kept in bookkeeping.py and called here too).

deliver() is the one real sending path: the forwarding engine, the Destinations page's Test
button and the owner alerts all go through it. It paces every message across all processes
(transports.pacing), and after a failure it does the bookkeeping the error's kind asks for (see
base.py), so that callers only decide whether to retry.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from panelrelay.core import ratelimit
from panelrelay.transports import pacing
from panelrelay.transports.base import Status, Transport, TransportError, split_text
from panelrelay.transports.bookkeeping import close_incidents, mark_broken, record, send_alert, set_status
from panelrelay.transports.incoming import Incoming, more_chats, receive
from panelrelay.transports.integrations import REGISTRY, transport_for
from panelrelay.transports.models import Connection, Destination
from panelrelay.worker.registry import Retry

log = logging.getLogger("panelrelay.transports")
# How long a further part of a long text, or the resend after a move, may wait for its slot.
FOLLOW_UP_WAIT = 30.0
# Delivery failures that are the service's, not one chat's: the connection shows "failing" (issue 13).
CONNECTION_KINDS = {"unavailable", "quota"}


def max_length(destination: Destination) -> int:
    """The transport's text limit; the engine packs messages to fit it."""
    return REGISTRY[destination.connection.kind].max_length


def deliver(destination: Destination, text: str) -> str:
    """Send one text through the destination's connection, paced across all processes.

    Returns the remote message id (of the first part, should the text exceed the limit). Raises
    TransportError after the bookkeeping; a `local` one means nothing was sent (pacing said wait).
    """
    transport = transport_for(destination.connection)
    try:
        remote_id = _paced(transport, destination.target, text, moved=lambda new: _moved(destination, new))
    except TransportError as exc:
        if not exc.local:
            _failed(transport, destination, exc)
        raise
    try:
        _delivered(destination)
    except Exception:  # the text went out: bookkeeping trouble must not make it look unsent (and resent)
        log.exception("destination %s: delivered, but its status could not be updated", destination.code)
    return remote_id


def send_text(connection: Connection, chat: str, text: str) -> str:
    """Send a text to a chat that is not a destination (a staff member's private chat, a greeting).

    The same paced path as deliver(): the chat's and the connection's slots, 429s pushing the
    slot back for every process, long texts split. Raises TransportError (`local`: not sent yet).
    """
    return _paced(transport_for(connection), chat, text)


def find_sent(destination: Destination, text: str, since: datetime) -> str | None:
    """After an interrupted send: the remote id if `text` reached the chat since `since`, None if
    it did not. Raises TransportError when the transport cannot tell (the Bot API never can; a
    text longer than one part cannot be matched whole), so the caller resends marked as a repeat."""
    transport = transport_for(destination.connection)
    parts = split_text(text, transport.max_length)
    if not transport.can_find_sent or len(parts) > 1:
        raise TransportError(f"{transport.label} cannot tell what it sent", kind="unavailable")
    return transport.find_sent(destination.target, parts[0], since)


def send_or_retry(connection: Connection, chat: str, text: str) -> None:
    """send_text() for a worker job: waits (Retry) for pacing and 429s, drops a text to a chat that
    is gone (the person blocked the bot: nobody to tell), retries other failures."""
    try:
        send_text(connection, chat, text)
    except TransportError as exc:
        if exc.kind == "rate_limited":
            raise Retry(max(exc.retry_after or 1.0, 0.05), str(exc)) from None
        if exc.permanent:
            log.info("text to chat of connection %s not sent: %s", connection.pk, exc)
            return
        raise


def _paced(transport: Transport, chat: str, text: str, moved: Callable[[str], None] | None = None) -> str:
    """The one sending path: take the pacing slots (all or none), send every part, follow a move."""
    keys, jitter = transport.pacing(chat)
    wait = pacing.take(keys, jitter)
    if wait > 0:
        raise TransportError(f"next sending slot in {wait:.1f} s", kind="rate_limited", retry_after=wait, local=True)
    target = [chat]  # the chat may move (a group became a supergroup) between two parts
    try:
        parts = split_text(text, transport.max_length)
        remote_id = _send(transport, target, parts[0], moved)
        for part in parts[1:]:
            _follow_up_slot(transport, target[0])
            _send(transport, target, part, moved)
    except TransportError as exc:
        if exc.kind == "rate_limited" and not exc.local:
            ratelimit.push_back(transport.push_back_key(target[0]), exc.retry_after or 5.0)
        raise
    try:
        pacing.sent(transport.pacing(target[0])[0])
    except Exception:  # the text went out: a pacing write that fails must not make it look unsent
        log.exception("chat %s: sent, but its pacing slot could not be pushed back", target[0])
    return remote_id


def _send(transport: Transport, target: list[str], text: str, moved: Callable[[str], None] | None) -> str:
    """One send; when the chat moved (a Telegram group became a supergroup), follow it once."""
    try:
        return transport.send(target[0], text)
    except TransportError as exc:
        if exc.kind != "target_moved" or not exc.new_target or moved is None:
            raise
        new_target = exc.new_target
    log.info("chat %s moved to %s", target[0], new_target)
    moved(new_target)
    target[0] = new_target
    _follow_up_slot(transport, new_target)
    return transport.send(new_target, text)  # a second move is reported, not followed


def _moved(destination: Destination, new_target: str) -> None:
    Destination.objects.filter(pk=destination.pk).update(target=new_target)
    destination.target = new_target


def _follow_up_slot(transport: Transport, chat: str) -> None:
    """Wait for the next slot: part of the text is out already, so giving up is the last resort
    (the caller would then retry the whole text, and the first parts would arrive twice)."""
    keys, jitter = transport.pacing(chat)
    try:
        pacing.acquire(keys, jitter, max_wait=FOLLOW_UP_WAIT)
    except TimeoutError:
        raise TransportError("no free sending slot for the rest of the message", kind="rate_limited",
                             retry_after=FOLLOW_UP_WAIT) from None  # fmt: skip


def _delivered(destination: Destination) -> None:
    connection = destination.connection
    healed = ["destination:" + str(destination.code), "quota:" + str(connection.code)]
    if destination.broken:
        record(destination, True, "Delivered", broken=False, broken_reason="")
    else:
        record(destination, True, "Delivered")
    if connection.status == Connection.BROKEN:
        # A message went through, so the key works again; but ask rather than assume: Green-API
        # accepts (queues) messages even for an account WhatsApp has suspended.
        refresh_status(connection)
    elif connection.status != Connection.WORKING:  # failing (a delivery failed), unknown or pending
        set_status(connection, Status(Connection.WORKING, "the last delivery went through"))
    close_incidents(destination.workspace_id, healed)


def _failed(transport: Transport, destination: Destination, exc: TransportError) -> None:
    log.info("delivery to destination %s failed (%s): %s", destination.code, exc.kind, exc)
    if exc.kind == "target_gone":
        return mark_broken(destination, str(exc))
    record(destination, False, str(exc))
    connection = destination.connection
    if exc.kind == "auth_failed":
        set_status(connection, Status(Connection.BROKEN, str(exc)))
    elif exc.kind == "quota":
        send_alert(destination.workspace, f"{connection} is over its quota: {exc}", key=f"quota:{connection.code}")
    if exc.kind in CONNECTION_KINDS and connection.status != Connection.BROKEN:
        # The service itself failed (an outage, over quota): the connection says so at once, not
        # "working" until its next check while its destinations say Failed.
        set_status(connection, Status(Connection.FAILING, f"the last delivery failed: {exc}"))


def refresh_status(connection: Connection) -> Status:
    """Ask the service how the connection is (getMe, session status, connection state…)."""
    if not connection.secret_enc and connection.kind != "waha":  # WAHA may run without an API key
        status = Status(Connection.BROKEN, "no token or API key saved")
    else:
        status = transport_for(connection).check()
    failed = _last_delivery_failed(connection) if connection.status == Connection.FAILING else ""
    if status.state == Connection.WORKING and failed:  # the check got through, but sending still did not
        status = Status(Connection.FAILING, f"{status.message} answers, but the last delivery failed: {failed}"[:300],
                        status.details)  # fmt: skip
    set_status(connection, status)
    return status


def _last_delivery_failed(connection: Connection) -> str:
    """The error of the connection's latest delivery if that failed for the service's sake, else ""."""
    latest = (
        Destination.objects.filter(connection=connection, last_delivery_at__isnull=False)
        .order_by("-last_delivery_at")
        .values("last_delivery_ok", "last_delivery_message", "broken")
        .first()
    )
    if latest is None or latest["last_delivery_ok"] or latest["broken"]:  # a gone chat is the chat's fault
        return ""
    return latest["last_delivery_message"]


def poll_chats(connection: Connection) -> int:
    """Read what was written in the connection's destination chats since the last poll (a
    WhatsApp gateway or the Telegram user account set to polling) and hand it to receive()."""
    chats = list(
        Destination.objects.filter(connection=connection, enabled=True).order_by("-last_delivery_at", "id")
        .values_list("target", flat=True)
    )  # fmt: skip
    chats = list(dict.fromkeys(chats + more_chats(connection)))  # a target may have several destinations
    handled = 0

    def handle(item: Incoming) -> None:
        nonlocal handled
        handled += receive(item)

    # A handler error propagates before the positions are saved: the next poll reads it again.
    positions = transport_for(connection).poll_incoming(chats, dict(connection.poll_state or {}), handle)
    if positions != connection.poll_state:
        Connection.objects.filter(pk=connection.pk).update(poll_state=positions)
        connection.poll_state = positions
    return handled
