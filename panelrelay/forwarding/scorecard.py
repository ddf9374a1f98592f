"""The provider scorecard: how each provider answered the orders we sent it.

Per provider and window (7 and 30 days, by when the order was sent): requests (orders sent),
the share answered (any answer: done, refused, working, other), the median and p90 time to
answer (answered_at − sent_at), and the shares confirmed by the panel, refused, and escalated
(sent to the backup destination at some point). The counts are one SQL aggregation; the
percentiles are computed here over the window's answer times (one small row per answered
order, bounded by the window), since SQLite has no percentile function.

The median is the middle answer time (the mean of the two middle ones for an even count); the
p90 is the nearest rank, an answer time that really happened: 90 % of answers came within it.
This is what lets an owner drop a slow provider with evidence.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from panelrelay.forwarding.models import AnswerKind, RequestOrder
from panelrelay.panels.scorecard import GLANCE_DAYS, Glance, duration, percent

WINDOWS = (7, 30)
CHART_DAYS = 30


@dataclass(frozen=True)
class Score:
    days: int
    requests: int = 0
    answered: int = 0
    confirmed: int = 0
    refused: int = 0
    escalated: int = 0
    median: timedelta | None = None
    p90: timedelta | None = None

    def share(self, count: int) -> float | None:
        return count / self.requests if self.requests else None

    def rows(self) -> dict[str, str]:
        """The scorecard's cells, formatted, by row name."""
        return {
            "Requests": str(self.requests),
            "Answered": percent(self.share(self.answered)),
            "Median time to answer": duration(self.median),
            "90 % answered within": duration(self.p90),
            "Confirmed by the panel": percent(self.share(self.confirmed)),
            "Refused": percent(self.share(self.refused)),
            "Escalated": percent(self.share(self.escalated)),
        }


def median(values: list[timedelta]) -> timedelta | None:
    if not values:
        return None
    ordered, middle = sorted(values), len(values) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def p90(values: list[timedelta]) -> timedelta | None:
    """Nearest rank: the smallest answer time that at least 90 % of the answers did not exceed."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[math.ceil(0.9 * len(ordered)) - 1]


def sent(workspace_id: int, provider_ids: list[int], since: datetime) -> QuerySet[RequestOrder]:
    return RequestOrder.objects.filter(
        workspace_id=workspace_id, provider_id__in=provider_ids, state=RequestOrder.SENT, sent_at__gte=since
    )


def waits(orders: QuerySet[RequestOrder]) -> dict[int, list[tuple[datetime, timedelta]]]:
    """Per provider: (sent at, time to answer) of every answered order."""
    found: dict[int, list[tuple[datetime, timedelta]]] = defaultdict(list)
    rows = orders.filter(answered_at__isnull=False).values_list("provider_id", "sent_at", "answered_at")
    for provider_id, sent_at, answered_at in rows:
        if provider_id is not None and sent_at is not None and answered_at is not None:
            # A gateway's clock may put the answer a moment before our own send time.
            found[provider_id].append((sent_at, max(answered_at - sent_at, timedelta(0))))
    return found


def scores(workspace_id: int, provider_ids: list[int], days: int, now: datetime | None = None) -> dict[int, Score]:
    """Each provider's Score over the last `days` days; providers with nothing sent are left out."""
    orders = sent(workspace_id, provider_ids, (now or timezone.now()) - timedelta(days=days))
    counts = orders.values("provider_id").annotate(
        requests=Count("id"),
        answered=Count("id", filter=Q(answered_at__isnull=False)),
        confirmed=Count("id", filter=Q(confirmed_at__isnull=False)),
        refused=Count("id", filter=Q(answer_kind=AnswerKind.REFUSED)),
        escalated=Count("id", filter=Q(escalated_at__isnull=False)),
    )
    times = waits(orders)
    found = {}
    for row in counts.order_by():
        answer_times = [wait for _, wait in times.get(row["provider_id"], [])]
        found[row["provider_id"]] = Score(
            days, row["requests"], row["answered"], row["confirmed"], row["refused"], row["escalated"],
            median=median(answer_times), p90=p90(answer_times),
        )  # fmt: skip
    return found


def glances(workspace_id: int, provider_ids: list[int]) -> dict[int, Glance]:
    """panels.scorecard.SOURCES: the Providers page's column (last 7 days)."""
    found = scores(workspace_id, provider_ids, GLANCE_DAYS)
    return {pid: Glance(s.requests, s.share(s.answered), s.median) for pid, s in found.items()}


@dataclass(frozen=True)
class Day:
    day: date
    answers: int
    median: timedelta | None


def daily(workspace_id: int, provider_id: int, now: datetime | None = None, days: int = CHART_DAYS) -> list[Day]:
    """The median time to answer per day the orders were sent (local dates), oldest first, every day."""
    now = now or timezone.now()
    today = timezone.localtime(now).date()
    first = today - timedelta(days=days - 1)
    since = timezone.make_aware(datetime.combine(first, datetime.min.time()))
    by_day: dict[date, list[timedelta]] = defaultdict(list)
    for sent_at, wait in waits(sent(workspace_id, [provider_id], since)).get(provider_id, []):
        by_day[timezone.localtime(sent_at).date()].append(wait)
    every = [first + timedelta(days=n) for n in range(days)]
    return [Day(d, len(by_day[d]), median(by_day[d])) for d in every]


@dataclass
class Chart:
    """A server-drawn bar chart (SVG coordinates), one bar per day with answers."""

    width: int = 600
    height: int = 150
    top: int = 10
    bottom: int = 130  # the baseline; day labels below it
    left: int = 44
    bars: list[dict[str, object]] = field(default_factory=list)
    scale: str = ""  # the top of the scale, e.g. "2 h"
    first: str = ""
    last: str = ""


def chart(days: list[Day]) -> Chart | None:
    """Bars of the daily median, on a scale from 0 to the slowest day; None when no day had answers."""
    slowest = max((d.median for d in days if d.median is not None), default=None)
    if slowest is None or not days:
        return None
    drawn = Chart(first=days[0].day.strftime("%d %b"), last=days[-1].day.strftime("%d %b"))
    span = max(slowest.total_seconds(), 1.0)
    drawn.scale = duration(slowest)
    step = (drawn.width - drawn.left) / len(days)
    for n, day in enumerate(days):
        if day.median is None:
            continue
        height = max((drawn.bottom - drawn.top) * day.median.total_seconds() / span, 1.0)
        drawn.bars.append({
            "x": round(drawn.left + n * step + step * 0.15, 1), "width": round(step * 0.7, 1),
            "y": round(drawn.bottom - height, 1), "height": round(height, 1),
            "title": f"{day.day:%d %b}: median {duration(day.median)} over {day.answers} answer(s)",
        })  # fmt: skip
    return drawn
