"""Paste ids on the Forward page, press Refill, watch the rows turn Sent, find them on Activity."""

from __future__ import annotations

import re
import threading

import pytest
from django.db import connections

from fakes.panel import FakePanel
from fakes.telegram import FakeTelegram
from panelrelay.accounts.models import Membership, Workspace
from panelrelay.core.testing import PASSWORD, make_user
from panelrelay.demo import scenario
from panelrelay.worker.runner import Worker

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker():
    """A worker in a background thread, as `make run` has beside the web server."""
    w = Worker(worker_id="browser-test", idle_sleep=0.05)

    def run() -> None:
        try:
            w.run()
        finally:
            connections.close_all()  # else PostgreSQL cannot drop the test database afterwards

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    yield w
    w.stopping.set()
    thread.join(timeout=10)


def test_pasted_ids_turn_sent_and_show_on_activity(new_page, worker, tmp_path) -> None:
    owner = make_user("owner@fast-smm.example")
    ws = Workspace.objects.create(name="Fast SMM")
    Membership.objects.create(user=owner, workspace=ws, role=Membership.OWNER)
    with FakePanel(rps=0) as panel_fake, FakeTelegram() as tg_fake:
        tg_fake.add_bot("123456:DEMO", id=123456, username="relay_bot")
        tg_fake.add_chat(-1001, type="supergroup", title="FastLikes")
        for n in range(45323, 45333):
            panel_fake.add_order(id=n, provider="fastlikes.example", external_id=str(9876543 + n - 45323))
        scenario.panel(ws, panel_fake.url)
        dest = scenario.destination(scenario.telegram(ws, tg_fake.url), "FastLikes grp", "tg_group", "-1001")
        scenario.route(scenario.provider(ws, "fastlikes.example", "FastLikes_A"), dest)

        page = new_page()
        page.goto("/accounts/login/")
        page.fill("#id_email", "owner@fast-smm.example")
        page.fill("#id_password", PASSWORD)
        page.click("main button:has-text('Sign in')")
        page.wait_for_url(re.compile(r"/$"))  # Home; Forward is one click away
        page.click("#home-forward")
        page.wait_for_url(re.compile(r"/forward/$"))
        page.fill("#id_ids", "45323, 45324\n45325 45326;45327 45328 45329 45330 45331 45332 45323")
        page.click("button[value='refill']")
        page.wait_for_url(re.compile(r"/requests/[0-9a-f-]+/$"))
        page.locator("#progress-text", has_text="done").wait_for(timeout=20_000)
        states = page.locator("#order-rows tbody tr").evaluate_all("rows => rows.map(r => r.dataset.state)")
        assert states == ["sent"] * 10
        assert "FastLikes_A" in page.inner_text("#order-rows")
        assert "TG · FastLikes grp" in page.inner_text("#order-rows")
        page.screenshot(path=str(tmp_path / "request.png"))
        [message] = tg_fake.messages_to(-1001)
        assert message["text"] == "REFILL\n" + "\n".join(str(9876543 + i) for i in range(10))

        page.click("nav >> text=Activity")
        page.fill("input[name='q']", "9876545")
        page.click("button:has-text('Find')")
        page.wait_for_url(re.compile(r"q=9876545"))
        assert "1 order matches" in page.inner_text("main")
        assert page.locator("#found-orders tr[data-order]").evaluate_all("rows => rows.map(r => r.dataset.order)") == [
            "45325"
        ]  # the order itself, not its request
        assert "fastlikes.example" not in page.content()
