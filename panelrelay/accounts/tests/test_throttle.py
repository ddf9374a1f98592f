"""The client address the throttles count, and counting under parallel requests."""

from __future__ import annotations

import threading
from datetime import timedelta

from django.contrib.auth.backends import ModelBackend
from django.db import connections
from django.test import Client, RequestFactory, SimpleTestCase, TestCase, TransactionTestCase, override_settings
from django.utils import timezone

from panelrelay.accounts import throttle
from panelrelay.accounts.models import LoginFailure
from panelrelay.core import ratelimit
from panelrelay.core.models import RateSlot
from panelrelay.core.testing import make_user


class ClientAddressTestCase(SimpleTestCase):
    def ip(self, remote: str = "127.0.0.1", forwarded: str | None = None) -> str | None:
        extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
        return throttle.client_ip(RequestFactory().get("/", REMOTE_ADDR=remote, **extra))

    def test_without_trusted_proxies_the_header_is_ignored(self) -> None:
        self.assertEqual(self.ip("198.51.100.4", "203.0.113.9"), "198.51.100.4")

    @override_settings(TRUSTED_PROXY_COUNT=1)
    def test_one_proxy_the_last_entry_is_the_client_and_what_it_wrote_is_ignored(self) -> None:
        self.assertEqual(self.ip(forwarded="203.0.113.9"), "203.0.113.9")
        self.assertEqual(self.ip(forwarded="10.9.9.9, 203.0.113.9"), "203.0.113.9")

    @override_settings(TRUSTED_PROXY_COUNT=2)
    def test_two_proxies_the_second_entry_from_the_right(self) -> None:
        self.assertEqual(self.ip(forwarded="1.1.1.1, 203.0.113.9, 10.0.0.5"), "203.0.113.9")

    @override_settings(TRUSTED_PROXY_COUNT=2)
    def test_a_request_that_skipped_a_proxy_or_a_bad_entry_falls_back_to_the_peer(self) -> None:
        self.assertEqual(self.ip("192.0.2.1", "203.0.113.9"), "192.0.2.1")
        self.assertEqual(self.ip("192.0.2.1", "bogus, 10.0.0.5"), "192.0.2.1")
        self.assertEqual(self.ip("192.0.2.1", ""), "192.0.2.1")

    def test_ipv6_clients_are_counted_by_their_64_network(self) -> None:
        self.assertEqual(self.ip("2001:db8:1:2:aaaa::1"), self.ip("2001:db8:1:2:bbbb::2"))
        self.assertEqual(self.ip("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::")
        self.assertEqual(self.ip("::ffff:198.51.100.4"), "198.51.100.4")


class PruneTestCase(TestCase):
    def test_prune_forgets_old_failures_and_idle_slots_of_its_own_only(self) -> None:
        long_ago = timezone.now() - timedelta(days=2)
        LoginFailure.objects.create(username="a@x.org", ip="10.0.0.1", at=long_ago)
        LoginFailure.objects.create(username="a@x.org", ip="10.0.0.1")
        throttle.take("reset-ip", "10.0.0.1", 3)
        RateSlot.objects.create(key="acct:reset-ip:old", next_at=long_ago)
        RateSlot.objects.create(key="panel:old", next_at=long_ago)
        self.assertEqual(throttle.prune(), 2)
        self.assertEqual(LoginFailure.objects.count(), 1)
        kept = set(RateSlot.objects.values_list("key", flat=True))
        self.assertEqual(kept, {throttle._key("reset-ip", "10.0.0.1"), "panel:old"})


class GatedBackend(ModelBackend):
    """Holds every password check until all requests have reached a check or been refused.

    That makes the checks overlap as much as they possibly can, with no sleep: a throttle
    that counted after the check would let every request through to it.
    """

    lock = threading.Condition()
    expected = 0
    checking = 0
    refused = 0

    def authenticate(self, request, **credentials):
        cls = GatedBackend
        with cls.lock:
            cls.checking += 1
            cls.lock.notify_all()
            cls.lock.wait_for(lambda: cls.checking + cls.refused >= cls.expected, timeout=60)
        return super().authenticate(request, **credentials)

    @classmethod
    def was_refused(cls) -> None:
        with cls.lock:
            cls.refused += 1
            cls.lock.notify_all()


def in_parallel(count: int, work) -> list:
    results: list = [None] * count

    def run(n: int) -> None:
        try:
            results[n] = work(n)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


class ParallelCountingTestCase(TransactionTestCase):
    @override_settings(AUTHENTICATION_BACKENDS=[f"{__name__}.GatedBackend"])
    def test_parallel_wrong_passwords_get_no_more_checks_than_the_limit(self) -> None:
        make_user("alice@example.org")
        GatedBackend.expected, GatedBackend.checking, GatedBackend.refused = 40, 0, 0

        def guess(n: int) -> int:
            r = Client().post(
                "/accounts/login/", {"email": "alice@example.org", "password": f"guess {n}"}, REMOTE_ADDR="10.0.0.1"
            )
            if r.status_code == 429:
                GatedBackend.was_refused()
            return r.status_code

        statuses = in_parallel(40, guess)
        self.assertEqual((statuses.count(200), statuses.count(429)), (5, 35))
        self.assertEqual(GatedBackend.checking, 5)
        self.assertEqual(LoginFailure.objects.count(), 5)

    @override_settings(AUTHENTICATION_BACKENDS=[f"{__name__}.GatedBackend"], LOGIN_THROTTLE_PER_IP=5)
    def test_parallel_stuffing_gets_no_more_direct_answers_than_the_address_limit(self) -> None:
        GatedBackend.expected, GatedBackend.checking, GatedBackend.refused = 30, 0, 0

        def stuff(n: int) -> bytes:
            r = Client().post(
                "/accounts/login/", {"email": f"user{n}@example.org", "password": "leaked"}, REMOTE_ADDR="10.0.0.1"
            )
            return r.content

        pages = in_parallel(30, stuff)
        direct = [page for page in pages if b"Email or password is not correct." in page]
        by_email = [page for page in pages if b"a sign-in link is on its way" in page]
        self.assertEqual((len(direct), len(by_email)), (5, 25))

    def test_parallel_takes_never_exceed_the_hourly_count(self) -> None:
        waits = in_parallel(20, lambda n: ratelimit.try_take("acct:test", 3, 3600))
        self.assertEqual(waits.count(0.0), 3)
