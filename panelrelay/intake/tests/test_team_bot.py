"""The team bot, from linking on the profile page to the per-order summary in a private chat."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from panelrelay.accounts.models import Membership
from panelrelay.core.testing import make_user
from panelrelay.forwarding.models import ForwardRequest
from panelrelay.intake.models import TelegramLink
from panelrelay.intake.tests.helpers import EXT, order, run_until, wire
from panelrelay.transports.integrations.telegram.updates import poll
from panelrelay.worker.models import Job

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("no_pacing")]
STAFF_TG, STRANGER_TG = 5551, 5559
TOKEN = "123456:DEMO"  # scenario.telegram()'s bot


@pytest.fixture
def team(fake_panel, fake_telegram, client):
    wired = wire(fake_panel, fake_telegram)
    user = make_user("bob@example.org")
    member = Membership.objects.create(user=user, workspace=wired.workspace, role=Membership.STAFF, can_forward=True)
    client.force_login(user)
    return wired, member, client


def _link(client, fake_telegram, wired) -> str:
    client.post(reverse("intake:new_link"))
    page = client.get(reverse("intake:profile")).content.decode()
    url = re.search(r"https://t\.me/panelrelay_demo_bot\?start=([\w-]+)", page)
    assert url, "the profile shows a one-time start link"
    fake_telegram.user_starts_bot(STAFF_TG, url.group(1), token=TOKEN)
    poll(wired.telegram)
    return url.group(1)


def _private(fake_telegram, user_id: int) -> list[str]:
    return [m["text"] for m in fake_telegram.messages_to(user_id)]


def test_it_links_a_staff_member_and_answers_a_refill_with_the_per_order_result(
    team, fake_panel, fake_telegram
) -> None:
    wired, member, client = team
    order(fake_panel, 70001, "dave")
    _link(client, fake_telegram, wired)
    link = TelegramLink.objects.get(membership=member)
    assert link.telegram_user_id == str(STAFF_TG) and link.token_used
    assert "Linked" in client.get(reverse("intake:profile")).content.decode()

    fake_telegram.user_sends(STAFF_TG, "/refill 70001 70009", token=TOKEN)
    poll(wired.telegram)
    run_until(lambda: len(_private(fake_telegram, STAFF_TG)) >= 2)
    assert [m["text"] for m in fake_telegram.messages_to(-1001)] == [f"REFILL\n{EXT + 70001}"]
    linked, summary = _private(fake_telegram, STAFF_TG)
    assert linked.startswith("✓ Linked to Tickets as bob@example.org")
    assert summary.splitlines() == [
        "Refill × 2 (Main)",
        "70001: sent to TG · FastLikes grp",
        "70009: skipped: not found in the panel",
    ]
    request = ForwardRequest.objects.get()
    assert (request.source, request.created_by) == ("bot", member.user)


def test_a_used_link_does_not_link_again_and_the_same_update_twice_acts_once(team, fake_panel, fake_telegram) -> None:
    wired, member, client = team
    order(fake_panel, 70001, "dave")
    token = _link(client, fake_telegram, wired)
    fake_telegram.user_starts_bot(STRANGER_TG, token, token=TOKEN)
    update = fake_telegram.user_sends(STAFF_TG, "/refill 70001", token=TOKEN)
    poll(wired.telegram)
    from panelrelay.transports.integrations.telegram.updates import handle

    handle(wired.telegram, update)  # a second poller read it too
    assert TelegramLink.objects.get(membership=member).telegram_user_id == str(STAFF_TG)
    assert ForwardRequest.objects.count() == 1


def test_an_unlinked_sender_is_ignored_silently(team, fake_panel, fake_telegram) -> None:
    wired, _, _ = team
    order(fake_panel, 70001, "dave")
    fake_telegram.user_sends(STRANGER_TG, "/refill 70001", token=TOKEN)
    fake_telegram.user_sends(STRANGER_TG, "hello?", token=TOKEN)
    poll(wired.telegram)
    run_until(
        lambda: not Job.objects.filter(state="queued", run_at__isnull=False, kind__startswith="intake.bot").exists()
    )
    assert ForwardRequest.objects.count() == 0
    assert _private(fake_telegram, STRANGER_TG) == []
    assert not Job.objects.filter(kind__startswith="intake.bot").exists()


def test_a_member_without_the_forward_toggle_is_refused(team, fake_panel, fake_telegram) -> None:
    wired, member, client = team
    _link(client, fake_telegram, wired)
    Membership.objects.filter(pk=member.pk).update(can_forward=False)
    fake_telegram.user_sends(STAFF_TG, "/refill 70001", token=TOKEN)
    poll(wired.telegram)
    run_until(lambda: len(_private(fake_telegram, STAFF_TG)) >= 2)
    assert "does not allow forwarding" in _private(fake_telegram, STAFF_TG)[1]
    assert ForwardRequest.objects.count() == 0


def test_an_unclear_command_gets_help_and_unlink_stops_the_bot(team, fake_panel, fake_telegram) -> None:
    wired, member, client = team
    _link(client, fake_telegram, wired)
    fake_telegram.user_sends(STAFF_TG, "/refill", token=TOKEN)
    poll(wired.telegram)
    run_until(lambda: len(_private(fake_telegram, STAFF_TG)) >= 2)
    assert _private(fake_telegram, STAFF_TG)[1].startswith("Not understood: refill (/refill); no order ids after")
    client.post(reverse("intake:unlink"))
    fake_telegram.user_sends(STAFF_TG, "/refill 70001", token=TOKEN)
    poll(wired.telegram)
    assert ForwardRequest.objects.count() == 0 and not TelegramLink.objects.get(membership=member).linked


def test_a_provider_start_link_still_works(team, fake_telegram) -> None:
    from panelrelay.transports.models import StartLink

    wired, _, _ = team
    start = StartLink.objects.create(workspace=wired.workspace, connection=wired.telegram, token="prov-token-1")
    fake_telegram.user_starts_bot(7777, "prov-token-1", token=TOKEN)
    poll(wired.telegram)
    start.refresh_from_db()
    assert start.user_id == "7777"


def test_panel_lists_the_panels_and_picks_the_one_commands_go_to(team, fake_panel, fake_telegram) -> None:
    from panelrelay.demo import scenario

    wired, member, client = team
    second = scenario.panel(wired.workspace, fake_panel.url, name="Second")
    order(fake_panel, 70001, "dave")
    _link(client, fake_telegram, wired)
    answers = []
    for text in ("/panel", "/panel 2", "/panel nope", "/panel ²", "/refill 70001"):  # one at a time, as typed
        fake_telegram.user_sends(STAFF_TG, text, token=TOKEN)
        poll(wired.telegram)
        run_until(lambda: len(_private(fake_telegram, STAFF_TG)) >= len(answers) + 2)
        answers.append(_private(fake_telegram, STAFF_TG)[-1])
    listing, chosen, unknown, superscript, summary = answers
    assert listing.splitlines() == [
        "Your commands go to the panel Main.",
        "1. Main ✓",
        "2. Second",
        "Choose with /panel 2 (its number or name).",
    ]
    assert chosen == "✓ Your commands now go to the panel Second."
    assert unknown.splitlines()[:3] == ["No panel “nope” is turned on.", "1. Main", "2. Second ✓"]
    assert superscript.splitlines()[0] == "No panel “²” is turned on."  # "²".isdigit() once made this a 500
    assert summary.splitlines()[0] == "Refill × 1 (Second)"
    assert ForwardRequest.objects.get().panel == second


def test_the_profile_picks_the_panel_and_refuses_another_workspaces(team, fake_panel) -> None:
    from panelrelay.accounts.models import Workspace
    from panelrelay.demo import scenario
    from panelrelay.intake.bot import bot_panel

    wired, member, client = team
    second = scenario.panel(wired.workspace, fake_panel.url, name="Second")
    foreign = scenario.panel(Workspace.objects.create(name="Other"), fake_panel.url, name="Theirs")
    page = client.get(reverse("intake:profile")).content.decode()
    assert "Second" in page and "Theirs" not in page
    assert "Now: Main." in page  # before any link or choice: the first panel turned on

    client.post(reverse("intake:bot_panel"), {"panel": str(second.code)})
    link = TelegramLink.objects.get(membership=member)
    assert bot_panel(link) == second
    for bad in (str(foreign.code), "not-a-uuid"):
        response = client.post(reverse("intake:bot_panel"), {"panel": bad}, follow=True)
        assert "Choose one of this workspace" in response.content.decode()
        assert TelegramLink.objects.get(membership=member).panel == second
    second.enabled = False
    second.save()
    assert bot_panel(TelegramLink.objects.get(membership=member)) == wired.panel  # turned off: the first again
    client.post(reverse("intake:bot_panel"), {"panel": ""})
    assert TelegramLink.objects.get(membership=member).panel is None


def test_answers_to_quick_commands_arrive_in_the_order_they_were_sent(team, fake_panel, fake_telegram) -> None:
    """The fake Telegram allows 1 message/s per chat: the answers queue up behind 429s."""
    from panelrelay.demo import scenario

    wired, member, client = team
    scenario.panel(wired.workspace, fake_panel.url, name="Second")
    _link(client, fake_telegram, wired)
    for text in ("/panel 2", "/panel 1", "/panel 2", "/panel"):
        fake_telegram.user_sends(STAFF_TG, text, token=TOKEN)
    poll(wired.telegram)
    run_until(lambda: len(_private(fake_telegram, STAFF_TG)) >= 5, timeout=30)
    answers = [text.splitlines()[0] for text in _private(fake_telegram, STAFF_TG)[1:]]
    assert answers == [
        "✓ Your commands now go to the panel Second.",
        "✓ Your commands now go to the panel Main.",
        "✓ Your commands now go to the panel Second.",
        "Your commands go to the panel Second.",
    ]
