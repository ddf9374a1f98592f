"""Activity's queries: the filters a page was asked for, the tab counts, the page's requests, the order
search and the export's rows.

Fast with a year of data (1,000,000 orders over 10,000 requests, docs/BENCHMARKS.md), because no
page view reads every order:
- The page's 50 requests are picked first, from the requests table (an EXISTS per request when an
  order filter is set, answered from an index), and only those 50 requests' orders are counted.
- The tab counts over all orders come from the tally the database keeps (state_tally.py: triggers
  write +/- deltas in the transaction that changes the orders; insert-only, so right under concurrent
  workers without a lock). Under a filter, the subset is counted with one GROUP BY (state, progress)
  answered from the (workspace, provider, state, progress) or (workspace, state, progress) index.
"""

from __future__ import annotations

from collections.abc import Generator, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode

from django.db import DatabaseError, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from panelrelay.accounts.models import Workspace
from panelrelay.core import csvsafe, params
from panelrelay.forwarding import state_tally
from panelrelay.forwarding.models import ForwardRequest, Outcome, Progress, RequestOrder
from panelrelay.panels.models import Panel, Provider

PER_PAGE = 50
SEARCH_LIMIT = 200  # orders shown for one search

# The status tabs: key → (label, the order states it shows). "waiting" is RequestOrder.WAITING, the
# state the engine gives an order with no route ("Needs a route"); "open" is every order still waiting.
WAITING_STATES = [RequestOrder.PENDING, RequestOrder.QUEUED, getattr(RequestOrder, "WAITING", "waiting")]
TABS: dict[str, tuple[str, list[str]]] = {
    "": ("All", []),
    "open": ("Waiting", WAITING_STATES),
    "waiting": ("Needs a route", [getattr(RequestOrder, "WAITING", "waiting")]),
    RequestOrder.SENT: ("Sent", [RequestOrder.SENT]),
    RequestOrder.RETRYING: ("Retrying", [RequestOrder.RETRYING]),
    RequestOrder.FAILED: ("Failed", [RequestOrder.FAILED]),
    RequestOrder.SKIPPED: ("Skipped", [RequestOrder.SKIPPED]),
}
# After sending (close the loop, forwarding/after.py): RequestOrder.progress of sent orders; "" is awaiting.
PROGRESS_TABS = [
    ("awaiting", "Awaiting answer"),
    (Progress.ANSWERED.value, "Answered"),
    (Progress.CONFIRMED.value, "Confirmed"),
    (Progress.FOLLOW_UP.value, "Follow-up sent"),
    (Progress.ESCALATED.value, "Escalated"),
    (Progress.NO_ANSWER.value, "No answer"),
]
# Every parameter Activity reads; the order of the chips.
FILTER_NAMES = ["panel", "provider", "command", "outcome", "source", "date", "q"]


def _choice(g: Mapping[str, Any], name: str, allowed: Mapping[str, Any] | list[str]) -> str:
    value = params.text(g, name, max_length=40)
    if value and value not in allowed:
        raise params.BadParameter(name, "is not one of the values Activity offers.")
    return value


@dataclass
class Filters:
    """What one Activity URL asks for, every value checked (a bad one is a 400 naming it)."""

    raw: dict[str, str] = field(default_factory=dict)  # the clean parameters, for links and the export job
    state: str = ""
    progress: str = ""
    panel: Panel | None = None
    provider: Provider | None = None
    command: str = ""
    outcome: str = ""
    source: str = ""
    day: date | None = None
    q: str = ""

    @property
    def order_level(self) -> bool:
        """Whether the filters look at orders, not only at requests."""
        return bool(self.state or self.progress or self.provider or self.command or self.outcome or self.q)

    def url(self, **change: str | None) -> str:
        """This page's query string with some parameters changed (None removes one); page is dropped."""
        values = {k: v for k, v in self.raw.items() if k != "page"}
        for key, value in change.items():
            if value is None or value == "":
                values.pop(key, None)
            else:
                values[key] = value
        return urlencode(values)


def parse(workspace: Workspace, g: Mapping[str, Any]) -> Filters:
    f = Filters()
    f.state = _choice(g, "state", TABS)
    f.progress = _choice(g, "progress", [key for key, _ in PROGRESS_TABS])
    if code := params.code(g, "panel"):
        f.panel = Panel.objects.filter(workspace=workspace, code=code).first()
        if f.panel is None:
            raise params.BadParameter("panel", "is not one of this workspace's panels.")
    if code := params.code(g, "provider"):
        f.provider = Provider.objects.filter(workspace=workspace, code=code).first()
        if f.provider is None:
            raise params.BadParameter("provider", "is not one of this workspace's providers.")
    f.command = params.text(g, "command", max_length=40)
    f.outcome = _choice(g, "outcome", Outcome.values)
    f.source = _choice(g, "source", dict(ForwardRequest.SOURCES))
    f.day = params.day(g, "date")
    f.q = params.text(g, "q", max_length=100)
    f.raw = {
        "state": f.state,
        "progress": f.progress,
        "panel": str(f.panel.code) if f.panel else "",
        "provider": str(f.provider.code) if f.provider else "",
        "command": f.command,
        "outcome": f.outcome,
        "source": f.source,
        "date": f.day.isoformat() if f.day else "",
        "q": f.q,
    }
    f.raw = {k: v for k, v in f.raw.items() if v}
    return f


def visible_requests(workspace: Workspace, user_id: int | None) -> QuerySet[ForwardRequest]:
    """The workspace's requests; only `user_id`'s own when it is set (staff without "See all activity")."""
    qs = ForwardRequest.objects.filter(workspace=workspace)
    return qs.filter(created_by_id=user_id) if user_id is not None else qs


def _request_filters(f: Filters) -> Q:
    q = Q()
    if f.panel:
        q &= Q(panel=f.panel)
    if f.source:
        q &= Q(source=f.source)
    if f.day:
        q &= Q(created__date=f.day)
    return q


def _order_filters(f: Filters, *, tabs: bool = True) -> Q:
    """The conditions on orders; without the state and progress tabs when `tabs` is False."""
    q = Q()
    if f.provider:
        q &= Q(provider=f.provider)
    if f.command:
        q &= Q(command_slug=f.command)
    if f.outcome:
        q &= Q(outcome=f.outcome)
    if f.q:
        q &= Q(panel_order_id=f.q) | Q(external_id=f.q)
    if tabs and f.state:
        q &= Q(state__in=TABS[f.state][1])
    if tabs and f.progress:
        q &= Q(state=RequestOrder.SENT, progress="") if f.progress == "awaiting" else Q(progress=f.progress)
    return q


def orders(workspace: Workspace, user_id: int | None, f: Filters, *, tabs: bool = True) -> QuerySet[RequestOrder]:
    """The orders the filters select, of the requests the member may see."""
    qs = RequestOrder.objects.filter(workspace=workspace).filter(_order_filters(f, tabs=tabs))
    request_q = _request_filters(f)
    if user_id is not None:
        request_q &= Q(created_by_id=user_id)
    if request_q:
        qs = qs.filter(request__in=ForwardRequest.objects.filter(workspace=workspace).filter(request_q))
    return qs


def page_requests(workspace: Workspace, user_id: int | None, f: Filters) -> QuerySet[ForwardRequest]:
    """The requests to list, newest first: those with at least one order the filters select."""
    qs = visible_requests(workspace, user_id).filter(_request_filters(f))
    if f.order_level:
        # No workspace condition inside: the request is the workspace's, and so are its orders; without
        # it, PostgreSQL answers each probe from the (request, state) or (request, provider) index alone.
        matching = RequestOrder.objects.filter(request=OuterRef("pk")).filter(_order_filters(f))
        qs = qs.filter(Exists(matching))
    return qs.select_related("created_by").order_by("-created", "-id")


def attach_counts(requests: list[ForwardRequest]) -> None:
    """Per-state order counts of these requests only (one query): .sent, .skipped, .failed, .open."""
    by_id = {r.id: r for r in requests}
    counts = {r.id: dict.fromkeys(("sent", "skipped", "failed", "open"), 0) for r in requests}
    rows = (
        RequestOrder.objects.filter(request_id__in=by_id)
        .order_by()
        .values_list("request_id", "state")
        .annotate(n=Count("*"))
    )
    for request_id, state, n in rows:
        key = state if state in (RequestOrder.SENT, RequestOrder.SKIPPED, RequestOrder.FAILED) else "open"
        counts[request_id][key] += n
    for request_id, found in counts.items():
        for key, n in found.items():
            setattr(by_id[request_id], key, n)  # the names the request list reads (as _with_counts annotates)


@dataclass
class Tab:
    key: str
    label: str
    count: int
    url: str
    active: bool


def tabs(workspace: Workspace, user_id: int | None, f: Filters) -> tuple[list[Tab], list[Tab]]:
    """The status tabs and the after-sending tabs, each with its count of orders under the other filters."""
    rows: Iterable[tuple[str, str, int]]
    if user_id is None and not any(name in f.raw for name in FILTER_NAMES):
        # Every order of the workspace: from the tally the database keeps, not a count of each order.
        rows = [(state, progress, n) for (state, progress), n in state_tally.counts(workspace.id).items()]
    else:  # a subset: counted, from the (workspace, [provider,] state, progress) indexes where they apply
        rows = (
            orders(workspace, user_id, f, tabs=False).order_by().values_list("state", "progress").annotate(n=Count("*"))
        )
    by_state: dict[str, int] = {}
    by_progress: dict[str, int] = {}
    for state, progress, n in rows:
        by_state[state] = by_state.get(state, 0) + n
        if state == RequestOrder.SENT:
            by_progress[progress or "awaiting"] = by_progress.get(progress or "awaiting", 0) + n
    total = sum(by_state.values())
    status = []
    for key, (label, states) in TABS.items():
        n = total if not key else sum(by_state.get(s, 0) for s in states)
        if key == "waiting" and not n and f.state != key:
            continue  # "Needs a route" shows only when some order needs one
        status.append(Tab(key, label, n, f.url(state=key, progress=None), f.state == key and not f.progress))
    after = []
    if by_state.get(RequestOrder.SENT):
        for key, label in PROGRESS_TABS:
            after.append(Tab(key, label, by_progress.get(key, 0), f.url(progress=key, state=None), f.progress == key))
    return status, after


@dataclass
class Chip:
    name: str
    label: str
    value: str
    remove_url: str


def chips(f: Filters) -> list[Chip]:
    found = []
    labels = dict(Outcome.choices)
    sources = dict(ForwardRequest.SOURCES)
    for name in FILTER_NAMES:
        if name not in f.raw:
            continue
        value = f.raw[name]
        shown = value
        if name == "panel" and f.panel:
            shown = f.panel.name
        elif name == "provider" and f.provider:
            shown = f.provider.alias
        elif name == "outcome":
            shown = str(labels.get(value, value))
        elif name == "source":
            shown = str(sources.get(value, value))
        title = {"q": "Order id", "date": "Day"}.get(name, name.capitalize())
        found.append(Chip(name, title, shown, f.url(**{name: None})))
    return found


def search(workspace: Workspace, user_id: int | None, f: Filters) -> list[RequestOrder]:
    """The orders matching a search by panel order id or external id (and the other filters)."""
    qs = orders(workspace, user_id, f).select_related("request").order_by("-id")
    return list(qs[:SEARCH_LIMIT])


# The export: one row per order, read as tuples (no model instances) in chunks.
HEADER = ["requested", "panel", "command", "source", "panel_order_id", "external_id", "provider", "service_id",
          "service", "status", "destination", "state", "outcome", "reason", "sent_at", "progress", "answer",
          "answer_text", "answered_at", "panel_status_now", "confirmed_at"]  # fmt: skip
_COLUMNS = ["request__created", "request__panel_name", "request__command_label", "request__source", "panel_order_id",
            "external_id", "provider_alias", "manual", "service_id", "service_name", "status_label",
            "destination_label", "state", "outcome", "reason", "sent_at", "progress", "answer_kind", "answer_text",
            "answered_at", "watched_status", "confirmed_at"]  # fmt: skip
CHUNK = 5000


def export_orders(workspace: Workspace, user_id: int | None, f: Filters) -> QuerySet[RequestOrder]:
    # Newest request first; by request id, which follows creation, so PostgreSQL reads the request index
    # backwards and sorts each request's few orders (an incremental sort), instead of sorting them all.
    return orders(workspace, user_id, f).order_by("-request_id", "id")


def _whole_result_plan(qs: QuerySet[Any, Any], chunk_size: int) -> Iterator[Any]:
    """qs.iterator(chunk_size), planned by PostgreSQL for reading every row rather than the first ones.

    Django reads an iterator through a server-side cursor, which PostgreSQL plans for the first
    cursor_tuple_fraction (10 %) of the rows: for the export that is a walk of every order by request,
    filtering out most (1.2 s for the 70,070 failed orders of a year's data), instead of an index scan
    of just the matching ones, a hash join and a sort (0.4 s). An export reads every row, and outside
    a transaction the cursor is WITH HOLD, so PostgreSQL computes all of it before the first fetch
    anyway. The setting is the session's, so it is reset when the iteration ends or is abandoned."""
    connection = connections[qs.db]
    if connection.vendor != "postgresql":
        yield from qs.iterator(chunk_size=chunk_size)
        return
    with connection.cursor() as cursor:
        cursor.execute("SET cursor_tuple_fraction = 1.0")
    try:
        yield from qs.iterator(chunk_size=chunk_size)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET cursor_tuple_fraction")


def export_rows(qs: QuerySet[RequestOrder]) -> Iterator[list[Any]]:
    """The header, then one list per order."""
    yield HEADER
    sources = dict(ForwardRequest.SOURCES)
    tz = timezone.get_current_timezone()
    stamps: dict[datetime, str] = {}

    def when(moment: datetime | None) -> str:
        return moment.astimezone(tz).isoformat(timespec="seconds") if moment else ""

    for (created, panel, command, source, order_id, external_id, alias, manual, service_id, service, status,
         destination, state, outcome, reason, sent_at, progress, answer, answer_text, answered_at, watched,
         confirmed_at) in _whole_result_plan(qs.values_list(*_COLUMNS), CHUNK):  # fmt: skip
        requested = stamps.get(created)
        if requested is None:
            if len(stamps) > 1000:
                stamps.clear()
            requested = stamps[created] = when(created)
        yield [
            requested, panel, command, sources.get(source, source), order_id, external_id,
            alias or ("(manual)" if manual else ""), service_id, service, status, destination, state, outcome,
            reason, when(sent_at), progress, answer, answer_text, when(answered_at), watched, when(confirmed_at),
        ]  # fmt: skip


# On PostgreSQL the export's CSV is written by the database (csvsafe.copy_chunks: COPY … TO STDOUT),
# with a quarter of the web process's CPU of the rows above through Python and a third of the time
# for a year's file (docs/DECISIONS.md, issue 13), and byte for byte the same file
# (test_export_copy.py). The SELECT wraps the export queryset's own SQL, so its tenant, permission
# and filter conditions are those of export_orders() by construction; only the cells are computed
# outside: every text cell through csvsafe.sql_text() (cell()'s rule), the sources' labels, the
# "(manual)" alias, and the timestamps as isoformat(timespec="seconds") in the active time zone
# (to_char() in the session's TimeZone, set to that zone for the COPY and put back after).
_STAMP = "to_char({}, 'YYYY-MM-DD\"T\"HH24:MI:SSTZH:TZM')"
_TEXT, _WHEN = "text", "when"
# What each of _COLUMNS becomes (the source and the alias with the manual flag are special).
_CELLS = [_WHEN, _TEXT, _TEXT, "source", _TEXT, _TEXT, "alias", "manual", _TEXT, _TEXT, _TEXT, _TEXT, _TEXT, _TEXT,
          _TEXT, _WHEN, _TEXT, _TEXT, _TEXT, _WHEN, _TEXT, _WHEN]  # fmt: skip


def _copy_select(qs: QuerySet[RequestOrder]) -> tuple[str, list[Any]]:
    """The export's SELECT for a COPY, and its parameters: qs's SQL wrapped, rows in qs's order."""
    ordering = [str(name) for name in qs.query.order_by]
    if not ordering or not all(isinstance(name, str) for name in qs.query.order_by):
        raise ValueError("the export's queryset needs an explicit order_by() of field names")
    keys = [name.lstrip("-") for name in ordering]
    inner, inner_params = qs.values_list(*_COLUMNS, *keys).query.get_compiler(qs.db).as_sql()
    names = [f"c{i}" for i in range(len(_COLUMNS) + len(keys))]
    params: list[Any] = []
    cells = []
    for i, kind in enumerate(_CELLS):
        c = names[i]
        if kind == _WHEN:
            cells.append(_STAMP.format(c))
        elif kind == _TEXT:
            cells.append(csvsafe.sql_text(c))
        elif kind == "source":
            whens = []
            for value, label in ForwardRequest.SOURCES:
                whens.append("WHEN %s THEN %s")
                params += [value, csvsafe.cell(str(label)) or None]
            cells.append(f"CASE {c} {' '.join(whens)} ELSE {csvsafe.sql_text(c)} END")
        elif kind == "alias":
            cells.append(f"CASE WHEN {c} <> '' THEN {csvsafe.sql_text(c)} WHEN {names[i + 1]} THEN '(manual)' END")
    order = ", ".join(
        f"{names[len(_COLUMNS) + i]}{' DESC' if name.startswith('-') else ''}" for i, name in enumerate(ordering)
    )
    # Only our own column expressions around Django's compiled SQL; every value is a parameter.
    select = f"SELECT {', '.join(cells)} FROM ({inner}) AS export ({', '.join(names)}) ORDER BY {order}"  # noqa: S608
    return select, [*params, *inner_params]


def _set_zone(connection: BaseDatabaseWrapper, zone: str) -> bool:
    """Set the session's TimeZone; False when PostgreSQL does not know the zone (its own tz database
    may lag Python's), in a savepoint so that a transaction around us goes on."""
    try:
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            cursor.execute("SELECT set_config('TimeZone', %s, false)", [zone])
    except DatabaseError:
        return False
    return True


def export_chunks(qs: QuerySet[RequestOrder], per: int = 1000) -> Generator[tuple[bytes, int]]:
    """The export's CSV (header first) in chunks of rows, each with its number of rows (the header
    counts 1): written by PostgreSQL there, by export_rows() and csvsafe elsewhere; the same bytes."""
    connection = connections[qs.db]
    zone = getattr(timezone.get_current_timezone(), "key", None)  # a ZoneInfo's IANA name
    session_zone = connection.timezone_name  # what Django set the session to (UTC when USE_TZ)
    copy = connection.vendor == "postgresql" and bool(zone)
    if copy:
        select, params = _copy_select(qs)
    if not copy or (zone != session_zone and not _set_zone(connection, str(zone))):
        for text, count in csvsafe.counted_chunks(export_rows(qs), per):
            yield text.encode(), count
        return
    try:
        yield from csvsafe.copy_chunks(connection, select, params, HEADER, per)
    finally:
        # Inside a transaction the COPY's error aborted it: the rollback puts the zone back, and a
        # statement now would only replace that error with "current transaction is aborted".
        if session_zone != zone and not connection.needs_rollback:
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT set_config('TimeZone', %s, false)", [session_zone])
            except DatabaseError:
                if not connection.in_atomic_block:
                    raise
