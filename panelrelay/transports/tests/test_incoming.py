"""The front door: every transport that can receive turns what arrives into one Incoming and
hands it to the receivers, once per gateway message, by webhook and by polling, through the fakes."""

from __future__ import annotations

import json

import pytest

from fakes.evolution import FakeEvolution
from fakes.greenapi import FakeGreenAPI
from fakes.waha import FakeWAHA
from panelrelay.accounts.models import Workspace
from panelrelay.transports import hooks, incoming
from panelrelay.transports.models import Connection, ReceivedMessage
from panelrelay.transports.services import poll_chats
from panelrelay.transports.tests.helpers import WA_GROUP, connection, destination

FAKES = {"waha": FakeWAHA, "evolution": FakeEvolution, "greenapi": FakeGreenAPI}
PROVIDER = "447700900999@c.us"


@pytest.fixture
def got():
    """A receiver that records what reaches it, subscribed for the test's duration."""
    seen: list[incoming.Incoming] = []

    def record(item: incoming.Incoming) -> bool:
        seen.append(item)
        return True

    with incoming.subscribed("test.recorder", record, priority=1):
        yield seen


def gateway(kind: str, receive: str):
    fake = FAKES[kind]().start()
    if kind == "evolution":
        fake.add_group(WA_GROUP, "Provider group")
    ws = Workspace.objects.create(name=f"in-{kind}")
    conn = connection(ws, kind, fake)
    Connection.objects.filter(pk=conn.pk).update(receive=receive)
    conn.refresh_from_db()
    destination(conn, WA_GROUP, name="Provider group")
    return fake, conn


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("kind", sorted(FAKES))
def test_a_reply_posted_by_the_gateway_twice_reaches_the_receivers_once(kind, got, live_server, settings) -> None:
    settings.SITE_URL = live_server.url
    fake, conn = gateway(kind, Connection.RECEIVE_WEBHOOK)
    try:
        fake.webhook_url = hooks.url_for(conn)
        entry = fake.write(WA_GROUP, "done ✅", sender=PROVIDER, name="Prov", reply_to="3EB0AAAA", deliveries=2)
    finally:
        fake.stop()
    assert fake.webhook_results == [200, 200]
    [item] = got
    assert (item.connection.pk, item.chat_id, item.private, item.sender_id) == (conn.pk, WA_GROUP, False, PROVIDER)
    assert (item.text, item.sender_name) == ("done ✅", "Prov")
    assert item.reply_to == "3EB0AAAA"
    assert entry["message_id"] in item.message_id
    assert abs(item.at.timestamp() - entry["at"]) < 1.5
    assert ReceivedMessage.objects.filter(connection=conn).count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("kind", sorted(FAKES))
def test_polling_reads_new_messages_once_and_not_old_history(kind, got) -> None:
    fake, conn = gateway(kind, Connection.RECEIVE_POLL)
    try:
        if kind != "greenapi":  # Green-API's queue holds only what arrives after the instance was set up
            fake.write(WA_GROUP, "written before we started listening", sender=PROVIDER)["at"] -= 10
        assert poll_chats(conn) == 0  # the first look only notes where the chat is
        fake.write(WA_GROUP, "9000001 refilled", sender=PROVIDER, reply_to="3EB0BBBB")
        # A message written in the same second as the last poll is still read (>=); the door drops repeats.
        assert poll_chats(Connection.objects.get(pk=conn.pk)) == 1
        assert poll_chats(Connection.objects.get(pk=conn.pk)) == 0
    finally:
        fake.stop()
    [item] = got
    assert (item.chat_id, item.text, item.reply_to, item.sender_id) == (WA_GROUP, "9000001 refilled", "3EB0BBBB",
                                                                          PROVIDER)  # fmt: skip
    if kind == "greenapi":
        assert fake.queue == [], "every notification read was deleted from the queue"


@pytest.mark.django_db
def test_our_own_messages_and_other_events_are_not_incoming(got) -> None:
    fake, conn = gateway("waha", Connection.RECEIVE_POLL)
    try:
        from panelrelay.transports.integrations import transport_for

        transport = transport_for(conn)
        assert transport.parse_webhook({"event": "message.ack", "payload": {"id": "x"}}) == []
        assert transport.parse_webhook({"event": "message.any", "payload": {"id": "x", "fromMe": True}}) == []
        assert transport.parse_webhook({"event": "message", "session": "other", "payload": {"id": "y"}}) == []
        assert transport.parse_webhook([1, 2]) == []
    finally:
        fake.stop()
    assert got == []


@pytest.mark.django_db
def test_the_hook_answers_only_with_its_token_and_a_json_body(client, got) -> None:
    fake, conn = gateway("greenapi", Connection.RECEIVE_WEBHOOK)
    fake.stop()
    path = hooks.url_for(conn).split("://", 1)[1].split("/", 1)[1]
    good = "/" + path
    wrong = good.replace(hooks.secret_for(conn), "0" * 48)
    body = json.dumps({"typeWebhook": "stateInstanceChanged", "stateInstance": "authorized"})
    assert client.post(wrong, body, content_type="application/json").status_code == 404
    assert client.post(good, "{not json", content_type="application/json").status_code == 400
    answer = client.post(good, body, content_type="application/json")
    assert answer.status_code == 200 and answer.json()["messages"] == 0
    Connection.objects.filter(pk=conn.pk).update(receive=Connection.RECEIVE_POLL)  # the owner turned webhooks off
    assert client.post(good, body, content_type="application/json").status_code == 404
    assert got == []


@pytest.mark.django_db
def test_a_receiver_that_fails_leaves_the_message_for_the_next_delivery(got) -> None:
    ws = Workspace.objects.create(name="fail")
    conn = Connection.objects.create(workspace=ws, kind="waha", name="w", config={})
    item = incoming.Incoming(connection=conn, chat_id=WA_GROUP, private=False, sender_id=PROVIDER, sender_name="",
                             text="done", message_id="ABC")  # fmt: skip

    def broken(_: incoming.Incoming) -> bool:
        raise RuntimeError("a bug in a receiver")

    with incoming.subscribed("test.broken", broken, priority=0), pytest.raises(RuntimeError):
        incoming.receive(item)
    assert not ReceivedMessage.objects.exists(), "not marked as received: the retry is handled"
    assert incoming.receive(item) is True and len(got) == 1
    assert incoming.receive(item) is False and len(got) == 1


@pytest.mark.django_db
def test_the_owner_picks_how_a_gateway_receives_and_sees_the_webhook_url(client, settings) -> None:
    from panelrelay.accounts.models import Membership
    from panelrelay.core.testing import make_user

    def make_owner(email: str):
        user, ws = make_user(email), Workspace.objects.create(name=email)
        Membership.objects.create(user=user, workspace=ws, role=Membership.OWNER)
        return user, ws

    settings.SITE_URL = "https://relay.example.org"
    owner, ws = make_owner("olga@example.com")
    client.force_login(owner)
    conn = Connection.objects.create(workspace=ws, kind="evolution", name="Evo", config={"instance": "relay"})
    url = f"/settings/connections/{conn.code}/receive/"
    assert client.post(url, {"receive": "sometimes"}).status_code == 400
    client.post(url, {"receive": "webhook"})
    conn.refresh_from_db()
    assert conn.receive == "webhook"
    page = client.get("/settings/connections/").content.decode()
    assert hooks.url_for(conn) in page and hooks.url_for(conn).startswith("https://relay.example.org/hooks/whatsapp/")
    client.post(url, {"receive": "poll"})
    conn.refresh_from_db()
    assert conn.receive == "poll" and hooks.url_for(conn) not in client.get("/settings/connections/").content.decode()
    other_owner, _ = make_owner("mallory@example.com")
    client.force_login(other_owner)
    assert client.post(url, {"receive": "off"}).status_code == 404


@pytest.mark.django_db
def test_a_telegram_reply_in_a_group_reaches_the_front_door_with_the_message_it_answers(got) -> None:
    from panelrelay.transports.integrations.telegram.updates import poll
    from panelrelay.transports.services import deliver
    from panelrelay.transports.tests.helpers import GROUP, NO_PACING, telegram_fake

    with NO_PACING, telegram_fake() as fake:
        ws = Workspace.objects.create(name="tg")
        bot = connection(ws, "telegram", fake)
        group = destination(bot, GROUP, name="Provider A")
        ours = deliver(group, "REFILL\n9000001")
        fake.add_user(700000009, first_name="Prov")
        fake.user_sends(700000009, "done", chat_id=GROUP, reply_to=int(ours))
        fake.user_sends(700000009, "9000001 refilled too", chat_id=GROUP)
        poll(bot)
        poll(bot)  # nothing new: nothing twice
    reply, new = got
    assert (reply.chat_id, reply.private, reply.sender_id, reply.sender_name) == (
        str(GROUP),
        False,
        "700000009",
        "Prov",
    )
    assert (reply.text, reply.reply_to) == ("done", ours)
    assert (new.text, new.reply_to) == ("9000001 refilled too", "")
    assert reply.message_id != new.message_id


@pytest.mark.django_db
def test_a_telegram_update_posted_twice_to_the_webhook_is_received_once(client, got, settings) -> None:
    from panelrelay.transports.integrations.telegram import webhook
    from panelrelay.transports.tests.helpers import GROUP

    settings.SITE_URL = "https://relay.example.org"
    ws = Workspace.objects.create(name="tg-hook")
    bot = Connection.objects.create(
        workspace=ws, kind="telegram", name="Bot", webhook_url="https://relay.example.org/x"
    )
    update = {"update_id": 5, "message": {"message_id": 77, "date": 1_790_000_000, "text": "ok ✅",
              "chat": {"id": GROUP, "type": "supergroup", "title": "Provider A"},
              "from": {"id": 9, "is_bot": False, "first_name": "Prov"},
              "reply_to_message": {"message_id": 76, "chat": {"id": GROUP, "type": "supergroup"}, "date": 1}}}  # fmt: skip
    headers = {"HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN": webhook.secret_for(bot)}
    for _ in range(2):  # Telegram sends an update again when our first answer was lost
        answer = client.post(f"/hooks/telegram/{bot.code}/", json.dumps(update), content_type="application/json",
                             **headers)  # fmt: skip
        assert answer.status_code == 200
    [item] = got
    assert (item.message_id, item.reply_to, item.text) == (f"{GROUP}:77", "76", "ok ✅")


@pytest.mark.django_db
def test_a_reaction_on_our_telegram_message_is_incoming_and_connections_says_what_the_bot_reads(got, client) -> None:
    from panelrelay.accounts.models import Membership
    from panelrelay.core.testing import make_user
    from panelrelay.transports.integrations.telegram.updates import handle
    from panelrelay.transports.services import refresh_status
    from panelrelay.transports.tests.helpers import GROUP, telegram_fake

    with telegram_fake() as fake:
        ws = Workspace.objects.create(name="react")
        bot = connection(ws, "telegram", fake)
        refresh_status(bot)  # getMe: can_read_all_group_messages is false for a new bot
        event = {"chat": {"id": GROUP, "type": "supergroup"}, "message_id": 12, "user": {"id": 9, "first_name": "P"},
                 "date": 1_790_000_000, "old_reaction": [], "new_reaction": [{"type": "emoji", "emoji": "👍"}]}  # fmt: skip
        handle(bot, {"update_id": 1, "message_reaction": event})
        handle(bot, {"update_id": 2, "message_reaction": {**event, "new_reaction": []}})  # taken back: nothing
    [item] = got
    assert (item.text, item.reply_to, item.chat_id) == ("👍", "12", str(GROUP))
    owner = make_user("react-owner@example.org")
    Membership.objects.create(user=owner, workspace=ws, role=Membership.OWNER)
    client.force_login(owner)
    assert (
        "Reads replies to its messages only (privacy mode on)" in client.get("/settings/connections/").content.decode()
    )
    Connection.objects.filter(pk=bot.pk).update(config={**bot.config, "reads_all": True})
    assert "Reads every message in its groups" in client.get("/settings/connections/").content.decode()


@pytest.mark.django_db
def test_a_whatsapp_reaction_taken_back_is_no_answer() -> None:
    from panelrelay.transports.integrations import transport_for

    ws = Workspace.objects.create(name="unreact")
    evo = transport_for(Connection.objects.create(workspace=ws, kind="evolution", name="e", config={"instance": "i"}))
    green = transport_for(Connection.objects.create(workspace=ws, kind="greenapi", name="g",
                                                    config={"id_instance": "1"}))  # fmt: skip
    key = {"remoteJid": WA_GROUP, "fromMe": False, "id": "R1", "participant": PROVIDER}

    def evo_event(emoji: str) -> dict:
        return {"event": "messages.upsert", "instance": "i",
                "data": {"key": key, "message": {"reactionMessage": {"text": emoji, "key": {"id": "OURS"}}}}}  # fmt: skip

    def green_event(emoji: str) -> dict:
        return {"typeWebhook": "incomingMessageReceived", "idMessage": "G1", "timestamp": 1_790_000_000,
                "senderData": {"chatId": WA_GROUP, "sender": PROVIDER},
                "messageData": {"typeMessage": "reactionMessage", "extendedTextMessageData": {"text": emoji},
                                "quotedMessage": {"stanzaId": "OURS"}}}  # fmt: skip

    [given] = evo.parse_webhook(evo_event("👍"))
    assert (given.text, given.reply_to) == ("👍", "OURS")
    assert evo.parse_webhook(evo_event("")) == []
    [given] = green.parse_webhook(green_event("👍"))
    assert (given.text, given.reply_to) == ("👍", "OURS")
    assert green.parse_webhook(green_event("")) == []


@pytest.mark.django_db
@pytest.mark.parametrize("kind", sorted(FAKES))
def test_a_message_whose_handling_fails_is_read_again_by_the_next_poll(kind, got) -> None:
    """Nothing is lost to a failure: Green-API's notification stays queued, the chat position stays put."""
    fake, conn = gateway(kind, Connection.RECEIVE_POLL)

    def broken(_: incoming.Incoming) -> bool:
        raise RuntimeError("the database went away for a moment")

    try:
        poll_chats(conn)  # the first look notes where the chat is
        fake.write(WA_GROUP, "9000001 done", sender=PROVIDER)
        with incoming.subscribed("test.broken", broken, priority=0), pytest.raises(RuntimeError):
            poll_chats(Connection.objects.get(pk=conn.pk))
        if kind == "greenapi":
            assert len(fake.queue) == 1, "not deleted before it was handled"
        assert got == []
        assert poll_chats(Connection.objects.get(pk=conn.pk)) == 1
        assert poll_chats(Connection.objects.get(pk=conn.pk)) == 0
    finally:
        fake.stop()
    [item] = got
    assert item.text == "9000001 done"


@pytest.mark.django_db
def test_a_receivers_own_integrity_error_is_not_taken_for_a_duplicate(got) -> None:
    from django.db import IntegrityError

    ws = Workspace.objects.create(name="integrity")
    conn = Connection.objects.create(workspace=ws, kind="waha", name="w", config={})
    item = incoming.Incoming(connection=conn, chat_id=WA_GROUP, private=False, sender_id=PROVIDER, sender_name="",
                             text="done", message_id="XYZ")  # fmt: skip

    def clashing(_: incoming.Incoming) -> bool:
        raise IntegrityError("a receiver's own unique constraint")

    with incoming.subscribed("test.clash", clashing, priority=0), pytest.raises(IntegrityError):
        incoming.receive(item)
    assert not ReceivedMessage.objects.exists()
    assert incoming.receive(item) is True and len(got) == 1
