"""Add a panel pointing at the fake → Test connection → Sync providers → rename an alias → Find order."""

from __future__ import annotations

import re

import pytest

from fakes.panel import FakePanel
from panelrelay.accounts.models import Membership, Workspace
from panelrelay.core.testing import PASSWORD, make_user
from panelrelay.panels.models import Provider
from panelrelay.panels.providers import domain_digest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CANARIES = ("canary-prov-7f3a.example", "canary-prov-b41c.example")
KEY = "browser-test-key-4c1d9e"


def no_canary(page) -> None:
    html = page.content().lower()
    for domain in CANARIES:
        assert domain not in html, f"{domain} on {page.url}"


def test_owner_connects_a_panel_and_names_a_provider(new_page, tmp_path) -> None:
    def shot(page, name: str) -> None:
        page.screenshot(path=str(tmp_path / f"{name}.png"))

    owner = make_user("owner@fast-smm.example")
    Membership.objects.create(user=owner, workspace=Workspace.objects.create(name="Fast SMM"), role=Membership.OWNER)
    with FakePanel(api_key=KEY, rps=5) as fake:
        fake.seed_orders(40, providers=CANARIES, manual_every=9, start_id=45300)
        fake.add_order(45400, provider=CANARIES[0], external_id="9876543", service_id=1204, service_name="IG Likes HQ")
        page = new_page()
        page.goto("/accounts/login/")
        page.fill("#id_email", "owner@fast-smm.example")
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit], button:has-text('Sign in')")
        page.wait_for_url(re.compile(r"/$"))  # an owner lands on Home (set-up checklist and dashboard)

        page.click("nav >> text=Panels")
        assert "No panels yet" in page.inner_text("main")
        page.click("main >> button:has-text('Add panel') >> nth=0")
        page.fill("#id_name", "Main")
        page.fill("#id_url", fake.url)
        page.select_option("#id_kind", "pp_v2")
        page.fill("#id_api_key", KEY)
        shot(page, "01-add-panel-modal")
        page.click("#panel-modal button:has-text('Add panel')")
        added = page.wait_for_selector("text=Panel “Main” added").inner_text()
        assert "Connected and synced" in added and "Scanned 41 recent order(s): 2 provider(s) (2 new)" in added
        assert "••••" + KEY[-4:] in page.inner_text("main")

        page.click("button:has-text('Test connection')")
        report = page.wait_for_selector("#test-report")
        assert "Reachable: yes" in report.inner_text() and "API key: accepted" in report.inner_text()
        assert "Tickets: works" in report.inner_text()
        page.wait_for_selector("td[id$='-status'] >> text=Working")
        shot(page, "02-test-connection")

        page.click("button:has-text('Sync providers')")
        sync = page.wait_for_selector("#sync-report")
        assert "Scanned 41 recent order(s): 2 provider(s), 4 manual" in sync.inner_text()  # both found on save already
        shot(page, "03-sync")
        no_canary(page)

        page.click("nav >> text=Providers")
        main = page.inner_text("main")
        assert "Provider 1" in main and "Provider 2" in main
        no_canary(page)
        target = Provider.objects.get(domain_hmac=domain_digest(CANARIES[0]))
        row = page.locator(f"#provider-{target.code}")
        row.locator("button[title=Rename]").click()
        row.locator("input[name=alias]").fill("FastLikes_A")
        shot(page, "04-rename")
        row.locator("button:has-text('Save')").click()
        page.wait_for_selector(f"#alias-{target.code} >> text=FastLikes_A")

        page.fill("input[name=order]", "45400")
        page.click("button:has-text('Find')")
        found = page.wait_for_selector(".find-result table")
        text = found.inner_text()
        assert "FastLikes_A" in text and "9876543" in text and "Completed" in text and "Auto" in text
        shot(page, "05-find-order")
        no_canary(page)

        fake.add_order(45500, provider="canary-third-77aa.example")
        with page.expect_navigation():  # Sync providers on this page reloads it with the result
            page.click("main button:has-text('Sync providers')")
        page.wait_for_selector("text=Main: Scanned")
        main = page.inner_text("main")
        assert "FastLikes_A" in main and "Provider 3" in main and "canary-third" not in page.content()
        no_canary(page)
        shot(page, "06-providers")
