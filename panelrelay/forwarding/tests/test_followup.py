"""Follow up, then escalate: a reminder to the same chat, then the backup destination, then No answer.

Time is simulated: the orders are sent now, through the engine and the fake Telegram, and
run_follow_ups() is told that hours have passed.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone

from panelrelay.accounts.models import Workspace
from panelrelay.core import faults
from panelrelay.demo import scenario
from panelrelay.forwarding.after import set_progress
from panelrelay.forwarding.delivery import deliver_message
from panelrelay.forwarding.followup import run_follow_ups
from panelrelay.forwarding.models import (
    AnswerKind,
    Command,
    ForwardingSettings,
    Message,
    Outcome,
    Progress,
    RequestOrder,
)
from panelrelay.forwarding.submit import create_request
from panelrelay.panels.models import Provider
from panelrelay.routing.models import ProviderRoute
from panelrelay.transports.models import Incident
from panelrelay.worker.models import Job

EXT = 6_600_000
MAIN, BACKUP, OTHER = -1001, -1002, -1003
FAST, SLOW = "fast-refills.example", "slow-refills.example"


@pytest.fixture
def no_pacing(settings):
    settings.PACING_TELEGRAM_GROUP_SECONDS = settings.PACING_TELEGRAM_BOT_SECONDS = 0


@pytest.fixture
def wired(fake_panel, fake_telegram, no_pacing):
    """FastLikes (main group, a backup group) and SlowViews (its own group, no backup); 8 orders sent."""
    fake_telegram.strict_limits = False  # hours pass between our sends; the test runs them in a blink
    ws = Workspace.objects.create(name="Follow-ups")
    panel = scenario.panel(ws, fake_panel.url)
    tg = scenario.telegram(ws, fake_telegram.url)
    for chat in (MAIN, BACKUP, OTHER):
        fake_telegram.add_chat(chat, type="supergroup", title=f"group {chat}")
    main = scenario.destination(tg, "Fast grp", "tg_group", str(MAIN))
    backup = scenario.destination(tg, "Backup grp", "tg_group", str(BACKUP))
    other = scenario.destination(tg, "Slow grp", "tg_group", str(OTHER))
    fast, slow = scenario.provider(ws, FAST, "FastLikes_A"), scenario.provider(ws, SLOW, "SlowViews_B")
    scenario.route(fast, main)
    scenario.route(slow, other)
    ProviderRoute.objects.filter(provider=fast).update(backup_destination=backup)
    for n in range(1, 9):
        fake_panel.add_order(id=40000 + n, provider=FAST if n <= 5 else SLOW, external_id=str(EXT + n))
    create_request(ws, panel, Command.for_workspace(ws)[0], [str(40000 + n) for n in range(1, 9)])
    scenario.drain(timeout=30)
    assert RequestOrder.objects.filter(state=RequestOrder.SENT).count() == 8
    return ws, fast, slow


def later(hours: float):
    return timezone.now() + timedelta(hours=hours)


def deliver_all() -> None:
    """Deliver every reminder and escalation queued, as the worker's forwarding.deliver jobs do."""
    for job in Job.objects.filter(kind="forwarding.deliver", state=Job.QUEUED).order_by("id"):
        deliver_message(Message.objects.select_related("destination", "workspace").get(pk=job.payload["message"]))
        Job.objects.filter(pk=job.pk).update(state=Job.DONE)


def order(n: int) -> RequestOrder:
    return RequestOrder.objects.get(panel_order_id=str(40000 + n))


def texts(fake_telegram, chat: int) -> list[str]:
    return [m["text"] for m in fake_telegram.messages_to(chat)]


def answer(n: int, kind: str) -> None:
    outcome = {"done": Outcome.ANSWERED_DONE, "refused": Outcome.ANSWERED_REFUSED}[kind]
    set_progress(RequestOrder.objects.filter(pk=order(n).pk), Progress.ANSWERED, outcome, f"provider: {kind}",
                 answer_kind=kind, answered_at=timezone.now())  # fmt: skip


def lines(*numbers: int) -> str:
    return "\n".join(str(EXT + n) for n in numbers)


@pytest.mark.django_db
def test_it_reminds_after_the_delay_listing_only_the_still_open_ids(wired, fake_telegram) -> None:
    answer(1, AnswerKind.DONE)
    answer(2, AnswerKind.REFUSED)
    set_progress(RequestOrder.objects.filter(pk=order(3).pk), Progress.CONFIRMED, Outcome.CONFIRMED, "panel: Canceled")
    run_follow_ups(now=later(5))
    assert not Message.objects.exclude(kind=Message.REQUEST).exists(), "not before 6 h"

    run_follow_ups(now=later(7))
    deliver_all()
    assert texts(fake_telegram, MAIN)[1:] == [f"Reminder — REFILL still pending:\n{lines(4, 5)}"]
    assert texts(fake_telegram, OTHER)[1:] == [f"Reminder — REFILL still pending:\n{lines(6, 7, 8)}"]
    reminder = Message.objects.get(kind=Message.REMINDER, destination__name="Fast grp")
    assert reminder.state == Message.SENT
    assert sorted(o.panel_order_id for o in reminder.covers.all()) == ["40004", "40005"]
    four = order(4)
    assert (four.state, four.progress, four.outcome) == (RequestOrder.SENT, Progress.FOLLOW_UP, Outcome.FOLLOW_UP_SENT)
    assert four.reason.startswith("reminder sent to TG · Fast grp at ") and four.follow_up_at is not None
    assert [order(n).progress for n in (1, 2, 3)] == [Progress.ANSWERED, Progress.ANSWERED, Progress.CONFIRMED]


@pytest.mark.django_db
def test_a_second_run_sends_no_second_reminder(wired, fake_telegram) -> None:
    run_follow_ups(now=later(7))
    run_follow_ups(now=later(7))
    run_follow_ups(now=later(8))
    deliver_all()
    assert Message.objects.filter(kind=Message.REMINDER).count() == 2
    assert len(texts(fake_telegram, MAIN)) == 2  # the request, one reminder


@pytest.mark.django_db
def test_a_provider_has_its_own_delay_and_zero_means_never(wired) -> None:
    ws, fast, slow = wired
    Provider.objects.filter(pk=fast.pk).update(follow_up_hours=2)
    Provider.objects.filter(pk=slow.pk).update(follow_up_hours=0)
    run_follow_ups(now=later(3))
    assert set(RequestOrder.objects.filter(progress=Progress.FOLLOW_UP).values_list("provider", flat=True)) == {fast.pk}
    run_follow_ups(now=later(100))
    assert not RequestOrder.objects.filter(provider=slow, progress=Progress.FOLLOW_UP).exists()


@pytest.mark.django_db
def test_the_workspace_turns_reminders_off_with_zero(wired) -> None:
    ws, _, _ = wired
    ForwardingSettings.objects.filter(workspace=ws).update(follow_up_hours=0)
    run_follow_ups(now=later(100))
    assert not Message.objects.exclude(kind=Message.REQUEST).exists()
    assert not RequestOrder.objects.exclude(progress=Progress.NONE).exists()


@pytest.mark.django_db
def test_escalation_goes_to_the_backup_without_naming_the_provider_and_alerts_once(wired, fake_telegram) -> None:
    run_follow_ups(now=later(7))
    deliver_all()
    run_follow_ups(now=later(7 + 11))
    assert not Message.objects.filter(kind=Message.ESCALATION).exists(), "not before 12 h after the reminder"

    run_follow_ups(now=later(7 + 13))
    run_follow_ups(now=later(7 + 13))  # a second run at once changes nothing
    deliver_all()
    [escalation] = texts(fake_telegram, BACKUP)
    assert escalation == f"Escalation — REFILL still pending at the main provider group:\n{lines(1, 2, 3, 4, 5)}"
    for secret in ("FastLikes", "fast-refills", "Fast grp", "example"):
        assert secret.lower() not in escalation.lower()
    assert {o.progress for o in RequestOrder.objects.filter(provider__alias="FastLikes_A")} == {Progress.ESCALATED}
    assert order(1).reason.startswith("escalated to TG · Backup grp at ")
    alerts = [i.text for i in Incident.objects.filter(key__startswith="follow-up:")]
    fast_alerts = [t for t in alerts if "FastLikes_A" in t]
    assert fast_alerts == ["5 REFILL order(s) got no answer after the reminder from FastLikes_A: "
                           "escalated to the backup destination TG · Backup grp."]  # fmt: skip

    run_follow_ups(now=later(7 + 13 + 13))
    one = order(1)
    assert (one.progress, one.outcome, one.state) == (Progress.NO_ANSWER, Outcome.NO_ANSWER, RequestOrder.SENT)
    assert len(texts(fake_telegram, BACKUP)) == 1 and Incident.objects.filter(text__contains="FastLikes_A").count() == 1


@pytest.mark.django_db
def test_without_a_backup_the_order_shows_no_answer_and_the_owner_is_told(wired, fake_telegram) -> None:
    run_follow_ups(now=later(7))
    run_follow_ups(now=later(7 + 13))
    deliver_all()
    six = order(6)
    assert (six.progress, six.outcome) == (Progress.NO_ANSWER, Outcome.NO_ANSWER)
    assert "no backup destination" in six.reason
    assert texts(fake_telegram, OTHER)[1:] == [f"Reminder — REFILL still pending:\n{lines(6, 7, 8)}"]
    [alert] = Incident.objects.filter(text__contains="SlowViews_B")
    assert alert.text == ("3 REFILL order(s) got no answer after the reminder from SlowViews_B, and no backup "
                          "destination is set (Routing): now No answer.")  # fmt: skip
    assert Job.objects.filter(kind="transports.alert", payload__incident=alert.pk).exists()


@pytest.mark.django_db
def test_an_answer_after_the_reminder_stops_the_escalation(wired, fake_telegram) -> None:
    run_follow_ups(now=later(7))
    answer(4, AnswerKind.REFUSED)
    answer(5, AnswerKind.DONE)
    run_follow_ups(now=later(7 + 13))
    deliver_all()
    [escalation] = texts(fake_telegram, BACKUP)
    assert escalation.endswith("\n" + lines(1, 2, 3))
    assert [order(n).progress for n in (4, 5)] == [Progress.ANSWERED, Progress.ANSWERED]


@pytest.mark.django_db
def test_a_failed_reminder_leaves_the_orders_sent(wired, fake_telegram) -> None:
    fake_telegram.kick(MAIN)
    run_follow_ups(now=later(7))
    deliver_all()
    reminder = Message.objects.get(kind=Message.REMINDER, destination__name="Fast grp")
    assert reminder.state == Message.FAILED and "kicked" in reminder.last_error
    four = order(4)
    assert (four.state, four.outcome, four.progress) == (RequestOrder.SENT, Outcome.FOLLOW_UP_SENT, Progress.FOLLOW_UP)
    assert four.reason.startswith("reminder failed:") and "kicked" in four.reason


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_send_one_reminder(wired, fake_telegram) -> None:
    """Both runs read the same due orders and stop before claiming them, then go on together."""
    barrier = threading.Barrier(2, timeout=30)
    errors: list[BaseException] = []
    now = later(7)

    def run() -> None:
        try:
            run_follow_ups(now=now)
        except BaseException as exc:  # asserted below
            errors.append(exc)
        finally:
            connections.close_all()

    with faults.injected("forwarding.before_follow_up", barrier.wait):
        threads = [threading.Thread(target=run) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    assert errors == []
    deliver_all()
    assert Message.objects.filter(kind=Message.REMINDER).count() == 2  # one per group
    assert texts(fake_telegram, MAIN)[1:] == [f"Reminder — REFILL still pending:\n{lines(1, 2, 3, 4, 5)}"]
    assert texts(fake_telegram, OTHER)[1:] == [f"Reminder — REFILL still pending:\n{lines(6, 7, 8)}"]
    for message in Message.objects.filter(kind=Message.REMINDER):
        assert message.covers.count() == message.text.count("\n")
