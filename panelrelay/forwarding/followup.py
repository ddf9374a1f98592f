"""Follow up, then escalate: a sent order nobody answered gets one reminder, then the backup.

`run_follow_ups(now)` runs every minute (job `forwarding.follow_up`) in three steps:

1. **Remind.** An order still *Sent* (no answer, no panel confirmation) for the provider's delay
   (after.follow_up_hours; 0 = never) is listed again in a REMINDER message to the same chat,
   packed like the first message, and shows *Follow-up sent*.
2. **Escalate.** *Follow-up sent* for `escalate_hours` → an ESCALATION message to the provider's
   backup destination (Routing page) and *Escalated*, or *No answer* when it has none; the owner
   is alerted once per batch either way.
3. **Give up.** *Escalated* for `escalate_hours` more → *No answer*.

Only orders of after.awaiting() are followed up: a done or refused answer, or the panel's
confirmation, takes an order out for good. Every move is a guarded after.set_progress, so two
runs at once (a lease that ran out, two workers) send each reminder once.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from panelrelay.core import faults
from panelrelay.forwarding import text
from panelrelay.forwarding.after import awaiting, set_progress
from panelrelay.forwarding.models import Command, ForwardingSettings, Message, Outcome, Progress, RequestOrder
from panelrelay.routing.models import ProviderRoute
from panelrelay.transports.models import Destination
from panelrelay.transports.services import max_length, send_alert
from panelrelay.worker.queue import enqueue

log = logging.getLogger("panelrelay.forwarding")
REMINDER_TEMPLATE = "Reminder — {command} still pending:\n{ids}"
# The backup is often another provider's chat: the text names neither the first provider nor its group.
ESCALATION_TEMPLATE = "Escalation — {command} still pending at the main provider group:\n{ids}"


def run_follow_ups(now: datetime | None = None) -> None:
    """Remind, escalate and give up on every active workspace's unanswered orders that are due."""
    now = now or timezone.now()
    steps = (
        awaiting()
        .filter(workspace__suspended=False)
        .filter(progress__in=(Progress.NONE, Progress.FOLLOW_UP, Progress.ESCALATED))
    )
    for workspace_id in sorted(steps.order_by().values_list("workspace_id", flat=True).distinct()):
        options = ForwardingSettings.objects.get_or_create(workspace_id=workspace_id)[0]
        try:
            remind(options, now)
            escalate(options, now)
            give_up(options, now)
        except Exception:  # one workspace's trouble must not stop everyone else's reminders
            log.exception("follow-ups of workspace %s failed; the next round tries again", workspace_id)


def due_for_reminder(options: ForwardingSettings, now: datetime) -> list[RequestOrder]:
    """Orders still plain *Sent* for longer than their provider's delay (its own, else the workspace's)."""
    base = awaiting(options.workspace_id).filter(progress=Progress.NONE, sent_at__isnull=False)
    own_delays = {
        hours
        for hours in base.filter(provider__follow_up_hours__isnull=False).values_list(
            "provider__follow_up_hours", flat=True
        )
        if hours  # 0: never
    }
    due = Q(pk__in=[])
    if options.follow_up_hours:
        cutoff = now - timedelta(hours=options.follow_up_hours)
        due |= Q(provider__follow_up_hours__isnull=True, sent_at__lte=cutoff)
    for hours in own_delays:
        due |= Q(provider__follow_up_hours=hours, sent_at__lte=now - timedelta(hours=hours))
    return list(base.filter(due).select_related("destination__connection").order_by("id"))


def remind(options: ForwardingSettings, now: datetime) -> int:
    """One reminder per (destination, command), packed like the first message; how many orders moved."""
    groups: dict[tuple[int | None, str], list[RequestOrder]] = defaultdict(list)
    for order in due_for_reminder(options, now):
        groups[(order.destination_id, order.command_slug)].append(order)
    moved = 0
    for (_, slug), orders in groups.items():
        destination = orders[0].destination
        if destination is None:  # deleted since: nobody to remind, the escalation still comes
            moved += set_progress(_ids(orders), Progress.FOLLOW_UP, Outcome.FOLLOW_UP_SENT,
                                  "no reminder: the destination was deleted", follow_up_at=now)  # fmt: skip
            continue
        reason = f"reminder sent to {destination} at {timezone.localtime(now):%H:%M}"
        claimed = _send(Message.REMINDER, REMINDER_TEMPLATE, destination, slug, orders, options,
                        Progress.FOLLOW_UP, Outcome.FOLLOW_UP_SENT, reason, follow_up_at=now)  # fmt: skip
        moved += len(claimed)
    return moved


def escalate(options: ForwardingSettings, now: datetime) -> int:
    """Reminded orders still unanswered after escalate_hours: to the backup destination, or No answer."""
    cutoff = now - timedelta(hours=options.escalate_hours)
    due = list(
        awaiting(options.workspace_id)
        .filter(progress=Progress.FOLLOW_UP, follow_up_at__lte=cutoff)
        .select_related("provider")
        .order_by("id")
    )
    backups = _backups({o.provider_id for o in due if o.provider_id})

    def backup_of(order: RequestOrder) -> Destination | None:
        return backups.get(order.provider_id) if order.provider_id else None

    groups: dict[tuple[int | None, str], list[RequestOrder]] = defaultdict(list)
    for order in due:
        backup = backup_of(order)
        groups[(backup.id if backup else None, order.command_slug)].append(order)
    moved = 0
    for (_, slug), orders in groups.items():
        moved += _escalate_group(options, backup_of(orders[0]), slug, orders, now)
    return moved


def _escalate_group(
    options: ForwardingSettings, backup: Destination | None, slug: str, orders: list[RequestOrder], now: datetime
) -> int:
    word = _word(options, slug)
    if backup is None:
        taken = set_progress(_ids(orders), Progress.NO_ANSWER, Outcome.NO_ANSWER,
                             "no answer after the reminder; no backup destination set")  # fmt: skip
        if taken:
            _alert(options, orders, f"{taken} {word} order(s) got no answer after the reminder "
                   f"from {_aliases(orders)}, and no backup destination is set (Routing): now No answer.")  # fmt: skip
        return taken
    reason = f"escalated to {backup} at {timezone.localtime(now):%H:%M}"
    claimed = _send(Message.ESCALATION, ESCALATION_TEMPLATE, backup, slug, orders, options,
                    Progress.ESCALATED, Outcome.ESCALATED, reason, escalated_at=now)  # fmt: skip
    if claimed:
        _alert(options, [o for o in orders if o.id in claimed], f"{len(claimed)} {word} order(s) got no answer "
               f"after the reminder from {_aliases(orders)}: escalated to the backup destination {backup}.")  # fmt: skip
    return len(claimed)


def give_up(options: ForwardingSettings, now: datetime) -> int:
    """Escalated orders still unanswered after escalate_hours more: No answer (the owner was told)."""
    cutoff = now - timedelta(hours=options.escalate_hours)
    stale = awaiting(options.workspace_id).filter(progress=Progress.ESCALATED, escalated_at__lte=cutoff)
    return set_progress(stale, Progress.NO_ANSWER, Outcome.NO_ANSWER, "no answer after the reminder and the escalation")


def _send(
    kind: str,
    template: str,
    destination: Destination,
    slug: str,
    orders: list[RequestOrder],
    options: ForwardingSettings,
    progress: str,
    outcome: str,
    reason: str,
    **fields: datetime,
) -> set[int]:
    """Pack the orders into messages of `kind` to `destination`; the ids of the orders really claimed."""
    word = _word(options, slug)
    lines = [text.Line(o.id, o.panel_order_id, o.external_id) for o in orders]
    with_panel_id = options.include_panel_ids
    parts = text.pack(template, word, lines, "", with_panel_id, max_length(destination))
    faults.point("forwarding.before_follow_up")
    claimed: set[int] = set()
    for number, part in enumerate(parts, start=1):
        with transaction.atomic():
            got = _claim_into(kind, destination, slug, part, (number, len(parts)), progress, outcome, reason, fields)
            if got is None:
                continue
            message, mine = got
            message.text = text.render(template, word, mine, "", with_panel_id)
            Message.objects.filter(pk=message.pk).update(text=message.text)
            enqueue("forwarding.deliver", {"message": message.id}, workspace=options.workspace,
                    key=f"deliver:{message.id}")  # fmt: skip
        claimed |= {line.order_pk for line in mine}
    return claimed


def _claim_into(
    kind: str,
    destination: Destination,
    slug: str,
    part: list[text.Line],
    numbering: tuple[int, int],
    progress: str,
    outcome: str,
    reason: str,
    fields: dict[str, datetime],
) -> tuple[Message, list[text.Line]] | None:
    """A message of `kind` covering the part's orders that this run moved to `progress`.

    set_progress is the claim: its UPDATE matches only orders still in the step before, so of two
    runs at once the second matches none (on PostgreSQL it waits for the first's row locks and
    re-checks; SQLite runs one writer at a time). The orders this run moved are those in `progress`
    that no other message of this kind covers yet. A message that got none is rolled back.
    """
    wanted = [line.order_pk for line in part]
    with transaction.atomic():
        message = Message.objects.create(
            workspace_id=destination.workspace_id,
            destination=destination,
            destination_label=str(destination)[:120],
            command_slug=slug,
            text="",
            part=numbering[0],
            parts=numbering[1],
            kind=kind,
        )
        if not set_progress(RequestOrder.objects.filter(id__in=wanted), progress, outcome, reason, **fields):
            transaction.set_rollback(True)
            return None
        mine = set(
            RequestOrder.objects.filter(id__in=wanted, progress=progress)
            .exclude(reminders__kind=kind)
            .values_list("id", flat=True)
        )
        message.covers.set(mine)
        return message, [line for line in part if line.order_pk in mine]


def _backups(provider_ids: set[int]) -> dict[int, Destination]:
    routes = ProviderRoute.objects.filter(provider_id__in=provider_ids, backup_destination__isnull=False)
    routes = routes.select_related("backup_destination__connection")
    return {r.provider_id: r.backup_destination for r in routes if r.backup_destination is not None}


def _ids(orders: list[RequestOrder]) -> QuerySet[RequestOrder]:
    return RequestOrder.objects.filter(id__in=[o.id for o in orders])


def _word(options: ForwardingSettings, slug: str) -> str:
    command = Command.objects.filter(workspace_id=options.workspace_id, slug=slug).first()
    return command.word if command else slug.upper()


def _aliases(orders: list[RequestOrder]) -> str:
    return ", ".join(sorted({o.provider_alias for o in orders if o.provider_alias})) or "an unknown provider"


def _alert(options: ForwardingSettings, orders: list[RequestOrder], message: str) -> None:
    # One alert per batch: an order is escalated (or given up) once, so its id names the batch.
    first = min(o.id for o in orders)
    send_alert(options.workspace, message, key=f"follow-up:{first}")
