"""Message assembly: routed orders without a message become messages, one per (destination,
command, note), across requests.

It keeps pace with the lookups: after each chunk, `assemble_full_parts` writes the parts that
have reached the destination's length limit, counting every request's routed orders with the same
note (nothing waits for them), and their delivery jobs start while the lookups go on. When a request's lookups end, `assemble_messages` writes the rest.
Orders of different requests bound for the same destination and command, with the same note, go
out in one message: a request that ends while another such request is still being looked up
leaves its rest for that one (the last to end writes everyone's), for at most MERGE_WINDOW
seconds (a job then writes it anyway). A request alone, the usual large one, waits for nothing.

Orders move into a message only `WHERE message IS NULL`, and a message's text is written from the
orders it really got, in one transaction: two runs at once never put an order in two messages.
Each message gets its delivery job in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from django.db import connection, transaction
from django.db.models import Case, IntegerField, QuerySet, Sum, Value, When
from django.db.models.functions import Length
from django.utils import timezone

from panelrelay.core import faults
from panelrelay.forwarding import text
from panelrelay.forwarding.models import (
    Command,
    ForwardingSettings,
    ForwardRequest,
    Message,
    MessageTemplate,
    Outcome,
    RequestOrder,
)
from panelrelay.forwarding.progress import finish_requests
from panelrelay.transports.models import Destination
from panelrelay.transports.services import max_length
from panelrelay.worker.queue import enqueue
from panelrelay.worker.registry import Retry

BATCH_WAIT = 0.5  # seconds between two looks at a batch whose orders are still being looked up
MERGE_WINDOW = 5.0  # seconds a request's last part may wait for another request's orders
GROUP_LOCK = 0x50520001  # advisory lock class of _lock_destination (its second key: the destination)
MERGE_LOOKBACK = timedelta(hours=1)  # older requests still open are stuck on their panel: not waited for


def assemble_full_parts(request: ForwardRequest) -> bool:
    """After a chunk of lookups: write the parts that are full in the groups of this request's note,
    with every request's routed orders (four panels' requests each a quarter of a part still fill
    parts while they are looked up, so a group's parts are spread over the lookups instead of all
    queued behind the last one: a chat takes one message a second).

    The last part of a group is never written here (more orders may still join it), only those
    the next order could not fit in. One aggregate query tells which groups could be full; only
    those are packed. True when a message was written (its delivery job is queued).
    """
    options = ForwardingSettings.of(request.workspace)
    rows = (
        _routed(request.workspace_id)
        .filter(request__note=request.note)
        .values("destination_id", "command_slug")
        .annotate(chars=Sum(_line_length(options.include_panel_ids)))
    )
    candidates = [(row["destination_id"], row["command_slug"], row["chars"] or 0) for row in rows]
    if not candidates:
        return False
    destinations = _destinations(dest for dest, _, _ in candidates)
    wrote = False
    for dest_id, slug, chars in candidates:
        destination = destinations.get(dest_id)
        # The {ids} lines alone longer than the limit: a part is full (a header line or two more
        # would only have made it full a chunk sooner). Packing every group every chunk would cost
        # more than the lookup it follows.
        if destination is None or chars <= max_length(destination):
            continue
        wrote |= bool(_write_group(destination, slug, request.note, full_only=True))
    return wrote


def assemble_messages(request: ForwardRequest, merge: bool = True) -> list[Message]:
    """After a request's lookups: write the rest of its groups, with every other request's routed
    orders for the same command and note (all destinations), unless (`merge`) another such request
    is still being looked up: then that one writes them when it ends, or the job queued here does
    after MERGE_WINDOW seconds.
    """
    slugs = set(RequestOrder.objects.filter(request=request, state=RequestOrder.QUEUED, message__isnull=True)
                .values_list("command_slug", flat=True).distinct())  # fmt: skip
    if not slugs:
        return []
    if merge and _others_being_looked_up(request):
        # Keyed per second: a re-run of the job does not add one, a later wait (orders sent on
        # from "needs a route") gets its own deadline.
        now = timezone.now()
        enqueue("forwarding.assemble", {"request": request.id}, workspace=request.workspace,
                run_at=now + timedelta(seconds=MERGE_WINDOW), key=f"assemble:{request.id}:{now:%Y%m%d%H%M%S}")  # fmt: skip
        return []
    return _write_all(request.workspace_id, slugs, request.note)


def assemble_batch(workspace_id: int, batch: str) -> list[Message]:
    """Messages for every routed order of a ticket poll's requests, across tickets.

    One job per batch (its key) does this. Orders still being looked up are waited for (Retry)
    without a time limit: a poll's requests were made at one instant on one panel and end
    together. Those decided already are sent meanwhile.
    """
    requests = ForwardRequest.objects.filter(workspace_id=workspace_id, batch=batch)
    pairs = set(
        RequestOrder.objects.filter(request__in=requests, state=RequestOrder.QUEUED, message__isnull=True)
        .values_list("command_slug", "request__note")
        .distinct()
    )
    created: list[Message] = []
    for note in {note for _, note in pairs}:
        created += _write_all(workspace_id, {slug for slug, n in pairs if n == note}, note)
    ids = list(requests.values_list("id", flat=True))
    finish_requests(ids)
    if RequestOrder.objects.filter(request_id__in=ids, looked_up=False).exclude(state__in=RequestOrder.FINAL).exists():
        raise Retry(BATCH_WAIT, "orders of this batch are still being looked up")
    return created


def _others_being_looked_up(request: ForwardRequest) -> bool:
    """Whether another recent request of the workspace, same command and note, has orders that
    are being looked up right now (not those waiting for a failing panel: RETRYING)."""
    others = list(
        ForwardRequest.objects.filter(workspace_id=request.workspace_id, command=request.command,
                                      note=request.note, finished__isnull=True,
                                      created__gte=timezone.now() - MERGE_LOOKBACK)
        .exclude(pk=request.pk).values_list("id", flat=True)
    )  # fmt: skip
    return bool(others) and (
        RequestOrder.objects.filter(request_id__in=others, looked_up=False, state=RequestOrder.PENDING).exists()
    )


def _routed(workspace_id: int) -> QuerySet[RequestOrder]:
    """Routed orders still in no message (the (workspace, outcome) index finds them)."""
    return RequestOrder.objects.filter(
        workspace_id=workspace_id, outcome=Outcome.ROUTED, state=RequestOrder.QUEUED, message__isnull=True
    )


def _write_all(workspace_id: int, slugs: set[str], note: str) -> list[Message]:
    pairs = set(
        _routed(workspace_id).filter(command_slug__in=slugs, request__note=note)
        .values_list("destination_id", "command_slug").distinct()
    )  # fmt: skip
    destinations = _destinations(dest for dest, _ in pairs)
    created: list[Message] = []
    for dest_id, slug in sorted(pairs, key=lambda pair: (pair[0] or 0, pair[1])):
        destination = destinations.get(dest_id) if dest_id is not None else None
        if destination is not None:  # always: an order is queued once it has a destination
            created += _write_group(destination, slug, note, full_only=False)
    return created


def _destinations(ids: Iterable[int | None]) -> dict[int, Destination]:
    wanted = {pk for pk in ids if pk is not None}
    return {d.pk: d for d in Destination.objects.filter(pk__in=wanted).select_related("connection", "workspace")}


def _line_length(with_panel_id: bool) -> Case:
    """SQL for the length of an order's line in {ids}, newline included (text.Line.render)."""
    manual = Length("panel_order_id") + Value(len(" (panel order)") + 1)
    routed = Length("external_id") + Value(1)
    if with_panel_id:
        routed = routed + Length("panel_order_id") + Value(len(" (order )"))
    return Case(When(external_id="", then=manual), default=routed, output_field=IntegerField())


def _write_group(destination: Destination, slug: str, note: str, full_only: bool) -> list[Message]:
    """Pack the group's routed orders into parts and write them; with `full_only`, all but the last
    part, each only if it gets every one of its orders (else a race made it smaller: left for later)."""
    orders = list(
        _routed(destination.workspace_id).filter(destination=destination, command_slug=slug, request__note=note)
        .order_by("id").values_list("id", "panel_order_id", "external_id", "request__created")
    )  # fmt: skip
    if not orders:
        return []
    # Due since the click: the worker takes due jobs oldest first, so this delivery goes before
    # periodic jobs and later requests' lookups that were queued meanwhile.
    due = min(min(created for *_, created in orders), timezone.now())
    workspace = destination.workspace
    command = Command.objects.filter(workspace=workspace, slug=slug).first()
    word = command.word if command else slug.upper()
    options = ForwardingSettings.of(workspace)
    template = _template(destination, command)
    lines = [text.Line(pk, panel_order_id, external_id) for pk, panel_order_id, external_id, _ in orders]
    parts = text.pack(template, word, lines, note, options.include_panel_ids, max_length(destination))
    if full_only:
        parts = parts[:-1]
    if not parts:
        return []
    faults.point("forwarding.before_assign")
    messages = []
    with transaction.atomic():
        # One writer of a destination's parts at a time: the others' full parts are the same ones,
        # so they skip (the next chunk looks again); the rest of a group waits for its turn.
        if not _lock_destination(destination.pk, wait=not full_only):
            return []
        for number, part in enumerate(parts, start=1):
            body = text.render(template, word, part, note, options.include_panel_ids)
            claimed = _claim_into_message(destination, slug, part, len(parts), number, whole=full_only, body=body)
            if claimed is None:
                continue
            message, got = claimed
            if len(got) < len(part):  # a race took some of the part's orders: the text lists the others
                message.text = text.render(template, word, got, note, options.include_panel_ids)
                Message.objects.filter(pk=message.pk).update(text=message.text)
            enqueue("forwarding.deliver", {"message": message.id}, workspace=workspace, run_at=due,
                    key=f"deliver:{message.id}")  # fmt: skip
            messages.append(message)
    return messages


def _lock_destination(destination_id: int, wait: bool) -> bool:
    """A transaction-level advisory lock on writing this destination's messages (PostgreSQL; SQLite
    has one writer at a time anyway). Without `wait`, False when another transaction holds it.

    It only saves work: correctness rests on `_claim_into_message`'s conditional UPDATE. Four
    requests' jobs that find the same group full after their chunks would otherwise each pack the
    same part and all but one roll it back after waiting on its rows.
    """
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        if wait:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [GROUP_LOCK, destination_id])
            return True
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", [GROUP_LOCK, destination_id])
        return bool(cursor.fetchone()[0])


def _claim_into_message(
    destination: Destination,
    slug: str,
    part: list[text.Line],
    parts: int,
    number: int,
    whole: bool = False,
    body: str = "",
) -> tuple[Message, list[text.Line]] | None:
    """Create a message and move the part's orders into it, only those that are in no message yet.

    The conditional UPDATE is what makes two runs of the same job at once harmless: an order
    already taken by the other run is not matched (on PostgreSQL the second UPDATE waits for the
    first transaction and re-checks `message IS NULL`; SQLite runs one writer at a time). The
    caller writes the text from the orders the message really got, in the same transaction; a
    message that got none is rolled back, so no order is ever in two messages. With `whole`, a
    message that did not get every order of its part is rolled back too (a full part must stay
    full; its orders wait for the next look). `body` is the text for the whole part: right when
    every order was taken (the usual case, one round trip fewer), else the caller rewrites it.
    """
    with transaction.atomic():
        message = Message.objects.create(
            workspace=destination.workspace,
            destination=destination,
            destination_label=str(destination)[:120],
            command_slug=slug,
            text=body,
            part=number,
            parts=parts,
        )
        wanted = [line.order_pk for line in part]
        taken = RequestOrder.objects.filter(id__in=wanted, message__isnull=True, state=RequestOrder.QUEUED).update(
            message=message, outcome=Outcome.IN_MESSAGE, reason=f"in message to {destination}", updated=timezone.now()
        )
        if not taken or (whole and taken < len(wanted)):
            transaction.set_rollback(True)
            return None
        if taken == len(wanted):
            return message, part
        mine = set(RequestOrder.objects.filter(message=message).values_list("id", flat=True))
        return message, [line for line in part if line.order_pk in mine]


def _template(destination: Destination, command: Command | None) -> str:
    candidates = MessageTemplate.objects.filter(workspace=destination.workspace)
    best = None
    for tpl in candidates:
        if tpl.destination_id not in (None, destination.id) or tpl.command_id not in (None, command and command.id):
            continue
        score = (tpl.destination_id is not None) * 2 + (tpl.command_id is not None)
        if best is None or score > best[0]:
            best = (score, tpl.text)
    return best[1] if best else text.DEFAULT_TEMPLATE
