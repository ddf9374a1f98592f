"""Providers' answers reach the orders: a reply to our message, or ids quoted in a new one."""

from __future__ import annotations

import pytest

from panelrelay.accounts.models import Workspace
from panelrelay.demo import scenario
from panelrelay.forwarding import answers
from panelrelay.forwarding.models import (
    AnswerKind,
    Command,
    ForwardRequest,
    Message,
    Outcome,
    Progress,
    RequestOrder,
)
from panelrelay.forwarding.submit import create_request
from panelrelay.transports.incoming import Incoming, receive
from panelrelay.transports.integrations.telegram.updates import poll
from panelrelay.transports.models import Connection, Incident
from panelrelay.transports.services import poll_chats

pytestmark = pytest.mark.django_db
EXT = 8_500_000
TG_GROUP, WA_GROUP = -1005, "120363000000000055@g.us"
PROVIDER = "smm-canary-provider.example"
STAFF = 700000042
TOKEN = "123456:DEMO"  # scenario.telegram()'s bot


@pytest.fixture
def no_pacing(settings):
    settings.PACING_TELEGRAM_GROUP_SECONDS = settings.PACING_TELEGRAM_BOT_SECONDS = 0
    settings.PACING_WHATSAPP_JITTER = 0


@pytest.fixture
def wired(fake_panel, fake_telegram, fake_waha, no_pacing):
    ws = Workspace.objects.create(name="Answers")
    panel = scenario.panel(ws, fake_panel.url)
    fake_telegram.add_chat(TG_GROUP, type="supergroup", title="Provider group")
    fake_telegram.add_user(STAFF, first_name="Prov")
    fake_waha.add_group(WA_GROUP, "WA provider group")
    tg = scenario.destination(scenario.telegram(ws, fake_telegram.url), "TG group", "tg_group", str(TG_GROUP))
    wa_connection = scenario.waha(ws, fake_waha.url, pace=0)
    Connection.objects.filter(pk=wa_connection.pk).update(receive=Connection.RECEIVE_POLL)
    wa = scenario.destination(wa_connection, "WA group", "wa_group", WA_GROUP)
    scenario.route(scenario.provider(ws, PROVIDER, "Canary_P"), tg)
    scenario.route(scenario.provider(ws, "wa-prov.example", "WA_P"), wa)
    for n in range(1, 4):
        fake_panel.add_order(id=70000 + n, provider=PROVIDER, external_id=str(EXT + n))
        fake_panel.add_order(id=71000 + n, provider="wa-prov.example", external_id=str(EXT + 100 + n))
    return ws, panel, tg, wa


def forward(ws, panel, ids: list[str]) -> None:
    create_request(ws, panel, Command.for_workspace(ws)[0], ids)
    scenario.drain(timeout=30)


def orders(*panel_ids: int) -> list[RequestOrder]:
    return list(RequestOrder.objects.filter(panel_order_id__in=[str(n) for n in panel_ids]).order_by("id"))


def test_a_reply_to_our_telegram_message_answers_its_orders(wired, fake_telegram) -> None:
    ws, panel, tg, _ = wired
    forward(ws, panel, ["70001", "70002"])
    message = Message.objects.get(destination=tg)
    fake_telegram.user_sends(STAFF, "done ✅", chat_id=TG_GROUP, reply_to=int(message.remote_id), token=TOKEN)
    poll(tg.connection)
    for order in orders(70001, 70002):
        assert (order.progress, order.answer_kind, order.outcome) == (Progress.ANSWERED, AnswerKind.DONE,
                                                                       Outcome.ANSWERED_DONE)  # fmt: skip
        assert order.answer_text == "done ✅" and order.answered_at is not None
        assert order.state == RequestOrder.SENT


def test_ids_quoted_in_a_new_whatsapp_message_answer_only_those_orders(wired, fake_waha) -> None:
    ws, panel, _, wa = wired
    forward(ws, panel, ["71001", "71002", "71003"])
    poll_chats(wa.connection)  # the first look notes where the chat is
    fake_waha.write(WA_GROUP, f"{EXT + 102} refilled, {EXT + 103} processing", sender="447700900555@c.us")
    fake_waha.write(WA_GROUP, "good morning everyone", sender="447700900555@c.us")  # chatter: ignored
    poll_chats(Connection.objects.get(pk=wa.connection.pk))
    first, second, third = orders(71001, 71002, 71003)
    assert first.progress == Progress.NONE
    # One message for both ids: refused beats working beats done, so it reads as "working".
    assert (second.answer_kind, third.answer_kind) == (AnswerKind.WORKING, AnswerKind.WORKING)


def test_a_providers_own_domain_in_its_answer_is_stored_as_its_alias(wired, fake_telegram) -> None:
    ws, panel, tg, _ = wired
    forward(ws, panel, ["70001"])
    message = Message.objects.get(destination=tg)
    fake_telegram.user_sends(STAFF, f"refilled on https://{PROVIDER}/orders ok", chat_id=TG_GROUP, token=TOKEN,
                             reply_to=int(message.remote_id))  # fmt: skip
    poll(tg.connection)
    [order] = orders(70001)
    assert PROVIDER not in order.answer_text and PROVIDER not in order.reason
    assert "Canary_P" in order.answer_text


def test_a_refusal_tells_the_owner_with_the_words(wired, fake_telegram) -> None:
    ws, panel, tg, _ = wired
    forward(ws, panel, ["70001", "70002"])
    message = Message.objects.get(destination=tg)
    fake_telegram.user_sends(STAFF, "not possible, already completed", chat_id=TG_GROUP, token=TOKEN,
                             reply_to=int(message.remote_id))  # fmt: skip
    poll(tg.connection)
    assert {o.outcome for o in orders(70001, 70002)} == {Outcome.ANSWERED_REFUSED}
    [incident] = Incident.objects.filter(workspace=ws)
    assert "Canary_P refused 2 order(s)" in incident.text and "not possible, already completed" in incident.text
    assert PROVIDER not in incident.text


def test_a_late_answer_does_not_undo_a_confirmation(wired, fake_telegram) -> None:
    ws, panel, tg, _ = wired
    forward(ws, panel, ["70001"])
    RequestOrder.objects.update(progress=Progress.CONFIRMED, outcome=Outcome.CONFIRMED)
    message = Message.objects.get(destination=tg)
    fake_telegram.user_sends(STAFF, "processing", chat_id=TG_GROUP, reply_to=int(message.remote_id), token=TOKEN)
    poll(tg.connection)
    [order] = orders(70001)
    assert (order.progress, order.outcome, order.answer_kind) == (Progress.CONFIRMED, Outcome.CONFIRMED,
                                                                   AnswerKind.WORKING)  # fmt: skip


def test_a_chat_that_is_no_destination_and_chatter_are_left_alone(wired) -> None:
    ws, panel, tg, _ = wired
    forward(ws, panel, ["70001"])
    stranger = Incoming(connection=tg.connection, chat_id="-1009999", private=False, sender_id="1", sender_name="",
                        text=f"{EXT + 1} done", message_id="-1009999:1")  # fmt: skip
    chatter = Incoming(connection=tg.connection, chat_id=str(TG_GROUP), private=False, sender_id="1",
                       sender_name="", text="hello?", message_id=f"{TG_GROUP}:99")  # fmt: skip
    assert answers.receiver(stranger) is False and answers.receiver(chatter) is False
    assert orders(70001)[0].progress == Progress.NONE


def test_another_workspaces_orders_with_the_same_external_id_are_untouched(wired, fake_telegram) -> None:
    ws, panel, tg, _ = wired
    forward(ws, panel, ["70001"])
    other = Workspace.objects.create(name="Other")
    their_request = ForwardRequest.objects.create(workspace=other, panel_name="p", command_label="Refill")
    theirs = RequestOrder.objects.create(request=their_request, workspace=other, panel_order_id="1",
                                         command_slug="refill", state=RequestOrder.SENT, external_id=str(EXT + 1))  # fmt: skip
    receive(Incoming(connection=tg.connection, chat_id=str(TG_GROUP), private=False, sender_id="1", sender_name="",
                     text=f"{EXT + 1} done", message_id=f"{TG_GROUP}:500"))  # fmt: skip
    theirs.refresh_from_db()
    assert theirs.progress == Progress.NONE and orders(70001)[0].answer_kind == AnswerKind.DONE


def test_a_reply_to_a_reminder_answers_the_orders_it_covers(wired, fake_telegram) -> None:
    ws, panel, tg, _ = wired
    forward(ws, panel, ["70001", "70002"])
    reminder = Message.objects.create(workspace=ws, destination=tg, destination_label="TG group",
                                      command_slug="refill", text="Reminder", kind=Message.REMINDER,
                                      state=Message.SENT, remote_id="4242")  # fmt: skip
    reminder.covers.set(orders(70002))
    receive(Incoming(connection=tg.connection, chat_id=str(TG_GROUP), private=False, sender_id="1", sender_name="",
                     text="ok", message_id=f"{TG_GROUP}:501", reply_to="4242"))  # fmt: skip
    first, second = orders(70001, 70002)
    assert first.progress == Progress.NONE and second.answer_kind == AnswerKind.DONE


def test_waha_short_and_full_message_ids_both_find_our_message() -> None:
    assert answers.short_id("true_120363@g.us_3EB0ABCD") == "3EB0ABCD"
    assert answers.short_id("false_120363@g.us_3EB0ABCD_447700900555@c.us") == "3EB0ABCD"
    assert answers.short_id("3EB0ABCD") == "3EB0ABCD" and answers.short_id("1234") == "1234"


def test_the_request_page_and_activity_show_what_came_after_sending(wired, fake_telegram, client) -> None:
    from panelrelay.accounts.models import Membership
    from panelrelay.core.testing import make_user

    ws, panel, tg, _ = wired
    owner = make_user("owner@example.org")
    Membership.objects.create(user=owner, workspace=ws, role=Membership.OWNER)
    client.force_login(owner)
    forward(ws, panel, ["70001", "70002", "70003"])
    message = Message.objects.get(destination=tg)
    RequestOrder.objects.filter(panel_order_id="70003").update(progress=Progress.CONFIRMED, confirmed_at=message.sent_at,
                                                               watched_status="Canceled")  # fmt: skip
    fake_telegram.user_sends(STAFF, f"refilled {PROVIDER}", chat_id=TG_GROUP, reply_to=int(message.remote_id),
                             token=TOKEN)  # fmt: skip
    poll(tg.connection)
    fwd = RequestOrder.objects.first().request
    page = client.get(f"/requests/{fwd.code}/").content.decode()
    assert "After sending:" in page and "Answered" in page and "refilled Canary_P" in page
    assert PROVIDER not in page
    answered = client.get(f"/requests/{fwd.code}/?progress=answered").content.decode()
    assert 'data-order="70001"' in answered and 'data-order="70003"' not in answered
    confirmed = client.get(f"/requests/{fwd.code}/?progress=confirmed").content.decode()
    assert 'data-order="70003"' in confirmed and 'data-order="70001"' not in confirmed
    assert str(fwd.code) in client.get("/activity/?progress=confirmed").content.decode()
    assert "No requests match" in client.get("/activity/?progress=no_answer").content.decode()
    csv = b"".join(client.get("/activity/export.csv?progress=answered").streaming_content).decode()
    header, *rows = csv.strip().splitlines()
    assert header.endswith(",progress,answer,answer_text,answered_at,panel_status_now,confirmed_at")
    assert len(rows) == 2 and all(",answered,done,refilled Canary_P," in row for row in rows)
