"""Ticket reading on the Panels row, Settings → Tickets, the Profile's team-bot link, Activity sources."""

from __future__ import annotations

import os
import re

import pytest

from panelrelay.accounts.models import Membership, Workspace
from panelrelay.core.testing import PASSWORD, make_user
from panelrelay.demo.scenario import panel as make_panel
from panelrelay.demo.scenario import telegram
from panelrelay.forwarding.models import Command, ForwardRequest
from panelrelay.forwarding.submit import create_request
from panelrelay.intake.models import TelegramLink

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = os.environ.get("SCREENSHOT_DIR")


def test_owner_turns_tickets_on_edits_replies_and_links_telegram(new_page, tmp_path) -> None:
    def shot(page, name: str) -> None:
        page.screenshot(path=os.path.join(SHOTS or str(tmp_path), f"intake-{name}.png"), full_page=True)

    owner = make_user("owner@fast-smm.example")
    ws = Workspace.objects.create(name="Fast SMM")
    member = Membership.objects.create(user=owner, workspace=ws, role=Membership.OWNER)
    panel = make_panel(ws, "https://panel.example")
    bot = telegram(ws, "https://api.telegram.example")
    bot.config = {**bot.config, "username": "fastsmm_relay_bot"}
    bot.save()
    refill = Command.for_workspace(ws)[0]
    create_request(ws, panel, refill, ["1001"], source=ForwardRequest.TICKET, source_ref="501", ticket_user="dave")
    create_request(ws, panel, refill, ["1002"], source=ForwardRequest.BOT, source_ref="tg:1", user=owner)

    page = new_page()
    page.goto("/accounts/login/")
    page.fill("#id_email", "owner@fast-smm.example")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit], button:has-text('Sign in')")
    page.wait_for_url(re.compile(r"/$"))  # an owner lands on Home

    page.goto("/panels/")
    page.click(f"#panel-tickets-{panel.code}")  # the switch saves in place
    page.wait_for_timeout(300)
    panel.refresh_from_db()
    assert panel.tickets_enabled
    shot(page, "panels")

    page.goto("/settings/tickets/")
    page.fill("#id_reply_forwarded", "Sent: {ids}")
    page.click("button:has-text('Save replies')")
    assert "Ticket replies saved" in page.inner_text("main")
    shot(page, "tickets")

    page.goto("/settings/forwarding/")
    shot(page, "forwarding")

    page.click("nav >> text=owner@fast-smm.example")
    page.click("text=Profile & team bot")
    page.click("button:has-text('Create a link')")
    token = TelegramLink.objects.get(membership=member).token
    assert f"https://t.me/fastsmm_relay_bot?start={token}" in page.inner_text("#start-link")
    shot(page, "profile")

    page.goto("/activity/")
    assert page.get_attribute("a:has-text('Ticket #501')", "href") == "https://panel.example/admin/tickets/view/501"
    assert "Team bot" in page.inner_text("main")
    shot(page, "activity")
