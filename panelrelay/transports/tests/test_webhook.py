"""Telegram updates by webhook: the fake Telegram POSTs to a live PanelRelay, with the secret token."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import pytest
from django.urls import reverse

from panelrelay.accounts.models import Membership, Workspace
from panelrelay.core.testing import make_user
from panelrelay.transports.discovery import refresh_chats
from panelrelay.transports.integrations.telegram import webhook
from panelrelay.transports.models import Connection, Destination, DiscoveredChat, Incident
from panelrelay.transports.services import refresh_status
from panelrelay.transports.tests.helpers import NO_PACING, TOKEN, connection, telegram_fake
from panelrelay.worker.runner import Worker

pytestmark = [pytest.mark.django_db(transaction=True)]
NEW_GROUP = -1009876500001
HEADER = "X-Telegram-Bot-Api-Secret-Token"


def wait_for(done: Callable[[], bool], timeout: float = 10.0) -> None:
    started = time.monotonic()
    while not done():
        assert time.monotonic() - started < timeout, "not done in time"
        time.sleep(0.05)


@pytest.fixture
def fake():
    with telegram_fake(webhook_retry_delay=0.1) as running:
        yield running


@pytest.fixture
def owner(client):
    workspace = Workspace.objects.create(name="Hooks")
    user = make_user("owner@example.org")
    Membership.objects.create(user=user, workspace=workspace, role=Membership.OWNER)
    client.force_login(user)
    return workspace


@pytest.fixture
def bot(owner, fake, live_server, settings) -> Connection:
    settings.SITE_URL = live_server.url
    return connection(owner, "telegram", fake)


def test_the_owner_switches_to_a_webhook_and_updates_arrive_without_polling(client, bot, fake, live_server) -> None:
    response = client.post(reverse("transports:updates_mode", args=[bot.code]), {"mode": "webhook"}, follow=True)
    assert "Telegram now sends updates to" in response.content.decode()
    bot.refresh_from_db()
    assert bot.webhook_url == f"{live_server.url}/hooks/telegram/{bot.code}/"
    info = fake.bots[TOKEN]
    assert (info.webhook_url, info.webhook_secret) == (bot.webhook_url, webhook.secret_for(bot))
    page = client.get(reverse("transports:connections")).content.decode()
    assert "Updates by webhook" in page and "@relay_bot · webhook" in page

    fake.bot_added(NEW_GROUP, title="Provider C · refills")
    wait_for(lambda: DiscoveredChat.objects.filter(chat_id=str(NEW_GROUP), active=True).exists())
    group = Destination.objects.create(workspace=bot.workspace, name="C", kind="tg_group",
                                       target=str(NEW_GROUP), connection=bot)  # fmt: skip
    fake.kick(NEW_GROUP)
    # The live server's thread handles the update: it marks the destination broken, then alerts.
    wait_for(lambda: Incident.objects.filter(key=f"destination:{group.code}").exists())
    assert Destination.objects.get(pk=group.pk).broken_reason == "bot was kicked from the group chat"
    assert Incident.objects.filter(key=f"destination:{group.code}").count() == 1

    # The poller leaves a webhook bot alone: Telegram would answer 409 to getUpdates.
    Worker(worker_id="hooks").run(burst=True, max_seconds=5)
    assert fake.requests_to(r"/getUpdates$") == []
    assert refresh_chats(bot) == ""
    assert all(d["error"] is None for d in fake.webhook_deliveries)

    with NO_PACING:
        status = refresh_status(bot)
    assert (status.state, status.message) == ("working", "@relay_bot · webhook")


def test_back_to_polling_reads_the_updates_again(client, bot, fake) -> None:
    webhook.enable(bot)
    client.post(reverse("transports:updates_mode", args=[bot.code]), {"mode": "polling"})
    bot.refresh_from_db()
    assert bot.webhook_url == "" and fake.bots[TOKEN].webhook_url == ""
    fake.bot_added(NEW_GROUP, title="Provider D")
    assert refresh_chats(bot) == ""
    assert DiscoveredChat.objects.filter(chat_id=str(NEW_GROUP)).exists()


def test_the_hook_answers_only_telegram_with_the_secret(bot, fake, live_server) -> None:
    webhook.enable(bot)
    url = bot.webhook_url
    update = {"update_id": 7, "my_chat_member": {
        "chat": {"id": NEW_GROUP, "type": "supergroup", "title": "Forged"},
        "from": {"id": 1}, "date": 0,
        "old_chat_member": {"status": "left", "user": {"id": 123456789}},
        "new_chat_member": {"status": "member", "user": {"id": 123456789}},
    }}  # fmt: skip
    secret = webhook.secret_for(bot)
    with httpx.Client() as http:
        assert http.post(url, json=update).status_code == 404  # no token
        assert http.post(url, json=update, headers={HEADER: "guess"}).status_code == 404
        other = f"{live_server.url}/hooks/telegram/00000000-0000-4000-8000-000000000000/"
        assert http.post(other, json=update, headers={HEADER: secret}).status_code == 404
        assert http.get(url, headers={HEADER: secret}).status_code == 405
        bad = http.post(url, content=b"{not json", headers={HEADER: secret, "Content-Type": "application/json"})
        assert (bad.status_code, bad.json()) == (400, {"error": "the body is not JSON"})
        assert http.post(url, json=[1, 2], headers={HEADER: secret}).status_code == 400
        assert http.post(url, json={"update_id": "7"}, headers={HEADER: secret}).status_code == 400
        assert not DiscoveredChat.objects.filter(chat_id=str(NEW_GROUP)).exists()
        ok = http.post(url, json=update, headers={HEADER: secret})
        assert (ok.status_code, ok.json()) == (200, {"ok": True})
        assert http.post(url, json=update, headers={HEADER: secret}).status_code == 200  # again: no change
    assert DiscoveredChat.objects.filter(chat_id=str(NEW_GROUP)).count() == 1


def test_another_workspaces_secret_and_a_suspended_workspace_get_nothing(bot, fake, live_server) -> None:
    webhook.enable(bot)
    other = connection(Workspace.objects.create(name="Other"), "telegram", fake)
    update = {"update_id": 8, "message": {"message_id": 1, "date": 0, "chat": {"id": 5, "type": "private"},
                                          "from": {"id": 5}, "text": "/start"}}  # fmt: skip
    with httpx.Client() as http:
        # the other bot has no webhook; and its secret does not open ours
        assert http.post(bot.webhook_url, json=update, headers={HEADER: webhook.secret_for(other)}).status_code == 404
        Workspace.objects.filter(pk=bot.workspace_id).update(suspended=True)
        assert http.post(bot.webhook_url, json=update, headers={HEADER: webhook.secret_for(bot)}).status_code == 404


def test_a_refused_webhook_is_explained_and_nothing_changes(client, bot, fake, settings) -> None:
    settings.SITE_URL = "ftp://relay.example.org"  # Telegram wants an HTTPS URL
    response = client.post(reverse("transports:updates_mode", args=[bot.code]), {"mode": "webhook"}, follow=True)
    assert "Telegram did not set the webhook: bad webhook: An HTTPS URL must be provided" in response.content.decode()
    bot.refresh_from_db()
    assert bot.webhook_url == "" and fake.bots[TOKEN].webhook_url == ""


def test_a_webhook_removed_at_telegram_shows_on_the_status(bot, fake) -> None:
    webhook.enable(bot)
    httpx.post(f"{fake.url}/bot{TOKEN}/deleteWebhook")  # someone else took the bot over
    with NO_PACING:
        status = refresh_status(bot)
    assert status.state == "pending"
    assert "no longer set at Telegram" in status.message


def test_a_member_of_another_workspace_cannot_switch_the_bot(client, bot) -> None:
    stranger = make_user("stranger@example.org")
    Membership.objects.create(user=stranger, workspace=Workspace.objects.create(name="Theirs"),
                              role=Membership.OWNER)  # fmt: skip
    client.force_login(stranger)
    assert client.post(reverse("transports:updates_mode", args=[bot.code]), {"mode": "webhook"}).status_code == 404
    assert Connection.objects.get(pk=bot.pk).webhook_url == ""
