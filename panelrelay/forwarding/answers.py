"""Providers' answers: what a provider writes back in the chat we sent to, read into the orders.

Subscribed to the incoming front door (transports.incoming) from ForwardingConfig.ready():

- a message in a chat that is one of the workspace's destinations (on the connection it came
  through) is a provider's; any other chat is not ours to read here;
- a reply to one of our messages (request, reminder or escalation) answers that message's orders;
- a new message that quotes external ids answers the open orders with those ids sent to that chat;
- anything else in the chat (chatter, a question) is left alone.

The words are read by reading.answers (done / refused / working / other, the owner's words first),
stored only after the masking that guards every other surface (a provider's domain becomes its
alias), and the orders move to Progress.ANSWERED through after.set_progress. A refusal tells the
owner, with the words; a done or refused answer is an outcome others may act on (after.outcome_known).
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone

from panelrelay.forwarding.after import outcome_known, set_progress
from panelrelay.forwarding.models import AnswerKind, ForwardingSettings, Message, Outcome, Progress, RequestOrder
from panelrelay.panels.privacy import mask_domains
from panelrelay.reading.answers import classify
from panelrelay.transports.incoming import Incoming
from panelrelay.transports.models import Destination
from panelrelay.transports.services import send_alert

log = logging.getLogger("panelrelay.forwarding")
HORIZON = timedelta(days=30)  # an answer to a message older than this is not matched by quoted ids
_DIGITS = re.compile(r"(?<![\d.,])\d{3,20}(?![\d.,]?\d)")
OUTCOME_OF: dict[str, Outcome] = {  # reading.answers names a kind by its plain string
    AnswerKind.DONE: Outcome.ANSWERED_DONE,
    AnswerKind.REFUSED: Outcome.ANSWERED_REFUSED,
    AnswerKind.WORKING: Outcome.ANSWERED_WORKING,
    AnswerKind.OTHER: Outcome.ANSWERED_OTHER,
}


def receiver(incoming: Incoming) -> bool:
    """The front door's receiver for providers' chats (after the team bot and start links)."""
    destinations = _destinations(incoming)
    if not destinations:
        return False
    orders = _answered_orders(incoming, destinations)
    if orders is None:
        return False  # chatter in a provider's chat: nothing to record
    record(orders, incoming)
    return True


def _destinations(incoming: Incoming) -> list[Destination]:
    names = {incoming.chat_id}
    chat = incoming.raw.get("chat")
    if not isinstance(chat, dict):  # not a Telegram payload, or one without its chat
        chat = {}
    if chat.get("username"):  # a Telegram destination may be written as @username
        names.add(f"@{chat['username']}")
    return list(Destination.objects.filter(connection=incoming.connection, target__in=names))


def _answered_orders(incoming: Incoming, destinations: list[Destination]) -> QuerySet[RequestOrder] | None:
    if incoming.reply_to:
        message = _our_message(incoming.reply_to, destinations)
        if message is not None:
            if message.kind == Message.REQUEST:
                return RequestOrder.objects.filter(message=message)
            return message.covers.all()
    quoted = set(_DIGITS.findall(incoming.text or ""))
    if not quoted:
        return None
    since = timezone.now() - HORIZON
    candidates = RequestOrder.objects.filter(
        workspace_id=incoming.connection.workspace_id, destination__in=destinations, external_id__in=quoted,
        state=RequestOrder.SENT, sent_at__gte=since,
    )  # fmt: skip
    latest: dict[str, int] = {}
    for pk, external_id in candidates.order_by("sent_at", "id").values_list("id", "external_id"):
        latest[external_id] = pk  # the most recent send of each quoted id
    return RequestOrder.objects.filter(id__in=latest.values()) if latest else None


def _our_message(reply_to: str, destinations: list[Destination]) -> Message | None:
    """The message a reply answers. Gateways name a message by its full id or its short form
    (WAHA: "true_<chat>_<ID>" for ours, sometimes only "<ID>" in replyTo), so both are tried."""
    short = short_id(reply_to)
    found = Message.objects.filter(destination__in=destinations, state=Message.SENT).filter(
        Q(remote_id=reply_to) | Q(remote_id=short) | Q(remote_id__endswith=f"_{short}")
    )
    return found.order_by("-sent_at").first()


def short_id(message_id: str) -> str:
    """WAHA's serialized ids are "<true|false>_<chat>_<ID>[_<participant>]": the ID is the message."""
    parts = message_id.split("_")
    return parts[2] if len(parts) >= 3 and parts[0] in ("true", "false") else message_id


def owner_words(settings: ForwardingSettings) -> dict[str, list[str]]:
    def split(value: str) -> list[str]:
        return [p.strip() for p in value.replace("\n", ",").split(",") if p.strip()]

    return {
        AnswerKind.DONE: split(settings.answer_done_words),
        AnswerKind.REFUSED: split(settings.answer_refused_words),
        AnswerKind.WORKING: split(settings.answer_working_words),
    }


def record(orders: QuerySet[RequestOrder], incoming: Incoming) -> list[int]:
    """Store the answer on the orders it speaks for; returns their ids."""
    workspace_id = incoming.connection.workspace_id
    settings = ForwardingSettings.of(incoming.connection.workspace)
    answer = classify(incoming.text, owner_words(settings))
    words = mask_domains(workspace_id, incoming.text or "").strip()[:500]
    ids = list(orders.values_list("id", flat=True))
    fields = {"answer_kind": answer.kind, "answer_text": words, "answered_at": incoming.at}
    reason = f"provider answered ({answer.kind}): {words}" if words else f"provider answered ({answer.kind})"
    targets = RequestOrder.objects.filter(id__in=ids)
    moved = set_progress(targets, Progress.ANSWERED, OUTCOME_OF[answer.kind], reason, **fields)
    # A confirmed order keeps its confirmation; the provider's words are kept beside it.
    targets.filter(progress=Progress.CONFIRMED).update(**fields)
    log.info("provider answer (%s) recorded on %s of %s order(s)", answer.kind, moved, len(ids))
    if answer.kind == AnswerKind.REFUSED:
        _tell_owner(incoming, ids, words)
    if answer.kind in (AnswerKind.DONE, AnswerKind.REFUSED):
        outcome_known(ids)
    return ids


def _tell_owner(incoming: Incoming, ids: list[int], words: str) -> None:
    orders = RequestOrder.objects.filter(id__in=ids)
    aliases = sorted({alias for alias in orders.values_list("provider_alias", flat=True) if alias}) or ["A provider"]
    external = ", ".join(orders.order_by("id").values_list("external_id", flat=True)[:20])
    text = f"{', '.join(aliases)} refused {len(ids)} order(s) ({external}): “{words}”"
    send_alert(incoming.connection.workspace, text, key=f"refused:{incoming.connection.pk}:{incoming.message_id}")
