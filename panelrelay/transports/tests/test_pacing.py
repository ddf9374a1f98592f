"""Pacing is shared by every process: 50 messages to one Telegram group from two workers never
go faster than Telegram's limits, and Telegram never has to answer 429.

The limits are scaled down so the test takes seconds (a group's 20 per 60 s become 20 per 4 s, its
one a second 150 ms); FakeTelegram enforces them with room for scheduling delays (20 per 2.5 s,
one per 30 ms): a message leaves a little after its slot was taken, and on a busy machine (two
suites at once) "a little" reached a second. The budget itself is checked on a simulated clock (no sleeping).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection as db
from django.db import connections
from django.test import override_settings
from django.utils import timezone

from panelrelay.transports.base import TransportError
from panelrelay.transports.integrations import transport_for
from panelrelay.transports.models import Destination
from panelrelay.transports.services import deliver
from panelrelay.transports.tests.helpers import GROUP, USER, connection, destination, telegram_fake

GROUP_INTERVAL = 0.2  # Telegram: 3 s (20 messages a minute per group, on average)
GROUP_WINDOW = 20 * GROUP_INTERVAL  # Telegram: 60 s
CHAT_GAP = 0.15  # Telegram: 1 s
GROUP_SLACK = GROUP_WINDOW - 1.5  # the window the fake enforces: 20 per 2.5 s
PACING_VALUES = {
    "PACING_TELEGRAM_GROUP_SECONDS": GROUP_INTERVAL,
    "PACING_TELEGRAM_GROUP_GAP_SECONDS": CHAT_GAP,
    "PACING_TELEGRAM_PRIVATE_SECONDS": CHAT_GAP,
    "PACING_TELEGRAM_BOT_SECONDS": 0.002,
}
PACING = override_settings(**PACING_VALUES)


def strict_fake():
    # 20 per 2.5 s where we pace 20 per 4 s, one per 30 ms per chat where we pace one per 150 ms: a
    # burst without pacing breaks both at once, a late wake-up of up to ~1 s breaks neither.
    fake = telegram_fake(chat_limit=1, chat_window=CHAT_GAP / 5, group_limit=20, group_window=GROUP_SLACK,
                         bot_limit=30, bot_window=0.06)  # fmt: skip
    fake.strict_limits = True
    return fake


def send_all(destination_pk: int, name: str, count: int, errors: list[str]) -> None:
    """One worker: deliver `count` messages, waiting whenever the shared pacing says so."""
    try:
        target = Destination.objects.select_related("connection", "workspace").get(pk=destination_pk)
        transport_for(target.connection).check()  # a warm HTTP client, as in a running worker
        for n in range(count):
            while True:
                try:
                    deliver(target, f"{name} {n}")
                    break
                except TransportError as exc:
                    if not exc.local:
                        errors.append(f"{name} {n}: {exc.kind} {exc}")
                        return
                    time.sleep(exc.retry_after)
    finally:
        connections.close_all()


def assert_paced(fake, count: int) -> None:
    sent = fake.messages_to(GROUP)
    assert len(sent) == count
    assert len(fake.requests_to("sendMessage")) == count, "every request was accepted: no 429"
    times = sorted(m["at"] for m in sent)
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert min(gaps) >= CHAT_GAP / 5, f"two messages {min(gaps):.3f} s apart"
    # The budget: a burst of 20, then the 21st waits for the window of the 1st to pass.
    fullest = max(sum(1 for t in times if start <= t < start + GROUP_SLACK) for start in times)
    assert fullest <= 20, f"{fullest} messages within {GROUP_SLACK:.2f} s"
    assert times[-1] - times[0] >= (count - 1) // 20 * GROUP_WINDOW * 0.9


def database_url() -> str:
    """The URL of the database this test runs on (pytest-django's test_… database)."""
    db_settings = db.settings_dict
    auth = db_settings["USER"] + (f":{db_settings['PASSWORD']}" if db_settings["PASSWORD"] else "")
    return f"postgres://{auth}@{db_settings['HOST'] or '127.0.0.1'}:{db_settings['PORT'] or 5432}/{db_settings['NAME']}"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_worker_processes_never_send_faster_than_the_limits() -> None:
    if db.vendor != "postgresql":
        pytest.skip("PostgreSQL-only: two processes need one database server (CI runs the suite with DATABASE_URL)")
    from panelrelay.accounts.models import Workspace

    with strict_fake() as fake:
        bot = connection(Workspace.objects.create(name="Pacing"), "telegram", fake)
        group = destination(bot, GROUP)
        env = {**os.environ, "DATABASE_URL": database_url(), "PACING": json.dumps(PACING_VALUES),
               "FERNET_KEYS": ",".join(settings.FERNET_KEYS), "INDEX_KEY": settings.INDEX_KEY,
               "SECRET_KEY": settings.SECRET_KEY}  # fmt: skip
        command = [sys.executable, "-m", "panelrelay.transports.tests.pacing_worker"]
        workers = [
            subprocess.Popen([*command, f"w{i}", str(group.pk), "25"], env=env, stdout=subprocess.PIPE, text=True)
            for i in range(2)
        ]
        outputs = [worker.communicate(timeout=90)[0] for worker in workers]
        assert [json.loads(out.strip().splitlines()[-1]) for out in outputs] == [[], []]
        assert_paced(fake, 50)
        senders = {m["text"].split()[0] for m in fake.messages_to(GROUP)}
        assert senders == {"w0", "w1"}, "both workers sent"


@pytest.mark.django_db
@PACING
def test_one_worker_waits_for_its_slot_between_messages() -> None:
    from panelrelay.accounts.models import Workspace

    with strict_fake() as fake:
        bot = connection(Workspace.objects.create(name="Pacing"), "telegram", fake)
        group = destination(bot, GROUP)
        errors: list[str] = []
        send_all(group.pk, "w0", 22, errors)
        assert errors == []
        assert_paced(fake, 22)


@pytest.mark.django_db
def test_a_group_spends_its_minute_budget_one_second_apart_then_waits_for_the_window() -> None:
    """Bot FAQ: 20 a minute per group, about one a second per chat, 30 a second per bot. Two parts
    to one group go a second apart (not 3 s); the 21st in a minute waits for the 1st to age out."""
    from panelrelay.accounts.models import Workspace
    from panelrelay.transports import pacing
    from panelrelay.transports.integrations.telegram.transport import TelegramTransport

    with telegram_fake() as fake:
        bot = connection(Workspace.objects.create(name="Budget"), "telegram", fake)
        keys, jitter = TelegramTransport(bot).pacing(str(GROUP))
        start = timezone.now()

        def at(seconds: float) -> float:
            return pacing.try_acquire(keys, jitter, now=start + timedelta(seconds=seconds))

        assert at(0) == 0
        assert at(0.5) == pytest.approx(0.5), "one a second per chat"
        assert at(1.0) == 0, "the second part a second after the first"
        for second in range(2, 20):
            assert at(second) == 0, f"message {second + 1} of the minute"
        assert at(20) == pytest.approx(40), "the 21st waits until the first is a minute old"
        assert at(59.9) == pytest.approx(0.1)
        assert at(60) == 0
        assert at(61) == 0, "the second slot of the minute frees at 61 s"
        assert at(61.5) == pytest.approx(0.5)
        assert at(62.2) == 0
        assert at(62.8) > 0

        private, _ = TelegramTransport(bot).pacing(str(USER))
        assert not any(isinstance(v, pacing.Budget) for v in private.values()), "a private chat has no group budget"
        later = start + timedelta(seconds=100)  # the bot's own slot (30 a second) is shared with the group's
        assert pacing.try_acquire(private, now=later) == 0
        assert pacing.try_acquire(private, now=later + timedelta(seconds=0.9)) == pytest.approx(0.1)


@pytest.mark.django_db
def test_whatsapp_keeps_its_slow_jittered_pace() -> None:
    """The anti-ban pace stays slow on purpose: no budget, a gap of 100–150 % of the connection's pace."""
    from fakes.waha import FakeWAHA
    from panelrelay.accounts.models import Workspace
    from panelrelay.transports import pacing
    from panelrelay.transports.integrations import transport_for
    from panelrelay.transports.tests.helpers import WA_GROUP

    with FakeWAHA() as fake:
        wa = connection(Workspace.objects.create(name="WA"), "waha", fake)
        keys, jitter = transport_for(wa).pacing(WA_GROUP)
        assert list(keys.values()) == [wa.pace_seconds] and jitter == pacing.value("PACING_WHATSAPP_JITTER") > 0
        start = timezone.now()
        assert pacing.try_acquire(keys, jitter, now=start) == 0
        wait = pacing.try_acquire(keys, jitter, now=start)
        assert wa.pace_seconds <= wait <= wa.pace_seconds * (1 + jitter)


@pytest.mark.django_db
def test_a_sender_sleeps_through_a_short_wait_and_hands_back_a_long_one() -> None:
    """The bot's 30 a second between two workers' sends is slept (a re-queued delivery costs more,
    and a one-thread worker would only come back to it after its lookup); a chat's second is not."""
    from panelrelay.transports import pacing

    short = {"bench:bot": 0.05}
    assert pacing.take(short) == 0
    assert pacing.take(short) == 0, "50 ms later the slot was taken, not refused"
    long = {"bench:chat": 5.0}
    assert pacing.take(long) == 0
    assert 4 < pacing.take(long) <= 5, "a long wait is handed back at once, for the job to retry"
    ring = {"bench:ring": pacing.Budget(1, 60)}
    assert pacing.take(ring) == 0
    assert pacing.take(ring, patience=0.01) > 59


@pytest.mark.django_db
def test_a_chats_gap_counts_from_the_end_of_the_send() -> None:
    """The slot is taken before the send; Telegram counts from the arrival. After the send the
    chat's next slot is a full gap from then, so a late send and an on-time one never arrive
    closer than a second (a 429 from the strict fake before; the bot's 33 ms is left alone)."""
    from panelrelay.accounts.models import Workspace
    from panelrelay.core.models import RateSlot
    from panelrelay.transports import pacing
    from panelrelay.transports.integrations.telegram.transport import TelegramTransport

    with telegram_fake() as fake:
        fake.latency = 0.3  # a slow send: the slot was taken 0.3 s before the message arrived
        bot = connection(Workspace.objects.create(name="Gap"), "telegram", fake)
        group = destination(bot, GROUP)
        keys, _ = TelegramTransport(bot).pacing(str(GROUP))
        chat = next(key for key in keys if key.startswith("tg-chat:"))
        deliver(group, "first")
        done = timezone.now()
        gap = pacing.value("PACING_TELEGRAM_GROUP_GAP_SECONDS")
        assert RateSlot.objects.get(key=chat).next_at >= done + timedelta(seconds=gap - 0.05)
