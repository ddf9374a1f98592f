"""Watching sent orders on the panel: a cancel is confirmed by the panel's own status, every
change of a refill's status is recorded, on a backing-off schedule, within the panel's limit.

The real FakePanel answers over HTTP; time is simulated by passing `now`, never slept."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from fakes.panel import FakePanel
from panelrelay.accounts.models import Workspace
from panelrelay.demo import scenario
from panelrelay.forwarding import after, jobs, watch
from panelrelay.forwarding.models import ForwardingSettings, ForwardRequest, Outcome, Progress, RequestOrder
from panelrelay.forwarding.watch import next_watch, watch_due
from panelrelay.panels.models import Panel
from panelrelay.worker.models import Job
from panelrelay.worker.queue import enqueue

pytestmark = pytest.mark.django_db

MIN, HOUR = timedelta(minutes=1), timedelta(hours=1)


@pytest.fixture
def t0() -> datetime:
    """A send at midnight UTC: every look of the schedule falls on its grid, so none is rounded."""
    return timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)


@pytest.fixture
def ws() -> Workspace:
    return Workspace.objects.create(name="Watcher")


@pytest.fixture
def panel(ws: Workspace, fake_panel: FakePanel) -> Panel:
    return scenario.panel(ws, fake_panel.url)


@pytest.fixture
def confirmed_ids(monkeypatch) -> list[int]:
    """What the outcome hook heard (intake's second ticket reply listens there)."""
    heard: list[int] = []
    monkeypatch.setattr(after, "OUTCOME_RECEIVERS", [heard.extend])
    return heard


def sent(panel: Panel, ids: list[int], slug: str, at: datetime, **order_fields) -> list[RequestOrder]:
    """Orders of a request sent at `at`, the way delivery leaves them (first look 5 min later)."""
    req = ForwardRequest.objects.create(workspace=panel.workspace, panel=panel, panel_name=panel.name,
                                        command_label=slug.title(), total=len(ids))  # fmt: skip
    return RequestOrder.objects.bulk_create(
        RequestOrder(request=req, workspace=panel.workspace, panel_order_id=str(n), command_slug=slug,
                     state=RequestOrder.SENT, outcome=Outcome.SENT, sent_at=at,
                     next_watch_at=after.first_watch(at), **order_fields)
        for n in ids
    )  # fmt: skip


def fresh(order: RequestOrder) -> RequestOrder:
    return RequestOrder.objects.get(pk=order.pk)


def panel_calls(fake: FakePanel) -> int:
    return len(fake.requests_to(r"/orders"))


def test_a_cancel_is_confirmed_once_the_panel_shows_it_canceled(panel, fake_panel, t0, confirmed_ids) -> None:
    fake_panel.add_order(7001, provider="p.example", status="In progress", quantity=1000, remains=400)
    [order] = sent(panel, [7001], "cancel", t0)
    assert watch_due(now=t0 + 4 * MIN).calls == 0  # not due yet
    watch_due(now=t0 + 5 * MIN)
    order = fresh(order)
    assert (order.progress, order.watched_status, order.watched_remains) == (Progress.NONE, "In progress", "400")
    assert order.next_watch_at == t0 + 15 * MIN and order.watch_count == 1

    fake_panel.update_order(7001, status="Canceled", remains=1000)
    round_ = watch_due(now=t0 + 15 * MIN)
    order = fresh(order)
    assert (order.progress, order.outcome, order.reason) == (
        Progress.CONFIRMED, Outcome.CONFIRMED, "the panel shows it canceled",
    )  # fmt: skip
    assert (order.watched_status, order.watched_remains, order.watch_count) == ("Canceled", "1000", 2)
    assert order.confirmed_at == t0 + 15 * MIN and order.next_watch_at is None
    assert round_.confirmed == confirmed_ids == [order.pk]


def test_partial_confirms_a_cancel_and_a_partial_command(panel, fake_panel, t0, confirmed_ids) -> None:
    fake_panel.add_order(7101, provider="p.example", status="Partial", quantity=1000, remains=250)
    fake_panel.add_order(7102, provider="p.example", status="Partial", quantity=1000, remains=300)
    fake_panel.add_order(7103, provider="p.example", status="Canceled")  # not what "partial" asked for
    cancel = sent(panel, [7101], "cancel", t0)[0]
    partial, other = sent(panel, [7102, 7103], "partial", t0)
    watch_due(now=t0 + 5 * MIN)
    assert fresh(cancel).progress == fresh(partial).progress == Progress.CONFIRMED
    assert fresh(partial).reason == "the panel shows it partial" and fresh(cancel).watched_remains == "250"
    assert (fresh(other).progress, fresh(other).watched_status) == (Progress.NONE, "Canceled")
    assert sorted(confirmed_ids) == sorted([cancel.pk, partial.pk])


@pytest.mark.parametrize("kind", ["pp_v2", "pp_v1"])
def test_a_refill_records_each_status_and_remains_the_panel_shows(ws, fake_panel, t0, kind, confirmed_ids) -> None:
    panel = scenario.panel(ws, fake_panel.url, kind=kind)
    fake_panel.add_order(7201, provider="p.example", status="Completed", quantity=1000, remains=0)
    [order] = sent(panel, [7201], "refill", t0)
    seen = []
    for at, change in ((5 * MIN, None), (15 * MIN, {"status": "In progress", "remains": 640}),
                       (HOUR, {"status": "In progress", "remains": 120}), (3 * HOUR, {"status": "Completed", "remains": 0})):  # fmt: skip
        if change:
            fake_panel.update_order(7201, **change)
        watch_due(now=t0 + at)
        order = fresh(order)
        seen.append((order.watched_status, order.watched_remains, order.watched_at - t0))
    assert seen == [("Completed", "0", 5 * MIN), ("In progress", "640", 15 * MIN),
                    ("In progress", "120", HOUR), ("Completed", "0", 3 * HOUR)]  # fmt: skip
    assert (order.progress, order.outcome, order.watch_count) == (Progress.NONE, Outcome.SENT, 4)
    assert order.next_watch_at == t0 + 6 * HOUR and confirmed_ids == []


def test_the_schedule_backs_off_from_minutes_to_days_and_stops_after_watch_days(panel, fake_panel, t0) -> None:
    fake_panel.add_order(7301, provider="p.example", status="In progress")
    [order] = sent(panel, [7301], "speed_up", t0)
    looks = []
    while (when := fresh(order).next_watch_at) is not None:
        looks.append(when - t0)
        watch_due(now=when)
    assert looks == [5 * MIN, 15 * MIN, HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR, 24 * HOUR, 48 * HOUR, 72 * HOUR]
    assert fresh(order).watch_count == 9 and panel_calls(fake_panel) == 9
    assert watch_due(now=t0 + 30 * 24 * HOUR).calls == 0  # never looked at again


def test_orders_sent_apart_share_their_later_looks(t0) -> None:
    sends = [t0 + 10 * MIN * k for k in range(1, 7)]  # six messages over an hour
    assert {next_watch(at, at + 12 * HOUR, 3) for at in sends} == {t0 + 26 * HOUR}  # one call, not six
    assert {next_watch(at, at + 6 * HOUR, 3) for at in sends} == {t0 + 13 * HOUR}
    for at in sends:  # never early, and at most 1/12 of the step late
        assert timedelta(0) <= next_watch(at, at + 12 * HOUR, 3) - (at + 24 * HOUR) <= 2 * HOUR
        assert timedelta(0) <= next_watch(at, at, 3) - (at + 5 * MIN) <= 25 * timedelta(seconds=1)


def test_a_workspace_can_watch_for_one_day_only(panel, fake_panel, t0) -> None:
    ForwardingSettings.objects.create(workspace=panel.workspace, watch_days=1)
    fake_panel.add_order(7302, provider="p.example", status="In progress")
    [order] = sent(panel, [7302], "refill", t0)
    watch_due(now=t0 + 12 * HOUR)  # a worker that was down all morning looks once, then on schedule
    assert fresh(order).next_watch_at == t0 + 24 * HOUR
    watch_due(now=t0 + 24 * HOUR)
    assert fresh(order).next_watch_at is None and fresh(order).watch_count == 2
    assert next_watch(t0, t0 + 5 * MIN, 0) is None  # 0 days: nothing after the first look


def test_a_panel_error_postpones_the_look_and_fails_nothing(panel, fake_panel, t0) -> None:
    fake_panel.add_order(7401, provider="p.example", status="In progress")
    [order] = sent(panel, [7401], "cancel", t0)
    fake_panel.inject("status", path="/orders", status=502)
    round_ = watch_due(now=t0 + 5 * MIN)
    order = fresh(order)
    assert round_.calls == 1 and round_.looked == 0
    assert (order.state, order.progress, order.outcome) == (RequestOrder.SENT, Progress.NONE, Outcome.SENT)
    assert (order.watched_status, order.watch_count, order.next_watch_at) == ("", 0, t0 + 15 * MIN)
    fake_panel.update_order(7401, status="Canceled")
    watch_due(now=t0 + 15 * MIN)
    assert fresh(order).progress == Progress.CONFIRMED


def test_250_open_orders_take_3_panel_calls_one_per_round(panel, fake_panel, t0) -> None:
    fake_panel.seed_orders(250, start_id=10_000, statuses=["In progress"])
    orders = sent(panel, list(range(10_000, 10_250)), "refill", t0)
    rounds = []
    while (round_ := watch_due(now=t0 + 5 * MIN)).calls:
        rounds.append((round_.calls, round_.looked, round_.more))
    assert rounds == [(1, 100, True), (1, 100, True), (1, 50, False)]
    assert panel_calls(fake_panel) == 3
    assert all(len(r.query["ids"].split(",")) <= 100 for r in fake_panel.requests_to(r"/orders"))
    assert set(RequestOrder.objects.filter(id__in=[o.id for o in orders]).values_list("watch_count", flat=True)) == {1}


def test_the_same_panel_order_in_two_requests_is_asked_for_once(panel, fake_panel, t0) -> None:
    fake_panel.add_order(7501, provider="p.example", status="Canceled")
    refill = sent(panel, [7501], "refill", t0)[0]
    cancel = sent(panel, [7501], "cancel", t0)[0]
    watch_due(now=t0 + 5 * MIN)
    assert fake_panel.requests_to(r"/orders")[0].query["ids"] == "7501"
    assert fresh(refill).progress == Progress.NONE and fresh(cancel).progress == Progress.CONFIRMED


def test_orders_of_two_panels_are_each_asked_of_their_own_panel(ws, panel, fake_panel, t0) -> None:
    with FakePanel() as second:
        other = scenario.panel(ws, second.url, name="Second")
        fake_panel.add_order(7601, provider="p.example", status="Canceled")
        second.add_order(7601, provider="q.example", status="In progress", remains=5)
        mine, theirs = sent(panel, [7601], "cancel", t0)[0], sent(other, [7601], "cancel", t0)[0]
        round_ = watch_due(now=t0 + 5 * MIN)
        assert round_.calls == 2 and panel_calls(fake_panel) == panel_calls(second) == 1
    assert (fresh(mine).progress, fresh(mine).watched_status) == (Progress.CONFIRMED, "Canceled")
    assert (fresh(theirs).progress, fresh(theirs).watched_status) == (Progress.NONE, "In progress")


def test_another_workspaces_orders_are_untouched(panel, fake_panel, t0) -> None:
    fake_panel.add_order(7701, provider="p.example", status="Canceled")
    mine = sent(panel, [7701], "cancel", t0)[0]
    later_ws = Workspace.objects.create(name="Later")
    later = sent(scenario.panel(later_ws, fake_panel.url), [7701], "cancel", t0 + HOUR)[0]  # not due yet
    suspended_ws = Workspace.objects.create(name="Suspended", suspended=True)
    suspended = sent(scenario.panel(suspended_ws, fake_panel.url), [7701], "cancel", t0)[0]
    watch_due(now=t0 + 5 * MIN)
    assert fresh(mine).progress == Progress.CONFIRMED
    for order in (later, suspended):
        got = fresh(order)
        assert (got.progress, got.watched_status, got.watch_count, got.watched_at) == (Progress.NONE, "", 0, None)
        assert got.next_watch_at == order.next_watch_at
    assert panel_calls(fake_panel) == 1


def test_a_confirmed_order_is_not_changed_back_by_a_later_look(panel, fake_panel, t0, confirmed_ids) -> None:
    fake_panel.add_order(7801, provider="p.example", status="Canceled")
    [order] = sent(panel, [7801], "cancel", t0, progress=Progress.ANSWERED, answer_kind="done")
    watch_due(now=t0 + 5 * MIN)
    assert fresh(order).progress == Progress.CONFIRMED  # the panel's word outranks the provider's
    fake_panel.update_order(7801, status="In progress")  # a panel that changes its mind
    RequestOrder.objects.filter(pk=order.pk).update(next_watch_at=t0 + 6 * MIN)  # even if it were due again
    watch_due(now=t0 + HOUR)
    order = fresh(order)
    assert (order.progress, order.outcome, order.watched_status) == (Progress.CONFIRMED, Outcome.CONFIRMED, "Canceled")
    assert order.confirmed_at == t0 + 5 * MIN and confirmed_ids == [order.pk]


def test_an_order_the_panel_no_longer_finds_is_no_longer_watched(panel, fake_panel, t0) -> None:
    [order] = sent(panel, [7901], "cancel", t0)  # not in the panel
    watch_due(now=t0 + 5 * MIN)
    order = fresh(order)
    assert (order.watched_status, order.next_watch_at, order.progress) == (watch.NOT_FOUND, None, Progress.NONE)


def test_a_deleted_or_turned_off_panel_is_not_called(ws, panel, fake_panel, t0) -> None:
    fake_panel.add_order(8001, provider="p.example", status="Canceled")
    [order] = sent(panel, [8001], "cancel", t0)
    Panel.objects.filter(pk=panel.pk).update(enabled=False)
    watch_due(now=t0 + 5 * MIN)
    assert fresh(order).next_watch_at == t0 + 15 * MIN and panel_calls(fake_panel) == 0
    panel.delete()
    watch_due(now=t0 + 15 * MIN)
    assert (fresh(order).watched_status, fresh(order).next_watch_at) == (watch.PANEL_GONE, None)


def test_forwarding_goes_first_on_a_busy_panel(panel, fake_panel, t0) -> None:
    fake_panel.add_order(8101, provider="p.example", status="Canceled")
    [order] = sent(panel, [8101], "cancel", t0)
    job = enqueue("forwarding.process", {"request": order.request_id}, workspace=panel.workspace)
    round_ = watch_due(now=t0 + 5 * MIN)
    assert (round_.calls, round_.skipped_panels, panel_calls(fake_panel)) == (0, 1, 0)
    assert fresh(order).next_watch_at == t0 + 5 * MIN  # still due: the next round takes it
    Job.objects.filter(pk=job.pk).update(state=Job.DONE)
    watch_due(now=t0 + 6 * MIN)
    assert fresh(order).progress == Progress.CONFIRMED


def test_the_worker_job_hands_the_rest_to_a_job_of_its_own(panel, fake_panel) -> None:
    now = timezone.now()
    fake_panel.seed_orders(150, start_id=20_000, statuses=["In progress"])
    sent(panel, list(range(20_000, 20_150)), "refill", now - 10 * MIN)
    job = enqueue("forwarding.watch", key="periodic:forwarding.watch:1", max_attempts=1)
    jobs.watch(job)
    assert panel_calls(fake_panel) == 1
    follow = Job.objects.get(kind="forwarding.watch", key=f"forwarding.watch:more:{job.pk}")
    jobs.watch(follow)
    assert panel_calls(fake_panel) == 2 and not watch.due(timezone.now()).exists()
    assert not Job.objects.filter(key=f"forwarding.watch:more:{follow.pk}").exists()
