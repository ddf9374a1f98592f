"""The home page's dashboard: the last 30 days of one workspace, in charts an owner can read at a glance.

What it shows: requests and orders per day by command (stacked bars), the outcome mix (sent,
skipped by reason code, failed, still open), the top providers by volume and by failure share,
the median time from request to sent, and per provider the share of sent orders answered and
the median time to answer (the close-the-loop data).

How it stays fast with a million orders: the month's requests are one GROUP BY over the
(workspace, -created) index (~800 rows at a year's pace); the orders of the days before today come
from their daily tallies (forwarding/tally.py: ~100 rows a day, each day counted once and counted
again when one of its orders changes), and only today's orders are read here. A constant number of queries per view, whatever the size of the month.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Count
from django.db.models.functions import TruncDate
from django.utils import timezone

from panelrelay.forwarding.models import ForwardRequest, Outcome, RequestOrder
from panelrelay.forwarding.tally import FREEZE_DAYS, Cell, Key, count, median_of, orders_between, tallied
from panelrelay.panels.scorecard import duration, percent

DAYS = 30
TOP = 6  # providers in each top list
ANSWER_ROWS = 12  # providers in the answers table
MIN_ORDERS_FOR_SHARE = 5  # a provider needs this many orders to rank by failure share
PALETTE = 6  # chart-c0 … chart-c5 in app.css; more commands share the last colour


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


def _outcomes(cells: dict[Key, Cell]) -> list[Segment]:
    """Sent, then each skip reason, then failures, then what is still open: one stacked line."""
    sent, skipped, failed, open_ = 0, Counter[str](), Counter[str](), 0
    for (_command, _alias, state, outcome), cell in cells.items():
        if state == RequestOrder.SENT:
            sent += cell.orders
        elif state == RequestOrder.SKIPPED:
            skipped[outcome] += cell.orders
        elif state == RequestOrder.FAILED:
            failed[outcome] += cell.orders
        else:
            open_ += cell.orders
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


def _providers(cells: dict[Key, Cell]) -> tuple[list[ProviderRow], list[ProviderRow], list[ProviderRow]]:
    """The busiest providers, those failing most, and each busy provider's answers."""
    orders, failed, sent, answered = Counter[str](), Counter[str](), Counter[str](), Counter[str]()
    answer_cells: dict[str, list[Cell]] = defaultdict(list)
    for (_command, alias, state, _outcome), cell in cells.items():
        if not alias:
            continue  # not looked up, or not found: no provider to rank
        orders[alias] += cell.orders
        if state == RequestOrder.FAILED:
            failed[alias] += cell.orders
        elif state == RequestOrder.SENT:
            sent[alias] += cell.orders
            answered[alias] += cell.answered
            answer_cells[alias].append(cell)
    top = orders.most_common(TOP)
    peak = top[0][1] if top else 1
    volume = [ProviderRow(a, n, failed[a], bar=n * 100 / peak) for a, n in top]
    ranked = sorted(
        (ProviderRow(a, n, failed[a]) for a, n in orders.items() if n >= MIN_ORDERS_FOR_SHARE and failed[a]),
        key=lambda r: (-r.failure_share, -r.orders, r.alias),
    )[:TOP]
    worst = [ProviderRow(r.alias, r.orders, r.failed, bar=r.failure_share * 100) for r in ranked]
    answers = []
    for alias, n in sent.most_common(ANSWER_ROWS):
        row = ProviderRow(alias, n, 0, sent=n, answered=answered[alias],
                          answer_median=median_of(answer_cells[alias], "answer"))  # fmt: skip
        answers.append(ProviderRow(alias, n, 0, n, row.answered, row.answer_median, bar=(row.answer_share or 0) * 100))
    return volume, worst, answers


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
    for req in requests:
        per_day[req["day"]][req["command_label"]] += req["n"]
        commands[req["command_label"]] += req["n"]
    if not commands:  # nothing asked in the window: no order to count either
        empty = _day_chart(days, {}, [])
        return Dashboard(since=since, days=days, requests=empty, orders=empty)

    # Days before today from their tallies; today's orders counted now.
    frozen, live = days[: DAYS - FREEZE_DAYS], days[DAYS - FREEZE_DAYS :]
    month = tallied(workspace_id, frozen)
    live_start = timezone.make_aware(datetime.combine(live[0], datetime.min.time()))
    month.add(count(orders_between(workspace_id, live_start)))
    for key in month.cells:
        commands[key[0]] += 0

    order = [name for name, _ in commands.most_common()]
    board = Dashboard(
        since=since,
        days=days,
        requests=_day_chart(days, per_day, order),
        orders=_day_chart(days, month.per_day, order),
    )
    cells = month.cells
    board.outcomes = _outcomes(cells)
    sent_cells = [cell for key, cell in cells.items() if key[2] == RequestOrder.SENT]
    board.sent = sum(cell.orders for cell in sent_cells)
    board.to_sent = median_of(sent_cells, "sent")
    board.by_volume, board.by_failure, board.answers = _providers(cells)
    return board
