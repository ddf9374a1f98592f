"""The home page's dashboard: the last 30 days of one workspace, in charts an owner can read at a glance.

What it shows: requests and orders per day by command (stacked bars), the outcome mix (sent,
skipped by reason code, failed, still open), the top providers by volume and by failure share,
the median time from request to sent, and per provider the share of sent orders answered and
the median time to answer (the close-the-loop data).

How it stays fast with a million orders: a constant number of aggregate queries (five), each over
the window's requests only — found by the (workspace, -created) index of ForwardRequest — and
their orders by the (request, state) index; nothing scans every order of the workspace. The
orders' figures are one GROUP BY (day, command, state, outcome, provider) folded here into every
chart. Medians are computed by PostgreSQL (percentile_cont over intervals); SQLite, which has
none, gets the window's durations and takes the median here (small databases only).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import Aggregate, Count, DurationField, ExpressionWrapper, F, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from panelrelay.forwarding.models import ForwardRequest, Outcome, RequestOrder
from panelrelay.forwarding.scorecard import median
from panelrelay.panels.scorecard import duration, percent

DAYS = 30
TOP = 6  # providers in each top list
MIN_ORDERS_FOR_SHARE = 5  # a provider needs this many orders to rank by failure share
PALETTE = 6  # chart-c0 … chart-c5 in app.css; more commands share the last colour
OPEN_STATES = (RequestOrder.PENDING, RequestOrder.QUEUED, RequestOrder.RETRYING, RequestOrder.WAITING)


class _Median(Aggregate):
    """PostgreSQL's percentile_cont(0.5): the median of an interval, computed in the database."""

    function = "percentile_cont"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = DurationField()


def _between(end: str, start: str) -> ExpressionWrapper:
    return ExpressionWrapper(F(end) - F(start), output_field=DurationField())


@dataclass(frozen=True)
class Segment:
    label: str
    count: int
    css: str  # a chart-* class: its fill
    x: float = 0.0  # where it starts, 0–100 (for the one-line stacked bar)
    width: float = 0.0


@dataclass(frozen=True)
class DayBar:
    day: date
    total: int
    segments: list[Segment]  # bottom to top, x = y offset, width = height, in 0–100 of the chart

    @property
    def title(self) -> str:
        parts = ", ".join(f"{s.label} {s.count:,}" for s in self.segments if s.count)
        return f"{self.day:%a %d %b}: {self.total:,}" + (f" ({parts})" if parts else "")


@dataclass(frozen=True)
class DayChart:
    bars: list[DayBar]
    peak: int
    legend: list[Segment]
    bar_width: float  # in the 0–100 view box

    @property
    def total(self) -> int:
        return sum(b.total for b in self.bars)

    def columns(self) -> list[tuple[float, DayBar]]:
        return [(i * 100 / len(self.bars), bar) for i, bar in enumerate(self.bars)]


@dataclass(frozen=True)
class ProviderRow:
    alias: str
    orders: int
    failed: int
    sent: int = 0
    answered: int = 0
    answer_median: timedelta | None = None
    bar: float = 0.0  # 0–100: this row's bar in its list

    @property
    def failure_share(self) -> float:
        return self.failed / self.orders if self.orders else 0.0

    @property
    def failure_text(self) -> str:
        return percent(self.failure_share)

    @property
    def answer_share(self) -> float | None:
        return self.answered / self.sent if self.sent else None

    @property
    def answer_text(self) -> str:
        return percent(self.answer_share)

    @property
    def answer_time_text(self) -> str:
        return duration(self.answer_median)


@dataclass
class Dashboard:
    since: datetime
    days: list[date]
    requests: DayChart
    orders: DayChart
    outcomes: list[Segment] = field(default_factory=list)
    by_volume: list[ProviderRow] = field(default_factory=list)
    by_failure: list[ProviderRow] = field(default_factory=list)
    answers: list[ProviderRow] = field(default_factory=list)
    to_sent: timedelta | None = None
    sent: int = 0

    @property
    def empty(self) -> bool:
        return not self.requests.total

    @property
    def to_sent_text(self) -> str:
        return duration(self.to_sent)

    @property
    def sent_share_text(self) -> str:
        return percent(self.sent / self.orders.total if self.orders.total else None)


def _day_chart(days: list[date], counts: dict[date, Counter[str]], order: list[str]) -> DayChart:
    colour = {name: f"chart-c{min(i, PALETTE - 1)}" for i, name in enumerate(order)}
    peak = max((sum(c.values()) for c in counts.values()), default=0)
    bars = []
    for day in days:
        stack, y = [], 0.0
        for name in order:
            n = counts.get(day, Counter()).get(name, 0)
            if n:
                height = n * 100 / peak
                stack.append(Segment(name, n, colour[name], x=100 - y - height, width=height))
                y += height
        bars.append(DayBar(day, sum(counts.get(day, Counter()).values()), stack))
    legend = [Segment(name, sum(c.get(name, 0) for c in counts.values()), colour[name]) for name in order]
    return DayChart(bars, peak, legend, bar_width=100 / len(days) * 0.72)


def _in_window(workspace_id: int, since: datetime) -> QuerySet[RequestOrder]:
    # Through the request: its (workspace, -created) index picks the window's requests, and
    # each request's orders come by the (request, state) index.
    return RequestOrder.objects.filter(request__workspace_id=workspace_id, request__created__gte=since)


def _medians(qs: QuerySet[RequestOrder], end: str, start: str, by: str | None = None) -> dict[Any, timedelta | None]:
    """The median of end − start over qs (per `by`), in the database on PostgreSQL."""
    qs = qs.filter(**{f"{end}__isnull": False})
    if connection.vendor == "postgresql":
        if by is None:
            return {None: qs.aggregate(m=_Median(_between(end, start)))["m"]}
        return {row[by]: row["m"] for row in qs.values(by).annotate(m=_Median(_between(end, start))).order_by()}
    spans: dict[Any, list[timedelta]] = defaultdict(list)
    fields = [end, start] + ([by] if by else [])
    for row in qs.values_list(*fields):
        spans[row[2] if by else None].append(row[0] - row[1])
    return {key: median(values) for key, values in spans.items()}


def _outcomes(rows: list[dict[str, Any]]) -> list[Segment]:
    """Sent, then each skip reason, then failures, then what is still open: one stacked line."""
    sent, skipped, failed, open_ = 0, Counter[str](), Counter[str](), 0
    for row in rows:
        if row["state"] == RequestOrder.SENT:
            sent += row["n"]
        elif row["state"] == RequestOrder.SKIPPED:
            skipped[row["outcome"]] += row["n"]
        elif row["state"] == RequestOrder.FAILED:
            failed[row["outcome"]] += row["n"]
        else:
            open_ += row["n"]
    label = dict(Outcome.choices)
    parts = [Segment("Sent", sent, "chart-sent")] if sent else []
    parts += [
        Segment(f"Skipped: {label.get(k, k)}", n, f"chart-skip{min(i, 3)}")
        for i, (k, n) in enumerate(skipped.most_common())
    ]
    parts += [Segment(f"Failed: {label.get(k, k)}", n, "chart-failed") for k, n in failed.most_common()]
    if open_:
        parts.append(Segment("Still open (looking up, queued, retrying, needs a route)", open_, "chart-open"))
    total, x, placed = sum(p.count for p in parts), 0.0, []
    for p in parts:
        width = p.count * 100 / total if total else 0
        placed.append(Segment(p.label, p.count, p.css, x=x, width=width))
        x += width
    return placed


def _providers(rows: list[dict[str, Any]]) -> tuple[list[ProviderRow], list[ProviderRow]]:
    orders, failed = Counter[str](), Counter[str]()
    for row in rows:
        if row["provider_alias"]:
            orders[row["provider_alias"]] += row["n"]
            if row["state"] == RequestOrder.FAILED:
                failed[row["provider_alias"]] += row["n"]
    volume = [ProviderRow(a, n, failed[a]) for a, n in orders.most_common(TOP)]
    peak = volume[0].orders if volume else 1
    volume = [ProviderRow(r.alias, r.orders, r.failed, bar=r.orders * 100 / peak) for r in volume]
    ranked = sorted(
        (ProviderRow(a, n, failed[a]) for a, n in orders.items() if n >= MIN_ORDERS_FOR_SHARE and failed[a]),
        key=lambda r: (-r.failure_share, -r.orders, r.alias),
    )[:TOP]
    worst = [ProviderRow(r.alias, r.orders, r.failed, bar=r.failure_share * 100) for r in ranked]
    return volume, worst


def _answers(workspace_id: int, since: datetime) -> list[ProviderRow]:
    sent = _in_window(workspace_id, since).filter(state=RequestOrder.SENT).exclude(provider_alias="")
    counts = list(
        sent.values("provider_alias").annotate(n=Count("id"), answered=Count("answered_at")).order_by("-n")[:12]
    )
    times = _medians(sent.filter(provider_alias__in=[c["provider_alias"] for c in counts]), "answered_at", "sent_at",
                     by="provider_alias")  # fmt: skip
    rows = [
        ProviderRow(
            c["provider_alias"],
            c["n"],
            0,
            sent=c["n"],
            answered=c["answered"],
            answer_median=times.get(c["provider_alias"]),
        )  # fmt: skip
        for c in counts
    ]
    return [
        ProviderRow(r.alias, r.orders, 0, r.sent, r.answered, r.answer_median, bar=(r.answer_share or 0) * 100)
        for r in rows
    ]


def dashboard(workspace_id: int, now: datetime | None = None) -> Dashboard:
    """The last DAYS days (today included) of one workspace."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    days = [today - timedelta(days=DAYS - 1 - i) for i in range(DAYS)]
    since = timezone.make_aware(datetime.combine(days[0], datetime.min.time()))

    requests = (
        ForwardRequest.objects.filter(workspace_id=workspace_id, created__gte=since)
        .annotate(day=TruncDate("created"))
        .values("day", "command_label")
        .annotate(n=Count("id"))
        .order_by()
    )
    per_day: dict[date, Counter[str]] = defaultdict(Counter)
    commands = Counter[str]()
    for row in requests:
        per_day[row["day"]][row["command_label"]] += row["n"]
        commands[row["command_label"]] += row["n"]

    rows = list(
        _in_window(workspace_id, since)
        .annotate(day=TruncDate("request__created"), command=F("request__command_label"))
        .values("day", "command", "state", "outcome", "provider_alias")
        .annotate(n=Count("id"))
        .order_by()
    )
    orders_per_day: dict[date, Counter[str]] = defaultdict(Counter)
    for row in rows:
        orders_per_day[row["day"]][row["command"]] += row["n"]
        commands[row["command"]] += 0

    order = [name for name, _ in commands.most_common()]
    board = Dashboard(
        since=since,
        days=days,
        requests=_day_chart(days, per_day, order),
        orders=_day_chart(days, orders_per_day, order),
    )
    if board.empty:
        return board
    board.outcomes = _outcomes(rows)
    board.sent = sum(r["n"] for r in rows if r["state"] == RequestOrder.SENT)
    board.by_volume, board.by_failure = _providers(rows)
    sent = _in_window(workspace_id, since).filter(state=RequestOrder.SENT)
    board.to_sent = _medians(sent, "sent_at", "request__created").get(None)
    board.answers = _answers(workspace_id, since)
    return board
