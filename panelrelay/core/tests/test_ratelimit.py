from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from django.db.models import F
from django.test import TestCase

from panelrelay.core import ratelimit
from panelrelay.core.models import RateSlot


class RateLimitTestCase(TestCase):
    def test_it_spaces_events_by_the_interval(self) -> None:
        self.assertEqual(ratelimit.try_acquire({"panel:a": 0.2}), 0.0)
        wait = ratelimit.try_acquire({"panel:a": 0.2})
        self.assertGreater(wait, 0.1)
        self.assertLessEqual(wait, 0.2)
        time.sleep(wait)
        self.assertEqual(ratelimit.try_acquire({"panel:a": 0.2}), 0.0)

    def test_it_takes_all_keys_or_none(self) -> None:
        ratelimit.try_acquire({"bot:1": 5})
        wait = ratelimit.try_acquire({"chat:9": 1, "bot:1": 5})
        self.assertGreater(wait, 4)
        self.assertEqual(ratelimit.try_acquire({"chat:9": 1}), 0.0)  # chat:9 was not taken above

    def test_keys_are_independent(self) -> None:
        ratelimit.try_acquire({"panel:a": 10})
        self.assertEqual(ratelimit.try_acquire({"panel:b": 10}), 0.0)

    def test_push_back_blocks_a_key_for_a_while(self) -> None:
        ratelimit.push_back("chat:1", 30)
        self.assertGreater(ratelimit.try_acquire({"chat:1": 1}), 29)

    def test_jitter_only_stretches_the_interval(self) -> None:
        ratelimit.try_acquire({"wa:1": 2}, jitter=0.5)
        wait = ratelimit.try_acquire({"wa:1": 2})
        self.assertGreater(wait, 1.9)
        self.assertLess(wait, 3.01)

    def test_acquire_blocks_until_free_and_gives_up_after_max_wait(self) -> None:
        ratelimit.acquire({"p": 0.15})
        started = time.monotonic()
        ratelimit.acquire({"p": 0.15})
        self.assertGreater(time.monotonic() - started, 0.1)
        ratelimit.push_back("p", 60)
        with pytest.raises(TimeoutError):
            ratelimit.acquire({"p": 0.15}, max_wait=0.5)

    def test_try_take_allows_a_burst_then_one_per_interval(self) -> None:
        for _ in range(3):
            self.assertEqual(ratelimit.try_take("acct:k", 3, 3600), 0.0)
        self.assertAlmostEqual(ratelimit.try_take("acct:k", 3, 3600), 1200, delta=2)
        # An interval later one more is allowed: move the key's clock back instead of waiting.
        RateSlot.objects.filter(key="acct:k").update(next_at=F("next_at") - timedelta(seconds=1200))
        self.assertEqual(ratelimit.try_take("acct:k", 3, 3600), 0.0)
        self.assertGreater(ratelimit.try_take("acct:k", 3, 3600), 1190)


class ReserveTestCase(TestCase):
    """reserve(): at most `count` events in any `window` seconds, on a simulated clock."""

    T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)

    def at(self, seconds: float) -> datetime:
        return self.T0 + timedelta(seconds=seconds)

    def test_a_full_window_at_once_then_one_more_as_each_leaves_it(self) -> None:
        waits = [ratelimit.reserve("panel:x", 5, 1.05, now=self.at(0)) for _ in range(5)]
        self.assertEqual(waits, [0.0] * 5)
        self.assertAlmostEqual(ratelimit.reserve("panel:x", 5, 1.05, now=self.at(0.3)), 0.75)
        self.assertAlmostEqual(ratelimit.next_free("panel:x", 5, now=self.at(0.3)), 1.05 - 0.3)

    def test_no_six_consecutive_bookings_fit_in_one_window(self) -> None:
        # A caller asking every 50 ms for 10 s: every booked moment, as a panel would count them.
        booked = []
        for step in range(200):
            now = self.at(step * 0.05)
            wait = ratelimit.reserve("panel:y", 5, 1.05, max_wait=1000, now=now)
            assert wait is not None
            booked.append(now + timedelta(seconds=wait))
        booked.sort()
        spans = [(booked[i + 5] - booked[i]).total_seconds() for i in range(len(booked) - 5)]
        self.assertGreaterEqual(min(spans), 1.05 - 1e-6)
        # …and the allowance is spent: 5 per 1.05 s from the first booking to the last.
        rate = (len(booked) - 1) / (booked[-1] - booked[0]).total_seconds()
        self.assertGreater(rate, 4.7)

    def test_a_booking_further_than_max_wait_books_nothing(self) -> None:
        for _ in range(5):
            ratelimit.reserve("panel:z", 5, 1.0, now=self.at(0))
        self.assertIsNone(ratelimit.reserve("panel:z", 5, 1.0, max_wait=0.5, now=self.at(0)))
        self.assertEqual(ratelimit.reserve("panel:z", 5, 1.0, max_wait=0.5, now=self.at(1.0)), 0.0)

    def test_push_back_blocks_the_whole_window(self) -> None:
        ratelimit.reserve("panel:w", 5, 1.0)
        ratelimit.push_back("panel:w", 30, count=5)
        wait = ratelimit.reserve("panel:w", 5, 1.0, max_wait=60)
        assert wait is not None
        self.assertGreater(wait, 29)

    def test_two_keys_are_independent(self) -> None:
        for _ in range(5):
            ratelimit.reserve("panel:a1", 5, 1.0, now=self.at(0))
        self.assertEqual(ratelimit.reserve("panel:b1", 5, 1.0, now=self.at(0)), 0.0)

    def test_a_late_event_keeps_its_place_in_the_window_longer(self) -> None:
        bookings = [ratelimit.book("panel:l", 5, 1.0, now=self.at(0)) for _ in range(5)]
        first = bookings[0]
        assert first is not None
        # The first call really went 0.3 s late: the sixth may go no sooner than 1.3 s.
        self.assertTrue(ratelimit.rebook(1.0, first, 0.3))
        self.assertAlmostEqual(ratelimit.reserve("panel:l", 5, 1.0, max_wait=5, now=self.at(0)), 1.0)
        self.assertAlmostEqual(ratelimit.reserve("panel:l", 5, 1.0, max_wait=5, now=self.at(0)), 1.0)
        self.assertAlmostEqual(ratelimit.reserve("panel:l", 5, 1.0, max_wait=5, now=self.at(0)), 1.0)
        self.assertAlmostEqual(ratelimit.reserve("panel:l", 5, 1.0, max_wait=5, now=self.at(0)), 1.0)
        self.assertAlmostEqual(ratelimit.reserve("panel:l", 5, 1.0, max_wait=5, now=self.at(0)), 1.3)
