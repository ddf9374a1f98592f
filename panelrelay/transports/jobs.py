"""Worker jobs: connection status checks, Telegram update polling, owner alerts."""

from __future__ import annotations

import logging

from django.db.models import QuerySet

from panelrelay.transports.alerts import send_incident
from panelrelay.transports.base import TransportError
from panelrelay.transports.incoming import forget_old
from panelrelay.transports.integrations.telegram.updates import poll
from panelrelay.transports.models import Connection, Incident
from panelrelay.transports.services import poll_chats, refresh_status, send_or_retry
from panelrelay.worker.models import Job
from panelrelay.worker.queue import enqueue
from panelrelay.worker.registry import handler, periodic

log = logging.getLogger("panelrelay.transports")


def _active() -> QuerySet[Connection]:
    return Connection.objects.filter(workspace__suspended=False)


@periodic("transports.check_all", every=300)
def check_all(job: Job) -> None:
    """Every five minutes, one job per connection: a slow gateway delays only its own check."""
    for connection in _active().select_related("workspace"):
        key = f"transports.check:{connection.pk}:{job.pk}"
        enqueue("transports.check", {"connection": connection.pk}, workspace=connection.workspace, key=key,
                max_attempts=1)  # fmt: skip


@handler("transports.check")
def check(job: Job) -> None:
    connection = Connection.objects.filter(pk=job.payload["connection"]).first()
    if connection is not None:
        refresh_status(connection)


@periodic("transports.poll_telegram", every=15)
def poll_telegram(job: Job) -> None:
    """Read every bot's new updates. A broken bot waits for its status check to recover first."""
    # A bot on a webhook gets its updates pushed (and Telegram refuses getUpdates for it).
    for connection in _active().filter(kind="telegram", webhook_url="").exclude(status=Connection.BROKEN):
        try:
            poll(connection)
        except TransportError as exc:  # e.g. 409 while someone else polls: the next round reads it
            log.info("telegram updates of connection %s not read: %s", connection.pk, exc)


@periodic("transports.poll_incoming", every=30)
def poll_incoming(job: Job) -> None:
    """One job per connection that receives by polling: a slow gateway delays only itself."""
    polled = _active().filter(receive=Connection.RECEIVE_POLL).exclude(status=Connection.BROKEN)
    for connection in polled.exclude(kind="telegram").select_related("workspace"):
        enqueue("transports.poll_connection", {"connection": connection.pk}, workspace=connection.workspace,
                key=f"transports.poll_connection:{connection.pk}:{job.pk}", max_attempts=1)  # fmt: skip


@handler("transports.poll_connection")
def poll_connection(job: Job) -> None:
    connection = _active().filter(pk=job.payload["connection"], receive=Connection.RECEIVE_POLL).first()
    if connection is not None:
        try:
            poll_chats(connection)
        except TransportError as exc:  # the status check tells the owner; the next round tries again
            log.info("messages of connection %s not read: %s", connection.pk, exc)


@handler("transports.send")
def send(job: Job) -> None:
    """A text to a chat that is not a destination (a start link's greeting), paced like any message."""
    connection = _active().filter(pk=job.payload["connection"]).first()
    if connection is not None:
        send_or_retry(connection, job.payload["chat"], job.payload["text"])


@periodic("transports.forget_received", every=3600)
def forget_received(job: Job) -> None:
    forget_old()


@handler("transports.alert")
def alert(job: Job) -> None:
    incident = Incident.objects.select_related("workspace").filter(pk=job.payload["incident"]).first()
    if incident is not None and incident.alerted_at is None:
        send_incident(incident)
