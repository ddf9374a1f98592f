"""A new owner walks the set-up checklist on Home, against the loopback fakes: the ticks fill in as
the steps are done, each links where it is done, and it gives way to the dashboard once complete.

Screenshots (1366 and 390 px) of a new account, a half-set-up one and a complete one with data go
to $HOME_SHOTS (a folder) when set, else to the test's tmp_path.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from fakes.panel import FakePanel
from fakes.telegram import FakeTelegram
from panelrelay.accounts.models import Workspace
from panelrelay.demo import scenario

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

KEY = "test-key-0123456789"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 768}


def shoot(page, folder: Path, name: str) -> None:
    for label, size in (("1366", DESKTOP), ("390", PHONE)):
        page.set_viewport_size(size)
        page.screenshot(path=str(folder / f"{name}-{label}.png"), full_page=True)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= size["width"], f"{name} at {label} px is {width} px wide"
    page.set_viewport_size(DESKTOP)


def ws_panel_code(page) -> str:
    return page.eval_on_selector("tr[id^=panel-]", "el => el.id").removeprefix("panel-")


def ticks(page) -> list[str]:
    return page.eval_on_selector_all("#setup-checklist li[data-done=yes]", "els => els.map(e => e.dataset.step)")


def test_a_new_owner_walks_the_checklist_to_the_dashboard(new_page, tmp_path) -> None:
    folder = Path(os.environ.get("HOME_SHOTS", str(tmp_path)))
    folder.mkdir(parents=True, exist_ok=True)
    with FakePanel(api_key=KEY, rps=0) as panel_fake, FakeTelegram() as tg_fake:
        tg_fake.add_bot("123456:DEMO", id=123456, username="relay_bot")
        tg_fake.add_chat(-1001, type="supergroup", title="FastLikes")
        for n in range(45323, 45333):
            panel_fake.add_order(id=n, provider="fastlikes.example", external_id=str(9876543 + n - 45323))

        page = new_page()
        page.goto("/accounts/signup/")
        page.fill("#id_workspace", "Fast SMM")
        page.fill("#id_email", "owner@fast-smm.example")
        page.fill("#id_password", "a long owner phrase")
        page.click("button:has-text('Create workspace')")
        page.wait_for_url(re.compile(r"/$"))
        assert page.inner_text("#setup-count") == "0 of 6 done"
        assert ticks(page) == []
        assert "Nothing forwarded in the last 30 days" in page.inner_text("#dashboard")
        shoot(page, folder, "home-new")

        # Step 1 links to Panels; a wrong key is saved but says so, and the step stays open with the reason.
        page.click("#setup-checklist .setup-go")
        page.wait_for_url(re.compile(r"/panels/$"))
        page.click("main >> button:has-text('Add panel') >> nth=0")
        page.fill("#id_name", "Main")
        page.fill("#id_url", panel_fake.url)
        page.fill("#id_api_key", "wrong-key-0000000000")
        page.click("#panel-modal button:has-text('Add panel')")
        flash = page.wait_for_selector("#flash .alert-danger").inner_text()
        assert "API key not accepted" in flash
        assert "Failed" in page.inner_text(f"#panel-{ws_panel_code(page)}-status")
        page.screenshot(path=str(folder / "panels-wrong-key-1366.png"))
        page.goto("/")
        assert ticks(page) == []
        assert "failed its test: The API key was not accepted" in page.inner_text("#setup-checklist")

        # The right key: tested and synced on save, so two ticks at once.
        ws = Workspace.objects.get(name="Fast SMM")
        page.goto(f"/panels/{ws.panel_set.get().code}/edit/")
        page.fill("#id_api_key", KEY)
        page.click("main button:has-text('Save')")
        assert "Connected and synced" in page.wait_for_selector("#flash .alert-success").inner_text()
        page.goto("/")
        assert ticks(page) == ["panel", "providers"]
        assert page.inner_text("#setup-count") == "2 of 6 done"
        assert page.get_attribute("#setup-checklist .setup-go", "href") == "/settings/connections/"
        shoot(page, folder, "home-half")

        # Connection, destination and a fallback, set up as the pages would.
        dest = scenario.destination(scenario.telegram(ws, tg_fake.url), "FastLikes grp", "tg_group", "-1001")
        scenario.defaults(ws, fallback=dest)
        page.reload()
        assert ticks(page) == ["panel", "providers", "connection", "destinations", "routes"]

        # Forward is one click from Home; once an order went out, the checklist is gone.
        page.click("#home-forward")
        page.wait_for_url(re.compile(r"/forward/$"))
        page.fill("#id_ids", "45323 45324 45325 45326 45327 45328")
        page.click("button[value='refill']")
        page.wait_for_url(re.compile(r"/requests/[0-9a-f-]+/$"))
        scenario.drain()
        page.goto("/")
        assert page.locator("#setup-checklist").count() == 0
        assert page.inner_text("#stat-requests") == "1"
        assert page.inner_text("#stat-orders") == "6"
        assert "6 (100 %)" in page.inner_text("#stat-sent")
        assert "Sent" in page.inner_text("#chart-outcomes")
        assert page.locator("#chart-orders svg.chart-days rect").count() == 1  # one day, one command
        shoot(page, folder, "home-complete")


def test_a_month_of_data_reads_at_both_widths(new_page, tmp_path) -> None:
    """Three commands over 30 days, skips, failures and answers: the charts fit 390 px and say their numbers."""
    import random
    from datetime import timedelta

    from django.utils import timezone

    from panelrelay.accounts.models import Membership
    from panelrelay.core.testing import PASSWORD, make_user
    from panelrelay.forwarding.models import ForwardRequest, Outcome, RequestOrder

    folder = Path(os.environ.get("HOME_SHOTS", str(tmp_path)))
    folder.mkdir(parents=True, exist_ok=True)
    owner = make_user("owner@fast-smm.example")
    ws = Workspace.objects.create(name="Fast SMM")
    Membership.objects.create(user=owner, workspace=ws, role=Membership.OWNER)
    rnd, now, orders = random.Random(13), timezone.now(), []
    aliases = ["FastLikes_A", "ViewStorm_B", "Provider 3", "SlowSubs_D", "Provider 5", "Provider 6", "Provider 7"]
    for day in range(29):  # up to 10 h before a day's "now": all inside the 30-day window
        for label in ("Refill", "Cancel", "Speed-up"):
            for _ in range(rnd.randint(0, {"Refill": 4, "Cancel": 2, "Speed-up": 1}[label])):
                at = now - timedelta(days=day, minutes=rnd.randint(0, 600))
                req = ForwardRequest.objects.create(workspace=ws, panel_name="Main", command_label=label, created=at)
                for _ in range(rnd.randint(1, 12)):
                    alias, k = rnd.choice(aliases), rnd.random()
                    state, outcome = (RequestOrder.SENT, Outcome.SENT)
                    if k > 0.93:
                        state, outcome = RequestOrder.FAILED, Outcome.DELIVERY_FAILED
                    elif k > 0.85:
                        state, outcome = RequestOrder.SKIPPED, Outcome.COOLDOWN
                    elif k > 0.8:
                        state, outcome = RequestOrder.SKIPPED, Outcome.STATUS_NOT_ALLOWED
                    sent = at + timedelta(seconds=rnd.randint(2, 90)) if state == RequestOrder.SENT else None
                    answered = sent + timedelta(minutes=rnd.randint(3, 300)) if sent and rnd.random() < 0.6 else None
                    orders.append(RequestOrder(request=req, workspace=ws, panel_order_id="1", command_slug="x",
                                               state=state, outcome=outcome, provider_alias=alias, sent_at=sent,
                                               answered_at=answered))  # fmt: skip
    RequestOrder.objects.bulk_create(orders)
    page = new_page()
    page.goto("/accounts/login/")
    page.fill("#id_email", "owner@fast-smm.example")
    page.fill("#id_password", PASSWORD)
    page.click("main button:has-text('Sign in')")
    page.wait_for_url(re.compile(r"/$"))
    assert page.inner_text("#stat-orders") == f"{len(orders):,}"
    assert page.locator("#chart-requests svg.chart-days g").count() > 20  # a bar for most days
    assert "Skipped: Already requested (cooldown)" in page.inner_text("#chart-outcomes")
    assert "SlowSubs_D" in page.inner_text("#answers")
    shoot(page, folder, "home-data")
