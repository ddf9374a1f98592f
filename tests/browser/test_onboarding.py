"""Sign up, invite a staff member, and take a permission away — in headless Chromium."""

from __future__ import annotations

import re

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_owner_invites_staff_and_a_toggle_is_enforced(new_page, live_server, tmp_path) -> None:
    owner = new_page()
    owner.goto("/accounts/signup/")
    owner.fill("#id_workspace", "Fast SMM")
    owner.fill("#id_email", "owner@fast-smm.example")
    owner.fill("#id_password", "a long owner phrase")
    owner.click("button:has-text('Create workspace')")
    owner.wait_for_url(re.compile(r"/$"))  # Home: the set-up checklist starts with the panel
    assert "0 of 6 done" in owner.inner_text("#setup-checklist")
    owner.screenshot(path=str(tmp_path / "home-new.png"))

    owner.click("nav >> text=Team")
    owner.click("button:has-text('Invite member')")
    owner.click("#invite-modal button:has-text('Create invite link')")
    link = owner.inner_text("#invite-link")
    assert "/invite/" in link

    staff = new_page()
    staff.goto(link)
    staff.fill("#id_email", "agent@fast-smm.example")
    staff.fill("#id_password", "a long agent phrase")
    staff.click("button:has-text('Create account and join')")
    staff.wait_for_url(re.compile(r"/forward/$"))
    assert "Forward" in staff.inner_text("h1")

    owner.reload()
    row = owner.locator("tr", has_text="agent@fast-smm.example")
    switch = row.locator("input[aria-label='Forward requests']")
    assert switch.is_checked()
    with owner.expect_response(re.compile(r"/toggle/forward/")) as resp:
        switch.click()
    assert resp.value.status == 200
    owner.reload()
    assert (
        not owner.locator("tr", has_text="agent@fast-smm.example")
        .locator("input[aria-label='Forward requests']")
        .is_checked()
    )

    response = staff.goto("/forward/")
    assert response.status == 403
    assert "does not allow" in staff.inner_text("main")
