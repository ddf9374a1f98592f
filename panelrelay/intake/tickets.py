"""Ticket polling: a panel's open support tickets become forward requests, and get an answer.

One poll (`poll_panel`) reads the tickets waiting for staff (and those we answered since their
last read), takes each one's customer messages since the last one already claimed (wherever staff
replies sit; on a ticket never claimed from, since the last staff reply), and reads the order ids and command with `reading.parser`. A ticket
without both is left alone for a person. Every request found is written in ONE transaction at
the end of the poll, each with its claim row (`TicketIntake`, unique per panel + ticket +
message), so a message is never turned into a request twice, whoever polls and however often;
the poll's requests share a batch, so tickets to the same destination and command share a
message. `reply` answers the ticket once every order of its request is delivered or decided (`decided`).
"""

from __future__ import annotations

import hashlib
import html
import logging
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from panelrelay.forwarding.after import awaiting
from panelrelay.forwarding.models import AnswerKind, Command, ForwardRequest, Outcome, Progress, RequestOrder
from panelrelay.forwarding.submit import SubmitError, create_request
from panelrelay.intake.models import TicketIntake, TicketOutcomeReply, TicketSettings
from panelrelay.panels.adapters.base import PanelAdapter, PanelTicket, TicketMessage
from panelrelay.panels.models import Panel, Provider
from panelrelay.panels.privacy import find_domains
from panelrelay.reading.parser import Parsed, customer_text, parse
from panelrelay.worker.queue import enqueue

log = logging.getLogger("panelrelay.intake")
MAX_TICKETS = 100  # tickets read per poll; more wait for the next one
STAFF_NAMES = ("support", "admin", "staff")
# Apps above intake that read tickets too (customers: a one-time link code written by the ticket's
# author) join here from their AppConfig.ready(); intake imports none of them. Each is called with
# every ticket a poll reads and must be idempotent (the same ticket is read again on the next poll).
TICKET_READERS: list[Callable[[Panel, PanelTicket], None]] = []


@dataclass
class Found:
    ticket: PanelTicket
    message_key: str
    parsed: Parsed
    command: Command


def keywords(commands: list[Command]) -> dict[str, list[str]]:
    """The owner's extra phrases per command slug, for `parse(keywords=…)`."""
    return {c.slug: c.keyword_list for c in commands if c.keyword_list}


def poll_panel(panel: Panel, seen: set[str] | None = None) -> list[ForwardRequest]:
    """Read the panel's open tickets and create a request per new order request. Raises PanelError.

    `seen` gets "ticket:newest message" of every waiting ticket read: the poller compares it with
    the last poll's to notice activity (a new ticket or a new message on one)."""
    adapter = panel.adapter()
    commands = {c.slug: c for c in Command.for_workspace(panel.workspace) if c.enabled}
    words = keywords(list(commands.values()))
    found = []
    started = timezone.now()
    listed = [summary.id for summary in adapter.list_tickets(MAX_TICKETS)]
    # Tickets we answered since they were last read whole: a message the customer wrote before our
    # reply landed is unread, and the panel, showing the ticket answered, no longer lists it.
    replied = TicketIntake.objects.filter(panel=panel, reread_after__isnull=False)
    reread = dict(replied.values_list("pk", "ticket_id"))
    for ticket_id in listed + sorted(set(reread.values()) - set(listed), key=_number):
        ticket = adapter.get_ticket(ticket_id)
        if ticket is not None and ticket_id not in listed and ticket.status.strip().lower() == "closed":
            continue  # closed by staff since our reply: a person has seen it
        if seen is not None and ticket is not None and ticket.messages and ticket_id in listed:
            seen.add(f"{ticket.id}:{_message_key(ticket)}")
        for reader in list(TICKET_READERS):
            if ticket is not None:
                reader(panel, ticket)
        item = _read(panel, ticket, commands, words) if ticket else None
        if item and not _handled(panel, item):
            found.append(item)
    found.sort(key=lambda item: _number(item.ticket.id))  # oldest ticket first: its ids come first too
    # Cleared with the claims, in one transaction; a reply recorded after this read began is read next time.
    done = TicketIntake.objects.filter(pk__in=reread, reread_after__lte=started)
    return _create(panel, found, lambda: done.update(reread_after=None))


def _number(ticket_id: str) -> int:
    return int(ticket_id) if ticket_id.isdigit() else 0


def _read(panel: Panel, ticket: PanelTicket, commands: dict[str, Command], words: dict[str, list[str]]) -> Found | None:
    if not ticket.user:
        return None
    keys = message_keys(ticket.messages)
    new = _unread(panel, ticket, keys)
    if not new:
        return None
    messages = [{"sender_name": ticket.messages[i].sender, "message": ticket.messages[i].text} for i in new]
    text = customer_text(messages, staff_names=STAFF_NAMES)
    if not text:
        return None
    parsed = parse(text, words, subject=ticket.subject)
    command = commands.get(parsed.command or "")
    if not parsed.ids or command is None:
        return None  # nothing asked, or not clearly: a person reads it
    return Found(ticket, keys[new[-1]], parsed, command)


def _is_staff(sender: str) -> bool:
    return sender.strip().casefold() in STAFF_NAMES


def _unread(panel: Panel, ticket: PanelTicket, keys: list[str]) -> list[int]:
    """The positions of the customer's messages not read yet, oldest first.

    That is every customer message after the newest one already claimed (`TicketIntake`), wherever
    staff replies sit: our reply to one message may land after the customer's next one, which is
    still unread. A ticket never claimed from is read from its last staff message (older messages
    were a person's business), as is one whose claimed message the panel no longer shows.
    """
    claimed = set(
        TicketIntake.objects.filter(panel=panel, ticket_id=ticket.id, message_key__in=set(keys)).values_list(
            "message_key", flat=True
        )
    )
    start = next((i + 1 for i in range(len(keys) - 1, -1, -1) if keys[i] in claimed), None)
    if start is None:
        staff = [i for i, m in enumerate(ticket.messages) if _is_staff(m.sender)]
        start = staff[-1] + 1 if staff else 0
    return [i for i in range(start, len(keys)) if not _is_staff(ticket.messages[i].sender)]


def message_keys(messages: list[TicketMessage]) -> list[str]:
    """Each message's key, the panel's message id; without one, a digest of its time, sender and
    text, with its count among identical earlier messages (the second "refill 123" written with no
    time is another message). A message's first occurrence keeps the plain digest."""
    keys: list[str] = []
    counts: dict[str, int] = {}
    for message in messages:
        if message.id:
            keys.append(message.id[:64])
            continue
        base = f"{message.created}|{message.sender}|{message.text}"
        n = counts[base] = counts.get(base, -1) + 1
        raw = base if n == 0 else f"{base}|#{n}"
        keys.append("sha:" + hashlib.sha256(raw.encode()).hexdigest()[:60])
    return keys


def _message_key(ticket: PanelTicket) -> str:
    """The newest message's key (see `message_keys`)."""
    return message_keys(ticket.messages)[-1]


def _handled(panel: Panel, item: Found) -> bool:
    return TicketIntake.objects.filter(panel=panel, ticket_id=item.ticket.id, message_key=item.message_key).exists()


def _create(panel: Panel, found: list[Found], then: Callable[[], object] = lambda: None) -> list[ForwardRequest]:
    """All of the poll's requests at once: the batch is complete before any of it is assembled."""
    batch = uuid.uuid4().hex
    created = []
    with transaction.atomic():
        then()
        for item in found:
            try:
                with transaction.atomic():
                    created.append(_claim(panel, item, batch))
            except IntegrityError:
                log.info("ticket %s of panel %s: message already handled", item.ticket.id, panel.code)
            except SubmitError as exc:
                log.info("ticket %s of panel %s not forwarded: %s", item.ticket.id, panel.code, exc)
    return created


def _claim(panel: Panel, item: Found, batch: str) -> ForwardRequest:
    claim = TicketIntake.objects.create(
        workspace=panel.workspace, panel=panel, ticket_id=item.ticket.id, message_key=item.message_key,
        user=item.ticket.user[:150], reason=item.parsed.reason[:300],
    )  # fmt: skip
    request = create_request(
        panel.workspace, panel, item.command, item.parsed.ids, source=ForwardRequest.TICKET,
        source_ref=item.ticket.id, ticket_user=item.ticket.user, batch=batch,
    )  # fmt: skip
    claim.request = request
    claim.save(update_fields=["request"])
    if TicketSettings.of(panel.workspace).replies_enabled:
        enqueue("intake.reply", {"claim": claim.pk}, workspace=panel.workspace, key=f"intake.reply:{claim.pk}")
    return request


# ----- the answer on the ticket ----------------------------------------------------------


def outcome(order: RequestOrder) -> str:
    """Which reply text speaks for this order, by its outcome code (never by the sentence)."""
    if order.state in (RequestOrder.QUEUED, RequestOrder.RETRYING, RequestOrder.SENT):
        return "forwarded"
    if order.outcome == Outcome.NOT_YOURS:
        return "not_yours"
    if order.outcome in (Outcome.COOLDOWN, Outcome.IN_PROGRESS):
        return "already"
    return "not_eligible"


def reply_text(claim: TicketIntake, request: ForwardRequest) -> str:
    """One sentence per outcome, from the owner's texts: {ids}, {command}, {reason}."""
    options = TicketSettings.of(claim.workspace)
    templates = {
        "forwarded": options.reply_forwarded,
        "already": options.reply_already,
        "not_eligible": options.reply_not_eligible,
        "not_yours": options.reply_not_yours,
    }
    groups: dict[str, list[RequestOrder]] = {}
    for order in request.orders.order_by("id"):
        groups.setdefault(outcome(order), []).append(order)
    lines = []
    for kind in templates:
        orders = groups.get(kind)
        if orders:
            reasons = "; ".join(dict.fromkeys(customer_reason(o) for o in orders))
            lines.append(_fill(templates[kind], orders, request.command_label.lower(), reasons))
    return "\n".join(lines)


# Reasons a customer may read as they are; the others name our routing, providers or
# destinations, which are the owner's business: the customer reads a neutral sentence instead.
CUSTOMER_OUTCOMES = (Outcome.STATUS_NOT_ALLOWED, Outcome.GUARANTEE_ENDED, Outcome.NO_REFILL, Outcome.NOT_FOUND)


def customer_reason(order: RequestOrder) -> str:
    return order.reason if order.outcome in CUSTOMER_OUTCOMES else "our team will look at it"


def _fill(template: str, orders: list[RequestOrder], command: str, reason: str) -> str:
    values = {"ids": ", ".join(o.panel_order_id for o in orders), "command": command, "reason": reason}
    text = template
    for name, value in values.items():  # not str.format: an owner's stray brace must not break it
        text = text.replace("{" + name + "}", value)
    return text.strip()


def decided(request: ForwardRequest, delivery_wait: timedelta) -> bool:
    """Every order final; or every order looked up and the delivery waited for long enough.

    Waiting for delivery means "sent to our provider" is true when the customer reads it, and a
    delivery that fails at once (a kicked bot) is not announced as sent. The wait is bounded so
    pacing or a gateway outage does not keep the customer without an answer: after it, orders
    still queued or retrying are told as forwarded, which is what they will be.
    """
    orders = request.orders
    # An order waiting for a route moves only when the owner sends it: the reply does not wait for it
    # (the customer reads "our team will look at it", which is what happens).
    if not orders.exclude(state__in=(*RequestOrder.FINAL, RequestOrder.WAITING)).exists():
        return True
    if orders.filter(looked_up=False).exclude(state__in=RequestOrder.FINAL).exists():
        return False
    return timezone.now() - request.created >= delivery_wait


def reply_on_ticket(adapter: PanelAdapter, claim: TicketIntake, text: str) -> bool:
    """Whether the ticket already carries this reply from staff, after the customer's message."""
    ticket = adapter.get_ticket(claim.ticket_id)
    if ticket is None:
        return False
    customer = ticket.user.strip().lower()
    keys = message_keys(ticket.messages)
    if claim.message_key in keys:
        # Anywhere after the message it answers: the customer may have written since it was posted.
        after = ticket.messages[keys.index(claim.message_key) + 1 :]
        return any(m.sender.strip().lower() != customer and same_text(m.text, text) for m in after)
    for message in reversed(ticket.messages):  # that message is gone from the ticket: the newest ones
        if message.sender.strip().lower() == customer:
            return False  # the customer wrote after any reply: ours is not there
        if same_text(message.text, text):
            return True
    return False


def same_text(shown: str, sent: str) -> bool:
    """Whether a ticket message is the text we posted, as panels may show it: HTML line breaks,
    escaped entities, other whitespace."""

    def plain(value: str) -> str:
        value = re.sub(r"(?i)<br\s*/?>", "\n", value)
        value = html.unescape(re.sub(r"<[^>]{0,200}>", "", value))
        return " ".join(value.split())

    return plain(shown) == plain(sent)


def claim_reply(claim: TicketIntake | TicketOutcomeReply) -> bool:
    """Take the right to post this reply (the first one, or an outcome reply); False when someone has it.

    A claim older than the worker lease belongs to a worker that died while posting: it is
    taken over (the caller then looks at the ticket before posting, as after a failed try).
    """
    now = timezone.now()
    stale = now - timedelta(seconds=settings.WORKER_LEASE_SECONDS)
    free = Q(reply_started__isnull=True) | Q(reply_started__lt=stale)
    rows = type(claim).objects.filter(free, pk=claim.pk, replied_at__isnull=True)
    return bool(rows.update(reply_started=now))


# ----- the second answer: the provider's outcome ----------------------------------------


def told_as(order: RequestOrder) -> str | None:
    """The outcome a customer is told for this order: the panel's confirmation counts as done."""
    if order.progress == Progress.CONFIRMED:
        return TicketOutcomeReply.DONE
    if order.progress == Progress.ANSWERED and order.answer_kind in (AnswerKind.DONE, AnswerKind.REFUSED):
        return str(order.answer_kind)
    return None


def on_outcome(order_ids: list[int]) -> None:
    """after.OUTCOME_RECEIVERS: the tickets behind these orders get their second reply (a job each).

    Called inside the transaction that recorded the outcome, so the job exists exactly when the
    outcome does. The key makes it one job per ticket and kind, however often it is reported.
    """
    kinds: dict[int, set[str]] = {}
    orders = RequestOrder.objects.filter(id__in=order_ids, request__source=ForwardRequest.TICKET)
    for order in orders.only("request_id", "progress", "answer_kind"):
        kind = told_as(order)
        if kind:
            kinds.setdefault(order.request_id, set()).add(kind)
    for claim in TicketIntake.objects.filter(request_id__in=kinds).select_related("workspace"):
        if not TicketSettings.of(claim.workspace).replies_enabled:
            continue
        for kind in sorted(kinds.get(claim.request_id or 0, ())):
            enqueue("intake.outcome_reply", {"claim": claim.pk, "kind": kind}, workspace=claim.workspace,
                    key=f"intake.outcome_reply:{claim.pk}:{kind}")  # fmt: skip


def still_open(request: ForwardRequest) -> bool:
    """Whether some sent order of the request still waits for its provider (worth waiting for)."""
    return awaiting(request.workspace_id).filter(request=request).exists()


def outcome_text(claim: TicketIntake, request: ForwardRequest, kind: str) -> str:
    """The second reply for one kind, from the owner's template: {ids}, {command}, {reason}."""
    options = TicketSettings.of(claim.workspace)
    template = options.reply_outcome_done if kind == TicketOutcomeReply.DONE else options.reply_outcome_refused
    orders = [o for o in request.orders.order_by("id") if told_as(o) == kind]
    if not orders:
        return ""
    aliases = provider_names(claim.workspace_id)
    words = [customer_words(claim.workspace_id, o.answer_text, aliases) for o in orders]
    fallback = "" if kind == TicketOutcomeReply.DONE else "no reason given"
    reason = "; ".join(dict.fromkeys(w for w in words if w)) or fallback
    return _fill(template, orders, request.command_label.lower(), reason)


# What the customer may read of a provider's words. The stored text is already masked (a known
# provider's domain became its alias), but an alias names the provider just as well, and the words
# may carry other host names, a Telegram @handle, or the provider's own order ids (of this and of
# other customers' orders, when one message carried several tickets). Those go; what is left is
# the provider's reason ("private account", "already refilled"), which is what the customer asked.
_HANDLE = re.compile(r"(?<![\w@])@[A-Za-z0-9_]{3,}")
_LONG_NUMBER = re.compile(r"[#№]?(?<![\d])\d{4,}(?!\d)")
_EDGES = " \t\n,;:.-–—|/"


def provider_names(workspace_id: int) -> re.Pattern[str] | None:
    aliases = sorted(Provider.objects.filter(workspace_id=workspace_id).values_list("alias", flat=True), key=len)
    names = [re.escape(a) for a in reversed(aliases) if a.strip()]  # longest first: "Fast A2" before "Fast A"
    return re.compile(r"(?<!\w)(?:" + "|".join(names) + r")(?!\w)", re.IGNORECASE) if names else None


def customer_words(workspace_id: int, text: str, aliases: re.Pattern[str] | None) -> str:
    """The provider's words as a customer may read them: no provider name, address, handle or id."""
    text = aliases.sub("the provider", text) if aliases else text
    for found in reversed(find_domains(workspace_id, text)):
        text = text[: found.start] + text[found.end :]
    text = _LONG_NUMBER.sub("", _HANDLE.sub("", text))
    text = " ".join(text.split()).strip(_EDGES)
    return text[:200]
