"""A member sees only the menu sections they may open, and each one opens — in headless Chromium."""

from __future__ import annotations

import re

import pytest

from panelrelay.accounts.models import Membership, Workspace
from panelrelay.core.testing import PASSWORD, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EVERY_SECTION = [
    "Forward",
    "Activity",
    "Customers",
    "Panels",
    "Providers",
    "Destinations",
    "Routing",
    "Team",
    "Settings",
]


def _sign_in(page, email: str) -> None:
    page.goto("/accounts/login/")
    page.fill("#id_email", email)
    page.fill("#id_password", PASSWORD)
    page.click("main button:has-text('Sign in')")
    page.wait_for_load_state()


def _menu(page) -> list[str]:
    return [t.strip() for t in page.locator("#nav ul.navbar-nav.me-auto a.nav-link").all_inner_texts()]


def _opens_every_link(page, links: list[str]) -> None:
    hrefs = {
        name: page.locator("#nav ul.navbar-nav.me-auto a.nav-link", has_text=re.compile(f"^{name}$")).get_attribute(
            "href"
        )
        for name in links
    }
    for name, href in hrefs.items():
        response = page.goto(href)
        assert response.status == 200, (name, href, response.status)
        assert "does not allow this" not in page.inner_text("main"), name
        for sub in page.locator(".settings-nav a.nav-link").all():  # the Settings page's own tabs too
            sub_href = sub.get_attribute("href")
            assert page.request.get(sub_href).status == 200, (name, sub_href)


@pytest.mark.parametrize(
    "toggles, expected",
    [
        (dict(can_forward=True), ["Forward", "Activity", "Team", "Settings"]),
        (dict(can_forward=False, can_panels=True), ["Activity", "Panels", "Providers", "Team", "Settings"]),
        (
            dict(can_forward=True, can_routing=True),
            ["Forward", "Activity", "Destinations", "Routing", "Team", "Settings"],
        ),
    ],
)
def test_staff_sees_only_what_they_may_open(new_page, tmp_path, toggles, expected) -> None:
    ws = Workspace.objects.create(name="Fast SMM")
    Membership.objects.create(user=make_user("owner@fast-smm.example"), workspace=ws, role=Membership.OWNER)
    Membership.objects.create(user=make_user("agent@fast-smm.example"), workspace=ws, role=Membership.STAFF, **toggles)

    page = new_page()
    _sign_in(page, "agent@fast-smm.example")
    assert _menu(page) == expected
    _opens_every_link(page, expected)
    page.locator(".navbar-brand").click()  # the logo goes home, which every member may open
    page.wait_for_load_state()
    assert "does not allow this" not in page.inner_text("main")
    page.screenshot(path=f"/tmp/shots/activity/menu-{'-'.join(expected).lower()}.png")


def test_owner_sees_every_section(new_page) -> None:
    ws = Workspace.objects.create(name="Fast SMM")
    Membership.objects.create(user=make_user("owner@fast-smm.example"), workspace=ws, role=Membership.OWNER)
    page = new_page()
    _sign_in(page, "owner@fast-smm.example")
    assert _menu(page) == EVERY_SECTION


def test_phone_menu_shows_only_what_staff_may_open(new_page) -> None:
    ws = Workspace.objects.create(name="Fast SMM")
    Membership.objects.create(user=make_user("owner@fast-smm.example"), workspace=ws, role=Membership.OWNER)
    Membership.objects.create(user=make_user("agent@fast-smm.example"), workspace=ws, role=Membership.STAFF)
    page = new_page()
    page.set_viewport_size({"width": 390, "height": 844})
    _sign_in(page, "agent@fast-smm.example")
    page.click("button.navbar-toggler")
    page.wait_for_selector("#nav.show")
    assert _menu(page) == ["Forward", "Activity", "Team", "Settings"]
    page.screenshot(path="/tmp/shots/activity/menu-staff-390.png")
