"""A provider's page loads its scorecard (table and answer-time chart) by htmx, in a real browser."""

from __future__ import annotations

import os
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from panelrelay.accounts.models import Membership, Workspace
from panelrelay.core.testing import PASSWORD, make_user
from panelrelay.forwarding.models import AnswerKind, ForwardRequest, Progress, RequestOrder
from panelrelay.panels.models import Provider

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_provider_page_shows_the_scorecard_and_its_chart(new_page, tmp_path) -> None:
    owner = make_user("owner@fast-smm.example")
    workspace = Workspace.objects.create(name="Fast SMM")
    Membership.objects.create(user=owner, workspace=workspace, role=Membership.OWNER)
    provider = Provider.objects.create(workspace=workspace, alias="FastLikes_A", domain_enc="x", domain_hmac="a")
    request = ForwardRequest.objects.create(workspace=workspace, panel_name="Main", command_label="Refill")
    now = timezone.now()
    for day in range(28):  # answers slower on some days than others, one day in five unanswered
        sent_at = now - timedelta(days=day, hours=1)
        for n in range(3):
            wait = timedelta(minutes=5 + (day * 7) % 40 + n * 3) if day % 5 else None
            RequestOrder.objects.create(
                request=request, workspace=workspace, panel_order_id=str(45000 + day * 3 + n), command_slug="refill",
                state=RequestOrder.SENT, provider=provider, provider_alias=provider.alias, sent_at=sent_at,
                progress=Progress.ANSWERED if wait else Progress.NONE, answer_kind=AnswerKind.DONE if wait else "",
                answered_at=sent_at + wait if wait else None,
            )  # fmt: skip
    page = new_page()
    page.goto("/accounts/login/")
    page.fill("#id_email", "owner@fast-smm.example")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit], button:has-text('Sign in')")
    page.wait_for_url(re.compile(r"/$"))  # an owner lands on Home
    page.goto("/providers/")
    assert "71 % · 22 min" in page.inner_text(f"#provider-{provider.code} .score-cell")  # the last 7 days
    shots = os.environ.get("SCORECARD_SHOT", str(tmp_path / "scorecard.png"))
    page.screenshot(path=shots.replace(".png", "-providers.png"))
    page.click(f"#provider-{provider.code} .score-cell a")
    page.wait_for_selector("#scorecard-table")
    assert page.locator("#scorecard-chart rect").count() == 22  # 28 days, but not days 0, 5, 10, 15, 20, 25
    assert "Requests" in page.inner_text("#scorecard-table")
    page.screenshot(path=shots, full_page=True)
