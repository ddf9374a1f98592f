"""Fixtures: a workspace whose WAHA number and Telegram bot take customers, wired to the fakes."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.utils import timezone

from fakes.panel import FakePanel
from fakes.telegram import FakeTelegram
from fakes.waha import FakeWAHA
from panelrelay.accounts.models import Workspace
from panelrelay.customers.models import Customer, CustomerChannel, CustomerLink
from panelrelay.demo import scenario
from panelrelay.panels.models import Panel
from panelrelay.transports.models import Connection, Destination
from panelrelay.worker.models import Job
from panelrelay.worker.queue import claim, run_job

PROVIDER = "smm-canary-provider.example"  # the privacy canary: never in anything a customer reads
ALIAS = "Canary_P"
WA_GROUP = "120363000000000077@g.us"  # the provider's group
ANN = "15550001111@c.us"  # a customer's WhatsApp number
BOB = "15550002222@c.us"
TG_ANN = 880000001  # a customer's Telegram user id
ORDERS = {45323: "ann", 45324: "ann", 45325: "bob"}
EXT = 9_100_000


@dataclass
class Wired:
    ws: Workspace
    panel: Panel
    wa: Connection
    tg: Connection
    group: Destination


@pytest.fixture
def fake_panel():
    with FakePanel() as fake:
        yield fake


@pytest.fixture
def fake_waha():
    with FakeWAHA() as fake:
        yield fake


@pytest.fixture
def fake_telegram():
    with FakeTelegram() as fake:
        fake.add_bot("123456:DEMO", id=123456, username="panelrelay_demo_bot")
        yield fake


@pytest.fixture
def wired(fake_panel, fake_waha, fake_telegram, settings) -> Wired:
    settings.PACING_TELEGRAM_GROUP_SECONDS = settings.PACING_TELEGRAM_BOT_SECONDS = 0
    settings.PACING_TELEGRAM_PRIVATE_SECONDS = 0
    settings.PACING_WHATSAPP_JITTER = 0
    settings.TICKET_REPLY_DELIVERY_WAIT = 0
    ws = Workspace.objects.create(name="Customers")
    panel = scenario.panel(ws, fake_panel.url)
    fake_waha.add_group(WA_GROUP, "Provider group")
    wa = scenario.waha(ws, fake_waha.url, pace=0)
    group = scenario.destination(wa, "Provider group", "wa_group", WA_GROUP)
    scenario.route(scenario.provider(ws, PROVIDER, ALIAS), group)
    tg = scenario.telegram(ws, fake_telegram.url)
    Connection.objects.filter(pk=tg.pk).update(config={**tg.config, "username": "panelrelay_demo_bot"})
    tg.refresh_from_db()
    for conn in (wa, tg):
        CustomerChannel.objects.create(workspace=ws, connection=conn)
    for oid, user in ORDERS.items():
        fake_panel.add_order(id=oid, provider=PROVIDER, external_id=str(EXT + oid), user=user)
    return Wired(ws, panel, wa, tg, group)


def customer(ws: Workspace, number: str = ANN, network: str = Customer.WHATSAPP) -> Customer:
    return Customer.objects.get_or_create(workspace=ws, network=network, identity=number.split("@")[0])[0]


def link(w: Wired, number: str = ANN, username: str = "ann", network: str = Customer.WHATSAPP) -> Customer:
    found = customer(w.ws, number, network)
    CustomerLink.objects.create(workspace=w.ws, customer=found, panel=w.panel, username=username,
                                how=CustomerLink.STAFF)  # fmt: skip
    return found


def run_jobs(timeout: float = 30.0) -> None:
    """Run every due job (and those due within a few seconds) until none waits; no periodic tasks."""
    started = time.monotonic()
    while True:
        assert time.monotonic() - started < timeout, "jobs still waiting"
        jobs = claim("customers-test", limit=1)
        for job in jobs:
            run_job(job, "customers-test")
        if jobs:
            continue
        soon = timezone.now() + timedelta(seconds=5)  # a reminder hours away is not waited for
        if not Job.objects.filter(state__in=(Job.QUEUED, Job.RUNNING), run_at__lte=soon).exists():
            return
        time.sleep(0.05)
