"""A customer message written while the previous one is being handled is read, once.

The race: a poll reads the customer's message, the customer writes again, then our reply lands
after both. Reading "the messages after the last staff message" would lose the second one.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from panelrelay.forwarding.models import Command, ForwardRequest
from panelrelay.intake import jobs, tickets
from panelrelay.intake.models import TicketIntake, TicketOutcomeReply, TicketSettings
from panelrelay.intake.tests.helpers import order, wire
from panelrelay.panels.adapters.base import PanelTicket, TicketMessage

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("no_pacing")]
REPLY = "Your refill request for order(s) 70001 has been sent to our provider."


def ids(requests: list[ForwardRequest]) -> list[list[str]]:
    return [sorted(r.orders.values_list("panel_order_id", flat=True)) for r in requests]


def post_reply(ticket_id: int) -> None:
    """As the reply job posts it (`jobs.reply` once the orders are decided)."""
    claim = TicketIntake.objects.filter(ticket_id=str(ticket_id)).latest("pk")
    jobs._post(claim, claim, REPLY)


def test_a_message_written_before_our_reply_lands_is_read_on_the_next_poll(fake_panel, fake_telegram) -> None:
    wired = wire(fake_panel, fake_telegram)
    order(fake_panel, 70001, "dave")
    order(fake_panel, 70002, "dave")
    TicketSettings.objects.create(workspace=wired.workspace, replies_enabled=False)  # we post it below
    ticket = fake_panel.add_ticket("dave", "Refill", "refill 70001")
    assert ids(tickets.poll_panel(wired.panel)) == [["70001"]]

    fake_panel.add_ticket_message(ticket["id"], "dave", "and refill 70002 too please")
    post_reply(ticket["id"])  # the answer to the first lands after it
    assert [m["sender_name"] for m in fake_panel.get_ticket(ticket["id"])["messages"]] == ["dave", "dave", "support"]

    assert ids(tickets.poll_panel(wired.panel)) == [["70002"]]  # the second message only, not 70001 again
    assert tickets.poll_panel(wired.panel) == []  # and once
    assert TicketIntake.objects.filter(ticket_id=str(ticket["id"])).count() == 2


def test_messages_on_both_sides_of_our_reply_are_read_together_once(fake_panel, fake_telegram) -> None:
    wired = wire(fake_panel, fake_telegram)
    for n in (70001, 70002, 70003):
        order(fake_panel, n, "dave")
    TicketSettings.objects.create(workspace=wired.workspace, replies_enabled=False)
    ticket = fake_panel.add_ticket("dave", "Refill", "refill 70001")
    tickets.poll_panel(wired.panel)
    fake_panel.add_ticket_message(ticket["id"], "dave", "refill 70002")
    post_reply(ticket["id"])
    fake_panel.add_ticket_message(ticket["id"], "dave", "70003 as well")

    assert ids(tickets.poll_panel(wired.panel)) == [["70002", "70003"]]
    assert tickets.poll_panel(wired.panel) == []


def test_a_staff_answer_already_on_the_ticket_when_first_read_still_hides_older_messages(
    fake_panel, fake_telegram
) -> None:
    wired = wire(fake_panel, fake_telegram)
    order(fake_panel, 70001, "dave")
    order(fake_panel, 70002, "dave")
    TicketSettings.objects.create(workspace=wired.workspace, replies_enabled=False)
    ticket = fake_panel.add_ticket("dave", "Refill", "refill 70001")  # answered by a person, before us
    fake_panel.add_ticket_message(ticket["id"], "support", "done by hand")
    fake_panel.add_ticket_message(ticket["id"], "dave", "now refill 70002")
    assert ids(tickets.poll_panel(wired.panel)) == [["70002"]]


# ----- panels whose ticket messages carry no ids -------------------------------------------

T0 = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)


def no_id_ticket(*messages: tuple[str, str]) -> PanelTicket:
    """Messages as a panel without message ids (and here without times) shows them."""
    return PanelTicket("7", "dave", "Refill", "Pending", [TicketMessage("", s, t) for s, t in messages])


def read(panel, ticket: PanelTicket) -> tickets.Found | None:
    commands = {c.slug: c for c in Command.for_workspace(panel.workspace) if c.enabled}
    return tickets._read(panel, ticket, commands, {})


def claim(panel, found: tickets.Found) -> None:
    TicketIntake.objects.create(workspace=panel.workspace, panel=panel, ticket_id="7", message_key=found.message_key)


def test_without_message_ids_a_repeated_identical_message_is_new_and_is_read_once(fake_panel, fake_telegram) -> None:
    wired = wire(fake_panel, fake_telegram)
    first = read(wired.panel, no_id_ticket(("dave", "refill 70001")))
    assert first is not None and first.parsed.ids == ["70001"]
    claim(wired.panel, first)

    # Same words again, no ids, no times: only its place (the second such message) tells it apart.
    again = no_id_ticket(("dave", "refill 70001"), ("dave", "refill 70001"), ("support", REPLY))
    second = read(wired.panel, again)
    assert second is not None and second.parsed.ids == ["70001"] and second.message_key != first.message_key
    claim(wired.panel, second)
    assert read(wired.panel, again) is None
    assert read(wired.panel, no_id_ticket(("dave", "refill 70001"), ("dave", "refill 70001"))) is None


def test_without_message_ids_the_key_of_a_first_message_is_unchanged(fake_panel, fake_telegram) -> None:
    """Claims written before this change stay valid: a message's key is the digest of its time,
    sender and text, as it was; only a repeat of the same message gets its count added."""
    wired = wire(fake_panel, fake_telegram)
    ticket = PanelTicket("7", "dave", "Refill", "Pending", [TicketMessage("", "dave", "refill 70001", T0)])
    found = read(wired.panel, ticket)
    assert found is not None
    old = "sha:" + tickets.hashlib.sha256(f"{T0}|dave|refill 70001".encode()).hexdigest()[:60]
    assert found.message_key == old


def test_a_ticket_we_answered_is_read_once_more_then_no_longer(fake_panel, fake_telegram) -> None:
    wired = wire(fake_panel, fake_telegram)
    order(fake_panel, 70001, "dave")
    TicketSettings.objects.create(workspace=wired.workspace, replies_enabled=False)
    ticket = fake_panel.add_ticket("dave", "Refill", "refill 70001")
    tickets.poll_panel(wired.panel)
    post_reply(ticket["id"])
    assert TicketIntake.objects.get().reread_after is not None

    reads = len(fake_panel.requests_to(rf"/tickets/{ticket['id']}$"))
    assert tickets.poll_panel(wired.panel) == []  # answered, not listed: read whole once, nothing new
    assert len(fake_panel.requests_to(rf"/tickets/{ticket['id']}$")) == reads + 1
    assert TicketIntake.objects.get().reread_after is None
    tickets.poll_panel(wired.panel)
    assert len(fake_panel.requests_to(rf"/tickets/{ticket['id']}$")) == reads + 1  # no call spent on it


def test_a_message_written_before_the_outcome_reply_lands_is_read(fake_panel, fake_telegram) -> None:
    wired = wire(fake_panel, fake_telegram)
    order(fake_panel, 70001, "dave")
    order(fake_panel, 70002, "dave")
    TicketSettings.objects.create(workspace=wired.workspace, replies_enabled=False)
    ticket = fake_panel.add_ticket("dave", "Refill", "refill 70001")
    tickets.poll_panel(wired.panel)
    post_reply(ticket["id"])
    tickets.poll_panel(wired.panel)  # reads it whole: nothing new yet

    fake_panel.add_ticket_message(ticket["id"], "dave", "refill 70002 please")
    claim = TicketIntake.objects.get()
    record = TicketOutcomeReply.objects.create(claim=claim, kind=TicketOutcomeReply.DONE)
    jobs._post(claim, record, "Order(s) 70001: the provider says it is done.")  # lands after the message
    assert ids(tickets.poll_panel(wired.panel)) == [["70002"]]


def test_a_reply_posted_but_not_recorded_is_not_posted_again_after_the_customer_wrote(
    fake_panel, fake_telegram
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    wired = wire(fake_panel, fake_telegram)
    order(fake_panel, 70001, "dave")
    TicketSettings.objects.create(workspace=wired.workspace, replies_enabled=False)
    ticket = fake_panel.add_ticket("dave", "Refill", "refill 70001")
    tickets.poll_panel(wired.panel)
    wired.panel.adapter().reply_ticket(str(ticket["id"]), REPLY)  # a worker posted it, then died
    fake_panel.add_ticket_message(ticket["id"], "dave", "thanks!")  # and the customer answered
    TicketIntake.objects.update(reply_started=timezone.now() - timedelta(hours=1))

    post_reply(ticket["id"])  # the job again, after the lease
    assert [r["message"] for r in fake_panel.tickets_replies(ticket["id"])] == [REPLY]
    assert TicketIntake.objects.get().replied_at is not None
