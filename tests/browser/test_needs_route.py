"""No dead ends: a forward with no route waits, the owner sets the route and sends it; and the
Forward page counts pasted ids and refused tokens live, and shows a spinner while it submits."""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path

import pytest
from django.db import connections

from fakes.panel import FakePanel
from fakes.telegram import FakeTelegram
from panelrelay.accounts.models import Membership, Workspace
from panelrelay.core.testing import PASSWORD, make_user
from panelrelay.demo import scenario
from panelrelay.panels.models import Panel
from panelrelay.worker.runner import Worker

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path(os.environ.get("SHOTS_DIR", "/tmp/shots/waiting"))


@pytest.fixture
def worker():
    w = Worker(worker_id="browser-test", idle_sleep=0.05)

    def run() -> None:
        try:
            w.run()
        finally:
            connections.close_all()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    yield w
    w.stopping.set()
    thread.join(timeout=10)


def sign_in(new_page, email: str, width: int = 1366):
    page = new_page()
    page.set_viewport_size({"width": width, "height": 900})
    page.goto("/accounts/login/")
    page.fill("#id_email", email)
    page.fill("#id_password", PASSWORD)
    page.click("main button:has-text('Sign in')")
    page.wait_for_url(re.compile(r"/$"))
    return page


def shoot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width in (1366, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1366, "height": 900})


def test_a_forward_with_no_route_waits_then_goes_out_after_send_now(new_page, worker) -> None:
    owner = make_user("owner@fast-smm.example")
    ws = Workspace.objects.create(name="Fast SMM")
    Membership.objects.create(user=owner, workspace=ws, role=Membership.OWNER)
    with FakePanel(rps=0) as panel_fake, FakeTelegram() as tg_fake:
        tg_fake.add_bot("123456:DEMO", id=123456, username="relay_bot")
        tg_fake.add_chat(-1001, type="supergroup", title="Slow group")
        for n in range(45323, 45335):
            panel_fake.add_order(id=n, provider="slowviews.example", external_id=str(9876543 + n - 45323))
        scenario.panel(ws, panel_fake.url)
        scenario.destination(scenario.telegram(ws, tg_fake.url), "Slow grp", "tg_group", "-1001")
        slow = scenario.provider(ws, "slowviews.example", "Slow_B")  # known, but no route and no fallback

        page = sign_in(new_page, "owner@fast-smm.example")
        page.goto("/forward/")
        page.fill("#id_ids", " ".join(str(n) for n in range(45323, 45335)))
        page.click("button[value='refill']")
        page.wait_for_url(re.compile(r"/requests/[0-9a-f-]+/$"))
        page.locator("#needs-route").wait_for(timeout=20_000)
        assert "12 orders need a route" in page.inner_text("#needs-route")
        states = page.locator("#order-rows tbody tr").evaluate_all("rows => rows.map(r => r.dataset.state)")
        assert states == ["waiting"] * 12
        assert "Needs a route" in page.inner_text("#order-rows")
        assert "Skipped" not in page.inner_text("#order-rows")
        assert "12 waiting for a route" in page.inner_text("#progress-text")
        request_url = page.url
        shoot(page, "request-waiting")
        assert tg_fake.messages_to(-1001) == []

        page.click("#needs-route >> text=set a route on Routing")
        page.wait_for_url(re.compile(rf"/routing/#route-{slow.code}$"))
        page.locator("#waiting-groups").wait_for()
        assert "12 orders of Slow_B need a route" in page.inner_text("#waiting-groups")
        page.select_option(f"#route-{slow.code} select[name=destination] >> nth=0", label="TG · Slow grp")
        page.locator("#waiting-groups", has_text="12 orders are waiting for Slow_B → TG · Slow grp").wait_for()
        assert tg_fake.messages_to(-1001) == []  # setting the route sends nothing by itself
        shoot(page, "routing-waiting")

        page.click("#waiting-groups button:has-text('Send now')")
        page.locator("#waiting-routes", has_text="12 order(s) of Slow_B sent to their route").wait_for()
        page.goto(request_url)
        page.locator("#progress-text", has_text="done").wait_for(timeout=20_000)
        states = page.locator("#order-rows tbody tr").evaluate_all("rows => rows.map(r => r.dataset.state)")
        assert states == ["sent"] * 12
        [message] = tg_fake.messages_to(-1001)
        assert message["text"] == "REFILL\n" + "\n".join(str(9876543 + i) for i in range(12))
        shoot(page, "request-sent-after-wait")
        assert "slowviews.example" not in page.content()


def test_the_forward_page_counts_ids_and_shows_a_spinner_while_it_submits(new_page, worker) -> None:
    owner = make_user("owner@fast-smm.example")
    ws = Workspace.objects.create(name="Fast SMM")
    Membership.objects.create(user=owner, workspace=ws, role=Membership.OWNER)
    with FakePanel(rps=0) as panel_fake:
        panel_fake.add_order(id=45323, provider="fastlikes.example", external_id="1")
        down = scenario.panel(ws, "http://127.0.0.1:9", name="Down")
        Panel.objects.filter(pk=down.pk).update(check_ok=False, check_message="Panel “Down”: cannot reach the panel")
        main = scenario.panel(ws, panel_fake.url, name="Main")
        Panel.objects.filter(pk=main.pk).update(check_ok=True, check_message="ok")

        page = sign_in(new_page, "owner@fast-smm.example")
        page.goto("/forward/")
        # "Down" sorts first but failed its test: the working panel is picked, no warning shown.
        assert page.locator("#id_panel").evaluate("s => s.options[s.selectedIndex].text") == "Main"
        assert page.locator("#panel-warning").is_hidden()
        placeholder = page.get_attribute("#id_ids", "placeholder") or ""
        assert not re.search(r"\d", placeholder)  # nothing that looks like a real id
        page.select_option("#id_panel", label="Down (check failed)")
        assert "The last check of “Down” failed: Cannot reach the panel" in page.inner_text("#panel-warning")
        page.select_option("#id_panel", label="Main")
        assert page.locator("#panel-warning").is_hidden()

        page.fill("#id_ids", "45323, 45324\n45325 45323 abc 0045 -5")
        count = page.inner_text("#ids-count")
        assert "3 order ids · 1 duplicate removed" in count
        assert "3 tokens refused: abc, 0045, -5" in count
        page.select_option("#id_panel", label="Down (check failed)")
        shoot(page, "forward-refused-and-warning")
        page.select_option("#id_panel", label="Main")
        page.fill("#id_ids", "")
        assert page.inner_text("#ids-count") == ""
        page.fill("#id_ids", "45323")
        assert page.inner_text("#ids-count") == "1 order id"
        shoot(page, "forward-count")

        # The moment after pressing a command, before the server answers (a large forward takes
        # seconds): the submit is held in the page, so the busy state is looked at, not raced.
        page.evaluate(
            "() => document.getElementById('forward-form').addEventListener('submit', e => e.preventDefault())"
        )
        page.click("button[value='cancel']")
        assert page.locator("#forward-form button[value='refill']").is_disabled()
        assert page.locator("#forward-form button[value='cancel']").is_disabled()
        assert page.locator("#forward-form button[value='cancel'] .spinner-border").count() == 1
        assert page.get_attribute("#forward-form input[name=command]", "value") == "cancel"
        page.screenshot(path=str(SHOTS / "forward-submitting-1366.png"))
        page.click("button[value='refill']", force=True)  # a second press while busy: nothing more
        assert page.locator("#forward-form .spinner-border").count() == 1

        page.reload()
        page.fill("#id_ids", "45323")
        page.click("button[value='cancel']")
        page.wait_for_url(re.compile(r"/requests/[0-9a-f-]+/$"))
        assert page.inner_text("h1").startswith("Cancel · 1 order")  # the pressed command went with the form

        page.goto("/forward/")  # next time: the member's last-used panel
        assert page.locator("#id_panel").evaluate("s => s.options[s.selectedIndex].text") == "Main"


def test_a_new_owner_gets_the_add_panel_form_from_forward(new_page) -> None:
    owner = make_user("new@fast-smm.example")
    ws = Workspace.objects.create(name="New SMM")
    Membership.objects.create(user=owner, workspace=ws, role=Membership.OWNER)
    page = sign_in(new_page, "new@fast-smm.example")
    page.goto("/forward/")
    page.click("#forward-empty >> text=Add a panel")
    page.wait_for_url(re.compile(r"/panels/add/$"))
    assert page.locator("form input[name=url]").count() == 1
