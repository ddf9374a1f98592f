"""Message assembly: routed orders without a message become messages, one per (destination, command).

Orders move into a message only `WHERE message IS NULL`, and a message's text is written from the
orders it really got, in one transaction: two runs of the same job at once never put an order in
two messages. Each message gets its delivery job in the same transaction.
"""

from __future__ import annotations

from collections import defaultdict

from django.db import transaction
from django.db.models import QuerySet
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


def assemble_messages(request: ForwardRequest) -> list[Message]:
    """Group the request's routed orders without a message by (destination, command) into messages.

    Only this request's orders: one job handles one request, so no other worker can be
    assigning the same orders at the same time.
    """
    return _assemble(RequestOrder.objects.filter(request=request))


def assemble_batch(workspace_id: int, batch: str) -> list[Message]:
    """Messages for every routed order of a ticket poll's requests, across tickets.

    One job per batch (its key) does this, so no two workers assign the same orders. Orders
    still being looked up are waited for (Retry); those decided already are sent meanwhile.
    """
    requests = ForwardRequest.objects.filter(workspace_id=workspace_id, batch=batch)
    created = _assemble(RequestOrder.objects.filter(request__in=requests))
    ids = list(requests.values_list("id", flat=True))
    finish_requests(ids)
    if RequestOrder.objects.filter(request_id__in=ids, looked_up=False).exclude(state__in=RequestOrder.FINAL).exists():
        raise Retry(BATCH_WAIT, "orders of this batch are still being looked up")
    return created


def _assemble(scope: QuerySet[RequestOrder]) -> list[Message]:
    orders = list(
        scope.filter(state=RequestOrder.QUEUED, message__isnull=True)
        .select_related("destination", "request")
        .order_by("id")
    )
    groups: dict[tuple[int | None, str], list[RequestOrder]] = defaultdict(list)
    for order in orders:
        groups[(order.destination_id, order.command_slug)].append(order)
    created = []
    for (_, slug), members in groups.items():
        destination = members[0].destination
        if destination is not None:  # always: an order is queued once it has a destination
            created += _write_messages(destination, slug, members)
    return created


def _write_messages(destination: Destination, slug: str, orders: list[RequestOrder]) -> list[Message]:
    workspace = destination.workspace
    command = Command.objects.filter(workspace=workspace, slug=slug).first()
    word = command.word if command else slug.upper()
    options = ForwardingSettings.of(workspace)
    template = _template(destination, command)
    notes = sorted({o.request.note for o in orders if o.request.note})
    note = " / ".join(notes)
    lines = [text.Line(o.id, o.panel_order_id, o.external_id) for o in orders]
    parts = text.pack(template, word, lines, note, options.include_panel_ids, max_length(destination))
    faults.point("forwarding.before_assign")
    messages = []
    for number, part in enumerate(parts, start=1):
        with transaction.atomic():
            claimed = _claim_into_message(destination, slug, part, len(parts), number)
            if claimed is None:
                continue
            message, got = claimed
            message.text = text.render(template, word, got, note, options.include_panel_ids)
            Message.objects.filter(pk=message.pk).update(text=message.text)
            enqueue("forwarding.deliver", {"message": message.id}, workspace=workspace, key=f"deliver:{message.id}")
        messages.append(message)
    return messages


def _claim_into_message(
    destination: Destination, slug: str, part: list[text.Line], parts: int, number: int
) -> tuple[Message, list[text.Line]] | None:
    """Create a message and move the part's orders into it, only those that are in no message yet.

    The conditional UPDATE is what makes two runs of the same job at once harmless: an order
    already taken by the other run is not matched (on PostgreSQL the second UPDATE waits for the
    first transaction and re-checks `message IS NULL`; SQLite runs one writer at a time). The
    caller writes the text from the orders the message really got, in the same transaction; a
    message that got none is rolled back, so no order is ever in two messages.
    """
    with transaction.atomic():
        message = Message.objects.create(
            workspace=destination.workspace,
            destination=destination,
            destination_label=str(destination)[:120],
            command_slug=slug,
            text="",
            part=number,
            parts=parts,
        )
        wanted = [line.order_pk for line in part]
        taken = RequestOrder.objects.filter(id__in=wanted, message__isnull=True, state=RequestOrder.QUEUED).update(
            message=message, outcome=Outcome.IN_MESSAGE, reason=f"in message to {destination}", updated=timezone.now()
        )
        if not taken:
            transaction.set_rollback(True)
            return None
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
