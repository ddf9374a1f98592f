"""What the bot says to a customer, from the owner's templates, and when.

Every answer is a ChatEntry (the conversation the Customers page shows) and a `customers.send`
job, written in the same transaction as what caused it. The answer to a request waits until its
orders are decided (`intake.tickets.decided`: looked up, and delivered or refused) and names each
id's fate by the outcome code, never by the engine's sentence; ids of other customers and ids
that do not exist get one and the same answer. A provider's later outcome (forwarding.after)
becomes one more answer per kind. Nothing here names a provider: templates have no field for one
and a provider's refusal words pass `intake.tickets.customer_words` (aliases, domains, handles
and long numbers removed) first.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from panelrelay.accounts.models import Workspace
from panelrelay.customers.models import KINDS, PLAIN_REASONS, ChatEntry, Customer, CustomerAsk, ReplyTemplate
from panelrelay.forwarding.models import ForwardRequest, Outcome, RequestOrder
from panelrelay.intake.tickets import customer_words, provider_names, told_as
from panelrelay.transports.models import Connection
from panelrelay.worker.queue import enqueue

ORDER = ("received", "cooldown", "not_eligible", "team", "not_found")  # best first, for an id in several requests
FORWARDED_STATES = (RequestOrder.QUEUED, RequestOrder.RETRYING, RequestOrder.SENT)  # "waiting" (no route yet): the team


def template(workspace: Workspace | int, language: str, kind: str) -> str:
    """The owner's text for this kind in the customer's language, else their default, else ours."""
    workspace_id = workspace if isinstance(workspace, int) else workspace.pk
    languages = [lang for lang in dict.fromkeys([language.casefold()[:10], language.casefold()[:2], ""])]
    found = dict(
        ReplyTemplate.objects.filter(workspace_id=workspace_id, kind=kind, language__in=languages).values_list(
            "language", "text"
        )
    )
    return next((found[lang] for lang in languages if found.get(lang, "").strip()), KINDS[kind])


def fill(text: str, **values: str) -> str:
    for name, value in values.items():  # not str.format: an owner's stray brace must not break it
        text = text.replace("{" + name + "}", value)
    return text.strip()


def say(customer: Customer, connection: Connection, chat_id: str, kind: str, text: str,
        request: ForwardRequest | None = None) -> ChatEntry:  # fmt: skip
    """Log one answer and queue it; the worker sends it on the connection's paced path."""
    entry = ChatEntry.objects.create(workspace_id=customer.workspace_id, customer=customer, connection=connection,
                                     chat_id=chat_id, direction=ChatEntry.OUT, text=text[:4000], kind=kind,
                                     request=request)  # fmt: skip
    enqueue("customers.send", {"entry": entry.pk, "connection": connection.pk, "chat": chat_id},
            workspace=customer.workspace, key=f"customers.send:{entry.pk}")  # fmt: skip
    return entry


def schedule(ask: CustomerAsk) -> None:
    enqueue("customers.answer", {"ask": ask.pk}, workspace=ask.workspace, key=f"customers.answer:{ask.pk}")


def kind_of(order: RequestOrder) -> str:
    if order.state in FORWARDED_STATES:
        return "received"
    if order.outcome in (Outcome.NOT_FOUND, Outcome.NOT_YOURS):
        return "not_found"  # the same words: nobody learns whose an order is
    if order.outcome in (Outcome.COOLDOWN, Outcome.IN_PROGRESS):
        return "cooldown"
    if order.outcome in PLAIN_REASONS:
        return "not_eligible"
    return "team"


def answer_text(ask: CustomerAsk) -> str:
    """One line per kind (and reason) over every request of the ask, each id told once."""
    requests = list(ask.requests.order_by("id"))
    if not requests:
        return ""
    best: dict[str, tuple[int, str, str]] = {}  # id -> (rank, kind, reason)
    for order in RequestOrder.objects.filter(request__in=requests).order_by("id"):
        kind = kind_of(order)
        rank = (ORDER.index(kind), kind, PLAIN_REASONS.get(str(order.outcome), ""))
        if order.panel_order_id not in best or rank < best[order.panel_order_id]:
            best[order.panel_order_id] = rank
    groups: dict[tuple[int, str, str], list[str]] = {}
    for oid, rank in best.items():
        groups.setdefault(rank, []).append(oid)
    command = requests[0].command_label.lower()
    lines = []
    for (_, kind, reason), ids in sorted(groups.items()):
        lines.append(fill(template(ask.workspace_id, ask.language, kind), ids=", ".join(ids), command=command,
                          reason=reason))  # fmt: skip
    return "\n".join(lines)


def on_outcome(order_ids: list[int]) -> None:
    """after.OUTCOME_RECEIVERS: customers whose orders' outcome is now known get one more answer."""
    kinds: dict[int, set[str]] = {}
    orders = RequestOrder.objects.filter(id__in=order_ids, request__source=ForwardRequest.CUSTOMER)
    for order in orders.only("request_id", "progress", "answer_kind"):
        kind = told_as(order)
        if kind:
            kinds.setdefault(order.request_id, set()).add(kind)
    if not kinds:
        return
    for ask in CustomerAsk.objects.filter(requests__in=list(kinds)).distinct():
        for kind in sorted(set().union(*(kinds.get(r, set()) for r in ask.requests.values_list("id", flat=True)))):
            enqueue("customers.outcome", {"ask": ask.pk, "kind": kind}, workspace=ask.workspace,
                    key=f"customers.outcome:{ask.pk}:{kind}")  # fmt: skip


def outcome_text(ask: CustomerAsk, kind: str) -> str:
    orders = [
        o for o in RequestOrder.objects.filter(request__in=ask.requests.all()).order_by("id") if told_as(o) == kind
    ]
    if not orders:
        return ""
    aliases = provider_names(ask.workspace_id)
    words = [customer_words(ask.workspace_id, o.answer_text, aliases) for o in orders]
    reason = "; ".join(dict.fromkeys(w for w in words if w)) or ("" if kind == "done" else "no reason given")
    ids = ", ".join(dict.fromkeys(o.panel_order_id for o in orders))
    command = orders[0].request.command_label.lower()
    return fill(template(ask.workspace_id, ask.language, f"outcome_{kind}"), ids=ids, command=command, reason=reason)


def tell_outcome(ask: CustomerAsk, kind: str) -> None:
    with transaction.atomic():
        locked = CustomerAsk.objects.select_for_update().get(pk=ask.pk)
        if kind in (locked.told or []):
            return
        text = outcome_text(locked, kind)
        if not text:
            return
        locked.told = [*(locked.told or []), kind]
        locked.save(update_fields=["told"])
        say(locked.customer, locked.connection, locked.chat_id, f"outcome_{kind}", text,
            request=locked.requests.order_by("id").first())  # fmt: skip


def tell_answer(ask: CustomerAsk) -> None:
    with transaction.atomic():
        locked = CustomerAsk.objects.select_for_update().get(pk=ask.pk)
        if locked.answered_at is not None:
            return
        locked.answered_at = timezone.now()
        locked.save(update_fields=["answered_at"])
        text = answer_text(locked)
        if text:
            say(locked.customer, locked.connection, locked.chat_id, "answer", text,
                request=locked.requests.order_by("id").first())  # fmt: skip
