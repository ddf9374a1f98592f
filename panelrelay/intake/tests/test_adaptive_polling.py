"""Adaptive ticket polling: soon after activity, slowly when quiet, never above the owner's average.

The schedule (intake/polling.py) is a pure function of the state and a simulated clock; the job
side (intake/jobs.py) is driven with explicit moments. Nothing here sleeps.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from panelrelay.intake import jobs, polling
from panelrelay.intake.models import TicketPoll
from panelrelay.intake.polling import FAST, PollState, bank_size, plan
from panelrelay.intake.tests.helpers import order, wire
from panelrelay.worker.models import Job

T0 = 1_800_000_000.0  # a fixed simulated epoch


def run(interval: float, seconds: float, active: set[int] | None = None, state: PollState | None = None):
    """Poll on simulated time for `seconds`; the n-th poll sees activity when n is in `active`.
    Returns the poll moments (seconds after T0) and the last state."""
    state = state or PollState.fresh(interval)
    now, moments, n = T0, [], 0
    while now - T0 < seconds:
        moments.append(now - T0)
        delay, state = plan(state, now, interval, n in (active or set()))
        assert delay > 0
        now += delay
        n += 1
    return moments, state


def gaps(moments: list[float]) -> list[float]:
    return [round(b - a, 6) for a, b in zip(moments, moments[1:], strict=False)]


def test_quiet_with_a_full_bank_it_polls_at_the_owners_pace() -> None:
    moments, state = run(60, 3600)
    assert set(gaps(moments)) == {60.0}
    assert len(moments) == 60
    assert state.credits == pytest.approx(bank_size(60) - 1)  # earns one per minute, spends one


def test_activity_brings_the_next_poll_within_seconds_then_backs_off() -> None:
    moments, _ = run(60, 1200, active={3})
    g = gaps(moments)
    assert g[:3] == [60.0, 60.0, 60.0]
    # 10, 20, 40 s, then the quiet gap: a quarter slower than the owner's while the bank refills…
    assert g[3:7] == [FAST, 2 * FAST, 4 * FAST, 75.0]
    assert g[-1] == 60.0  # …and the owner's pace once it is full again


def test_a_burst_keeps_the_gap_short_while_it_lasts() -> None:
    moments, _ = run(60, 600, active=set(range(3, 20)))
    assert gaps(moments)[3:19] == [FAST] * 16


def test_an_owners_interval_below_fast_is_kept_when_busy() -> None:
    moments, _ = run(2, 30, active=set(range(100)))
    assert set(gaps(moments)) == {2.0}


def test_the_bank_refills_and_polling_returns_to_the_owners_pace() -> None:
    moments, state = run(60, 6 * 3600, active={0, 1, 2, 3, 4, 5, 6, 7, 8, 9})
    assert gaps(moments)[-1] == 60.0
    assert state.credits == pytest.approx(bank_size(60) - 1)


def test_constant_activity_never_goes_above_the_owners_average() -> None:
    hours = 24
    moments, _ = run(60, hours * 3600, active=set(range(100_000)))
    assert len(moments) <= hours * 60 + bank_size(60) + 1
    # The bank is spent first, then each poll waits for the credit it spends.
    assert gaps(moments)[-1] == pytest.approx(60.0)


@settings(max_examples=60, deadline=None)
@given(
    interval=st.sampled_from([15, 30, 60, 300]),
    pattern=st.lists(st.booleans(), min_size=1, max_size=400),
)
def test_any_activity_pattern_keeps_the_average(interval: int, pattern: list[bool]) -> None:
    state, now, polls = PollState.fresh(interval), T0, 0
    for activity in pattern * 5:
        delay, state = plan(state, now, interval, activity)
        assert delay >= FAST or delay == interval  # never faster than FAST (or a quicker owner's pace)
        assert delay <= 1.25 * interval + 1e-9  # never much slower than the owner's pace
        now += delay
        polls += 1
    assert polls <= (now - T0) / interval + bank_size(interval) + 1


# ----- the job side: TicketPoll and the chain of poll jobs ------------------------------------
pytestmark_db = pytest.mark.django_db(transaction=True)


def _at(seconds: float) -> datetime:
    return datetime.fromtimestamp(T0 + seconds, tz=UTC)


@pytestmark_db
def test_a_new_ticket_or_message_makes_the_next_poll_come_soon(fake_panel, fake_telegram) -> None:
    wired = wire(fake_panel, fake_telegram, interval=60)
    nxt, seq1 = jobs.plan_next(wired.panel, _at(0), {"7:1"}, found=False)
    assert nxt == _at(60)  # the first look sets what was there: not news
    nxt, seq2 = jobs.plan_next(wired.panel, _at(60), {"7:1"}, found=False)
    assert nxt == _at(120) and seq2 == seq1 + 1  # nothing new
    nxt, _ = jobs.plan_next(wired.panel, _at(120), {"7:1", "8:1"}, found=False)
    assert nxt == _at(130)  # a new ticket (even one that asks nothing)
    nxt, _ = jobs.plan_next(wired.panel, _at(130), {"7:2"}, found=False)
    assert nxt == _at(140)  # a new message on a ticket; another one gone is not news
    nxt, _ = jobs.plan_next(wired.panel, _at(140), {"7:2"}, found=False)
    assert nxt == _at(160)  # nothing new: the gap doubles
    nxt, _ = jobs.plan_next(wired.panel, _at(160), {"7:2"}, found=True)
    assert nxt == _at(170)  # a request was made
    row = TicketPoll.objects.get(panel=wired.panel)
    assert row.active_at == _at(160) and row.seen == ["7:2"] and row.quiet == 0


@pytestmark_db
def test_a_poll_that_failed_is_not_news_and_keeps_what_was_seen(fake_panel, fake_telegram) -> None:
    wired = wire(fake_panel, fake_telegram, interval=60)
    jobs.plan_next(wired.panel, _at(0), {"7:1"}, found=False)
    nxt, _ = jobs.plan_next(wired.panel, _at(60), None, found=False)
    assert nxt == _at(120)
    assert TicketPoll.objects.get(panel=wired.panel).seen == ["7:1"]


@pytestmark_db
@pytest.mark.usefixtures("no_pacing")
def test_a_ticket_read_queues_the_next_poll_a_few_seconds_later(fake_panel, fake_telegram) -> None:
    wired = wire(fake_panel, fake_telegram, interval=60)
    order(fake_panel, 70001, "dave")
    fake_panel.add_ticket("dave", "Refill", "refill 70001")
    job = jobs.enqueue("intake.poll_tickets", {"panel": wired.panel.pk}, workspace=wired.workspace)
    jobs.poll_tickets(job)
    queued = Job.objects.get(kind="intake.poll_tickets", state=Job.QUEUED, key__isnull=False, id__gt=job.id)
    row = TicketPoll.objects.get(panel=wired.panel)
    assert queued.key == f"intake.poll:{wired.panel.pk}:{row.seq}"
    assert (queued.run_at - row.polled_at).total_seconds() == pytest.approx(FAST)
    # The same poll run again (a second chain, a retried job) finds its successor: one chain.
    row.seq -= 1
    row.save()
    jobs.poll_tickets(job)
    assert Job.objects.filter(kind="intake.poll_tickets", state=Job.QUEUED, id__gt=job.id).count() == 1


@pytestmark_db
def test_the_safety_net_restarts_a_broken_chain_only(fake_panel, fake_telegram) -> None:
    wired = wire(fake_panel, fake_telegram, interval=60)
    Job.objects.filter(kind="intake.poll_tickets").delete()
    jobs.schedule_poll(wired.panel, now=_at(0))
    jobs.schedule_poll(wired.panel, now=_at(40))  # one is queued: nothing added
    assert Job.objects.filter(kind="intake.poll_tickets").count() == 1
    Job.objects.filter(kind="intake.poll_tickets").update(state=Job.DONE)
    jobs.schedule_poll(wired.panel, now=_at(70))
    assert Job.objects.filter(kind="intake.poll_tickets", state=Job.QUEUED).count() == 1


def test_the_bank_is_half_an_hour_of_the_owners_pace() -> None:
    assert bank_size(60) == 30 and bank_size(15) == 120 and bank_size(3600) == polling.MIN_BANK
