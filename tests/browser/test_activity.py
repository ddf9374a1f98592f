"""Activity in headless Chromium: status tabs with counts, filters as removable chips, a search that
lists orders, a large export built in the background with its progress, at 1366 and 390 px."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from panelrelay.accounts.models import Membership, Workspace
from panelrelay.core.testing import PASSWORD, make_user
from panelrelay.forwarding import exports
from panelrelay.forwarding.models import Command, Export, ForwardRequest, RequestOrder
from panelrelay.panels.models import Panel, Provider
from panelrelay.worker.queue import claim, run_job

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = "/tmp/shots/activity"


def _seed() -> dict:
    owner = make_user("owner@fast-smm.example")
    ws = Workspace.objects.create(name="Fast SMM")
    Membership.objects.create(user=owner, workspace=ws, role=Membership.OWNER)
    panel = Panel(workspace=ws, name="Main", url="http://127.0.0.1:9/")
    panel.set_api_key("k" * 16)
    panel.save()
    fast = Provider.objects.create(workspace=ws, alias="FastLikes_A", domain_enc="x", domain_hmac="x")
    slow = Provider.objects.create(workspace=ws, alias="SlowViews_B", domain_enc="y", domain_hmac="y")
    refill = Command.for_workspace(ws)[0]
    plan = [  # per request: (state, provider) of its orders
        [("sent", fast)] * 3 + [("failed", slow)],
        [("sent", slow), ("skipped", fast), ("retrying", slow)],
        [("waiting", fast), ("sent", fast)],
    ]
    n = 45323
    for age, orders in enumerate(plan):
        fwd = ForwardRequest.objects.create(
            workspace=ws, panel=panel, panel_name="Main", command=refill, command_label="Refill", created_by=owner,
            total=len(orders), created=timezone.now() - timedelta(hours=age),
        )  # fmt: skip
        for state, provider in orders:
            RequestOrder.objects.create(
                request=fwd, workspace=ws, panel_order_id=str(n), command_slug="refill", state=state,
                outcome={"sent": "sent", "failed": "delivery_failed", "skipped": "cooldown", "retrying": "send_retrying",
                         "waiting": "needs_route"}[state],
                reason="" if state == "sent" else f"why {state}", provider=provider, provider_alias=provider.alias,
                external_id=str(9876543 + n - 45323) if state == "sent" else "",
            )  # fmt: skip
            n += 1
    return {"ws": ws, "fast": fast, "slow": slow}


def _sign_in(page) -> None:
    page.goto("/accounts/login/")
    page.fill("#id_email", "owner@fast-smm.example")
    page.fill("#id_password", PASSWORD)
    page.click("main button:has-text('Sign in')")
    page.wait_for_load_state()


def _tabs(page) -> dict[str, str]:
    found = {}
    for link in page.locator("#status-tabs a.nav-link").all():
        found[link.get_attribute("data-tab")] = link.locator(".badge").inner_text()
    return found


def _chips(page) -> list[str]:
    return [" ".join(t.replace("×", "").split()) for t in page.locator("#filter-chips .filter-chip").all_inner_texts()]


def test_tabs_chips_and_search(new_page) -> None:
    seeded = _seed()
    page = new_page()
    _sign_in(page)
    page.goto("/activity/")
    assert _tabs(page) == {
        "all": "9",
        "open": "1",
        "waiting": "1",
        "sent": "5",
        "retrying": "1",
        "failed": "1",
        "skipped": "1",
    }
    assert page.locator("select").count() == 0, "no wall of dropdowns"
    assert page.locator("#activity-filters").count() == 0
    page.screenshot(path=f"{SHOTS}/activity-1366.png", full_page=True)

    page.click("#status-tabs a[data-tab='failed']")
    page.wait_for_url(re.compile(r"state=failed"))
    assert page.locator("table tbody tr").count() == 1  # the one request with a failed order
    assert "1 failed" in page.inner_text("table")

    # A filter from the + Filter menu becomes a chip; the tab counts follow it.
    page.click("#add-filter")
    page.locator(".filter-menu a", has_text="SlowViews_B").click()
    page.wait_for_url(re.compile(r"provider="))
    assert _chips(page) == ["Provider: SlowViews_B"]
    assert "state=failed" in page.url, "adding a filter keeps the tab"
    assert _tabs(page)["all"] == "3" and _tabs(page)["failed"] == "1" and _tabs(page)["sent"] == "1"
    page.click("#add-filter")
    page.locator(".filter-menu a", has_text=re.compile(r"^Delivery failed$")).click()
    page.wait_for_url(re.compile(r"outcome=delivery_failed"))
    assert _chips(page) == ["Provider: SlowViews_B", "Outcome: Delivery failed"]
    page.screenshot(path=f"{SHOTS}/activity-chips-1366.png", full_page=True)

    # Each chip removes itself and only itself.
    page.click("#filter-chips .filter-chip[data-filter='provider'] .chip-remove")
    page.wait_for_load_state()
    assert "provider=" not in page.url and "outcome=delivery_failed" in page.url and "state=failed" in page.url
    assert _chips(page) == ["Outcome: Delivery failed"]
    page.click("#filter-chips .filter-chip[data-filter='outcome'] .chip-remove")
    page.wait_for_load_state()
    assert _chips(page) == []

    # The search lists the matching orders, with a link to each one's request.
    page.fill("input[name='q']", "9876544")
    page.click("button:has-text('Find')")
    page.wait_for_url(re.compile(r"q=9876544"))
    assert (
        page.locator("#found-orders tr[data-order]").evaluate_all("r => r.map(x => x.dataset.order)") == []
    )  # under the Failed tab
    page.click("#status-tabs a[data-tab='all']")
    page.wait_for_url(re.compile(r"q=9876544"))
    assert page.locator("#found-orders tr[data-order]").evaluate_all("r => r.map(x => x.dataset.order)") == ["45324"]
    assert "1 order matches" in page.inner_text("main")
    page.fill("input[name='q']", "45330")  # by panel order id: the order waiting for a route
    page.click("button:has-text('Find')")
    page.wait_for_url(re.compile(r"q=45330"))
    assert "Needs a route" in page.inner_text("#found-orders") and "why waiting" in page.inner_text("#found-orders")
    page.locator("#found-orders a", has_text="Open request").click()
    page.wait_for_url(re.compile(r"/requests/[0-9a-f-]+/$"))
    assert seeded["fast"].alias in page.inner_text("main")


def test_phone_width_has_no_sideways_scroll(new_page) -> None:
    _seed()
    page = new_page()
    page.set_viewport_size({"width": 390, "height": 844})
    _sign_in(page)
    for url in ["/activity/", "/activity/?state=sent&provider=", "/activity/?q=9876543"]:
        page.goto(url)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, (url, width)
    page.goto("/activity/")
    page.click("#add-filter")
    page.screenshot(path=f"{SHOTS}/activity-390.png", full_page=True)


def test_a_large_export_is_built_in_the_background_with_progress(new_page, monkeypatch, settings, tmp_path) -> None:
    settings.DATA_DIR = tmp_path
    monkeypatch.setattr(exports, "INLINE_MAX", 5)
    _seed()
    page = new_page()
    _sign_in(page)
    page.goto("/activity/")
    page.click("#export-csv")
    page.wait_for_url(re.compile(r"/activity/exports/[0-9a-f-]+/$"))
    assert "a worker is building the file" in page.inner_text("main")
    assert page.locator("#export-status [data-state='queued']").count() == 1
    page.screenshot(path=f"{SHOTS}/export-building-1366.png")

    [job] = claim("browser-worker")
    assert run_job(job, "browser-worker")
    page.locator("#export-download").wait_for(timeout=5_000)  # htmx polling swaps in the link
    assert "9 orders" in page.inner_text("#export-status")
    page.screenshot(path=f"{SHOTS}/export-ready-1366.png")
    with page.expect_download() as download:
        page.click("#export-download")
    with open(download.value.path(), encoding="utf-8") as f:
        body = f.read()
    assert body.startswith("requested,panel,command") and len(body.strip().splitlines()) == 10
    assert Export.objects.get().state == Export.READY
