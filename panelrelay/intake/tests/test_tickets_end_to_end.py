"""From a customer's support ticket to a provider group and an answer on the ticket, end to end."""

from __future__ import annotations

import pytest

from panelrelay.forwarding.models import ForwardRequest, Message
from panelrelay.intake.models import TicketIntake, TicketSettings
from panelrelay.intake.tests.helpers import EXT, SLOW, order, run_until, wire
from panelrelay.worker.models import Job
from panelrelay.worker.runner import Worker

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("no_pacing")]
INTERVAL = 2


def texts(fake_telegram, chat: int) -> list[str]:
    return [m["text"] for m in fake_telegram.messages_to(chat)]


def test_it_forwards_a_new_ticket_and_replies_within_one_interval(fake_panel, fake_telegram) -> None:
    wired = wire(fake_panel, fake_telegram, INTERVAL)
    order(fake_panel, 70001, "dave")
    run_until(lambda: wired.panel.__class__.objects.get(pk=wired.panel.pk).tickets_polled_at is not None)

    ticket = fake_panel.add_ticket("dave", "Order help", "Hello, please refill 70001 thanks")
    took = run_until(
        lambda: bool(fake_panel.tickets_replies(ticket["id"]) and fake_telegram.messages_to(-1001)),
        timeout=INTERVAL + 5,
    )
    assert took <= INTERVAL + 5
    assert texts(fake_telegram, -1001) == [f"REFILL\n{EXT + 70001}"]
    reply = fake_panel.tickets_replies(ticket["id"])[0]["message"]
    assert reply == "Your refill request for order(s) 70001 has been sent to our provider."
    request = ForwardRequest.objects.get()
    assert (request.source, request.source_ref, request.ticket_user) == ("ticket", str(ticket["id"]), "dave")


def test_it_refuses_an_order_of_someone_else(fake_panel, fake_telegram) -> None:
    wire(fake_panel, fake_telegram, INTERVAL)
    order(fake_panel, 70001, "dave")
    order(fake_panel, 70002, "erin")
    ticket = fake_panel.add_ticket("Dave", "Refill", "70001 70002 refill")  # the name's case differs
    run_until(lambda: bool(fake_panel.tickets_replies(ticket["id"])))
    run_until(lambda: ForwardRequest.objects.filter(finished__isnull=False).exists())
    states = dict(ForwardRequest.objects.get().orders.values_list("panel_order_id", "reason"))
    assert states["70002"] == "not the ticket author's order"
    assert texts(fake_telegram, -1001) == [f"REFILL\n{EXT + 70001}"]
    reply = fake_panel.tickets_replies(ticket["id"])[0]["message"]
    assert reply.splitlines() == [
        "Your refill request for order(s) 70001 has been sent to our provider.",
        "Order(s) 70002 are not on your account, so we cannot request a refill for them.",
    ]


def test_a_ticket_seen_again_after_a_restart_is_not_forwarded_twice(fake_panel, fake_telegram) -> None:
    wired = wire(fake_panel, fake_telegram, INTERVAL)
    order(fake_panel, 70001, "dave")
    # No reply: the ticket stays waiting with the same customer message, poll after poll.
    TicketSettings.objects.create(workspace=wired.workspace, replies_enabled=False)
    fake_panel.add_ticket("dave", "Refill", "refill 70001")
    run_until(lambda: bool(fake_telegram.messages_to(-1001)), worker=Worker(worker_id="first"))

    polls = Job.objects.filter(kind="intake.poll_tickets", state="done").count()
    restarted = Worker(worker_id="after-restart")  # nothing in memory survives: only the database
    run_until(lambda: Job.objects.filter(kind="intake.poll_tickets", state="done").count() >= polls + 2,
              timeout=2 * INTERVAL + 5, worker=restarted)  # fmt: skip
    assert ForwardRequest.objects.count() == 1 and Message.objects.count() == 1
    assert len(fake_telegram.messages_to(-1001)) == 1


def test_the_same_customer_message_is_claimed_once(fake_panel, fake_telegram) -> None:
    wired = wire(fake_panel, fake_telegram, INTERVAL)
    order(fake_panel, 70001, "dave")
    fake_panel.add_ticket("dave", "Refill", "refill 70001")
    from panelrelay.intake import tickets

    assert len(tickets.poll_panel(wired.panel)) == 1
    assert tickets.poll_panel(wired.panel) == []  # as a second worker or a restarted one sees it
    assert TicketIntake.objects.count() == 1 and ForwardRequest.objects.count() == 1


def test_two_tickets_in_one_poll_share_one_message(fake_panel, fake_telegram) -> None:
    wire(fake_panel, fake_telegram, INTERVAL)
    order(fake_panel, 70001, "dave")
    order(fake_panel, 70002, "erin")
    order(fake_panel, 70003, "erin", provider=SLOW)
    one = fake_panel.add_ticket("dave", "Refill", "refill 70001")
    two = fake_panel.add_ticket("erin", "Refill", "Urgent Refill: 70002, 70003")
    run_until(lambda: all(fake_panel.tickets_replies(t["id"]) for t in (one, two)))
    run_until(lambda: ForwardRequest.objects.filter(finished__isnull=True).count() == 0)
    assert texts(fake_telegram, -1001) == [f"REFILL\n{EXT + 70001}\n{EXT + 70002}"]
    assert texts(fake_telegram, -1002) == [f"REFILL\n{EXT + 70003}"]
    assert ForwardRequest.objects.count() == 2


def test_tickets_without_an_id_or_a_command_are_left_alone(fake_panel, fake_telegram) -> None:
    wired = wire(fake_panel, fake_telegram, INTERVAL)
    order(fake_panel, 70001, "dave")
    fake_panel.add_ticket("dave", "Question", "how do I add funds?")
    fake_panel.add_ticket("dave", "Order", "what about 70001?")
    fake_panel.add_ticket("dave", "Order", "refill 70001 or cancel it")  # ambiguous
    from panelrelay.intake import tickets

    assert tickets.poll_panel(wired.panel) == []
    assert TicketIntake.objects.count() == 0


def test_owner_keywords_and_reply_texts_are_used(fake_panel, fake_telegram) -> None:
    from panelrelay.forwarding.models import Command

    wired = wire(fake_panel, fake_telegram, INTERVAL)
    order(fake_panel, 70001, "dave")
    Command.for_workspace(wired.workspace)
    Command.objects.filter(workspace=wired.workspace, slug="refill").update(keywords="дозаправка, ری فیل")
    TicketSettings.objects.create(workspace=wired.workspace, reply_forwarded="Готово: {ids}")
    ticket = fake_panel.add_ticket("dave", "Заказ", "дозаправка 70001 пожалуйста")
    run_until(lambda: bool(fake_panel.tickets_replies(ticket["id"])))
    assert fake_panel.tickets_replies(ticket["id"])[0]["message"] == "Готово: 70001"


def test_replies_can_be_turned_off(fake_panel, fake_telegram) -> None:
    wired = wire(fake_panel, fake_telegram, INTERVAL)
    order(fake_panel, 70001, "dave")
    TicketSettings.objects.create(workspace=wired.workspace, replies_enabled=False)
    ticket = fake_panel.add_ticket("dave", "Refill", "refill 70001")
    run_until(lambda: bool(fake_telegram.messages_to(-1001)))
    assert fake_panel.tickets_replies(ticket["id"]) == []


def test_a_panel_failing_is_shown_on_its_row_and_polling_goes_on(fake_panel, fake_telegram) -> None:
    wired = wire(fake_panel, fake_telegram, INTERVAL)
    fake_panel.inject("html", path="/tickets", status=502, times=1)
    run_until(lambda: "Tickets not read" in wired.panel.__class__.objects.get(pk=wired.panel.pk).tickets_message)
    assert Job.objects.filter(kind="intake.poll_tickets", state="queued").exists()  # the next poll


def test_a_new_customer_message_after_the_reply_is_read_again(fake_panel, fake_telegram) -> None:
    order(fake_panel, 70001, "dave")
    wire(fake_panel, fake_telegram, INTERVAL)
    ticket = fake_panel.add_ticket("dave", "Refill", "refill 70001")
    run_until(lambda: bool(fake_panel.tickets_replies(ticket["id"])))
    fake_panel.add_ticket_message(ticket["id"], "dave", "still not refilled, refill 70001 again")
    run_until(lambda: len(fake_panel.tickets_replies(ticket["id"])) == 2)
    second = fake_panel.tickets_replies(ticket["id"])[1]["message"]
    assert second == "A refill for order(s) 70001 was already requested recently; please wait for it."
    assert len(fake_telegram.messages_to(-1001)) == 1


def test_the_reply_gives_customers_the_status_and_guarantee_reasons_only(fake_panel, fake_telegram) -> None:
    wired = wire(fake_panel, fake_telegram, INTERVAL)
    order(fake_panel, 70001, "dave", status="Pending")
    order(fake_panel, 70002, "dave", service_name="IG Followers [30 Days Refill]", created="2020-01-01 00:00:00")
    order(fake_panel, 70003, "dave", provider="unrouted.example")
    from panelrelay.routing.models import RoutingDefaults

    RoutingDefaults.objects.filter(workspace=wired.workspace).delete()
    ticket = fake_panel.add_ticket("dave", "Refill", "refill 70001 70002 70003")
    run_until(lambda: bool(fake_panel.tickets_replies(ticket["id"])))
    reply = fake_panel.tickets_replies(ticket["id"])[0]["message"]
    assert reply == (
        "Order(s) 70001, 70002, 70003 cannot get a refill right now: status Pending does not allow refill; "
        "refill period of 30 days ended on 2020-01-31; our team will look at it."
    )
    assert fake_telegram.messages_to(-1001) == []


def test_a_reply_the_panel_refuses_is_kept_for_the_owner(fake_panel, fake_telegram) -> None:
    wire(fake_panel, fake_telegram, INTERVAL)
    order(fake_panel, 70001, "dave")
    fake_panel.inject("status", path=r"/tickets/\d+/reply", status=404, body={"error": "nope"}, times=1)
    ticket = fake_panel.add_ticket("dave", "Refill", "refill 70001")
    run_until(lambda: TicketIntake.objects.exclude(reply_error="").exists() and fake_telegram.messages_to(-1001))
    claim = TicketIntake.objects.get()
    assert claim.replied_at is None and "HTTP 404" in claim.reply_error
    assert fake_panel.tickets_replies(ticket["id"]) == []
    assert [m["text"] for m in fake_telegram.messages_to(-1001)] == [f"REFILL\n{EXT + 70001}"]


def test_a_v1_panel_says_tickets_are_not_supported(fake_panel, fake_telegram) -> None:
    from panelrelay.panels.models import Panel

    wired = wire(fake_panel, fake_telegram, INTERVAL)
    Panel.objects.filter(pk=wired.panel.pk).update(kind="pp_v1")
    run_until(lambda: Panel.objects.get(pk=wired.panel.pk).tickets_polled_at is not None)
    assert "tickets are not supported" in Panel.objects.get(pk=wired.panel.pk).tickets_message


def test_a_delivery_that_fails_is_not_told_to_the_customer_as_sent(fake_panel, fake_telegram) -> None:
    wire(fake_panel, fake_telegram, INTERVAL)
    order(fake_panel, 70001, "dave")
    order(fake_panel, 70003, "dave", provider=SLOW)
    fake_telegram.kick(-1002, notify=False)  # the bot was removed from the slow provider's group
    ticket = fake_panel.add_ticket("dave", "Refill", "refill 70001 70003")
    run_until(lambda: bool(fake_panel.tickets_replies(ticket["id"])))
    states = dict(ForwardRequest.objects.get().orders.values_list("panel_order_id", "state"))
    assert states == {"70001": "sent", "70003": "failed"}
    assert fake_panel.tickets_replies(ticket["id"])[0]["message"].splitlines() == [
        "Your refill request for order(s) 70001 has been sent to our provider.",
        "Order(s) 70003 cannot get a refill right now: our team will look at it.",
    ]


def test_a_slow_delivery_is_answered_as_forwarded_after_the_wait(fake_panel, fake_telegram, settings) -> None:
    settings.TICKET_REPLY_DELIVERY_WAIT = 1
    wire(fake_panel, fake_telegram, INTERVAL)
    order(fake_panel, 70001, "dave")
    fake_telegram.force_429(times=1, retry_after=60)  # the provider message waits a minute
    ticket = fake_panel.add_ticket("dave", "Refill", "refill 70001")
    run_until(lambda: bool(fake_panel.tickets_replies(ticket["id"])))
    assert ForwardRequest.objects.get().orders.get().state == "retrying"
    assert fake_telegram.messages_to(-1001) == []
    reply = fake_panel.tickets_replies(ticket["id"])[0]["message"]
    assert reply == "Your refill request for order(s) 70001 has been sent to our provider."


def test_a_reply_whose_answer_was_lost_is_not_posted_twice(fake_panel, fake_telegram) -> None:
    wire(fake_panel, fake_telegram, INTERVAL)
    order(fake_panel, 70001, "dave")
    # The panel takes the reply, then the connection drops before its answer.
    fake_panel.inject("lost_reply", path=r"/tickets/\d+/reply", times=1)
    ticket = fake_panel.add_ticket("dave", "Refill", "refill 70001")
    run_until(lambda: TicketIntake.objects.filter(replied_at__isnull=False).exists(), timeout=20)
    assert [r["message"] for r in fake_panel.tickets_replies(ticket["id"])] == [
        "Your refill request for order(s) 70001 has been sent to our provider."
    ]
    assert len(fake_panel.requests_to(r"/tickets/\d+/reply$")) == 1  # looked first, then not posted again
    assert TicketIntake.objects.get().reply_error == ""


def test_a_reply_left_half_done_by_a_dead_worker_is_finished_once(fake_panel, fake_telegram) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from panelrelay.intake import jobs

    wired = wire(fake_panel, fake_telegram, INTERVAL)
    order(fake_panel, 70001, "dave")
    order(fake_panel, 70002, "dave")
    TicketSettings.objects.create(workspace=wired.workspace, replies_enabled=False)
    posted = fake_panel.add_ticket("dave", "Refill", "refill 70001")
    unposted = fake_panel.add_ticket("dave", "Refill", "refill 70002")
    run_until(lambda: ForwardRequest.objects.filter(finished__isnull=False).count() == 2)
    text = "Your refill request for order(s) 70001 has been sent to our provider."
    wired.panel.adapter().reply_ticket(str(posted["id"]), text)  # the dead worker got this far
    long_ago = timezone.now() - timedelta(hours=1)
    TicketIntake.objects.update(reply_started=long_ago)  # both claims were taken, neither recorded

    for claim in TicketIntake.objects.all():
        jobs.reply(Job(kind="intake.reply", payload={"claim": claim.pk}))

    assert [r["message"] for r in fake_panel.tickets_replies(posted["id"])] == [text]
    assert [r["message"] for r in fake_panel.tickets_replies(unposted["id"])] == [
        "Your refill request for order(s) 70002 has been sent to our provider."
    ]
    assert TicketIntake.objects.filter(replied_at__isnull=True).count() == 0


def test_a_reply_claimed_a_moment_ago_by_a_dead_run_is_tried_again_not_dropped(
    fake_panel, fake_telegram, settings
) -> None:
    import time

    from django.utils import timezone

    from panelrelay.intake import jobs
    from panelrelay.worker.registry import Retry

    wired = wire(fake_panel, fake_telegram, INTERVAL)
    order(fake_panel, 70001, "dave")
    TicketSettings.objects.create(workspace=wired.workspace, replies_enabled=False)
    ticket = fake_panel.add_ticket("dave", "Refill", "refill 70001")
    run_until(lambda: ForwardRequest.objects.filter(finished__isnull=False).exists())
    TicketIntake.objects.update(reply_started=timezone.now())  # the dead run took it just now
    claim = TicketIntake.objects.get()
    with pytest.raises(Retry):
        jobs.reply(Job(kind="intake.reply", payload={"claim": claim.pk}))
    assert fake_panel.tickets_replies(ticket["id"]) == []
    assert TicketIntake.objects.get().replied_at is None  # still owed, not given up
    settings.WORKER_LEASE_SECONDS = 1
    time.sleep(1.1)  # the dead run's claim is now older than a lease: the retry takes it over
    jobs.reply(Job(kind="intake.reply", payload={"claim": claim.pk}))
    assert [r["message"] for r in fake_panel.tickets_replies(ticket["id"])] == [
        "Your refill request for order(s) 70001 has been sent to our provider."
    ]


def test_a_reply_the_panel_shows_as_html_counts_as_posted(fake_panel, fake_telegram) -> None:
    from panelrelay.intake import jobs

    wired = wire(fake_panel, fake_telegram, INTERVAL)
    order(fake_panel, 70001, "dave")
    order(fake_panel, 70002, "erin")
    TicketSettings.objects.create(workspace=wired.workspace, replies_enabled=False)
    ticket = fake_panel.add_ticket("dave", "Refill", "refill 70001 70002")
    run_until(lambda: ForwardRequest.objects.filter(finished__isnull=False).exists())
    # The lost try's reply, as a panel that stores HTML shows it.
    fake_panel.add_ticket_message(ticket["id"], "support", (
        "Your refill request for order(s) 70001 has been sent to our provider.<br />\n"
        "Order(s) 70002 are not on your account, so we cannot request a refill for them."
    ))  # fmt: skip
    TicketIntake.objects.update(reply_error="timed out")
    jobs.reply(Job(kind="intake.reply", payload={"claim": TicketIntake.objects.get().pk}))
    assert fake_panel.tickets_replies(ticket["id"]) == []  # nothing posted through the API
    assert TicketIntake.objects.get().replied_at is not None


def test_same_text_reads_through_markup_but_not_other_words() -> None:
    from panelrelay.intake.tickets import same_text

    assert same_text("Sent &amp; done<br>Thanks", "Sent & done\nThanks")
    assert same_text("  <p>Sent</p>\r\n", "Sent")
    assert not same_text("Sent to 70001", "Sent to 70002")
    assert not same_text("", "Sent")
