"""The Routing page at 1366 × 768: rules in order, 3 and 4 on screen, an override changed in place."""

from __future__ import annotations

import pytest

from panelrelay.accounts.models import Membership, Workspace
from panelrelay.core.testing import PASSWORD, make_user
from panelrelay.panels.models import Provider
from panelrelay.routing.models import ServiceOverride
from panelrelay.transports.models import Connection, Destination

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_manual_and_fallback_are_on_screen_and_an_override_changes_in_place(new_page) -> None:
    owner = make_user("owner@routing-smm.example")
    workspace = Workspace.objects.create(name="Routing SMM")
    Membership.objects.create(user=owner, workspace=workspace, role=Membership.OWNER)
    bot = Connection.objects.create(workspace=workspace, kind="telegram", name="Bot")
    a, b = (
        Destination.objects.create(workspace=workspace, name=name, kind="tg_group", target=f"-100{n}", connection=bot)
        for n, name in enumerate(["Group A", "Group B"])
    )
    for n in range(40):  # a long provider list must not push rules 3 and 4 off the screen
        Provider.objects.create(workspace=workspace, alias=f"Provider_{n:02}", domain_enc="x", domain_hmac=f"h{n}")
    for n in range(12):
        ServiceOverride.objects.create(workspace=workspace, service_id=str(1000 + n), destination=a)

    page = new_page()  # 1366 × 768
    page.goto("/accounts/login/")
    page.fill("#id_email", "owner@routing-smm.example")
    page.fill("#id_password", PASSWORD)
    page.click("main button:has-text('Sign in')")
    page.wait_for_load_state()
    page.goto("/routing/")
    page.wait_for_load_state("networkidle")
    for label in ("Manual services destination", "Fallback destination"):
        box = page.get_by_label(label).bounding_box()
        assert box is not None and box["y"] + box["height"] <= 768, (label, box)
    headings = page.locator("main h2").all_inner_texts()
    assert [h.split(" ·")[0] for h in headings[:2]] == ["1", "2"], headings

    page.get_by_label("Destination of service 1003").select_option(label="TG · Group B")
    page.locator("#override-" + str(ServiceOverride.objects.get(service_id="1003").code)).get_by_text(
        "Saved: service 1003 → TG · Group B"
    ).wait_for()
    assert ServiceOverride.objects.get(service_id="1003").destination == b
    assert ServiceOverride.objects.get(service_id="1004").destination == a
