"""A send cut between the call and its record: look before sending again, or say it is a repeat.

The cut is made on purpose at the fault-injection point `forwarding.after_send` (the message
went out, the worker "dies" before recording it), so every case here happens on every run.
"""

from __future__ import annotations

import pytest

from fakes.evolution import FakeEvolution
from fakes.greenapi import FakeGreenAPI
from fakes.telegram import FakeTelegram
from fakes.waha import FakeWAHA
from panelrelay.accounts.models import Workspace
from panelrelay.core import faults
from panelrelay.demo import scenario
from panelrelay.forwarding.delivery import NOTE_FOUND, NOTE_NOT_FOUND, NOTE_REPEAT, deliver_message
from panelrelay.forwarding.models import Attempt, ForwardRequest, Message, RequestOrder
from panelrelay.transports.tests.helpers import connection

pytestmark = pytest.mark.django_db
GROUP = "120363000000000077@g.us"


class WorkerDied(BaseException):
    """Raised at the fault point: like SIGKILL, it skips every `except Exception` on its way out."""


def die() -> None:
    raise WorkerDied


def message_to(dest, text: str = "REFILL\n9000001\n9000002") -> Message:
    req = ForwardRequest.objects.create(workspace=dest.workspace, panel_name="Main", command_label="Refill", total=2)
    message = Message.objects.create(workspace=dest.workspace, destination=dest, destination_label=str(dest),
                                     command_slug="refill", text=text)  # fmt: skip
    for n in (1, 2):
        RequestOrder.objects.create(request=req, workspace=dest.workspace, panel_order_id=str(n), command_slug="refill",
                                    state=RequestOrder.QUEUED, looked_up=True, message=message)  # fmt: skip
    return message


def cut_then_resume(message: Message) -> None:
    with faults.injected("forwarding.after_send", die), pytest.raises(WorkerDied):
        deliver_message(message)
    assert list(message.attempt_rows.values_list("ok", flat=True)) == [None]  # sent, not recorded
    deliver_message(Message.objects.get(pk=message.pk))


def outcome(message: Message) -> tuple[str, set[str]]:
    message.refresh_from_db()
    return message.state, set(message.orders.values_list("reason", flat=True))


@pytest.fixture
def ws():
    return Workspace.objects.create(name="cut")


@pytest.mark.parametrize("kind", ["waha", "evolution", "greenapi"])
def test_a_whatsapp_send_that_arrived_is_found_and_not_sent_again(ws, kind) -> None:
    fake_cls = {"waha": FakeWAHA, "evolution": FakeEvolution, "greenapi": FakeGreenAPI}[kind]
    with fake_cls() as fake:
        if kind == "evolution":
            fake.add_group(GROUP, "provider")
        dest = scenario.destination(connection(ws, kind, fake), "Provider group", "wa_group", GROUP)
        message = message_to(dest)
        cut_then_resume(message)
        assert [m["text"] for m in fake.messages_to(GROUP)] == [message.text]  # once, not twice
    state, reasons = outcome(message)
    assert state == "sent" and reasons == {f"sent to {dest} ({NOTE_FOUND})"}
    found = message.attempt_rows.get(error_kind="found")
    assert found.ok and found.remote_id == message.remote_id != ""


def test_a_whatsapp_send_that_did_not_arrive_is_sent_once(ws) -> None:
    with FakeWAHA() as fake:
        dest = scenario.destination(connection(ws, "waha", fake), "Provider group", "wa_group", GROUP)
        message = message_to(dest)
        Attempt.objects.create(message=message)  # a worker died before its request left the machine
        deliver_message(message)
        assert [m["text"] for m in fake.messages_to(GROUP)] == [message.text]
    state, reasons = outcome(message)
    assert state == "sent" and reasons == {f"sent to {dest} ({NOTE_NOT_FOUND})"}


def test_an_older_identical_message_does_not_count_as_the_interrupted_one(ws) -> None:
    """Yesterday's message with the same text is not proof that today's send arrived."""
    with FakeWAHA() as fake:
        dest = scenario.destination(connection(ws, "waha", fake), "Provider group", "wa_group", GROUP)
        message = message_to(dest)
        deliver_message(message)  # the same text went out once before…
        fake.sent[0]["at"] -= 86400  # …a day ago
        again = message_to(dest)
        Attempt.objects.create(message=again)
        deliver_message(again)
        assert len(fake.messages_to(GROUP)) == 2
    assert outcome(again)[1] == {f"sent to {dest} ({NOTE_NOT_FOUND})"}


def test_a_bot_api_resend_says_it_may_be_a_repeat(ws, settings) -> None:
    settings.PACING_TELEGRAM_GROUP_SECONDS = settings.PACING_TELEGRAM_BOT_SECONDS = 0
    with FakeTelegram(strict_limits=False) as fake:  # the resend follows the cut send at once
        fake.add_bot("123456:DEMO", id=123456, username="relay_bot")
        fake.add_chat(-1009, type="supergroup", title="provider")
        dest = scenario.destination(scenario.telegram(ws, fake.url), "TG group", "tg_group", "-1009")
        message = message_to(dest)
        cut_then_resume(message)
        first, second = [m["text"] for m in fake.messages_to(-1009)]
    assert first == message.text
    assert second.startswith("⚠️ POSSIBLE REPEAT") and second.endswith("\n" + message.text)
    assert outcome(message) == ("sent", {f"sent to {dest} ({NOTE_REPEAT})"})


def test_a_gateway_that_cannot_list_the_chat_falls_back_to_the_marked_repeat(ws) -> None:
    with FakeWAHA() as fake:
        dest = scenario.destination(connection(ws, "waha", fake), "Provider group", "wa_group", GROUP)
        message = message_to(dest)
        Attempt.objects.create(message=message)
        fake.inject("html", path=r"/chats/.*/messages")  # a proxy's error page instead of the history
        deliver_message(message)
        [sent] = [m["text"] for m in fake.messages_to(GROUP)]
    assert sent.startswith("⚠️ POSSIBLE REPEAT") and sent.endswith("\n" + message.text)
    assert outcome(message) == ("sent", {f"sent to {dest} ({NOTE_REPEAT})"})


def test_a_send_whose_success_is_on_record_is_not_sent_again(ws) -> None:
    """The attempt said ok but the message row was not updated yet: the next run finishes the record."""
    with FakeWAHA() as fake:
        dest = scenario.destination(connection(ws, "waha", fake), "Provider group", "wa_group", GROUP)
        message = message_to(dest)
        Attempt.objects.create(message=message, ok=True, remote_id="true_x_ABC", duration_ms=5)
        deliver_message(message)
        assert fake.messages_to(GROUP) == []
    message.refresh_from_db()
    assert (message.state, message.remote_id) == (Message.SENT, "true_x_ABC")
    assert set(message.orders.values_list("state", flat=True)) == {RequestOrder.SENT}


def test_the_record_of_a_send_is_one_transaction(ws, monkeypatch) -> None:
    """A crash between the attempt's record and the message's leaves neither: the send counts as interrupted."""
    from panelrelay.forwarding import delivery

    def crash_after_record(*args, **kwargs):
        raise WorkerDied

    with FakeWAHA() as fake:
        dest = scenario.destination(connection(ws, "waha", fake), "Provider group", "wa_group", GROUP)
        message = message_to(dest)
        monkeypatch.setattr(delivery, "_sent", crash_after_record)
        with pytest.raises(WorkerDied):
            deliver_message(message)
        monkeypatch.undo()
        assert list(message.attempt_rows.values_list("ok", flat=True)) == [None]  # rolled back to "open"
        deliver_message(Message.objects.get(pk=message.pk))  # interrupted → looked for → found, not resent
        assert len(fake.messages_to(GROUP)) == 1
    assert outcome(message)[0] == "sent"
