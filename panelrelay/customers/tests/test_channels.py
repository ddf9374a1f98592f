"""Customers reach the bot on every gateway, by webhook push and by polling, as each vendor
delivers it (the fakes build the vendors' documented payloads): Green-API's notification queue,
WAHA's chat messages for a customer group, Evolution's MESSAGES_UPSERT webhook."""

from __future__ import annotations

import time

import pytest

from fakes.evolution import FakeEvolution
from fakes.greenapi import FakeGreenAPI
from panelrelay.customers.chats import customer_groups, new_private_chats
from panelrelay.customers.models import Customer, CustomerChannel, CustomerLink
from panelrelay.customers.tests.conftest import ANN, BOB, EXT, PROVIDER, link, run_jobs
from panelrelay.demo import scenario
from panelrelay.forwarding.models import ForwardRequest
from panelrelay.transports import hooks
from panelrelay.transports.incoming import Incoming, receive
from panelrelay.transports.models import Connection
from panelrelay.transports.services import poll_chats

CUSTOMER_GROUP = "120363000000000099@g.us"
PROVIDER_NUMBER = "15550009999@c.us"


@pytest.fixture
def green():
    with FakeGreenAPI() as fake:
        yield fake


@pytest.fixture
def evolution():
    with FakeEvolution() as fake:
        yield fake


def support(w, conn: Connection, receive: str, groups: list[str] | None = None) -> Connection:
    Connection.objects.filter(pk=conn.pk).update(receive=receive)
    conn.refresh_from_db()
    CustomerChannel.objects.create(workspace=w.ws, connection=conn, groups=groups or [])
    return conn


@pytest.mark.django_db
def test_green_api_polling_reads_a_customers_private_message_and_answers_it(wired, green) -> None:
    conn = support(wired, scenario.greenapi(wired.ws, green.url, pace=0), Connection.RECEIVE_POLL)
    link(wired)
    green.write(ANN, "refill 45323", sender=ANN, name="Ann")
    assert poll_chats(conn) == 1
    assert poll_chats(conn) == 0  # deleted from the queue once handled
    run_jobs()
    [answer] = [m["text"] for m in green.messages_to(ANN)]
    assert "45323" in answer and "forwarded" in answer
    assert ForwardRequest.objects.get().source == ForwardRequest.CUSTOMER


@pytest.mark.django_db
def test_waha_polling_reads_the_owners_customer_group(wired, fake_waha) -> None:
    fake_waha.add_group(CUSTOMER_GROUP, "Customers")
    Connection.objects.filter(pk=wired.wa.pk).update(receive=Connection.RECEIVE_POLL)
    wired.wa.refresh_from_db()
    CustomerChannel.objects.filter(connection=wired.wa).update(groups=[CUSTOMER_GROUP])
    link(wired, number=BOB, username="bob")
    poll_chats(wired.wa)  # the first look notes where each chat is
    fake_waha.write(CUSTOMER_GROUP, "hi all", sender=BOB, name="Bob")
    fake_waha.write(CUSTOMER_GROUP, "refill 45325", sender=BOB, name="Bob")
    assert poll_chats(wired.wa) == 2  # both read; only the request is the bot's business
    run_jobs()
    [answer] = [m["text"] for m in fake_waha.messages_to(CUSTOMER_GROUP)]
    assert "45325" in answer
    assert ForwardRequest.objects.get().ticket_user == "bob"


@pytest.mark.django_db(transaction=True)
def test_evolution_webhook_a_customer_and_a_retry(wired, evolution, live_server, settings) -> None:
    settings.SITE_URL = live_server.url
    conn = support(wired, scenario.evolution(wired.ws, evolution.url, pace=0), Connection.RECEIVE_WEBHOOK)
    evolution.webhook_url = hooks.url_for(conn)
    ann = Customer.objects.create(workspace=wired.ws, network=Customer.WHATSAPP, identity=ANN.split("@")[0])
    CustomerLink.objects.create(workspace=wired.ws, customer=ann, panel=wired.panel, username="ann", how="staff")
    evolution.write(ANN, "refill 45323 45324", sender=ANN, name="Ann", deliveries=2)
    assert evolution.webhook_results == [200, 200]
    run_jobs()
    assert ForwardRequest.objects.count() == 1
    answers = [m for m in evolution.sent if ANN.split("@")[0] in str(m["chat_id"])]
    assert len(answers) == 1 and "45323, 45324" in answers[0]["text"]
    assert PROVIDER not in answers[0]["text"] and str(EXT) not in answers[0]["text"]


@pytest.mark.django_db
def test_waha_polling_reads_a_known_customers_private_chat(wired, fake_waha) -> None:
    Connection.objects.filter(pk=wired.wa.pk).update(receive=Connection.RECEIVE_POLL)
    wired.wa.refresh_from_db()
    link(wired)
    assert customer_groups(wired.wa) == []  # nobody wrote yet (a new chat: new_private_chats)
    # A first message came in by the webhook before the owner switched to polling.
    receive(Incoming(connection=wired.wa, chat_id=ANN, private=True, sender_id=ANN, sender_name="Ann",
                     text="hello", message_id="first"))  # fmt: skip
    assert customer_groups(wired.wa) == [ANN]
    poll_chats(wired.wa)  # the first look notes where the chat is
    fake_waha.write(ANN, "refill 45323", sender=ANN, name="Ann")
    assert poll_chats(wired.wa) == 1
    run_jobs()
    [answer] = [m["text"] for m in fake_waha.messages_to(ANN)]
    assert "45323" in answer and "forwarded" in answer


@pytest.mark.django_db(transaction=True)
def test_a_telegram_customer_by_the_bots_webhook(wired, fake_telegram, live_server, settings) -> None:
    from panelrelay.transports.integrations.telegram import webhook

    settings.SITE_URL = live_server.url
    webhook.enable(wired.tg)  # setWebhook: the fake Telegram now pushes every update to us
    ann = Customer.objects.create(workspace=wired.ws, network=Customer.TELEGRAM, identity="880000001")
    CustomerLink.objects.create(workspace=wired.ws, customer=ann, panel=wired.panel, username="ann", how="staff")
    fake_telegram.user_sends(880000001, "refill 45323 45324 please", token="123456:DEMO")
    deadline = time.monotonic() + 10
    while not ForwardRequest.objects.exists():  # the live server's thread handles the push
        assert time.monotonic() < deadline, "the webhook's update was not handled"
        time.sleep(0.05)
    run_jobs()
    [answer] = [m["text"] for m in fake_telegram.messages_to(880000001)]
    assert "45323, 45324" in answer and "forwarded" in answer
    assert ForwardRequest.objects.get().source_ref == "telegram:880000001"


def poll_twice(conn: Connection) -> int:
    conn.refresh_from_db()
    return poll_chats(conn)


@pytest.mark.django_db
def test_waha_polling_finds_a_new_customers_private_chat_and_answers_it(wired, fake_waha) -> None:
    Connection.objects.filter(pk=wired.wa.pk).update(receive=Connection.RECEIVE_POLL)
    wired.wa.refresh_from_db()
    poll_chats(wired.wa)  # the first look: nobody wrote yet
    assert not Customer.objects.exists()
    fake_waha.write(ANN, "hello, I need a refill 45323", sender=ANN, name="Ann")  # never wrote before
    scenario.destination(wired.wa, "Provider number", "wa_number", PROVIDER_NUMBER)
    fake_waha.write(PROVIDER_NUMBER, "45300 done", sender=PROVIDER_NUMBER, name="P")  # a destination: no customer
    fake_waha.write(CUSTOMER_GROUP, "hi", sender=BOB, name="Bob")  # a group nobody marked: not read
    assert new_private_chats(wired.wa) == [ANN]
    assert poll_twice(wired.wa) == 1  # the customer's message; the provider's number starts now
    assert poll_twice(wired.wa) == 0  # read again, received once
    run_jobs()
    ann = Customer.objects.get(identity=ANN.split("@")[0])
    assert ann.name == "Ann"
    [answer] = [m["text"] for m in fake_waha.messages_to(ANN)]
    assert "link" in answer.lower()  # an unlinked customer gets the link steps
    assert not ForwardRequest.objects.exists()
    # The chat is known now: the next message is read as a known customer's.
    fake_waha.write(ANN, "link", sender=ANN, name="Ann")
    assert poll_twice(wired.wa) == 1


@pytest.mark.django_db
def test_waha_chat_list_is_bounded_newest_first_and_private_only(wired, fake_waha) -> None:
    Connection.objects.filter(pk=wired.wa.pk).update(receive=Connection.RECEIVE_POLL)
    wired.wa.refresh_from_db()
    for n in range(25):
        chat = f"49170000{n:04d}@c.us"
        fake_waha.write(chat, "hi", sender=chat, name="C", at=time.time() - 300 + n)  # the last one newest
    fake_waha.write("status@broadcast", "story", sender=ANN, name="Ann")
    found = new_private_chats(wired.wa)
    # The gateway's 20 newest chats, the status broadcast among them and left out: 19 private ones.
    assert len(found) == 19 and "status@broadcast" not in found and "491700000005@c.us" not in found
    assert found[0] == "491700000024@c.us" and all(c.endswith("@c.us") for c in found)
    # Webhook connections and connections without customer support do not list chats.
    CustomerChannel.objects.filter(connection=wired.wa).update(enabled=False)
    assert new_private_chats(wired.wa) == []


@pytest.mark.django_db
def test_waha_chat_list_failing_still_polls_the_known_chats(wired, fake_waha) -> None:
    Connection.objects.filter(pk=wired.wa.pk).update(receive=Connection.RECEIVE_POLL)
    wired.wa.refresh_from_db()
    fake_waha.set_status("default", "STOPPED")
    assert new_private_chats(wired.wa) == []  # WAHA's error: logged, no new chats this time


@pytest.mark.django_db
def test_evolution_polling_finds_a_new_customers_private_chat_and_answers_it(wired, evolution) -> None:
    conn = support(wired, scenario.evolution(wired.ws, evolution.url, pace=0), Connection.RECEIVE_POLL)
    poll_chats(conn)
    evolution.write(ANN, "refill 45323", sender=ANN, name="Ann")
    evolution.write(CUSTOMER_GROUP, "hi", sender=BOB, name="Bob")
    assert new_private_chats(conn) == [ANN]
    assert poll_twice(conn) == 1
    assert poll_twice(conn) == 0
    run_jobs()
    answers = [m["text"] for m in evolution.sent if ANN.split("@")[0] in str(m["chat_id"])]
    assert len(answers) == 1 and "link" in answers[0].lower()
    assert not ForwardRequest.objects.exists()
