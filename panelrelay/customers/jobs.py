"""Worker jobs: a customer's answer once their request is decided, later outcomes, and sending."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from panelrelay.customers import answers
from panelrelay.customers.models import ChatEntry, CustomerAsk
from panelrelay.intake.tickets import decided
from panelrelay.transports.models import Connection
from panelrelay.transports.services import send_or_retry
from panelrelay.worker.models import Job
from panelrelay.worker.registry import Retry, handler

ANSWER_WAIT = 1.0  # seconds between two looks at an ask whose orders are still being decided
ANSWER_GIVE_UP = timedelta(hours=2)  # undecided this long: the answer says what is known
ORDER_WAIT = 0.3  # seconds before a later answer to the same chat looks again


@handler("customers.answer")
def answer(job: Job) -> None:
    ask = CustomerAsk.objects.select_related("workspace").filter(pk=job.payload["ask"]).first()
    if ask is None or ask.answered_at is not None:
        return
    wait = timedelta(seconds=settings.TICKET_REPLY_DELIVERY_WAIT)
    ready = all(decided(r, wait) for r in ask.requests.all())
    if not ready and timezone.now() - ask.created < ANSWER_GIVE_UP:
        raise Retry(ANSWER_WAIT, "waiting for the orders to be looked up and delivered")
    answers.tell_answer(ask)


@handler("customers.outcome")
def outcome(job: Job) -> None:
    ask = CustomerAsk.objects.filter(pk=job.payload["ask"]).first()
    if ask is not None:
        answers.tell_outcome(ask, str(job.payload["kind"]))


@handler("customers.send")
def send(job: Job) -> None:
    # Answers reach a chat in the order they were written (as the team bot's do).
    earlier = Job.objects.filter(
        kind="customers.send", state__in=(Job.QUEUED, Job.RUNNING), id__lt=job.id,
        payload__connection=job.payload["connection"], payload__chat=job.payload["chat"],
    )  # fmt: skip
    first = earlier.order_by("run_at").values_list("run_at", flat=True).first() if job.id else None
    if first is not None:
        raise Retry(max(ORDER_WAIT, (first - timezone.now()).total_seconds() + ORDER_WAIT), "an earlier answer first")
    entry = ChatEntry.objects.filter(pk=job.payload["entry"]).first()
    connection = Connection.objects.select_related("workspace").filter(pk=job.payload["connection"]).first()
    if entry is None or connection is None or connection.workspace.suspended:
        return
    if entry.sent_at is None:
        send_or_retry(connection, entry.chat_id, entry.text)
        ChatEntry.objects.filter(pk=entry.pk).update(sent_at=timezone.now())
