"""The demo's names say where its messages land, its bot's groups are in the picker, its token is accepted."""

from __future__ import annotations

from contextlib import ExitStack

import pytest

from fakes.panel import FakePanel, seed_demo
from fakes.telegram import DEMO_TOKEN, FakeTelegram
from fakes.waha import FakeWAHA
from panelrelay.accounts.models import Membership
from panelrelay.demo.management.commands.demo import Command
from panelrelay.routing.models import ProviderRoute, RoutingDefaults
from panelrelay.transports.discovery import refresh_chats
from panelrelay.transports.integrations.telegram.forms import Form as TelegramForm
from panelrelay.transports.models import Connection, Destination, DiscoveredChat
from panelrelay.transports.services import deliver
from panelrelay.transports.tests.helpers import NO_PACING

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo():
    with ExitStack() as stack:
        panel = stack.enter_context(FakePanel())
        seed_demo(panel, orders=40)
        telegram = stack.enter_context(FakeTelegram(strict_limits=False))
        telegram.seed_demo()
        waha = stack.enter_context(FakeWAHA())
        waha.seed_demo()
        with NO_PACING:
            workspace = Command()._seed(panel.url, telegram.url, waha.url)
            Connection.objects.filter(workspace=workspace).update(pace_seconds=0)
            yield workspace, telegram, waha


def test_each_destination_is_named_as_the_chat_its_messages_land_in(demo) -> None:
    workspace, telegram, waha = demo
    landed = {}
    for destination in Destination.objects.filter(workspace=workspace).select_related("connection"):
        deliver(destination, f"to {destination.name}")
        fake = telegram if destination.connection.is_telegram else waha
        [message] = [m for m in fake.sent if m["text"] == f"to {destination.name}"]
        landed[destination.name] = fake.chat_label(message["chat_id"])  # as its inbox page names it
    assert landed == {
        "FastLikes_A · refills": "FastLikes_A · refills (supergroup -1001000000001)",
        "Rush_B · support": "Rush_B · support (supergroup -1001000000002)",
        "Storm_D · orders": "Storm_D · orders (group -4000000003)",
        "Peak_C · WhatsApp": "Peak_C · WhatsApp (120363040000000001@g.us)",
        "Manual team": "Manual team (120363040000000002@g.us)",
        "My own chat": "Demo owner (@demo_owner, 500000003)",  # the owner's private chat with the bot
    }


def test_routes_send_each_provider_to_its_own_group(demo) -> None:
    workspace, _telegram, _waha = demo
    routes = {r.provider.alias: r.destination.name for r in ProviderRoute.objects.filter(workspace=workspace)}
    for alias, destination in routes.items():
        assert destination.startswith(alias), (alias, destination)
    defaults = RoutingDefaults.of(workspace)
    assert (defaults.manual_destination.name, defaults.fallback_destination.name) == ("Manual team", "My own chat")


def test_the_demo_bots_groups_are_in_the_picker_and_its_token_is_accepted(demo) -> None:
    workspace, telegram, _waha = demo
    bot = Connection.objects.get(workspace=workspace, kind="telegram")
    assert bot.config["username"] == "panelrelay_demo_bot"  # checked when seeded, like "Save and check"
    assert refresh_chats(bot) == ""
    titles = set(DiscoveredChat.objects.filter(connection=bot, active=True).values_list("title", flat=True))
    assert titles == {"FastLikes_A · refills", "Rush_B · support", "Storm_D · orders"}
    owner = Membership.objects.get(workspace=workspace).user
    assert owner.email == "demo@panelrelay.local"
    form = TelegramForm({"name": "Demo bot", "secret": DEMO_TOKEN, "api_url": telegram.url})
    assert form.is_valid(), form.errors
