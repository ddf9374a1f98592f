"""Add destination offers only what the chosen connection can send to — in headless Chromium."""

from __future__ import annotations

import pytest

from panelrelay.accounts.models import Membership, Workspace
from panelrelay.core.testing import PASSWORD, make_user
from panelrelay.transports.models import Connection

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def visible_kinds(page) -> list[str]:
    return page.eval_on_selector_all("#id_kind option", "els => els.filter(e => !e.hidden).map(e => e.value)")


def test_a_telegram_bot_is_never_offered_a_whatsapp_number(new_page) -> None:
    owner = make_user("owner@kinds-smm.example")
    workspace = Workspace.objects.create(name="Kinds SMM")
    Membership.objects.create(user=owner, workspace=workspace, role=Membership.OWNER)
    closed = "http://127.0.0.1:9"  # a closed port: the picker's refresh fails at once
    Connection.objects.create(workspace=workspace, kind="telegram", name="A bot", config={"api_url": closed})
    Connection.objects.create(workspace=workspace, kind="waha", name="B phone", config={"base_url": closed})

    page = new_page()
    page.goto("/accounts/login/")
    page.fill("#id_email", "owner@kinds-smm.example")
    page.fill("#id_password", PASSWORD)
    page.click("main button:has-text('Sign in')")
    page.wait_for_load_state()
    page.goto("/destinations/add/")
    assert page.locator("#id_connection option:checked").inner_text().startswith("Telegram bot")
    assert visible_kinds(page) == ["", "tg_group", "tg_user"]
    assert "+44" not in page.get_attribute("#id_target", "placeholder")

    page.select_option("#id_kind", "tg_user")
    wa = page.locator("#id_connection option", has_text="B phone").get_attribute("value")
    page.select_option("#id_connection", wa)
    assert visible_kinds(page) == ["", "wa_group", "wa_number"]
    assert page.input_value("#id_kind") == ""  # the Telegram kind picked before is dropped
    assert "+44 7700 900123" in page.get_attribute("#id_target", "placeholder")
    page.select_option("#id_kind", "wa_number")
    page.fill("#id_target", "+44 7700 900123")
    page.fill("#id_name", "Office phone")
    page.click("button:has-text('Save destination')")
    page.wait_for_url("**/destinations/")
    assert "Destination WA · Office phone added" in page.inner_text("#flash")
