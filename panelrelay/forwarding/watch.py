"""Watching sent orders on their panel: the panel's own status is the truth after a cancel.

Every sent order is looked up on its panel on a schedule counted from its `sent_at` (WATCH_STEPS:
5 min, 15 min, 1 h, 3 h, 6 h, 12 h, then daily) until the workspace's `watch_days` have passed or
the panel confirms it. Counting from `sent_at` rather than from the last look keeps a late worker
from pushing the whole schedule, and lets a thousand orders of one message share every look;
rounding each look up to a coarse grid lets orders sent minutes or hours apart share them too.

What the panel shows (status, remains) is kept on the order at each look. A cancel shows as
Canceled, Refunded or Partial (refunded in part); a "partial" command as Partial: either moves the
order to Confirmed (after.set_progress, which never undoes a confirmation). Refills and speed-ups
have no status of their own on a panel, so for them the status and remains are only recorded.

The panel's 5 requests/s are shared with forwarding's own lookups (the same limiter slot, taken in
`resolve_orders`), and forwarding comes first: a panel with a `forwarding.process` job queued or
running is skipped this round, and a round makes one call (≤ 100 ids) per panel, so a continuation
job waits behind any forwarding job queued meanwhile (the queue runs jobs in `run_at` order).
"""

from __future__ import annotations

import logging
import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.db.models import F, Min, QuerySet
from django.utils import timezone

from panelrelay.forwarding.after import MAY_REPLACE, outcome_known, set_progress
from panelrelay.forwarding.models import ForwardingSettings, ForwardRequest, Outcome, Progress, RequestOrder
from panelrelay.panels.adapters import base
from panelrelay.panels.adapters.base import PanelError
from panelrelay.panels.models import Panel
from panelrelay.panels.services import ResolvedOrder, resolve_orders
from panelrelay.worker.models import Job

log = logging.getLogger("panelrelay.forwarding")

# Offsets from sent_at; after the last one, one look a day (24 h, 48 h, …) up to watch_days.
WATCH_STEPS = (
    timedelta(minutes=5),
    timedelta(minutes=15),
    timedelta(hours=1),
    timedelta(hours=3),
    timedelta(hours=6),
    timedelta(hours=12),
)
DAILY = timedelta(days=1)
GRID_PARTS = 12
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
BATCH = 100  # ids per panel call (the panel's own page size), and per panel per round
PANELS_PER_ROUND = 20  # a round is one job: many panels wait for the next round, not a long job
# Orders taken by a round are hidden this long from other rounds: two workers never look twice,
# and a round cut short (a killed worker) is looked at again after it.
CLAIM = timedelta(minutes=10)
# The panel statuses that confirm a command happened (normalised statuses of adapters/base.py).
CONFIRMS: dict[str, tuple[str, ...]] = {
    "cancel": (base.CANCELED, base.REFUNDED, base.PARTIAL),  # Partial: cancelled with a partial refund
    "partial": (base.PARTIAL,),
}
CONFIRMED_REASON = {"cancel": "the panel shows it canceled", "partial": "the panel shows it partial"}
DEFAULT_WATCH_DAYS = 3  # ForwardingSettings.watch_days of a workspace that never saved its settings
NOT_FOUND = "Not found in the panel"
PANEL_GONE = "Panel deleted"


@dataclass
class WatchRound:
    """What one round did: panel calls, orders looked at, changed and confirmed."""

    calls: int = 0
    looked: int = 0
    changed: int = 0
    confirmed: list[int] = field(default_factory=list)
    skipped_panels: int = 0  # busy with forwarding, turned off, or failing
    more: bool = False  # a panel had more due orders than one batch: run again soon


def next_watch(sent_at: datetime, now: datetime, watch_days: int) -> datetime | None:
    """The first look of the schedule after `now`, or None once it would pass watch_days."""
    age = now - sent_at
    step = next((s for s in WATCH_STEPS if s > age), None)
    if step is None:
        step = DAILY * (age // DAILY + 1)
    if step > timedelta(days=watch_days):
        return None
    # Rounded up to a grid of 1/12 of the step (25 s … 2 h at 24 h), the same for every order: a
    # look comes at most 8 % late, and orders sent over the same stretch of time share its calls.
    return _round_up(sent_at + step, step / GRID_PARTS)


def _round_up(moment: datetime, grid: timedelta) -> datetime:
    rest = (moment - EPOCH) % grid
    return moment + (grid - rest) if rest else moment


def due(now: datetime) -> QuerySet[RequestOrder]:
    return RequestOrder.objects.filter(
        state=RequestOrder.SENT, next_watch_at__lte=now, workspace__suspended=False
    ).exclude(progress=Progress.CONFIRMED)


def watch_due(now: datetime | None = None, limit_panels: int = PANELS_PER_ROUND) -> WatchRound:
    """One round: for each panel with due orders (oldest first, not busy forwarding), one batch."""
    now = now or timezone.now()
    result = WatchRound()
    _stop_orphans(now)
    panels = list(
        due(now).filter(request__panel__isnull=False)
        .values_list("request__panel_id").annotate(first=Min("next_watch_at")).order_by("first")
    )  # fmt: skip
    busy = _busy_panels()
    for panel_id, _ in panels:
        if result.calls >= limit_panels:
            result.more = True
            break
        panel = Panel.objects.filter(pk=panel_id).first()
        if panel is None or panel_id in busy or not panel.enabled:
            result.skipped_panels += 1
            if panel is not None and not panel.enabled:
                _postpone(due(now).filter(request__panel_id=panel_id), now)
            continue
        _watch_panel(panel, now, result)
    if result.confirmed:
        outcome_known(result.confirmed)
    return result


def _busy_panels() -> set[int]:
    """Panels whose orders forwarding is looking up: their calls go first this round."""
    jobs = Job.objects.filter(kind="forwarding.process", state__in=(Job.QUEUED, Job.RUNNING))
    request_ids = [job.payload.get("request") for job in jobs.only("payload")]
    rows = ForwardRequest.objects.filter(id__in=[r for r in request_ids if r]).values_list("panel_id", flat=True)
    return {panel_id for panel_id in rows if panel_id}


def _stop_orphans(now: datetime) -> None:
    """Orders whose panel was deleted can no longer be looked up: stop watching them."""
    due(now).filter(request__panel__isnull=True).update(
        next_watch_at=None, watched_status=PANEL_GONE, watched_at=now, updated=timezone.now()
    )


def _watch_panel(panel: Panel, now: datetime, result: WatchRound) -> None:
    orders = _claim(due(now).filter(request__panel_id=panel.pk), now)
    if not orders:
        return
    result.more = result.more or due(now).filter(request__panel_id=panel.pk).exists()
    watch_days = _watch_days(orders)
    result.calls += 1
    try:
        found = resolve_orders(panel, sorted({o.panel_order_id for o in orders}))
    except PanelError as exc:  # temporary or not, nothing fails: the next step of the schedule tries again
        log.info("panel %s: watching %s order(s) postponed: %s", panel.code, len(orders), exc)
        result.skipped_panels += 1
        _postpone(RequestOrder.objects.filter(id__in=[o.id for o in orders]), now, watch_days)
        return
    result.looked += len(orders)
    _record(orders, found, now, watch_days, result)


def _claim(candidates: QuerySet[RequestOrder], now: datetime) -> list[RequestOrder]:
    """Take up to BATCH due orders for this round; a racing round gets the others (or none)."""
    ids = list(candidates.order_by("next_watch_at", "id").values_list("id", flat=True)[:BATCH])
    # A moment no other round picks: the UPDATE's WHERE repeats the due test, so the rows that
    # carry our moment afterwards are exactly the ones this round won.
    mark = now + CLAIM + timedelta(microseconds=random.randrange(1, 10**6))
    candidates.filter(id__in=ids).update(next_watch_at=mark)
    return list(
        RequestOrder.objects.filter(id__in=ids, next_watch_at=mark).only(
            "id", "workspace_id", "panel_order_id", "command_slug", "sent_at", "watched_status", "watched_remains"
        )
    )


def _watch_days(orders: list[RequestOrder]) -> dict[int, int]:
    workspaces = {o.workspace_id for o in orders}
    rows = ForwardingSettings.objects.filter(workspace_id__in=workspaces).values_list("workspace_id", "watch_days")
    days = dict(rows)
    return {ws: days.get(ws, DEFAULT_WATCH_DAYS) for ws in workspaces}


def _postpone(orders: QuerySet[RequestOrder], now: datetime, watch_days: dict[int, int] | None = None) -> None:
    """The panel could not be asked: the order's next step of the schedule asks again."""
    rows = list(orders.only("id", "workspace_id", "sent_at"))
    watch_days = watch_days or _watch_days(rows)
    groups: dict[datetime | None, list[int]] = defaultdict(list)
    for order in rows:
        groups[next_watch(order.sent_at or now, now, watch_days[order.workspace_id])].append(order.id)
    for when, ids in groups.items():
        RequestOrder.objects.filter(id__in=ids).update(next_watch_at=when)


def _record(
    orders: list[RequestOrder],
    found: dict[str, ResolvedOrder],
    now: datetime,
    watch_days: dict[int, int],
    result: WatchRound,
) -> None:
    """Keep what the panel shows on each order, in one UPDATE per distinct outcome, then confirm."""
    groups: dict[tuple[str, str, datetime | None], list[int]] = defaultdict(list)
    confirming: dict[str, list[int]] = defaultdict(list)
    for order in orders:
        panel_order = found.get(order.panel_order_id)
        if panel_order is None:  # deleted on the panel, or never there: nothing more to see
            groups[(NOT_FOUND, "", None)].append(order.id)
            continue
        status, remains = panel_order.status_label, _remains(panel_order)
        if (status, remains) != (order.watched_status, order.watched_remains):
            result.changed += 1
        when = next_watch(order.sent_at or now, now, watch_days[order.workspace_id])
        groups[(status, remains, when)].append(order.id)
        if panel_order.status in CONFIRMS.get(order.command_slug, ()):
            confirming[order.command_slug].append(order.id)
    for (status, remains, when), ids in groups.items():
        RequestOrder.objects.filter(id__in=ids, state=RequestOrder.SENT).update(
            watched_status=status[:40], watched_remains=remains, watched_at=now, next_watch_at=when,
            watch_count=F("watch_count") + 1, updated=timezone.now(),
        )  # fmt: skip
    for slug, ids in confirming.items():
        result.confirmed += _confirm(ids, CONFIRMED_REASON[slug], now)


def _remains(order: ResolvedOrder) -> str:
    return "" if order.remains is None else str(order.remains)[:20]


def _confirm(ids: list[int], reason: str, now: datetime) -> list[int]:
    """Confirm these orders where their progress allows it; the ids that moved."""
    movable = RequestOrder.objects.filter(id__in=ids, progress__in=MAY_REPLACE[Progress.CONFIRMED])
    moving = list(movable.values_list("id", flat=True))
    set_progress(
        RequestOrder.objects.filter(id__in=moving), Progress.CONFIRMED, Outcome.CONFIRMED, reason,
        confirmed_at=now, next_watch_at=None,
    )  # fmt: skip
    confirmed = RequestOrder.objects.filter(id__in=moving, progress=Progress.CONFIRMED, confirmed_at=now)
    return list(confirmed.values_list("id", flat=True))
