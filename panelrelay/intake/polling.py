"""When to read a panel's tickets next: soon after activity, slowly when quiet, on a budget.

The owner's "every N seconds" is the *average*: a panel's ticket polls earn one credit every N
seconds (banked up to half an hour's worth) and each poll spends one, so over any long stretch
PanelRelay reads the tickets no more often than a poll every N seconds would. The credits are
spent where a customer is likely waiting:

- a poll that sees activity (a new ticket, or a new message on one) makes the next poll come
  FAST seconds later, and the gap then doubles poll by poll (10, 20, 40, 80 s…) up to the quiet
  gap: a customer who just wrote often writes again, and a burst of tickets (a provider's outage)
  keeps the gap at 10 s while it lasts. (Staying at the short gap for a while after activity cost
  more than it bought: in the simulation below, 10 s then doubling halved the median of a bursty
  day against the fixed poll, a minute of 5-s polls first gained only a tenth);
- the quiet gap is N while the bank is full (nothing to save for: the fixed poll's pace) and
  1.25 N while it is not (the calls spent on a burst are saved back, a quarter of a call per
  quiet poll). A longer quiet gap saves faster, but a message arriving while quiet waits for it:
  on the benchmark's workloads (bench/tickets.py, detection delay simulated over 20 days), a
  3 N gap made the p95 more than twice the fixed poll's, 1.5 N 1.3 times, 1.25 N 1.1 times;
- with no credit left the next poll waits for one, whatever the activity.

Every call still goes through the panel's shared rate limiter (core/ratelimit.py) like any other.
`plan` is a pure function of the state and the time, so tests and the benchmark run it on
simulated time.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

FAST = 10.0  # seconds from a poll that saw activity to the next one
QUIET_SAVING = 1.25  # the quiet gap while the bank is not full, in owner's intervals
BANK_SECONDS = 1800.0  # the bank holds this much of the owner's pace (30 credits at 60 s)
MIN_BANK = 10.0


def bank_size(interval: float) -> float:
    return max(MIN_BANK, BANK_SECONDS / max(interval, 1.0))


@dataclass(frozen=True)
class PollState:
    credits: float  # polls the panel may still make above its average pace
    at: float | None = None  # epoch seconds of the last poll (None: never polled)
    active_at: float | None = None  # epoch seconds of the last poll that saw activity
    quiet: int = 0  # polls since the last one that saw activity

    @classmethod
    def fresh(cls, interval: float) -> PollState:
        return cls(credits=bank_size(interval))


def plan(state: PollState, now: float, interval: float, activity: bool) -> tuple[float, PollState]:
    """A poll just ran at `now` (seeing activity or not): (seconds until the next one, the new state)."""
    interval = max(float(interval), 1.0)
    bank = bank_size(interval)
    earned = (now - state.at) / interval if state.at is not None else 0.0
    credits = min(bank, state.credits + earned) - 1.0  # this poll spent one
    active_at = now if activity else state.active_at
    quiet = 0 if activity else state.quiet + 1
    full = credits >= bank - 1.0 - 1e-9  # the bank was full before this poll
    quiet_gap = interval if full else interval * QUIET_SAVING
    fast = min(FAST, interval)  # an owner's pace quicker than FAST is kept when busy too
    if active_at is not None:  # the gap doubles: each gap = the time since the activity + fast
        delay = min(now - active_at + fast, quiet_gap)
    else:
        delay = quiet_gap
    if credits < 1.0:  # the next poll is paid for by the time it runs, activity or not
        delay = max(delay, (1.0 - credits) * interval)
    new = replace(state, credits=credits, at=now, active_at=active_at, quiet=quiet)
    return delay, new
