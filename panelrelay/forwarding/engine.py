"""The forwarding engine: look orders up, decide, route, write messages.

`process_request` runs in the worker (job `forwarding.process`). It is safe to run again at any
point: orders are looked up in chunks of 100 and each chunk's outcome is committed before the
next call, and messages are assembled only from routed orders that have no message yet. A
killed worker's job is claimed again when its lease runs out and carries on where it stopped.
"""

from __future__ import annotations

import logging
import queue
import threading
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, connections
from django.db.models import Max, QuerySet
from django.utils import timezone

from panelrelay.core import faults
from panelrelay.forwarding.assembly import assemble_full_parts, assemble_messages
from panelrelay.forwarding.models import (
    Command,
    ForwardingSettings,
    ForwardRequest,
    Outcome,
    RequestOrder,
)
from panelrelay.forwarding.progress import finish_requests
from panelrelay.panels.adapters.base import MANUAL, PanelError, PanelOrder
from panelrelay.panels.models import Panel
from panelrelay.panels.services import ResolvedOrder, resolve_orders
from panelrelay.reading.guarantee import refill_allowed, refill_period
from panelrelay.routing.resolve import Router
from panelrelay.worker.queue import backoff, enqueue
from panelrelay.worker.registry import Retry, spare_thread, stop_requested

log = logging.getLogger("panelrelay.forwarding")
CHUNK = 100
PANEL_GIVE_UP = timedelta(hours=1)  # a panel unreachable this long fails the lookup for good
OPEN_STATES = (RequestOrder.PENDING, RequestOrder.QUEUED, RequestOrder.RETRYING, RequestOrder.WAITING)
NOT_YOURS = "not the ticket author's order"


def process_request(request: ForwardRequest) -> None:
    pending = list(request.orders.filter(looked_up=False).values_list("id", "panel_order_id"))
    if pending:
        panel = request.panel
        if panel is None or not panel.enabled:
            why = "panel was deleted" if panel is None else f"panel “{panel.name}” is turned off"
            _close(request.orders.filter(looked_up=False), RequestOrder.SKIPPED, Outcome.PANEL_UNAVAILABLE, why)
        else:
            decider = Decider(request)
            chunks = [pending[start : start + CHUNK] for start in range(0, len(pending), CHUNK)]
            ahead: Prefetch | None = None  # the next chunk's panel call, under way (issue 14)
            # Tests run in one transaction on one connection, which a thread cannot see: they fetch in turn.
            if len(chunks) > 1 and not connection.in_atomic_block:  # the first call goes now, in the thread
                ahead = Prefetch(panel, [[oid for _, oid in chunk] for chunk in chunks])
            try:
                refresh_planner_stats(len(pending))  # while the first call is under way
                for n, chunk in enumerate(chunks):
                    if n and stop_requested():  # a deploy: the next worker carries on from here
                        raise Retry(0, "the worker is stopping; the remaining orders are looked up next")
                    ahead = decider.lookup_chunk(panel, chunk, ahead, chunks[n + 1 :])
                    # Full parts are written now and their deliveries queued (assembly.py). A worker
                    # with a free thread sends them beside this job; one without (a single thread,
                    # or all busy) gets them sent because this job steps aside (its prefetch is dropped).
                    if assemble_full_parts(request) and n + 1 < len(chunks) and not spare_thread():
                        if ahead is not None and ahead.deep:  # a worker of several threads, all busy now:
                            for extra in chunks[n + 1 : n + 1 + ahead.stop()]:  # the answers in go first
                                ahead = decider.lookup_chunk(panel, extra, ahead)  # (no call made for nothing)
                                if ahead is None:  # that answer was an error: its chunk is closed
                                    break
                        raise Retry(0, "full messages go out first; the lookups carry on next")
            finally:
                if ahead is not None:  # a prefetch never outlives the job; its answer is dropped
                    ahead.discard()  # (nothing was written from it: it is looked up again next time)
    if request.batch:  # a ticket poll's requests are assembled together (assembly.assemble_batch)
        enqueue("forwarding.assemble_batch", {"batch": request.batch}, workspace=request.workspace,
                key=f"assemble:{request.workspace_id}:{request.batch}")  # fmt: skip
    else:
        assemble_messages(request)
    finish_requests([request.id])


class Decider:
    """Turns a panel's answer for a chunk of orders into a state and reason for each."""

    def __init__(self, request: ForwardRequest) -> None:
        self.request = request
        self.command: Command | None = request.command
        self.settings = ForwardingSettings.of(request.workspace)
        self.router = Router(request.workspace)

    def lookup_chunk(
        self,
        panel: Panel,
        chunk: list[tuple[int, str]],
        fetched: Prefetch | None = None,
        following: list[list[tuple[int, str]]] | None = None,
    ) -> Prefetch | None:
        """Look `chunk` up (its answer from `fetched`, or a panel call made now), then decide and
        write it. Returns the panel calls for the `following` chunks (`fetched`, or started once this
        chunk's answer is in) so that they run while this chunk is decided and written."""
        ids = [oid for _, oid in chunk]
        faults.point("forwarding.before_lookup")
        try:
            found = resolve_orders(panel, ids, fetched.result if fetched is not None else None)
        except PanelError as exc:
            self._panel_failed(chunk, exc)
            return None
        ahead = fetched
        # Tests run in one transaction on one connection, which a thread cannot see: they fetch in turn.
        if ahead is None and following and not connection.in_atomic_block:
            ahead = Prefetch(panel, [[oid for _, oid in chunk] for chunk in following])
        try:
            faults.point("forwarding.before_write")
            self._write(chunk, ids, found)
        except BaseException:
            if ahead is not None:
                ahead.discard()
            raise
        return ahead

    def _write(self, chunk: list[tuple[int, str]], ids: list[str], found: dict[str, ResolvedOrder]) -> None:
        earlier = self._earlier_requests(ids)
        # Only the decided fields are written (save_orders), all of them: the rows need not be read.
        orders = [Decided(pk, oid) for pk, oid in chunk]
        for order in orders:
            self._decide(order, found.get(order.panel_order_id), earlier.get(order.panel_order_id))
        save_orders(orders, timezone.now())

    def _panel_failed(self, chunk: list[tuple[int, str]], exc: PanelError) -> None:
        age = timezone.now() - self.request.created
        qs = RequestOrder.objects.filter(id__in=[pk for pk, _ in chunk])
        if exc.temporary and age < PANEL_GIVE_UP:
            wait = max(exc.retry_after or 0, backoff(1, settings.RETRY_BASE_SECONDS))
            # Every order still waiting for its lookup waits for the same panel: each says why,
            # not only the chunk that was being looked up (the others would say "Looking up").
            waiting = self.request.orders.filter(looked_up=False, message__isnull=True)
            waiting.update(state=RequestOrder.RETRYING, outcome=Outcome.LOOKUP_RETRYING,
                           reason=f"looking up again: {exc}"[:300], updated=timezone.now())  # fmt: skip
            raise Retry(wait, str(exc))
        _close(qs, RequestOrder.FAILED, Outcome.LOOKUP_FAILED, f"panel lookup failed: {exc}", looked_up=True)

    def _decide(self, order: Decided, found: ResolvedOrder | None, earlier: tuple | None) -> None:
        if found is None:
            return _set(order, RequestOrder.SKIPPED, Outcome.NOT_FOUND, "not found in the panel")
        order.external_id = found.external_id or ""
        order.provider = found.provider
        order.provider_alias = found.provider.alias if found.provider else ""
        order.manual = found.provider is None and found.mode == MANUAL
        order.service_id = found.service_id or ""
        order.service_name = (found.service_name or "")[:200]
        order.status_label = found.status_label
        order.customer = (found.user or "")[:150]
        refusal = self._refusal(order, found, earlier)
        if refusal:
            return _set(order, RequestOrder.SKIPPED, *refusal)
        decision = self.router.decide(found, self.request.panel)
        order.rule = decision.rule
        if decision.destination is None:
            # It waits ("Needs a route") until the owner sets a route and sends it (forwarding/waiting.py).
            return _set(order, RequestOrder.WAITING, Outcome.NEEDS_ROUTE, f"needs a route: {decision.reason}")
        order.destination = decision.destination
        order.destination_label = str(decision.destination)[:120]
        if not decision.destination.enabled:
            why = f"destination {decision.destination} is turned off"
            return _set(order, RequestOrder.SKIPPED, Outcome.DESTINATION_OFF, why)
        if decision.destination.broken:
            why = (
                f"destination {decision.destination} is broken: {decision.destination.broken_reason or 'marked broken'}"
            )
            return _set(order, RequestOrder.FAILED, Outcome.DESTINATION_BROKEN, why)
        _set(order, RequestOrder.QUEUED, Outcome.ROUTED, decision.reason)

    def _refusal(self, order: Decided, found: ResolvedOrder, earlier: tuple | None) -> tuple[str, str] | None:
        """Why the order may not be forwarded, as (outcome code, sentence), or None."""
        command = self.command
        if command is None:
            return Outcome.COMMAND_DELETED, "the command was deleted"
        ticket_user = self.request.ticket_user.strip().casefold()
        if ticket_user and (found.user or "").strip().casefold() != ticket_user:
            return Outcome.NOT_YOURS, NOT_YOURS
        if found.provider is not None and not found.external_id:
            return Outcome.NO_EXTERNAL_ID, "no external id: the panel has not sent this order to its provider"
        if found.provider is None and found.mode != MANUAL and not found.external_id:
            return Outcome.NO_EXTERNAL_ID, "no external id and no provider"
        if found.provider is not None and not found.provider.enabled:
            return Outcome.PROVIDER_OFF, f"provider {found.provider.alias} is turned off"
        if command.statuses and found.status not in command.statuses:
            return Outcome.STATUS_NOT_ALLOWED, f"status {found.status_label} does not allow {command.label.lower()}"
        if command.slug == "refill" and self.settings.refill_guarantee and found.created:
            allowed, why = refill_allowed(found.service_name or "", found.created, timezone.now())
            if not allowed:
                period = refill_period(found.service_name or "")
                return (Outcome.NO_REFILL if period is not None and not period.days else Outcome.GUARANTEE_ENDED), why
        if earlier and not self.request.force:
            state, when = earlier
            local = timezone.localtime(when).strftime("%Y-%m-%d %H:%M")
            if state in OPEN_STATES:
                return Outcome.IN_PROGRESS, f"already being forwarded (requested {local})"
            return Outcome.COOLDOWN, f"already requested at {local} (cooldown {self.settings.cooldown_hours} h)"
        return None

    def _earlier_requests(self, ids: list[str]) -> dict[str, tuple[str, object]]:
        """The latest earlier request of the same order and command within the cooldown."""
        if not self.command or self.request.panel_id is None:  # no panel: process_request skipped its orders
            return {}
        since = timezone.now() - timedelta(hours=self.settings.cooldown_hours)
        rows = (
            RequestOrder.objects.filter(
                workspace_id=self.request.workspace_id,
                request__panel_id=self.request.panel_id,
                command_slug=self.command.slug,
                panel_order_id__in=ids,
                request__created__gte=since,
                state__in=(RequestOrder.SENT, *OPEN_STATES),
            )
            .exclude(request_id=self.request.id)
            .exclude(state=RequestOrder.PENDING, looked_up=False)  # not yet decided: not a duplicate yet
            .values("panel_order_id", "state")
            .annotate(last=Max("request__created"))
        )
        latest: dict[str, tuple[str, object]] = {}
        for row in rows:
            current = latest.get(row["panel_order_id"])
            if current is None or row["last"] > current[1]:
                latest[row["panel_order_id"]] = (row["state"], row["last"])
        return latest


class Decided:
    """One order's decided fields, as save_orders() writes them (a model instance per order cost
    more CPU than deciding it: Model.__init__ fills ~30 fields, and each value went through
    get_db_prep_save again on the way out). The defaults are the model's."""

    __slots__ = ("id", "panel_order_id", "state", "outcome", "reason", "external_id", "provider",
                 "provider_alias", "manual", "service_id", "service_name", "status_label", "customer",
                 "destination", "destination_label", "rule")  # fmt: skip

    def __init__(self, pk: int, panel_order_id: str) -> None:
        self.id, self.panel_order_id = pk, panel_order_id
        self.state: str = RequestOrder.PENDING
        self.outcome: str = Outcome.LOOKING_UP
        self.reason = ""
        self.external_id = self.provider_alias = self.service_id = self.service_name = ""
        self.status_label = self.customer = self.destination_label = ""
        self.provider: Any = None
        self.destination: Any = None
        self.manual = False
        self.rule: int | None = None


# The columns save_orders() writes, each with how a Decided gives its value (the same for every row:
# looked_up and updated are added as one value for the whole chunk).
UPDATE_COLUMNS: list[tuple[str, Any]] = [
    ("state", lambda o: o.state), ("outcome", lambda o: o.outcome), ("reason", lambda o: o.reason),
    ("external_id", lambda o: o.external_id), ("provider", lambda o: o.provider.pk if o.provider else None),
    ("provider_alias", lambda o: o.provider_alias), ("manual", lambda o: o.manual),
    ("service_id", lambda o: o.service_id), ("service_name", lambda o: o.service_name),
    ("status_label", lambda o: o.status_label), ("customer", lambda o: o.customer),
    ("destination", lambda o: o.destination.pk if o.destination else None),
    ("destination_label", lambda o: o.destination_label), ("rule", lambda o: o.rule),
]  # fmt: skip


# Answers the prefetch thread may hold for the job: a window of the panel's calls when its worker had a
# thread to spare as the lookups began, one when it had not (it may have this one thread only).
PREFETCH_DEPTH, PREFETCH_DEPTH_ALONE = 5, 1


class Prefetch:
    """The chunks' panel calls, made one after the other in a thread of its own while the job
    decides and writes the chunks before them, so that the panel's calls keep the pacing's rhythm
    instead of waiting for each write (issue 14). The thread holds at most PREFETCH_DEPTH answers
    the job has not taken: a write that takes longer (the full parts of ten groups written at
    once, ~0.5 s) no longer stops the calls, the answers wait instead; a job that steps aside then
    (its worker's threads all busy) decides the answers in first. A job started without a spare
    thread (its worker may have only this one) keeps one answer ahead, as its step aside drops
    them (those orders are asked for again) so that the full parts go out before its next
    decision. Only the adapter's get_orders runs there (its pacing books slots in the database, on
    the thread's own connection, closed at the end); providers are matched and everything is
    written in the job's thread. A PanelError is raised by result(), where the sequential call
    would have raised it, and ends the thread's calls."""

    def __init__(self, panel: Panel, chunks: list[list[str]]) -> None:
        self._chunks = chunks
        self._answers: queue.Queue[tuple[dict[str, PanelOrder], BaseException | None]] = queue.Queue()
        self.deep = spare_thread()  # else the worker may have one thread only: this job's
        self._room = threading.Semaphore(PREFETCH_DEPTH if self.deep else PREFETCH_DEPTH_ALONE)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(panel,), name="lookup-prefetch", daemon=True)
        self._thread.start()

    def _run(self, panel: Panel) -> None:
        try:
            for ids in self._chunks:
                self._room.acquire()
                if self._stop.is_set():
                    return
                try:
                    faults.point("forwarding.prefetch")
                    answer = panel.adapter().get_orders(ids)
                    faults.point("forwarding.prefetched")
                except BaseException as exc:  # handed to the job's thread by result()
                    self._answers.put(({}, exc))
                    return
                self._answers.put((answer, None))
        finally:
            connections.close_all()  # this thread's own connection

    def result(self) -> dict[str, PanelOrder]:
        """The next chunk's answer, in order (waits for its call)."""
        answer, error = self._answers.get()
        self._room.release()
        if error is not None:
            raise error
        return answer

    def stop(self) -> int:
        """No more calls: wait for the one under way; returns how many answers are in."""
        self._stop.set()
        self._room.release()  # a thread waiting for room wakes up and sees the stop
        self._thread.join()
        return self._answers.qsize()

    def discard(self) -> None:
        """Stop the calls, wait for the one under way, drop the answers (the job steps aside or
        failed; nothing was written from them: those orders are looked up again next time)."""
        self.stop()


def refresh_planner_stats(rows: int) -> None:
    """ANALYZE the orders table when PostgreSQL's picture of it (pg_class.reltuples, -1 when never
    analyzed) counts fewer rows than this request alone has: a new install's first large request.
    Its planner would otherwise take the table for a few rows and read every undecided order for each
    chunk (a scan of the whole workspace through any (workspace, …) index, 100 times). Autovacuum
    would get there within a minute or so; here it costs ~30 ms once. A table whose statistics
    are in step with its size is never analyzed here."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [RequestOrder._meta.db_table])
        known = cursor.fetchone()
        if known is not None and known[0] < rows:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(RequestOrder._meta.db_table)}")


def save_orders(orders: list[Decided], now: datetime) -> None:
    """Write the decided fields of many orders in one set-based UPDATE, marked looked up at `now`.

    Django's bulk_update builds a CASE WHEN per field and row (15 ms of CPU per order); an
    executemany is still one statement per row for the database to plan and run. Here the rows
    travel as one parameter per column (PostgreSQL arrays, `unnest`) or one VALUES list
    (SQLite), and the database joins them to the orders by id: one statement per chunk. What is
    the same for every row (looked_up, updated) is one parameter.

    Only an order still in no message is written: a stale run of the same job (its lease ran out
    while it waited on the panel) must not set an order that has since gone out back to queued.
    """
    if not orders:
        return
    meta = RequestOrder._meta
    concrete = {f.name: f for f in meta.concrete_fields}
    fields = [concrete[name] for name, _ in UPDATE_COLUMNS]
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    columns = [[o.id for o in orders]] + [[value(o) for o in orders] for _, value in UPDATE_COLUMNS]
    if connection.vendor == "postgresql":
        names = ["id", *(f"c{n}" for n in range(len(fields)))]
        arrays = ", ".join(["%s::bigint[]", *(f"%s::{f.cast_db_type(connection)}[]" for f in fields)])
        source = f"unnest({arrays}) AS v({', '.join(names)})"
        params: list[Any] = columns
    else:
        names = [f"column{n + 1}" for n in range(len(fields) + 1)]
        one = "(" + ", ".join(["%s"] * (len(fields) + 1)) + ")"
        source = f"(VALUES {', '.join([one] * len(orders))}) AS v"
        params = [value for row in zip(*columns, strict=True) for value in row]
    assignments = ", ".join(
        [f"{quote(f.column or f.attname)} = v.{name}" for f, name in zip(fields, names[1:], strict=True)]
        + [f"{quote('looked_up')} = %s", f"{quote('updated')} = %s"]
    )
    stamp = concrete["updated"].get_db_prep_save(now, connection)
    where = f"{table}.{quote('id')} = v.{names[0]} AND {table}.{quote('message_id')} IS NULL"
    tail: list[Any] = []
    if connection.vendor == "postgresql":  # the rows by primary key, whatever the statistics say
        where += f" AND {table}.{quote('id')} = ANY(%s::bigint[])"
        tail = [columns[0]]
    sql = f"UPDATE {table} SET {assignments} FROM {source} WHERE {where}"  # noqa: S608
    with connection.cursor() as cursor:  # parameters in the statement's order: SET, FROM, WHERE
        cursor.execute(sql, [True, stamp, *params, *tail])


def _set(order: Decided, state: str, outcome: str, reason: str) -> None:
    order.state, order.outcome = state, outcome
    order.reason = reason[:300]


def _close(qs: QuerySet[RequestOrder], state: str, outcome: str, reason: str, **extra: Any) -> None:
    qs.update(state=state, outcome=outcome, reason=reason[:300], updated=timezone.now(), **extra)
