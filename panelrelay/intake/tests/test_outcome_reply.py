"""The second reply on a ticket: what the provider did, once per outcome, never naming the provider."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from panelrelay.forwarding.after import outcome_known, set_progress
from panelrelay.forwarding.models import AnswerKind, ForwardRequest, Outcome, Progress, RequestOrder
from panelrelay.intake.models import TicketIntake, TicketOutcomeReply, TicketSettings
from panelrelay.intake.tests.helpers import EXT, FAST, order, run_until, wire
from panelrelay.panels.privacy import mask_domains
from panelrelay.worker.models import Job

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("no_pacing")]
ANSWERED = {AnswerKind.DONE: Outcome.ANSWERED_DONE, AnswerKind.REFUSED: Outcome.ANSWERED_REFUSED}


def replies(fake_panel, ticket) -> list[str]:
    return [r["message"] for r in fake_panel.tickets_replies(ticket["id"])]


def forwarded(fake_panel, fake_telegram, text: str, *ids: int):
    """A wired workspace with a ticket asking for `ids`, forwarded and answered a first time."""
    wired = wire(fake_panel, fake_telegram)
    for n in ids:
        order(fake_panel, n, "dave")
    ticket = fake_panel.add_ticket("dave", "Order help", text)
    run_until(
        lambda: len(replies(fake_panel, ticket)) == 1 and RequestOrder.objects.filter(state="sent").count() == len(ids)
    )
    return wired, ticket


def answer(wired, panel_ids: list[str], kind: str, words: str) -> None:
    """What the answers receiver does: masked words stored, progress set, the outcome announced."""
    orders = RequestOrder.objects.filter(workspace=wired.workspace, panel_order_id__in=panel_ids)
    ids = list(orders.values_list("id", flat=True))
    fields = {
        "answer_kind": kind,
        "answer_text": mask_domains(wired.workspace.pk, words),
        "answered_at": timezone.now(),
    }
    with transaction.atomic():
        set_progress(orders, Progress.ANSWERED, ANSWERED[kind], f"provider answered ({kind})", **fields)
        outcome_known(ids)


def confirm(wired, panel_ids: list[str]) -> None:
    """What the panel watch does when the panel shows the order done."""
    orders = RequestOrder.objects.filter(workspace=wired.workspace, panel_order_id__in=panel_ids)
    with transaction.atomic():
        set_progress(orders, Progress.CONFIRMED, Outcome.CONFIRMED, "confirmed", confirmed_at=timezone.now())
        outcome_known(list(orders.values_list("id", flat=True)))


def settle() -> None:
    run_until(lambda: not Job.objects.filter(kind="intake.outcome_reply", state__in=("queued", "running")).exists())


def test_it_tells_the_customer_once_when_the_provider_says_done(fake_panel, fake_telegram) -> None:
    wired, ticket = forwarded(fake_panel, fake_telegram, "please refill 70001", 70001)
    answer(wired, ["70001"], AnswerKind.DONE, "done ✅")
    run_until(lambda: len(replies(fake_panel, ticket)) == 2)
    assert replies(fake_panel, ticket)[1] == "The provider confirmed your refill for order(s) 70001."

    confirm(wired, ["70001"])  # the panel agrees later: still done, already told
    answer(wired, ["70001"], AnswerKind.DONE, "refilled")
    settle()
    assert len(replies(fake_panel, ticket)) == 2
    told = TicketOutcomeReply.objects.get()
    assert (told.kind, told.reply_text) == ("done", "The provider confirmed your refill for order(s) 70001.")


def test_a_confirmation_by_the_panel_counts_as_done(fake_panel, fake_telegram) -> None:
    wired, ticket = forwarded(fake_panel, fake_telegram, "please refill 70001", 70001)
    confirm(wired, ["70001"])
    run_until(lambda: len(replies(fake_panel, ticket)) == 2)
    assert replies(fake_panel, ticket)[1] == "The provider confirmed your refill for order(s) 70001."


def test_a_refusal_gives_the_providers_reason_without_naming_the_provider(fake_panel, fake_telegram) -> None:
    wired, ticket = forwarded(fake_panel, fake_telegram, "refill 70001 70002", 70001, 70002)
    words = (
        f"{EXT + 70001} {EXT + 70002} FastLikes_A can't refill: private account, ask @fastlikes_support or {FAST}/help"
    )
    answer(wired, ["70001", "70002"], AnswerKind.REFUSED, words)
    run_until(lambda: len(replies(fake_panel, ticket)) == 2)
    second = replies(fake_panel, ticket)[1]
    assert second == (
        "The provider says a refill is not possible for order(s) 70001, 70002: "
        "the provider can't refill: private account, ask or the provider"
    )
    # The canary: nothing the customer reads names the provider, its chat or its own order ids.
    for secret in ("fastlikes", "slowviews", "slow_b", str(EXT + 70001), str(EXT + 70002), "@"):
        assert secret not in " ".join(replies(fake_panel, ticket)).lower()


def test_done_and_refused_are_two_replies(fake_panel, fake_telegram) -> None:
    wired, ticket = forwarded(fake_panel, fake_telegram, "refill 70001 70002", 70001, 70002)
    answer(wired, ["70001"], AnswerKind.DONE, "done")
    answer(wired, ["70002"], AnswerKind.REFUSED, "not possible")
    run_until(lambda: len(replies(fake_panel, ticket)) == 3)
    assert sorted(replies(fake_panel, ticket)[1:]) == [
        "The provider confirmed your refill for order(s) 70001.",
        "The provider says a refill is not possible for order(s) 70002: not possible",
    ]


def test_it_waits_for_the_tickets_other_orders_within_a_bound(fake_panel, fake_telegram) -> None:
    wired, ticket = forwarded(fake_panel, fake_telegram, "refill 70001 70002", 70001, 70002)
    answer(wired, ["70001"], AnswerKind.DONE, "done")
    job = Job.objects.get(kind="intake.outcome_reply")
    run_until(lambda: Job.objects.get(pk=job.pk).run_at > timezone.now())  # looked, and waits
    assert len(replies(fake_panel, ticket)) == 1

    answer(wired, ["70002"], AnswerKind.DONE, "ok")
    Job.objects.filter(pk=job.pk).update(run_at=timezone.now())
    run_until(lambda: len(replies(fake_panel, ticket)) == 2)
    assert replies(fake_panel, ticket)[1] == "The provider confirmed your refill for order(s) 70001, 70002."


def test_a_slow_order_does_not_hold_the_answer_back_for_ever(fake_panel, fake_telegram) -> None:
    wired, ticket = forwarded(fake_panel, fake_telegram, "refill 70001 70002", 70001, 70002)
    answer(wired, ["70001"], AnswerKind.DONE, "done")
    Job.objects.filter(kind="intake.outcome_reply").update(created=timezone.now() - timedelta(minutes=31))
    run_until(lambda: len(replies(fake_panel, ticket)) == 2)
    assert replies(fake_panel, ticket)[1] == "The provider confirmed your refill for order(s) 70001."


def test_the_owners_templates_are_used(fake_panel, fake_telegram) -> None:
    wired, ticket = forwarded(fake_panel, fake_telegram, "refill 70001", 70001)
    TicketSettings.objects.filter(workspace=wired.workspace).update(
        reply_outcome_refused="Sorry, no {command} for {ids} ({reason})."
    )
    answer(wired, ["70001"], AnswerKind.REFUSED, "already refilled, drop 20%")
    run_until(lambda: len(replies(fake_panel, ticket)) == 2)
    assert replies(fake_panel, ticket)[1] == "Sorry, no refill for 70001 (already refilled, drop 20%)."


def test_no_second_reply_when_replies_are_off(fake_panel, fake_telegram) -> None:
    wired, ticket = forwarded(fake_panel, fake_telegram, "refill 70001", 70001)
    TicketSettings.objects.filter(workspace=wired.workspace).update(replies_enabled=False)
    answer(wired, ["70001"], AnswerKind.DONE, "done")
    settle()
    assert len(replies(fake_panel, ticket)) == 1 and not TicketOutcomeReply.objects.exists()


def test_an_uncertain_try_looks_at_the_ticket_before_posting_again(fake_panel, fake_telegram) -> None:
    wired, ticket = forwarded(fake_panel, fake_telegram, "refill 70001", 70001)
    text = "The provider confirmed your refill for order(s) 70001."
    # A try that reached the panel but whose worker died before it recorded anything.
    wired.panel.adapter().reply_ticket(str(ticket["id"]), text)
    claim = TicketIntake.objects.get()
    TicketOutcomeReply.objects.create(claim=claim, kind="done", reply_started=timezone.now() - timedelta(hours=1))
    answer(wired, ["70001"], AnswerKind.DONE, "done")
    run_until(lambda: TicketOutcomeReply.objects.filter(replied_at__isnull=False).exists())
    assert replies(fake_panel, ticket) == [replies(fake_panel, ticket)[0], text]


def test_orders_of_other_sources_are_not_ticket_business(fake_panel, fake_telegram) -> None:
    wired, _ = forwarded(fake_panel, fake_telegram, "refill 70001", 70001)
    ForwardRequest.objects.update(source=ForwardRequest.MANUAL)
    answer(wired, ["70001"], AnswerKind.DONE, "done")
    assert not Job.objects.filter(kind="intake.outcome_reply").exists()
