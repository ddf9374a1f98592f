"""Daily tallies of one workspace's orders, for the home dashboard (forwarding/dashboard.py).

Counting a month of orders on every view is ~80,000 rows a month at a year's pace; a day's tally is
~100 rows. Every day before today is tallied (today is always counted live: its orders still
move) into DailyTally rows: orders and answers by (the request's
command, provider alias, state, outcome), plus the durations request → sent and sent → answer as
histograms of logarithmic buckets (BASE = 1.1: a bucket's middle is within 5 % of any duration in
it), from which the month's medians are read (within 5 %).

A tally never goes stale silently: every order change sets RequestOrder.updated, and each view
first looks at the orders of this workspace changed since the last look (the (workspace, updated)
index; TallyMark keeps the time, minus a margin for a transaction still open) and drops the tally
of every day they belong to; that day is counted again. A late answer, an order sent from Needs a
route a week later, a retry that finally fails: each lands in its day's figures on the next view.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db import IntegrityError, connection, transaction
from django.db.models import Count, DurationField, ExpressionWrapper, F, Func, IntegerField, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from panelrelay.forwarding.models import DailyTally, RequestOrder, TallyDay, TallyMark

FREEZE_DAYS = 1  # today is counted live; earlier days come from their tallies
BASE = 1.1
MARGIN = timedelta(minutes=5)  # a change committed this late after its `updated` time is still seen

Key = tuple[str, str, str, str]  # (command label, provider alias, state, outcome)


def bucket(seconds: float) -> int:
    return int(math.log1p(max(seconds, 0.0)) / math.log(BASE))


def bucket_middle(index: int) -> timedelta:
    """The geometric middle of a bucket: within 5 % of every duration in it."""
    low, high = BASE**index, BASE ** (index + 1)
    return timedelta(seconds=math.sqrt(low * high) - 1)


@dataclass
class Cell:
    """One (command, provider, state, outcome) of one day or of the live days."""

    orders: int = 0
    answered: int = 0
    to_sent: Counter[int] = field(default_factory=Counter)
    to_answer: Counter[int] = field(default_factory=Counter)


def _bucket_sql(end: str, start: str) -> Func:
    """PostgreSQL computes bucket() of end − start itself, so only grouped rows come back."""
    return Func(
        ExpressionWrapper(F(end) - F(start), output_field=DurationField()),
        # GREATEST ignores NULLs on PostgreSQL: a missing end (not answered) must stay NULL, not bucket 0.
        template=f"floor(ln(1 + greatest(extract(epoch from %(expressions)s), 0 * extract(epoch from %(expressions)s)))"
        f" / ln({BASE}))::int",
        output_field=IntegerField(),
    )


def count(orders: QuerySet[RequestOrder]) -> dict[tuple[date, Key], Cell]:
    """Orders counted by (day of the request, key), with their duration histograms. On PostgreSQL
    one GROUP BY that also groups by the durations' buckets; elsewhere (SQLite: tests and small
    installs) the orders are read as tuples and counted here."""
    cells: dict[tuple[date, Key], Cell] = {}
    orders = orders.order_by().annotate(day=TruncDate("request__created"))
    key_fields = ("day", "request__command_label", "provider_alias", "state", "outcome")
    if connection.vendor == "postgresql":
        grouped = (
            orders.annotate(sb=_bucket_sql("sent_at", "request__created"), ab=_bucket_sql("answered_at", "sent_at"))
            .values_list(*key_fields, "sb", "ab")
            .annotate(n=Count("id"))
        )
        for day, command, alias, state, outcome, sb, ab, n in grouped:
            cell = cells.setdefault((day, (command, alias, state, outcome)), Cell())
            cell.orders += n
            if sb is not None and state == RequestOrder.SENT:
                cell.to_sent[sb] += n
                if ab is not None:
                    cell.answered += n
                    cell.to_answer[ab] += n
        return cells
    for day, command, alias, state, outcome, created, sent_at, answered_at in orders.values_list(
        *key_fields, "request__created", "sent_at", "answered_at"
    ):
        cell = cells.setdefault((day, (command, alias, state, outcome)), Cell())
        cell.orders += 1
        if sent_at is not None and state == RequestOrder.SENT:
            cell.to_sent[bucket((sent_at - created).total_seconds())] += 1
            if answered_at is not None:
                cell.answered += 1
                cell.to_answer[bucket((answered_at - sent_at).total_seconds())] += 1
    return cells


def _day_range(day: date) -> tuple[datetime, datetime]:
    start = timezone.make_aware(datetime.combine(day, datetime.min.time()))
    return start, timezone.make_aware(datetime.combine(day + timedelta(days=1), datetime.min.time()))


def orders_between(workspace_id: int, start: datetime, end: datetime | None = None) -> QuerySet[RequestOrder]:
    # Through the request: its (workspace, -created) index picks the requests, their orders come by
    # the (request, state) index.
    qs = RequestOrder.objects.filter(request__workspace_id=workspace_id, request__created__gte=start)
    return qs.filter(request__created__lt=end) if end is not None else qs


def drop_changed(workspace_id: int, before: date) -> None:
    """Drop the tallies of days (before `before`) whose orders changed since the last look."""
    now = timezone.now()
    mark, created = TallyMark.objects.get_or_create(workspace_id=workspace_id, defaults={"checked_until": now})
    if created:
        return
    first, _ = _day_range(before)
    changed = (
        RequestOrder.objects.filter(workspace_id=workspace_id, updated__gt=mark.checked_until - MARGIN)
        .filter(request__created__lt=first)
        .annotate(day=TruncDate("request__created"))
        .order_by()
        .values_list("day", flat=True)
        .distinct()
    )
    days = list(changed)
    if days:
        with transaction.atomic():
            TallyDay.objects.filter(workspace_id=workspace_id, day__in=days).delete()
            DailyTally.objects.filter(workspace_id=workspace_id, day__in=days).delete()
    TallyMark.objects.filter(pk=mark.pk).update(checked_until=now)


def build(workspace_id: int, day: date) -> None:
    """Count one day and store it; a day another process is counting right now is left to it."""
    start, end = _day_range(day)
    cells = count(orders_between(workspace_id, start, end))
    rows = [
        DailyTally(
            workspace_id=workspace_id,
            day=day,
            command_label=command,
            provider_alias=alias,
            state=state,
            outcome=outcome,
            orders=cell.orders,
            answered=cell.answered,
            to_sent=dict(cell.to_sent),
            to_answer=dict(cell.to_answer),
        )  # fmt: skip
        for (_day, (command, alias, state, outcome)), cell in cells.items()
    ]
    try:
        with transaction.atomic():
            TallyDay.objects.create(workspace_id=workspace_id, day=day)
            DailyTally.objects.bulk_create(rows)
    except IntegrityError:
        pass  # built meanwhile by another view


@dataclass
class Month:
    """Tallied days folded: orders per day by command, and the cells of the whole span by key."""

    per_day: dict[date, Counter[str]] = field(default_factory=dict)
    cells: dict[Key, Cell] = field(default_factory=dict)

    def add(self, counted: dict[tuple[date, Key], Cell]) -> None:
        """Fold in cells counted live (today's)."""
        for (day, key), cell in counted.items():
            self.per_day.setdefault(day, Counter())[key[0]] += cell.orders
            into = self.cells.setdefault(key, Cell())
            into.orders += cell.orders
            into.answered += cell.answered
            into.to_sent.update(cell.to_sent)
            into.to_answer.update(cell.to_answer)


def tallied(workspace_id: int, days: list[date]) -> Month:
    """The tallies of these (past) days, building those not built yet, summed by the database: per
    day by command, and per key over all the days; only sent cells' histograms are decoded here."""
    drop_changed(workspace_id, before=days[-1] + timedelta(days=1))
    have = set(TallyDay.objects.filter(workspace_id=workspace_id, day__in=days).values_list("day", flat=True))
    for day in days:
        if day not in have:
            build(workspace_id, day)
    month = Month()
    tallies = DailyTally.objects.filter(workspace_id=workspace_id, day__in=days).order_by()
    for day, command, n in tallies.values_list("day", "command_label").annotate(n=Sum("orders")):
        month.per_day.setdefault(day, Counter())[command] += n
    keys = tallies.values_list("command_label", "provider_alias", "state", "outcome")
    for command, alias, state, outcome, n, answered in keys.annotate(n=Sum("orders"), a=Sum("answered")):
        month.cells[(command, alias, state, outcome)] = Cell(orders=n, answered=answered)
    spans = tallies.filter(state=RequestOrder.SENT).values_list(
        "command_label", "provider_alias", "outcome", "to_sent", "to_answer"
    )
    for command, alias, outcome, to_sent, to_answer in spans:
        cell = month.cells[(command, alias, RequestOrder.SENT, outcome)]
        cell.to_sent.update({int(k): v for k, v in to_sent.items()})
        cell.to_answer.update({int(k): v for k, v in to_answer.items()})
    return month


def median_of(cells: Iterable[Cell], which: str) -> timedelta | None:
    """The median duration (which: "sent" or "answer") over cells, within 5 %: the middle of the
    median's bucket (of the two middle buckets' middles for an even count)."""
    hist: Counter[int] = Counter()
    for cell in cells:
        hist.update(cell.to_sent if which == "sent" else cell.to_answer)
    total = sum(hist.values())
    if not total:
        return None
    ordered_buckets = sorted(hist)

    def at_rank(rank: int) -> timedelta:  # the bucket middle of the rank-th duration (1-based)
        seen = 0
        for index in ordered_buckets:
            seen += hist[index]
            if seen >= rank:
                return bucket_middle(index)
        raise AssertionError("rank beyond the histogram")  # pragma: no cover

    return (at_rank((total + 1) // 2) + at_rank(total // 2 + 1)) / 2
