from __future__ import annotations

import time
from datetime import timedelta

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
