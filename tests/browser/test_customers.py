"""The Customers page in Chromium: a conversation, a staff takeover and its end, a staff link."""

from __future__ import annotations

import os
import re

import pytest

from panelrelay.accounts.models import Membership, Workspace
from panelrelay.core.testing import PASSWORD, make_user
from panelrelay.customers.models import ChatEntry, ChatState, Customer, CustomerLink
from panelrelay.demo.scenario import panel as make_panel
from panelrelay.demo.scenario import waha
from panelrelay.forwarding.models import Command, ForwardRequest
from panelrelay.forwarding.submit import create_request

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = os.environ.get("SCREENSHOT_DIR")
CHAT = "15550001111@c.us"


def test_staff_read_a_conversation_take_over_the_chat_and_give_it_back(new_page, tmp_path) -> None:
    owner = make_user("owner@fast-smm.example")
    ws = Workspace.objects.create(name="Fast SMM")
    Membership.objects.create(user=owner, workspace=ws, role=Membership.OWNER)
    panel = make_panel(ws, "https://panel.example")
    support = waha(ws, "https://waha.example", name="Support number")
    request = create_request(ws, panel, Command.for_workspace(ws)[0], ["45323", "45324"],
                             source=ForwardRequest.CUSTOMER, source_ref="whatsapp:15550001111", ticket_user="ann")  # fmt: skip
    ann = Customer.objects.create(workspace=ws, network=Customer.WHATSAPP, identity="15550001111", name="Ann")
    for direction, text, kind, req in (
        ("in", "hi, are you there?", "silent", None),
        ("in", "refill 45323 45324 please", "request", request),
        ("out", "Got it: your refill request for order(s) 45323, 45324 has been forwarded.", "answer", request),
    ):
        ChatEntry.objects.create(workspace=ws, customer=ann, connection=support, chat_id=CHAT, direction=direction,
                                 text=text, kind=kind, request=req)  # fmt: skip

    page = new_page()
    page.goto("/accounts/login/")
    page.fill("#id_email", "owner@fast-smm.example")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit], button:has-text('Sign in')")
    page.wait_for_url(re.compile(r"/$"))
    page.click("nav >> text=Customers")
    page.click("#customers >> text=Ann (+15550001111)")
    conversation = page.inner_text("#conversation")
    assert "refill 45323 45324 please" in conversation and "no answer (chatter)" in conversation
    assert "has been forwarded" in conversation
    page.fill("input[name=hours]", "3")
    page.click("button:has-text('Take over')")
    assert "silent in this chat for 3 hours" in page.inner_text("main")
    assert ChatState.objects.get(chat_id=CHAT).paused()
    page.screenshot(path=os.path.join(SHOTS or str(tmp_path), "customers-takeover.png"), full_page=True)
    page.click("button:has-text('Resume the bot')")
    assert not ChatState.objects.get(chat_id=CHAT).paused()
    page.fill("#username", "ann")
    page.click("form[action$='/link/'] button:has-text('Link')")
    assert "Linked to ann on" in page.inner_text("main")
    assert CustomerLink.objects.get(customer=ann).username == "ann"
