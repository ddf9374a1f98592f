"""The team bot's /status: where each order's latest request stands, one line per id."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from panelrelay.accounts.models import Membership, Workspace
from panelrelay.forwarding.models import ForwardRequest, Progress, RequestOrder
from panelrelay.intake.bot import HELP, STATUS_MAX, status
from panelrelay.intake.tests.helpers import order, run_until
from panelrelay.intake.tests.test_team_bot import STAFF_TG, TOKEN, _link, _private, team  # noqa: F401
from panelrelay.transports.integrations.telegram.updates import poll

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("no_pacing")]


def linked(client, fake_telegram, wired) -> None:
    _link(client, fake_telegram, wired)
    run_until(lambda: len(_private(fake_telegram, STAFF_TG)) == 1)  # "✓ Linked …"


def ask(wired, fake_telegram, text: str) -> str:
    before = len(_private(fake_telegram, STAFF_TG))
    fake_telegram.user_sends(STAFF_TG, text, token=TOKEN)
    poll(wired.telegram)
    run_until(lambda: len(_private(fake_telegram, STAFF_TG)) > before)
    return _private(fake_telegram, STAFF_TG)[-1]


def test_status_answers_each_id_with_what_is_known(team, fake_panel, fake_telegram) -> None:  # noqa: F811
    wired, member, client = team
    order(fake_panel, 70001, "dave")
    order(fake_panel, 70002, "dave")
    linked(client, fake_telegram, wired)
    assert ask(wired, fake_telegram, "/refill 70001 70002 70009").startswith("Refill × 3")
    now = timezone.now()
    RequestOrder.objects.filter(state="sent").update(sent_at=now - timedelta(hours=3))
    RequestOrder.objects.filter(panel_order_id="70001").update(
        progress=Progress.CONFIRMED, answer_kind="done", answer_text="FastLikes_A: done ✅",
        answered_at=now - timedelta(hours=2), confirmed_at=now - timedelta(hours=1),
    )  # fmt: skip
    RequestOrder.objects.filter(panel_order_id="70002").update(
        progress=Progress.FOLLOW_UP, follow_up_at=now - timedelta(minutes=30)
    )

    answer = ask(wired, fake_telegram, "/status 70001 70002, 70009 45323")
    assert answer.splitlines() == [
        "70001: refill (Main) sent to FastLikes_A 3 hours ago · answered done “FastLikes_A: done ✅” 2 hours ago"
        " · confirmed by the panel 1 hour ago",
        "70002: refill (Main) sent to FastLikes_A 3 hours ago · follow-up sent 30 minutes ago",
        "70009: refill (Main) skipped: not found in the panel just now",
        "no request for 45323",
    ]


def test_status_addressed_to_the_bot_and_its_mistakes(team, fake_panel, fake_telegram) -> None:  # noqa: F811
    wired, member, client = team
    linked(client, fake_telegram, wired)
    assert ask(wired, fake_telegram, "/status@panelrelay_demo_bot 45323") == "no request for 45323"
    assert ask(wired, fake_telegram, "/status") == "Send /status and panel order ids, e.g. /status 123 456."
    assert ask(wired, fake_telegram, "/status 0045").startswith("Not an order id: 0045.")
    assert "/status 123 456" in HELP
    assert not ForwardRequest.objects.exists()  # asking never forwards


def test_status_reads_only_this_workspace_and_the_latest_request(team) -> None:  # noqa: F811
    wired, member, client = team
    other = Workspace.objects.create(name="Other")
    for workspace, label in ((other, "Cancel"), (wired.workspace, "Refill"), (wired.workspace, "Speed up")):
        request = ForwardRequest.objects.create(workspace=workspace, panel_name="Main", command_label=label,
                                                created_by=member.user)  # fmt: skip
        RequestOrder.objects.create(
            request=request, workspace=workspace, panel_order_id="500", command_slug=label.lower(),
            state=RequestOrder.SKIPPED, reason="no route to a destination",
        )  # fmt: skip
    outsider = Membership(workspace=other, user=member.user, role=Membership.OWNER)
    assert status(outsider, ["500"]) == "500: cancel (Main) skipped: no route to a destination just now"
    assert status(member, ["500"]) == "500: speed up (Main) skipped: no route to a destination just now"
    many = [str(1000 + n) for n in range(STATUS_MAX + 5)]
    assert status(member, many).splitlines()[-1] == "… and 5 more: ask for at most 30 at a time"


def test_without_see_all_activity_a_member_sees_only_their_own_requests(team) -> None:  # noqa: F811
    wired, member, client = team
    owner_request = ForwardRequest.objects.create(workspace=wired.workspace, panel_name="Main", command_label="Refill")
    RequestOrder.objects.create(request=owner_request, workspace=wired.workspace, panel_order_id="600",
                                command_slug="refill", state=RequestOrder.SKIPPED, reason="not found in the panel")  # fmt: skip
    assert not member.has("activity")
    assert status(member, ["600"]) == "no request for 600"
    member.can_activity = True
    assert status(member, ["600"]) == "600: refill (Main) skipped: not found in the panel just now"
