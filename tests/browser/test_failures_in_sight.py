"""Failures in plain sight: a panel that keeps failing shows on its Panels row and on Alerts; a
connection whose last delivery failed says "failing" on Connections (issue 13)."""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from fakes.panel import FakePanel
from fakes.telegram import FakeTelegram
from panelrelay.accounts.models import Membership, Workspace
from panelrelay.core.testing import PASSWORD, make_user
from panelrelay.demo import scenario
from panelrelay.forwarding import panel_incidents
from panelrelay.panels.adapters.base import PanelError
from panelrelay.panels.models import Panel
from panelrelay.panels.services import resolve_orders
from panelrelay.transports.base import TransportError
from panelrelay.transports.services import deliver, refresh_status

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path(os.environ.get("SHOTS_DIR", "/tmp/shots/waiting"))


def shoot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width in (1366, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= width + 1, f"{name} scrolls sideways"
    page.set_viewport_size({"width": 1366, "height": 900})


def test_a_failing_panel_and_a_failing_connection_are_shown(new_page) -> None:
    owner = make_user("owner@fast-smm.example")
    ws = Workspace.objects.create(name="Fast SMM")
    Membership.objects.create(user=owner, workspace=ws, role=Membership.OWNER)
    with FakePanel(rps=0) as panel_fake, FakeTelegram() as tg_fake:
        tg_fake.add_bot("123456:DEMO", id=123456, username="relay_bot")
        tg_fake.add_chat(-1001, type="supergroup", title="FastLikes")
        panel = scenario.panel(ws, panel_fake.url)
        Panel.objects.filter(pk=panel.pk).update(check_ok=True, check_message="ok", last_checked=timezone.now())
        conn = scenario.telegram(ws, tg_fake.url)
        dest = scenario.destination(conn, "FastLikes grp", "tg_group", "-1001")
        refresh_status(conn)

        panel_fake.inject("status", status=503, times=3)
        for _ in range(3):
            with pytest.raises(PanelError):
                resolve_orders(panel, ["100"])
        # The run started 6 minutes ago: what the periodic pass sees after an outage that long.
        Panel.objects.filter(pk=panel.pk).update(failing_since=timezone.now() - timedelta(minutes=6))
        assert panel_incidents.reconcile() == (1, 0)

        tg_fake.inject("status", path="sendMessage", status=502, times=1)
        with pytest.raises(TransportError):
            deliver(dest, "REFILL\n1")

        page = new_page()
        page.goto("/accounts/login/")
        page.fill("#id_email", "owner@fast-smm.example")
        page.fill("#id_password", PASSWORD)
        page.click("main button:has-text('Sign in')")
        page.wait_for_url(re.compile(r"/$"))

        page.goto("/panels/")
        row = page.inner_text("main")
        assert "Keeps failing" in row and "3 in a row" in row and "incident open" in row
        shoot(page, "panels-keeps-failing")

        page.goto("/settings/alerts/")
        assert "Panel “Main” keeps failing: 3 lookups in a row" in page.inner_text("main")
        shoot(page, "alerts-panel-incident")

        page.goto("/settings/connections/")
        assert "failing" in page.inner_text("main") and "the last delivery failed" in page.inner_text("main")
        shoot(page, "connections-failing")

        page.goto("/forward/")
        assert "Lookups on “Main” have failed since" in page.inner_text("#panel-warning")
        shoot(page, "forward-panel-failing")
