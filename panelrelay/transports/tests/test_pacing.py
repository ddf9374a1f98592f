"""Pacing is shared by every process: 100 messages to one Telegram group from two workers never
go faster than Telegram's limits, and Telegram never has to answer 429.

The limits are scaled down 25 times (120 ms instead of 3 s per group message) so the test takes
seconds; FakeTelegram enforces the same limits, scaled the same way, somewhat stricter: a message
leaves a little after its slot was taken, and on a busy machine "a little" can be 100 ms.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest
from django.conf import settings
from django.db import connection as db
from django.db import connections
from django.test import override_settings

from panelrelay.transports.base import TransportError
from panelrelay.transports.integrations import transport_for
from panelrelay.transports.models import Destination
from panelrelay.transports.services import deliver
from panelrelay.transports.tests.helpers import GROUP, connection, destination, telegram_fake

GROUP_INTERVAL = 0.12  # Telegram: 3 s (20 messages a minute per group)
PACING_VALUES = {
    "PACING_TELEGRAM_GROUP_SECONDS": GROUP_INTERVAL,
    "PACING_TELEGRAM_PRIVATE_SECONDS": GROUP_INTERVAL / 3,
    "PACING_TELEGRAM_BOT_SECONDS": 0.002,
}
PACING = override_settings(**PACING_VALUES)


def strict_fake():
    # 20 per 2.0 s where we pace 20 per 2.4 s, and one per 30 ms per chat: a burst fails with 429.
    fake = telegram_fake(chat_limit=1, chat_window=GROUP_INTERVAL / 4, group_limit=20, group_window=2.0,
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
    assert min(gaps) >= GROUP_INTERVAL / 4, f"two messages {min(gaps):.3f} s apart"
    assert times[-1] - times[0] >= (count - 1) * GROUP_INTERVAL * 0.9


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
            subprocess.Popen([*command, f"w{i}", str(group.pk), "50"], env=env, stdout=subprocess.PIPE, text=True)
            for i in range(2)
        ]
        outputs = [worker.communicate(timeout=90)[0] for worker in workers]
        assert [json.loads(out.strip().splitlines()[-1]) for out in outputs] == [[], []]
        assert_paced(fake, 100)
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
