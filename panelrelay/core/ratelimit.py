"""Rate limits shared by every web and worker process, kept in the database.

A limit is a minimum interval between events under a key: 5 calls/s to a panel is one call
every 0.2 s under `panel:<code>`; 20 messages/min to a Telegram group is one every 3 s under
`tg-chat:<id>`. One event may need several keys at once (a Telegram message needs its chat's
slot and its bot's slot): acquire() takes all of them or none. try_take() instead allows a
burst: 3 password-reset emails an hour to one address, at once or spread out. reserve() is a
sliding-window limiter for calls that must never exceed `count` in any `window` seconds as the
other side counts them (a panel's 5 requests/s): it books the earliest moment that fits.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from panelrelay.core.models import RateSlot

FREE_SINCE = datetime(2000, 1, 1, tzinfo=UTC)  # a new key's rows: free, whatever the clock says


def try_acquire(limits: dict[str, float], jitter: float = 0.0) -> float:
    """Take a slot under every key now, or none. Returns 0 when taken, else seconds to wait.

    `limits` maps key → minimum interval in seconds. `jitter` (0..1) stretches each interval by
    up to that fraction at random, for gateways where a regular rhythm looks like a bot.
    """
    keys = sorted(limits)
    _ensure(keys)
    with transaction.atomic():
        # Locking the rows (PostgreSQL) / the IMMEDIATE write lock (SQLite) serialises takers;
        # the clock is read after the lock, so time spent waiting for it is not free time.
        slots = list(RateSlot.objects.select_for_update().filter(key__in=keys))
        now = timezone.now()
        wait = max(((slot.next_at - now).total_seconds() for slot in slots), default=0.0)
        if wait > 0:
            return wait
        for slot in slots:
            interval = limits[slot.key] * (1 + random.uniform(0, jitter) if jitter else 1)
            slot.next_at = now + timedelta(seconds=interval)
        RateSlot.objects.bulk_update(slots, ["next_at"])
    return 0.0


def acquire(limits: dict[str, float], jitter: float = 0.0, max_wait: float = 30.0) -> None:
    """Block until a slot under every key is taken. Raises TimeoutError after max_wait seconds."""
    deadline = time.monotonic() + max_wait
    while True:
        wait = try_acquire(limits, jitter)
        if wait <= 0:
            return
        if time.monotonic() + wait > deadline:
            raise TimeoutError(f"rate limit slot not free within {max_wait:g} s")
        time.sleep(min(wait, 1.0))


def push_back(key: str, seconds: float, count: int = 1) -> None:
    """Nobody may use `key` for `seconds` (a 429 with retry_after, a 466 quota).

    `count`: the key is a reserve() window of that many events, all of which are pushed back.
    """
    keys = _window_keys(key, count) if count > 1 else [key]
    _ensure(keys)
    until = timezone.now() + timedelta(seconds=seconds)
    RateSlot.objects.filter(key__in=keys, next_at__lt=until).update(next_at=until)


def _window_keys(key: str, count: int) -> list[str]:
    return [f"{key}#{n}" for n in range(count)]


@dataclass(frozen=True)
class Booking:
    wait: float  # seconds from now until the booked moment (0.0: now)
    at: datetime  # the booked moment, by the database's clock reading
    due: float  # the booked moment by time.monotonic(), to tell how late the event really is
    row: str  # the RateSlot row the booking took


def reserve(key: str, count: int, window: float, max_wait: float = 30.0, now: datetime | None = None) -> float | None:
    """Book the earliest moment when one more event fits in `count` per `window` s under `key`.

    Returns the seconds from now until that moment (0.0: now); the caller sleeps that long and
    then acts. None when the moment is more than `max_wait` away (nothing booked).
    """
    booking = book(key, count, window, max_wait, now)
    return None if booking is None else booking.wait


def book(key: str, count: int, window: float, max_wait: float = 30.0, now: datetime | None = None) -> Booking | None:
    """reserve(), returning the Booking (for rebook()).

    The key has `count` rows, each holding when one of the last `count` booked events leaves
    the window (its moment + `window`). A booking takes the row that frees first, at the later
    of now and that row's time: so any `count` + 1 consecutive bookings span at least `window`,
    which is the strict sliding-window rule ("at most 5 in any second") a panel applies, and a
    caller that starts after a quiet spell may use the whole allowance at once. Bookings are
    made under the rows' lock and handed out in order: callers of every process queue fairly,
    and nobody polls the database while waiting. `now` is for tests (a simulated clock).
    """
    keys = _window_keys(key, count)
    with transaction.atomic():
        slots = list(RateSlot.objects.select_for_update().filter(key__in=keys).order_by("next_at", "key"))
        if len(slots) < count:  # the key's first use: create its rows, then lock them
            _ensure(keys)
            slots = list(RateSlot.objects.select_for_update().filter(key__in=keys).order_by("next_at", "key"))
        clock = now or timezone.now()  # read after the lock, as in try_acquire()
        read_at = time.monotonic()
        first = slots[0]
        at = max(clock, first.next_at)
        wait = (at - clock).total_seconds()
        if wait > max_wait:
            return None
        first.next_at = at + timedelta(seconds=window)
        first.save(update_fields=["next_at"])
    due = read_at + wait
    if now is None:  # the wait counts from the clock's reading, not from after the commit
        wait = max(due - time.monotonic(), 0.0)
    return Booking(wait, at, due, first.key)


def rebook(window: float, booking: Booking, late: float) -> bool:
    """The booked event happens `late` seconds after its moment: its row keeps it in the window
    that much longer, unless that row was booked again meanwhile. True when moved."""
    was = booking.at + timedelta(seconds=window)
    moved = RateSlot.objects.filter(key=booking.row, next_at=was)
    return bool(moved.update(next_at=was + timedelta(seconds=late)))


def next_free(key: str, count: int, now: datetime | None = None) -> float:
    """Seconds until reserve() under `key` could book a moment (0.0: now); books nothing."""
    first = RateSlot.objects.filter(key__in=_window_keys(key, count)).order_by("next_at").first()
    if first is None:
        return 0.0
    return max((first.next_at - (now or timezone.now())).total_seconds(), 0.0)


def try_take(key: str, count: int, window: float) -> float:
    """Allow `count` events per `window` seconds under `key`, at once or spread out.

    Returns 0 when taken, else seconds until the next event is allowed. The key's one timestamp
    is the moment its budget is spent up to (the generic cell rate algorithm): each event moves
    it one interval (window / count) on, and an event is allowed while it is less than the
    window minus one interval ahead. So a burst of `count` is fine, then one per interval.
    """
    interval = window / count
    with transaction.atomic():
        # get_or_create with the row lock: a racing creator makes this one wait, then reuse
        # the row; the clock is read after the lock, as in try_acquire().
        slot, _ = RateSlot.objects.select_for_update().get_or_create(key=key)
        now = timezone.now()
        spent_until = max(slot.next_at, now)
        wait = (spent_until - now).total_seconds() - (window - interval)
        if wait > 0:
            return wait
        slot.next_at = spent_until + timedelta(seconds=interval)
        slot.save(update_fields=["next_at"])
    return 0.0


def _ensure(keys: list[str]) -> None:
    existing = set(RateSlot.objects.filter(key__in=keys).values_list("key", flat=True))
    for key in keys:
        if key not in existing:
            try:
                with transaction.atomic():
                    RateSlot.objects.create(key=key, next_at=FREE_SINCE)
            except IntegrityError:
                pass  # another process created it first
