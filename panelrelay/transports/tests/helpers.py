"""Test helpers: connections pointing at the loopback fakes, and a base case that runs one."""

from __future__ import annotations

from typing import Any

from django.test import override_settings

from fakes.evolution import FakeEvolution
from fakes.greenapi import FakeGreenAPI
from fakes.messaging import MessagingFake
from fakes.telegram import FakeTelegram
from fakes.waha import FakeWAHA
from panelrelay.accounts.models import Workspace
from panelrelay.core.testing import BaseTestCase
from panelrelay.transports.models import Connection, Destination

# The shape of a real token, so the connection form accepts it; the fake accepts any token.
TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
GROUP, BASIC, USER = -1001234567890, -4001234567, 500000001
WA_GROUP, WA_NUMBER = "120363040000000001@g.us", "447700900123@c.us"

# No waiting between messages unless a test is about pacing.
NO_PACING = override_settings(
    PACING_TELEGRAM_GROUP_SECONDS=0,
    PACING_TELEGRAM_PRIVATE_SECONDS=0,
    PACING_TELEGRAM_BOT_SECONDS=0,
    PACING_WHATSAPP_JITTER=0,
)


def telegram_fake(**kwargs: Any) -> FakeTelegram:
    fake = FakeTelegram(tokens={TOKEN: {"id": 123456789, "username": "relay_bot"}}, strict_limits=False, **kwargs)
    fake.add_chat(GROUP, "supergroup", "Provider A", username="provider_a")
    fake.add_chat(BASIC, "group", "Provider B")
    fake.add_chat(USER, "private", "Alice")  # a user who has pressed Start
    return fake


def connection(workspace: Workspace, kind: str, fake: MessagingFake, secret: str = "", **config: Any) -> Connection:
    defaults = {
        "telegram": ({"api_url": fake.url}, TOKEN),
        "waha": ({"base_url": fake.url, "session": "default"}, "waha-key"),
        "evolution": ({"base_url": fake.url, "instance": "relay"}, "evo-key"),
        "greenapi": ({"api_url": fake.url, "id_instance": "1101000001"}, "green-token"),
    }
    base, default_secret = defaults[kind]
    found = Connection(workspace=workspace, kind=kind, name=f"{kind} 1", config={**base, **config}, pace_seconds=0)
    found.set_secret(secret or default_secret)
    found.save()
    return found


def destination(connection: Connection, target: Any, kind: str = "", name: str = "") -> Destination:
    target = str(target)
    if not kind:
        if connection.is_telegram:
            kind = "tg_group" if target.startswith(("-", "@")) else "tg_user"
        else:
            kind = "wa_group" if target.endswith("@g.us") else "wa_number"
    found, _ = Destination.objects.get_or_create(
        workspace=connection.workspace,
        name=name or f"dest {target}",
        defaults={"connection": connection, "kind": kind, "target": target},
    )
    return found


FAKES = {"telegram": telegram_fake, "waha": FakeWAHA, "evolution": FakeEvolution, "greenapi": FakeGreenAPI}


@NO_PACING
class FakeTestCase(BaseTestCase):
    """Runs the fake of `kind` for each test, and gives Alice a connection to it."""

    kind = "telegram"

    def setUp(self) -> None:
        super().setUp()
        self.fake = FAKES[self.kind]()
        self.fake.start()
        self.addCleanup(self.fake.stop)
        self.connection = connection(self.workspace, self.kind, self.fake)
