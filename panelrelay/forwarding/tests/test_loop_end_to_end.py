"""The loop closes end to end: forward → a provider behaviour answers in the fake → the order's state.

Everything real but the outside world: the Forward submit, the worker, the transports, the front
door, the answers receiver, the request page; the providers are the fakes' behaviours
(fakes/behaviours.py), and time is the fakes' simulated clock and `now=` arguments, never a sleep.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from fakes.behaviours import Behaviour, quoted_ids
from fakes.evolution import FakeEvolution
from fakes.greenapi import FakeGreenAPI
from panelrelay.accounts.models import Membership, Workspace
from panelrelay.core.testing import make_user
from panelrelay.demo import scenario
from panelrelay.forwarding.followup import run_follow_ups
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
from panelrelay.forwarding.watch import watch_due
from panelrelay.intake import tickets
from panelrelay.panels.models import Panel
from panelrelay.routing.models import ProviderRoute
from panelrelay.transports.integrations.telegram.updates import poll
from panelrelay.transports.integrations.telegram_user import transport as tgu
from panelrelay.transports.models import Connection, Destination, Incident
from panelrelay.transports.services import poll_chats
from panelrelay.worker.models import Job
from panelrelay.worker.registry import PERIODIC
from panelrelay.worker.runner import Worker

pytestmark = pytest.mark.django_db
TG_GROUP, WA_GROUP = -1006, "120363000000000061@g.us"
EVO_GROUP, GREEN_GROUP = "120363000000000062@g.us", "120363000000000063@g.us"
# chat, destination kind, provider domain, alias, first panel order id, first external id
CHATS = {
    "telegram": (TG_GROUP, "tg_group", "tg-own-panel.example", "Tg_P", 81001, 9_100_001),
    "waha": (WA_GROUP, "wa_group", "waha-own-panel.example", "Waha_P", 82001, 9_200_001),
    "evolution": (EVO_GROUP, "wa_group", "evo-own-panel.example", "Evo_P", 83001, 9_300_001),
    "greenapi": (GREEN_GROUP, "wa_group", "green-own-panel.example", "Green_P", 84001, 9_400_001),
}


@dataclass
class Loop:
    workspace: Workspace
    panel: Panel
    owner: Client
    fakes: dict[str, Any]
    destinations: dict[str, Destination] = field(default_factory=dict)

    def fake(self, kind: str) -> Any:
        return self.fakes[kind]

    def chat(self, kind: str) -> Any:
        return CHATS[kind][0]

    def panel_ids(self, kind: str, count: int = 2) -> list[str]:
        return [str(CHATS[kind][4] + n) for n in range(count)]

    def forward(self, kind: str, count: int = 2, command: str = "refill") -> ForwardRequest:
        commands = {c.slug: c for c in Command.for_workspace(self.workspace)}
        request = create_request(self.workspace, self.panel, commands[command], self.panel_ids(kind, count))
        scenario.drain(timeout=30)
        return request

    def receive(self) -> None:
        """What the worker's periodic polls do: read the Telegram updates and the gateways' chats."""
        for destination in self.destinations.values():
            connection = Connection.objects.get(pk=destination.connection_id)
            if connection.kind == "telegram":
                poll(connection)
            else:
                poll_chats(connection)

    def orders(self, kind: str, count: int = 2) -> list[RequestOrder]:
        found = RequestOrder.objects.filter(workspace=self.workspace, panel_order_id__in=self.panel_ids(kind, count))
        return list(found.order_by("panel_order_id"))

    def page(self, request: ForwardRequest) -> str:
        response = self.owner.get(f"/requests/{request.code}/")
        assert response.status_code == 200
        return response.content.decode()


@pytest.fixture
def no_pacing(settings):
    settings.PACING_TELEGRAM_GROUP_SECONDS = settings.PACING_TELEGRAM_BOT_SECONDS = 0
    settings.PACING_WHATSAPP_JITTER = 0


@pytest.fixture
def fake_evolution():
    with FakeEvolution() as fake:
        yield fake


@pytest.fixture
def fake_greenapi():
    with FakeGreenAPI() as fake:
        yield fake


@pytest.fixture
def loop(fake_panel, fake_telegram, fake_waha, fake_evolution, fake_greenapi, no_pacing) -> Loop:
    fake_telegram.strict_limits = False  # this is about answers; pacing has its own tests
    ws = Workspace.objects.create(name="Loop SMM")
    alice = make_user("alice@example.org")
    Membership.objects.create(user=alice, workspace=ws, role=Membership.OWNER)
    owner = Client()
    owner.force_login(alice)
    fakes = {"telegram": fake_telegram, "waha": fake_waha, "evolution": fake_evolution, "greenapi": fake_greenapi}
    fake_telegram.add_chat(TG_GROUP, type="supergroup", title="Tg provider")
    fake_waha.add_group(WA_GROUP, "WAHA provider")
    fake_evolution.add_group(EVO_GROUP, "Evolution provider")
    fake_greenapi.add_group(GREEN_GROUP, "Green-API provider")
    connections = {
        "telegram": scenario.telegram(ws, fake_telegram.url),
        "waha": scenario.waha(ws, fake_waha.url, pace=0),
        "evolution": scenario.evolution(ws, fake_evolution.url, pace=0),
        "greenapi": scenario.greenapi(ws, fake_greenapi.url, pace=0),
    }
    Connection.objects.exclude(kind="telegram").update(receive=Connection.RECEIVE_POLL)
    found = Loop(ws, scenario.panel(ws, fake_panel.url), owner, fakes)
    for kind, (chat, dest_kind, domain, alias, first, external) in CHATS.items():
        destination = scenario.destination(connections[kind], f"{alias} group", dest_kind, str(chat))
        scenario.route(scenario.provider(ws, domain, alias), destination)
        found.destinations[kind] = destination
        for n in range(3):
            fake_panel.add_order(id=first + n, provider=domain, external_id=str(external + n), quantity=1000)
    for connection in Connection.objects.filter(workspace=ws).exclude(kind="telegram"):
        poll_chats(connection)  # the first look notes where each chat is: answers from now on are read
    return found


def assert_answered(orders: list[RequestOrder], kind: str, words: str) -> None:
    outcome = {"done": Outcome.ANSWERED_DONE, "refused": Outcome.ANSWERED_REFUSED,
               "working": Outcome.ANSWERED_WORKING, "other": Outcome.ANSWERED_OTHER}[kind]  # fmt: skip
    for order in orders:
        assert (order.state, order.progress, order.answer_kind, order.outcome) == (
            RequestOrder.SENT, Progress.ANSWERED, kind, outcome), order.reason  # fmt: skip
        assert order.answer_text == words and order.answered_at is not None


def test_a_telegram_provider_who_replies_done_answers_the_orders_of_that_message(loop) -> None:
    loop.fake("telegram").behave(TG_GROUP, "reply")
    request = loop.forward("telegram")
    loop.receive()
    assert_answered(loop.orders("telegram"), AnswerKind.DONE, "done")
    page = loop.page(request)
    assert "Done" in page and "answer-words" in page


def test_a_waha_provider_who_replies_by_the_bare_message_id_answers_the_orders(loop) -> None:
    loop.fake("waha").behave(WA_GROUP, "reply", says="refused")
    request = loop.forward("waha")
    loop.receive()
    assert_answered(loop.orders("waha"), AnswerKind.REFUSED, "not possible, already completed")
    assert "not possible, already completed" in loop.page(request)


def test_an_evolution_provider_who_quotes_the_ids_in_a_new_message_answers_them(loop) -> None:
    loop.fake("evolution").behave(EVO_GROUP, "quote", says="working")
    loop.forward("evolution", count=2)
    loop.receive()
    first, second = loop.orders("evolution")
    assert_answered([first, second], AnswerKind.WORKING, f"{first.external_id} {second.external_id} processing")
    [written] = [a["written"] for a in loop.fake("evolution").answers]
    assert not written["reply_to"]  # a new message, not a reply: found by the ids it quotes


def test_a_green_api_provider_who_reacts_thumbs_up_answers_done(loop) -> None:
    loop.fake("greenapi").behave(GREEN_GROUP, "react")
    loop.forward("greenapi")
    loop.receive()
    assert_answered(loop.orders("greenapi"), AnswerKind.DONE, "👍")


def test_a_waha_reaction_posted_to_the_webhook_answers_done(loop, client) -> None:
    from panelrelay.transports import hooks

    fake = loop.fake("waha")
    fake.behave(WA_GROUP, "react", delay=60)  # written only when the test says so, whatever the worker polls
    loop.forward("waha")
    [written] = fake.advance(60)
    connection = loop.destinations["waha"].connection
    Connection.objects.filter(pk=connection.pk).update(receive=Connection.RECEIVE_WEBHOOK)
    path = "/" + hooks.url_for(Connection.objects.get(pk=connection.pk)).split("://", 1)[1].split("/", 1)[1]
    assert client.post(path, fake.webhook_event(written), content_type="application/json").status_code == 200
    assert_answered(loop.orders("waha"), AnswerKind.DONE, "👍")


def test_an_answer_in_another_language_is_read_by_the_default_words(loop) -> None:
    loop.fake("telegram").behave(TG_GROUP, "reply", language="hi")
    loop.fake("greenapi").behave(GREEN_GROUP, "quote", says="refused", language="id")
    loop.forward("telegram")
    loop.forward("greenapi", count=1)
    loop.receive()
    assert_answered(loop.orders("telegram"), AnswerKind.DONE, "ho gaya")
    [green] = loop.orders("greenapi", 1)
    assert_answered([green], AnswerKind.REFUSED, f"{green.external_id} tidak bisa")


def test_a_providers_own_domain_in_its_answer_is_stored_and_shown_as_its_alias(loop) -> None:
    domain = CHATS["waha"][2]
    loop.fake("waha").behave(WA_GROUP, "reply", domain=domain)
    request = loop.forward("waha")
    loop.receive()
    # The whole address becomes the alias, as in chat titles (panels.privacy.mask_domains).
    assert_answered(loop.orders("waha"), AnswerKind.DONE, "done, see Waha_P")
    page = loop.page(request)
    assert domain not in page and "done, see Waha_P" in page
    for order in loop.orders("waha"):
        assert domain not in order.reason


def test_a_silent_provider_leaves_the_orders_sent_with_no_answer_yet(loop) -> None:
    loop.fake("evolution").behave(EVO_GROUP, "silent")
    loop.forward("evolution")
    loop.fake("evolution").advance(7 * 24 * 3600)
    loop.receive()
    assert {(o.state, o.progress) for o in loop.orders("evolution")} == {(RequestOrder.SENT, Progress.NONE)}
    assert loop.fake("evolution").answers == []


def test_a_delayed_answer_arrives_when_the_fake_clock_gets_there(loop) -> None:
    fake = loop.fake("telegram")
    fake.behave(TG_GROUP, "reply", says="working", delay=2 * 3600)
    loop.forward("telegram")
    loop.receive()
    assert {o.progress for o in loop.orders("telegram")} == {Progress.NONE}
    fake.advance(3600)
    loop.receive()
    assert {o.progress for o in loop.orders("telegram")} == {Progress.NONE}
    fake.advance(3600)
    loop.receive()
    assert_answered(loop.orders("telegram"), AnswerKind.WORKING, "processing")
    message = Message.objects.get(destination=loop.destinations["telegram"])
    [answer] = fake.answers
    assert answer["answers"] == int(message.remote_id)


# ----- silence: follow-up, escalation, No answer; the panel's confirmation; the ticket's second reply ----


def run_jobs(rounds: int = 4) -> None:
    """Run what the follow-ups, outcomes and tickets queued (drain() waits only for open orders).
    A job that said Retry(n s) is made due at once: the queue's time is simulated too."""
    worker = Worker(worker_id="loop", idle_sleep=0)
    for _ in range(rounds):
        worker.run(burst=True, max_seconds=30)
        waiting = Job.objects.filter(state=Job.QUEUED, run_at__gt=timezone.now()).exclude(kind__in=list(PERIODIC))
        if not waiting.update(run_at=timezone.now()):
            return


def test_a_silent_provider_is_reminded_then_escalated_to_the_backup_then_no_answer(loop, fake_telegram) -> None:
    fake_telegram.add_chat(-1009, type="supergroup", title="Backup provider")
    backup = scenario.destination(loop.destinations["telegram"].connection, "Backup group", "tg_group", "-1009")
    ProviderRoute.objects.filter(destination=loop.destinations["telegram"]).update(backup_destination=backup)
    fake_telegram.behave(TG_GROUP, "silent")
    request = loop.forward("telegram")
    sent_at = loop.orders("telegram")[0].sent_at

    run_follow_ups(now=sent_at + timedelta(hours=5))
    assert {o.progress for o in loop.orders("telegram")} == {Progress.NONE}  # not due before 6 h
    run_follow_ups(now=sent_at + timedelta(hours=7))
    run_jobs()
    assert {(o.progress, o.outcome) for o in loop.orders("telegram")} == {(Progress.FOLLOW_UP, Outcome.FOLLOW_UP_SENT)}
    reminder = fake_telegram.messages_to(TG_GROUP)[-1]["text"]
    assert reminder.startswith("Reminder — REFILL still pending") and all(
        o.external_id in reminder for o in loop.orders("telegram")
    )

    run_follow_ups(now=sent_at + timedelta(hours=7 + 13))
    run_jobs()
    assert {o.progress for o in loop.orders("telegram")} == {Progress.ESCALATED}
    [escalation] = fake_telegram.messages_to(-1009)
    assert escalation["text"].startswith("Escalation —") and "Tg_P" not in escalation["text"]
    assert Incident.objects.filter(workspace=loop.workspace).exists()  # the owner was told

    run_follow_ups(now=sent_at + timedelta(hours=7 + 13 + 13))
    assert {(o.progress, o.outcome) for o in loop.orders("telegram")} == {(Progress.NO_ANSWER, Outcome.NO_ANSWER)}
    assert "No answer" in loop.page(request)
    assert fake_telegram.answers == []


def test_a_provider_who_answers_the_reminder_stops_the_escalation(loop, fake_waha) -> None:
    fake_waha.behave(WA_GROUP, "silent")
    loop.forward("waha")
    sent_at = loop.orders("waha")[0].sent_at
    fake_waha.behave(WA_GROUP, "reply", language="tr", delay=600)  # wakes up ten minutes after the reminder
    run_follow_ups(now=sent_at + timedelta(hours=7))
    run_jobs()
    loop.receive()
    assert {o.progress for o in loop.orders("waha")} == {Progress.FOLLOW_UP}
    fake_waha.advance(600)
    loop.receive()
    assert_answered(loop.orders("waha"), AnswerKind.DONE, "tamamlandı")
    reminder = Message.objects.get(destination=loop.destinations["waha"], kind=Message.REMINDER)
    assert fake_waha.answers[0]["answers"] == reminder.remote_id
    run_follow_ups(now=sent_at + timedelta(hours=7 + 13))
    assert {o.progress for o in loop.orders("waha")} == {Progress.ANSWERED}


def test_a_cancel_the_panel_shows_canceled_is_confirmed_though_the_provider_is_silent(loop, fake_panel) -> None:
    loop.fake("greenapi").behave(GREEN_GROUP, "silent")
    for panel_id in loop.panel_ids("greenapi"):
        fake_panel.update_order(int(panel_id), status="In progress", remains=600)
    request = loop.forward("greenapi", command="cancel")
    sent_at = loop.orders("greenapi")[0].sent_at
    watch_due(now=sent_at + timedelta(minutes=6))
    assert {(o.progress, o.watched_status) for o in loop.orders("greenapi")} == {(Progress.NONE, "In progress")}
    fake_panel.update_order(int(loop.panel_ids("greenapi")[0]), status="Canceled", remains=1000)  # the cue
    watch_due(now=sent_at + timedelta(minutes=20))
    canceled, running = loop.orders("greenapi")
    assert (canceled.progress, canceled.outcome, canceled.watched_status) == (
        Progress.CONFIRMED, Outcome.CONFIRMED, "Canceled")  # fmt: skip
    assert running.progress == Progress.NONE
    assert "Canceled" in loop.page(request)


def ticket_for(loop, fake_panel, kind: str, command: str, count: int = 1) -> dict[str, Any]:
    """A customer's ticket asking for `command` on the first `count` orders of `kind`, polled and forwarded."""
    Panel.objects.filter(pk=loop.panel.pk).update(tickets_enabled=True)
    ids = loop.panel_ids(kind, count)
    user = fake_panel.get_order(int(ids[0]))["user"]
    ticket = fake_panel.add_ticket(user, "Order help", f"please {command} {' '.join(ids)}")
    assert tickets.poll_panel(Panel.objects.get(pk=loop.panel.pk)), "the ticket became a request"
    scenario.drain(timeout=30)
    run_jobs()
    assert len(fake_panel.tickets_replies(ticket["id"])) == 1, "the first reply: forwarded"
    return ticket


def test_a_tickets_customer_hears_the_providers_done_in_a_second_reply(loop, fake_panel) -> None:
    # A minute later: the worker's own Telegram poll would otherwise read it before the first reply.
    fake = loop.fake("telegram")
    fake.behave(TG_GROUP, "reply", text="refilled ✅", domain=CHATS["telegram"][2], delay=60)
    ticket = ticket_for(loop, fake_panel, "telegram", "refill")
    fake.advance(60)
    loop.receive()
    run_jobs()
    first, second = [r["message"] for r in fake_panel.tickets_replies(ticket["id"])]
    assert second == f"The provider confirmed your refill for order(s) {loop.panel_ids('telegram')[0]}."
    assert "Tg_P" not in second and CHATS["telegram"][2] not in second


def test_a_tickets_customer_hears_the_panels_cancel_in_a_second_reply(loop, fake_panel) -> None:
    loop.fake("evolution").behave(EVO_GROUP, "silent")
    [panel_id] = loop.panel_ids("evolution", 1)
    fake_panel.update_order(int(panel_id), status="In progress", remains=600)
    ticket = ticket_for(loop, fake_panel, "evolution", "cancel")
    fake_panel.update_order(int(panel_id), status="Canceled", remains=1000)
    watch_due(now=loop.orders("evolution", 1)[0].sent_at + timedelta(minutes=6))
    run_jobs()
    replies = [r["message"] for r in fake_panel.tickets_replies(ticket["id"])]
    assert len(replies) == 2 and panel_id in replies[1] and "cancel" in replies[1]


# ----- the Telegram user account (Telethon): no MTProto fake, so a stub client plays the provider ----


class ProviderAccountStub:
    """Telethon's client as far as the transport uses it, with a provider behaviour in every chat
    (fakes.behaviours' words and id lines): what we send is answered in the chat's history."""

    def __init__(self, behaviour: Behaviour, history: dict[str, list[Any]]) -> None:
        self.behaviour, self.history = behaviour, history
        self.session = SimpleNamespace(save=lambda: "SESSION")

    async def connect(self) -> None: ...

    async def disconnect(self) -> None: ...

    async def is_user_authorized(self) -> bool:
        return True

    async def send_message(self, target: str, text: str, link_preview: bool = True) -> Any:
        chat = self.history.setdefault(target, [])
        ours = self._add(chat, text, out=True)
        words = self.behaviour.words()
        if self.behaviour.kind == "reply":
            self._add(chat, words, reply_to=SimpleNamespace(reply_to_msg_id=ours.id))
        elif self.behaviour.kind == "quote":
            self._add(chat, f"{' '.join(quoted_ids(text))} {words}")
        return ours

    async def get_messages(self, target: str, limit: int = 20, min_id: int = 0) -> Any:
        return sorted((m for m in self.history.get(target, []) if m.id > min_id), key=lambda m: -m.id)[:limit]

    def _add(self, chat: list[Any], text: str, out: bool = False, reply_to: Any = None) -> Any:
        sender = SimpleNamespace(first_name="Provider", last_name="", username="provider_bob")
        message = SimpleNamespace(id=len(chat) + 100, out=out, date=timezone.now(), message=text,
                                  sender_id=777 if out else 9, sender=None if out else sender, reply_to=reply_to)  # fmt: skip
        chat.append(message)
        return message


@pytest.mark.parametrize(("kind", "language", "expected"), [("reply", "ru", "готово"), ("quote", "pt", "feito")])
def test_a_provider_answering_the_telegram_user_account_answers_the_orders(
    loop, settings, monkeypatch, kind, language, expected
) -> None:
    settings.PACING_TELEGRAM_USER_SECONDS = settings.PACING_TELEGRAM_USER_JITTER = 0
    history: dict[str, list[Any]] = {}
    monkeypatch.setattr(
        tgu, "client_factory", lambda c: ProviderAccountStub(Behaviour(kind, language=language), history)
    )
    account = Connection(workspace=loop.workspace, kind="telegram_user", name="Office TG", status="working",
                         config={"api_id": 12345, "username": "alice_sends"}, receive=Connection.RECEIVE_POLL)  # fmt: skip
    tgu.set_secrets(account, "0123456789abcdef0123456789abcdef", "SESSION")
    account.save()
    bob = scenario.destination(account, "Bob", "tg_user", "@provider_bob")
    ProviderRoute.objects.filter(destination=loop.destinations["telegram"]).update(destination=bob)
    poll_chats(account)  # the first look
    loop.forward("telegram")
    poll_chats(Connection.objects.get(pk=account.pk))
    orders = loop.orders("telegram")
    assert {o.destination_id for o in orders} == {bob.pk}
    words = expected if kind == "reply" else f"{' '.join(o.external_id for o in orders)} {expected}"
    assert_answered(orders, AnswerKind.DONE, words)
