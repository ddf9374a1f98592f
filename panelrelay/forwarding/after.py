"""After the message: where a sent order stands with its provider and its panel.

A sent order (state `sent`) then moves through `progress` (models.Progress): the provider's
answer (forwarding/answers.py), the panel's status (forwarding/watch.py), our reminder and
escalation (forwarding/followup.py). Each of those writes through `set_progress`, one UPDATE
guarded by where the order stands, so two workers (or a late answer and a reminder) cannot
undo each other: a confirmed order stays confirmed whatever arrives later.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from panelrelay.forwarding.models import ForwardingSettings, Progress, RequestOrder

FIRST_WATCH = timedelta(minutes=5)  # the first look at the panel after a send
# Which progress may be replaced by which: an answer or a confirmation ends the follow-up chain;
# nothing replaces a confirmation.
MAY_REPLACE: dict[str, tuple[str, ...]] = {
    Progress.ANSWERED: (Progress.NONE, Progress.ANSWERED, Progress.FOLLOW_UP, Progress.ESCALATED, Progress.NO_ANSWER),
    Progress.CONFIRMED: (Progress.NONE, Progress.ANSWERED, Progress.FOLLOW_UP, Progress.ESCALATED, Progress.NO_ANSWER),
    Progress.FOLLOW_UP: (Progress.NONE,),
    Progress.ESCALATED: (Progress.FOLLOW_UP,),
    Progress.NO_ANSWER: (Progress.FOLLOW_UP, Progress.ESCALATED),
}


# Apps above forwarding that act when a provider's outcome becomes known (intake: the second
# ticket reply) join here from their AppConfig.ready(); forwarding imports none of them.
OUTCOME_RECEIVERS: list[Callable[[list[int]], None]] = []


def outcome_known(order_ids: list[int]) -> None:
    """Orders whose outcome is now known (answered done or refused, or confirmed by the panel)."""
    if order_ids:
        for receiver in list(OUTCOME_RECEIVERS):
            receiver(order_ids)


def set_progress(orders: QuerySet[RequestOrder], progress: str, outcome: str, reason: str, **fields: Any) -> int:
    """Move sent orders to `progress` where their current progress allows it; returns how many moved."""
    allowed = MAY_REPLACE[progress]
    return orders.filter(state=RequestOrder.SENT, progress__in=allowed).update(
        progress=progress, outcome=outcome, reason=reason[:300], updated=timezone.now(), **fields
    )


def awaiting(workspace_id: int | None = None) -> QuerySet[RequestOrder]:
    """Sent orders nobody has settled yet: no answer that ends it (done / refused), not confirmed."""
    qs = RequestOrder.objects.filter(state=RequestOrder.SENT).filter(
        Q(progress__in=(Progress.NONE, Progress.FOLLOW_UP, Progress.ESCALATED))
        | Q(progress=Progress.ANSWERED, answer_kind__in=("working", "other"))
    )
    return qs if workspace_id is None else qs.filter(workspace_id=workspace_id)


def first_watch(sent_at: datetime) -> datetime:
    return sent_at + FIRST_WATCH


def follow_up_hours(settings: ForwardingSettings, provider_hours: int | None) -> int:
    """The provider's own reminder delay, else the workspace's (0: no reminders)."""
    return settings.follow_up_hours if provider_hours is None else provider_hours
