"""Connect a Telegram bot, let it join a group, pick the group, save, Test — in headless Chromium."""

from __future__ import annotations

import re

import pytest

from panelrelay.accounts.models import Membership, Workspace
from panelrelay.core.testing import PASSWORD, make_user
from panelrelay.transports.tests.helpers import TOKEN, telegram_fake

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
GROUP = -1001500000001


def sign_in(page, email: str) -> None:
    page.goto("/accounts/login/")
    page.fill("#id_email", email)
    page.fill("#id_password", PASSWORD)
    page.click("main button:has-text('Sign in')")
    page.wait_for_url(re.compile(r"/(forward/)?$"))  # Home for owners, Forward for staff without Activity


def test_a_group_the_bot_joined_is_picked_saved_and_tested(new_page, tmp_path) -> None:
    owner = make_user("owner@fast-smm.example")
    Membership.objects.create(user=owner, workspace=Workspace.objects.create(name="Fast SMM"), role=Membership.OWNER)
    with telegram_fake() as fake:
        page = new_page()
        sign_in(page, "owner@fast-smm.example")

        page.click("nav >> text=Settings")
        page.click("text=Connections")
        page.click("button:has-text('Add connection')")
        page.click(".dropdown-menu >> text=Telegram bot")
        page.fill("#id_name", "Main bot")
        page.fill("#id_api_url", fake.url)
        page.fill("#id_secret", TOKEN)
        page.click("button:has-text('Save and check')")
        page.wait_for_url(re.compile(r"/settings/connections/$"))
        assert "Main bot works: @relay_bot." in page.inner_text("#flash")
        assert TOKEN not in page.content()

        fake.bot_added(GROUP, title="Provider A · refills")  # someone adds the bot to their group

        page.click("nav >> text=Destinations")
        page.click("text=Add destination")
        option = page.locator("#id_pick option", has_text="Provider A · refills")
        option.wait_for(state="attached")
        page.select_option("#id_pick", value=option.get_attribute("value"))
        page.screenshot(path=str(tmp_path / "destination-form.png"))
        page.click("button:has-text('Save destination')")
        page.wait_for_url(re.compile(r"/destinations/$"))
        row = page.locator("tr", has_text="Provider A · refills")
        assert "Telegram group" in row.inner_text()
        assert "nothing sent yet" in row.inner_text()

        row.locator("button:has-text('Test')").click()
        page.wait_for_url(re.compile(r"/destinations/$"))
        [sent] = fake.messages_to(GROUP)
        assert "Test message from Fast SMM" in sent["text"]
        row = page.locator("tr", has_text="Provider A · refills")
        assert "Delivered" in row.inner_text()
        assert "just now" in row.inner_text()
        page.screenshot(path=str(tmp_path / "destinations.png"))
