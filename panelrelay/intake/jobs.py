"""Worker jobs: ticket polling per panel, ticket replies, the team bot's summaries."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from panelrelay.core.logscrub import scrub
from panelrelay.forwarding.models import ForwardRequest
from panelrelay.intake import bot, polling, tickets
from panelrelay.intake.models import TicketIntake, TicketOutcomeReply, TicketPoll, TicketSettings
from panelrelay.panels.adapters.base import PanelError
from panelrelay.panels.models import Panel
from panelrelay.transports.models import Connection
from panelrelay.transports.services import send_or_retry
from panelrelay.worker.models import Job
from panelrelay.worker.queue import enqueue
from panelrelay.worker.registry import Retry, handler, periodic

log = logging.getLogger("panelrelay.intake")

REPLY_WAIT = 1.0  # seconds between two looks at a request whose orders are still being looked up
ANSWER_ORDER_WAIT = 0.3  # seconds before a later team-bot answer looks again
REPLY_GIVE_UP = timedelta(hours=2)  # a request still undecided this long: the reply says what is known
OUTCOME_WAIT = 60.0  # seconds before an outcome reply looks again at the ticket's other orders
OUTCOME_GATHER = timedelta(minutes=30)  # how long an outcome reply waits for the ticket's other orders
SAFETY_NET_EVERY = 30  # seconds: a panel whose poll chain broke is polled again within this


def schedule_poll(panel: Panel, now: datetime | None = None) -> None:
    """Enqueue a poll now unless the panel's chain already has one queued or running."""
    now = now or timezone.now()
    waiting = Job.objects.filter(
        kind="intake.poll_tickets", state__in=(Job.QUEUED, Job.RUNNING), payload__panel=panel.pk
    )
    if waiting.exists():
        return
    slot = int(now.timestamp() // SAFETY_NET_EVERY)
    enqueue("intake.poll_tickets", {"panel": panel.pk}, workspace=panel.workspace,
            key=f"intake.poll:{panel.pk}:net:{slot}", max_attempts=1)  # fmt: skip


@periodic("intake.schedule_polls", every=SAFETY_NET_EVERY)
def schedule_polls(job: Job) -> None:
    """A safety net: each poll schedules the next one itself, this restarts a broken chain."""
    for panel in Panel.objects.filter(tickets_enabled=True, enabled=True, workspace__suspended=False):
        schedule_poll(panel)


@handler("intake.poll_tickets")
def poll_tickets(job: Job) -> None:
    panel = Panel.objects.select_related("workspace").filter(pk=job.payload["panel"]).first()
    if panel is None or not panel.tickets_enabled or not panel.enabled:
        return
    seen: set[str] | None = set()
    found: list[ForwardRequest] = []
    try:
        found = tickets.poll_panel(panel, seen=seen)
        message = f"Read the tickets: {len(found)} new request(s)."
    except PanelError as exc:
        seen = None  # not read: no news either way
        message = f"Tickets not read: {exc}"
        log.info("tickets of panel %s not read: %s", panel.code, exc)
    now = timezone.now()
    Panel.objects.filter(pk=panel.pk).update(tickets_polled_at=now, tickets_message=scrub(message)[:300])
    run_at, seq = plan_next(panel, now, seen, bool(found))
    # The key is the chain's number: a poll that ran twice (a second chain, a retried job)
    # finds its successor already queued and the chains merge into one.
    enqueue("intake.poll_tickets", {"panel": panel.pk}, workspace=panel.workspace, run_at=run_at,
            key=f"intake.poll:{panel.pk}:{seq}", max_attempts=1)  # fmt: skip


def plan_next(panel: Panel, now: datetime, seen: set[str] | None, found: bool) -> tuple[datetime, int]:
    """Record this poll in the panel's TicketPoll and say when the next one runs (intake/polling.py)."""
    with transaction.atomic():
        TicketPoll.objects.get_or_create(panel=panel, defaults={"credits": polling.bank_size(panel.tickets_interval)})
        row = TicketPoll.objects.select_for_update().get(panel=panel)
        before = set(row.seen)
        # Activity: a request was made, or a ticket or message the last poll did not see.
        news = seen is not None and row.polled_at is not None and bool(seen - before)
        state = polling.PollState(credits=row.credits, at=_ts(row.polled_at), active_at=_ts(row.active_at),
                                  quiet=row.quiet)  # fmt: skip
        delay, new = polling.plan(state, now.timestamp(), panel.tickets_interval, found or news)
        row.credits, row.polled_at, row.quiet = new.credits, now, new.quiet
        row.active_at = _dt(new.active_at)
        if seen is not None:
            row.seen = sorted(seen)
        row.next_at = now + timedelta(seconds=delay)
        row.seq += 1
        row.save()
    return row.next_at, row.seq


def _ts(value: datetime | None) -> float | None:
    return value.timestamp() if value else None


def _dt(value: float | None) -> datetime | None:
    return datetime.fromtimestamp(value, tz=UTC) if value is not None else None


@handler("intake.reply")
def reply(job: Job) -> None:
    claim = TicketIntake.objects.select_related("panel", "workspace").filter(pk=job.payload["claim"]).first()
    if claim is None or claim.request_id is None or claim.replied_at:
        return
    request = ForwardRequest.objects.get(pk=claim.request_id)
    wait = timedelta(seconds=settings.TICKET_REPLY_DELIVERY_WAIT)
    if not tickets.decided(request, wait) and timezone.now() - request.created < REPLY_GIVE_UP:
        raise Retry(REPLY_WAIT, "waiting for the orders to be looked up and delivered")
    text = tickets.reply_text(claim, request)
    if not text:
        return
    _post(claim, claim, text)


@handler("intake.outcome_reply")
def outcome_reply(job: Job) -> None:
    """The second reply: the provider's outcome (done or refused) for the ticket's orders, once per kind."""
    claim = TicketIntake.objects.select_related("panel", "workspace").filter(pk=job.payload["claim"]).first()
    kind = job.payload["kind"]
    if claim is None or claim.request_id is None or not TicketSettings.of(claim.workspace).replies_enabled:
        return
    if Job.objects.filter(key=f"intake.reply:{claim.pk}", state__in=(Job.QUEUED, Job.RUNNING)).exists():
        raise Retry(OUTCOME_WAIT, "the first reply goes first")
    request = ForwardRequest.objects.get(pk=claim.request_id)
    # Orders of one ticket usually get their answer together; a little patience makes one reply
    # of them. The wait is bounded: a provider slow on one order does not hold back the others.
    if tickets.still_open(request) and timezone.now() - job.created < OUTCOME_GATHER:
        raise Retry(OUTCOME_WAIT, "other orders of the ticket are still open")
    record, _ = TicketOutcomeReply.objects.get_or_create(claim=claim, kind=kind)
    if record.replied_at:
        return
    text = tickets.outcome_text(claim, request, kind)
    if text:
        _post(claim, record, text)


def _post(claim: TicketIntake, record: TicketIntake | TicketOutcomeReply, text: str) -> None:
    """Post `text` on the claim's ticket once; `record` (claimed first) remembers the try and the result."""
    if not tickets.claim_reply(record):
        # Held by a run whose worker died a moment ago (the job came back with its lease):
        # look again once that claim is stale, rather than leave the ticket unanswered.
        raise Retry(settings.WORKER_LEASE_SECONDS, "the reply is claimed by another run")
    rows = type(record).objects.filter(pk=record.pk)
    adapter = claim.panel.adapter()
    try:
        # An earlier try that failed, or whose worker died, may have been carried out all the same
        # (the panel took the reply, the answer was lost): look at the ticket before posting again.
        uncertain = bool(record.reply_error) or record.reply_started is not None
        if uncertain and tickets.reply_on_ticket(adapter, claim, text):
            log.info("reply on ticket %s of panel %s was already posted", claim.ticket_id, claim.panel.code)
        else:
            adapter.reply_ticket(claim.ticket_id, text)
    except PanelError as exc:
        # Released, so the retry can take it again; a permanent error is kept for the owner to see.
        rows.update(reply_started=None, reply_error=str(exc)[:300])
        if exc.temporary:
            raise Retry(max(exc.retry_after or 0, 5.0), str(exc)) from None
        return
    with transaction.atomic():
        rows.update(replied_at=timezone.now(), reply_text=text, reply_error="")
        # The ticket now shows answered: the next poll reads it whole (a message written before ours landed).
        TicketIntake.objects.filter(pk=claim.pk).update(reread_after=timezone.now())


# ----- the team bot --------------------------------------------------------------------


@handler("intake.bot_summary")
def bot_summary(job: Job) -> None:
    """The per-order result, once every order of the staff member's request is final."""
    request = ForwardRequest.objects.filter(pk=job.payload["request"]).first()
    if request is None:
        return
    if request.finished is None and timezone.now() - request.created < REPLY_GIVE_UP:
        raise Retry(REPLY_WAIT, "waiting for every order to be final")
    _send_private(job.payload["connection"], job.payload["chat"], bot.summary(request))


@handler("intake.bot_send")
def bot_send(job: Job) -> None:
    # Answers reach a chat in the order they were written: a 429 or the pacing sends every
    # waiting answer back to the queue with about the same time, so order is kept here.
    earlier = Job.objects.filter(
        kind="intake.bot_send", state__in=(Job.QUEUED, Job.RUNNING), id__lt=job.id,
        payload__connection=job.payload["connection"], payload__chat=job.payload["chat"],
    )  # fmt: skip
    first = earlier.order_by("run_at").values_list("run_at", flat=True).first() if job.id else None
    if first is not None:
        wait = max(ANSWER_ORDER_WAIT, (first - timezone.now()).total_seconds() + ANSWER_ORDER_WAIT)
        raise Retry(wait, "an earlier answer to this chat goes first")
    _send_private(job.payload["connection"], job.payload["chat"], job.payload["text"])


def _send_private(connection_pk: int, chat: str, text: str) -> None:
    """One text to a staff member's private chat, on the one paced send path (transports)."""
    connection = Connection.objects.select_related("workspace").filter(pk=connection_pk, kind="telegram").first()
    if connection is not None:
        send_or_retry(connection, chat, text)
