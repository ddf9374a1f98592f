"""No page scrolls sideways on a 390-px phone — every page an owner can reach, in headless Chromium.

The pages are found, not listed: every URL pattern of the root urlconf (filled with the codes of a
seeded workspace, as core/tests/test_bad_input.py fills them), then every link on the pages seen
(menus, tabs, filters, pagination), breadth first. A page is anything that answers a GET with a
whole HTML document; downloads, fragments and redirects elsewhere are not pages. Each one is loaded
at 390 × 844 after its htmx fragments have loaded, and the document may be no wider than the
window: wide tables scroll inside their own box (.table-responsive), never the page.

The owner is also the platform operator, so the master area and the vault are walked too.
"""

from __future__ import annotations

import os
import re
from collections import deque
from pathlib import Path
from urllib.parse import urldefrag, urlsplit

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from panelrelay.accounts.models import Membership, Workspace
from panelrelay.core.testing import PASSWORD, make_user
from panelrelay.core.tests.test_tenancy import populate, tenant_codes
from panelrelay.panels.models import Panel, Provider, ServiceSeen
from panelrelay.routing.models import ProviderRoute, RoutingDefaults, ServiceOverride
from panelrelay.transports.models import Connection, Destination, DiscoveredChat

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
# Not pages: the token API and the webhooks (no signed-in HTML), static files, signing out.
NOT_PAGES = ("/api/", "/hooks/", "/static/", "/accounts/logout/")
MAX_PAGES = 400
SHOTS = Path(os.environ.get("PHONE_SHOTS", "")) if os.environ.get("PHONE_SHOTS") else None
STR_VALUES = {"perm": "forward", "which": "manual", "kind": "telegram", "fmt": "csv"}


def seed(workspace: Workspace) -> None:
    """What an owner has after a few weeks: long names everywhere a table shows one."""
    populate(workspace)
    panel = Panel.objects.get(workspace=workspace, name="Main")
    bot = Connection.objects.get(workspace=workspace, kind="telegram")
    names = ["FastLikes_Premium_Worldwide", "Rush_B_Instagram_Followers", "Peak_C_TikTok_Views_HQ", "Storm_D"]
    groups = []
    for n, alias in enumerate(names):
        provider = Provider.objects.create(workspace=workspace, alias=alias, domain_enc="x", domain_hmac=f"w{n}")
        group = Destination.objects.create(
            workspace=workspace,
            name=f"{alias} · refills and cancels group",
            kind="tg_group",
            target=f"-10012345678{n}",
            connection=bot,
        )
        groups.append(group)
        ProviderRoute.objects.create(workspace=workspace, provider=provider, destination=group)
        ServiceSeen.objects.create(
            provider=provider, panel=panel, service_id=f"12{n}4", name="Instagram Likes [Real] [Refill 30D] ⚡"
        )
        DiscoveredChat.objects.create(
            workspace=workspace, connection=bot, kind="tg_group", chat_id=f"-10098765432{n}", title=f"{alias} team"
        )
    ServiceOverride.objects.create(
        workspace=workspace,
        service_id="99999999",
        service_name="YouTube Views [Non Drop] [Lifetime]",
        destination=groups[0],
    )
    RoutingDefaults.objects.update_or_create(
        workspace=workspace, defaults={"manual_destination": groups[1], "fallback_destination": groups[2]}
    )


def url_patterns(resolver: URLResolver | None = None, prefix: str = "") -> list[str]:
    resolver = resolver or get_resolver()
    found = []
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            found += url_patterns(entry, route)
        elif isinstance(entry, URLPattern):
            found.append(route)
    return found


def candidates(route: str, codes: list[str]) -> list[str]:
    """The paths this route may serve: one per code of the workspace when it takes a code."""
    path = "/" + re.sub(r"<str:(\w+)>", lambda m: STR_VALUES.get(m.group(1), "x"), route)
    if re.search(r"<(?!uuid:code>)[^>]+>", path) or "^" in path or "(?" in path:
        return []  # a token or a regex: nothing of the seed to fill it with
    return [path.replace("<uuid:code>", code) for code in codes] if "<uuid:code>" in path else [path]


def is_page(client: Client, path: str) -> bool:
    """A whole HTML document answered to a GET (not a fragment, a download or a redirect)."""
    response = client.get(path)
    kind = response.get("Content-Type", "")
    return response.status_code == 200 and kind.startswith("text/html") and b"<!DOCTYPE html>" in response.content[:200]


def local(href: str | None, base: str) -> str | None:
    if not href or href.startswith(("#", "mailto:", "tel:", "javascript:")):
        return None
    href = urldefrag(href)[0]
    parts = urlsplit(href)
    if parts.netloc and parts.scheme + "://" + parts.netloc != base:
        return None
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return None if not path.startswith("/") or path.startswith(NOT_PAGES) else path


def test_no_page_scrolls_sideways_at_390px(browser, live_server, tmp_path) -> None:
    owner = make_user("owner@phone-smm.example", is_superuser=True, is_staff=True)
    workspace = Workspace.objects.create(name="Phone SMM with a long workspace name")
    Membership.objects.create(user=owner, workspace=workspace, role=Membership.OWNER)
    seed(workspace)
    probe = Client()
    probe.force_login(owner)

    codes = tenant_codes(workspace)
    # Deleting and one-time routes answer only POST; a GET on them is never a page, so they are safe.
    queue: deque[str] = deque()
    for route in sorted(url_patterns()):
        for path in candidates(route, codes):
            if path.startswith(NOT_PAGES):
                break
            response = probe.get(path)
            if response.status_code == 405:
                break  # a POST-only route (toggles, deletes): it answers no GET, whatever the code
            if is_page(probe, path):
                queue.append(path)
                break  # one object per route: its template is the same for every code

    context = browser.new_context(base_url=live_server.url, viewport=PHONE)
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto("/accounts/login/")
    page.fill("#id_email", owner.email)
    page.fill("#id_password", PASSWORD)
    page.click("main button:has-text('Sign in')")
    page.wait_for_load_state()
    queue.appendleft("/")

    seen: set[str] = set()
    wide: list[str] = []
    while queue and len(seen) < MAX_PAGES:
        path = queue.popleft()
        if path in seen:
            continue
        seen.add(path)
        if path != "/" and not is_page(probe, path):
            continue
        page.goto(path)
        page.wait_for_load_state("networkidle")  # hx-trigger="load" fragments are part of the page
        width, window = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        if width > window:
            wide.append(f"{path}: {width} px in a {window}-px window")
            name = f"wide-{len(wide)}.png"
            page.screenshot(path=str((SHOTS or tmp_path) / name), full_page=True)
        if SHOTS:
            SHOTS.mkdir(parents=True, exist_ok=True)
            slug = re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-")[:80] or "home"
            page.screenshot(path=str(SHOTS / f"{slug}.png"))
        for href in page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))"):
            found = local(href, live_server.url)
            if found and found not in seen:
                queue.append(found)
    context.close()
    (tmp_path / "pages.txt").write_text("\n".join(sorted(seen)))
    if SHOTS:
        (SHOTS / "pages.txt").write_text("\n".join(sorted(seen)))

    assert len(seen) > 30, f"only {len(seen)} pages found: the walk is broken"
    assert not wide, "pages wider than a 390-px phone:\n" + "\n".join(wide)
