"""Kill the worker with SIGKILL 50 times at random moments and 5 times on purpose, during a
1,000-id request.

Worker processes run against their own database (a SQLite file, or a fresh PostgreSQL database
when the suite runs on PostgreSQL) and the loopback fakes in this process. At the end every
order must be final and none lost, wherever the random kills fell. The window that matters most,
between a send and its record, is not left to luck: the fault point `forwarding.after_send`
kills a worker right there five times (core/faults.py, one token file per kill). The Bot API
cannot say whether such a send arrived, so the resend must start with the "possible repeat"
line: no message may reach the provider twice without it.
"""

from __future__ import annotations

import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from django.db import connection

from fakes.panel import FakePanel
from fakes.telegram import FakeTelegram

ROOT = Path(__file__).resolve().parents[3]
KILLS = 50
IDS = 1000
PROVIDERS = 30
# Each Bot API call takes this long, so random kills also land mid-send now and then.
SEND_LATENCY = 0.3
FAULT_KILLS = 5  # kills right after a send and before its record, on purpose
REPEAT = "⚠️ POSSIBLE REPEAT"

SETUP = """
import os, django
django.setup()
from panelrelay.accounts.models import Workspace
from panelrelay.demo import scenario
from panelrelay.forwarding.submit import create_request
from panelrelay.forwarding.models import Command, ForwardingSettings
ws = Workspace.objects.create(name="crash")
ForwardingSettings.objects.create(workspace=ws, include_panel_ids=True)
panel = scenario.panel(ws, os.environ["FAKE_PANEL"])
tg = scenario.telegram(ws, os.environ["FAKE_TELEGRAM"])
for n in range(%(providers)d):
    dest = scenario.destination(tg, f"group {n}", "tg_group", str(-1000 - n))
    scenario.route(scenario.provider(ws, f"prov{n}.example", f"P{n}"), dest)
ids = [str(60000 + i) for i in range(%(ids)d)]
create_request(ws, panel, Command.for_workspace(ws)[0], ids)
"""


class CrashDB:
    """The workers' database, and plain SQL on it from this process."""

    def __init__(self, tmp_path: Path) -> None:
        self.pg = connection.vendor == "postgresql"
        if self.pg:
            import psycopg

            settings = connection.settings_dict
            self.name = f"crash_{os.getpid()}"
            self.dsn = dict(host=settings["HOST"] or "127.0.0.1", port=settings["PORT"] or 5432, user=settings["USER"])
            with psycopg.connect(dbname="postgres", autocommit=True, **self.dsn) as admin:
                admin.execute(f"DROP DATABASE IF EXISTS {self.name}")
                admin.execute(f"CREATE DATABASE {self.name}")
            self.url = f"postgres://{self.dsn['user']}@{self.dsn['host']}:{self.dsn['port']}/{self.name}"
        else:
            self.path = tmp_path / "crash.sqlite3"
            self.url = f"sqlite:///{self.path}"

    def rows(self, sql: str) -> list[tuple]:
        if self.pg:
            import psycopg

            with psycopg.connect(dbname=self.name, **self.dsn) as conn:
                return list(conn.execute(sql).fetchall())
        with sqlite3.connect(self.path, timeout=30) as conn:
            return list(conn.execute(sql).fetchall())

    def drop(self) -> None:
        if self.pg:
            import psycopg

            with psycopg.connect(dbname="postgres", autocommit=True, **self.dsn) as admin:
                admin.execute(f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)")


@pytest.fixture
def crash_db(tmp_path):
    db = CrashDB(tmp_path)
    yield db
    db.drop()


def _env(db: CrashDB, tmp_path: Path, panel: FakePanel, telegram: FakeTelegram) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE")}
    tokens = tmp_path / "fault-tokens"
    tokens.mkdir()
    for n in range(FAULT_KILLS):
        (tokens / f"token-{n}").touch()
    env.update(
        PANELRELAY_FAULT_KILL=f"forwarding.after_send:{tokens}",
        DATABASE_URL=db.url, DATA_DIR=str(tmp_path), FAKE_PANEL=panel.url, FAKE_TELEGRAM=telegram.url,
        DJANGO_SETTINGS_MODULE="panelrelay.settings", WORKER_LEASE_SECONDS="2", WORKER_IDLE_SLEEP_MS="20",
        RETRY_BASE_SECONDS="1", LOG_LEVEL="WARNING",
    )  # fmt: skip
    return env


def _worker(env: dict[str, str], n: int) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "manage.py", "worker", "--id", f"crash-{n}"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip


@pytest.mark.django_db
def test_killing_the_worker_50_times_loses_nothing(crash_db, tmp_path) -> None:
    rng = random.Random(int(os.environ.get("CRASH_SEED", "7")))
    with FakePanel(rps=5) as panel, FakeTelegram(strict_limits=False, latency=SEND_LATENCY) as telegram:
        telegram.add_bot("123456:DEMO", id=123456, username="panelrelay_demo_bot")  # scenario.telegram()'s token
        for n in range(PROVIDERS):
            telegram.add_chat(-1000 - n, type="supergroup", title=f"group {n}")
        for i in range(IDS):
            panel.add_order(id=60000 + i, provider=f"prov{i % PROVIDERS}.example", external_id=str(8_000_000 + i))
        env = _env(crash_db, tmp_path, panel, telegram)
        subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=300)
        subprocess.run([sys.executable, "-c", SETUP % {"providers": PROVIDERS, "ids": IDS}], cwd=ROOT, env=env,
                       check=True, timeout=120)  # fmt: skip

        # Two workers overlap, so the one killed has had time to boot and is usually mid-work
        # (a lone worker killed 0.2-1.6 s after its start mostly died while importing Django).
        alive = [_worker(env, 0)]
        for n in range(KILLS):
            alive.append(_worker(env, n + 1))
            time.sleep(rng.uniform(0.2, 1.6))
            victim = alive.pop(0)
            victim.send_signal(signal.SIGKILL)
            victim.wait(timeout=10)

        [final] = alive
        try:
            deadline = time.monotonic() + 180
            while time.monotonic() < deadline:
                open_orders = crash_db.rows(
                    "SELECT count(*) FROM forwarding_requestorder WHERE state NOT IN ('sent','skipped','failed')"
                )[0][0]
                if not open_orders:
                    break
                if final.poll() is not None:  # a placed kill took it: start the next one, as systemd would
                    final = _worker(env, KILLS + 1)
                time.sleep(0.5)
        finally:
            final.send_signal(signal.SIGTERM)
            final.wait(timeout=30)
        received = [m["text"] for m in telegram.sent]

    states = dict(crash_db.rows("SELECT state, count(*) FROM forwarding_requestorder GROUP BY state"))
    assert states == {"sent": IDS}, states
    interrupted = crash_db.rows("SELECT count(*) FROM forwarding_attempt WHERE error_kind = 'interrupted'")[0][0]
    messages = crash_db.rows("SELECT count(*) FROM forwarding_message WHERE state = 'sent'")[0][0]

    ids_seen = Counter(int(x) for text in received for x in re.findall(r"^(\d+) \(order", text, re.M))
    assert set(ids_seen) == {8_000_000 + i for i in range(IDS)}, "every external id reached Telegram"
    duplicate_messages = len(received) - messages
    print(f"\ncrash test: {KILLS} random + {FAULT_KILLS} placed SIGKILLs, {messages} messages, {len(received)} "
          f"deliveries, {duplicate_messages} duplicate deliveries, {interrupted} interrupted attempts")  # fmt: skip
    assert not list((tmp_path / "fault-tokens").iterdir()), "every placed kill happened"
    assert interrupted >= FAULT_KILLS, "each kill between a send and its record left an interrupted attempt"
    assert duplicate_messages <= interrupted, "a duplicate without a kill between send and record"
    # No provider is asked twice silently: beside the first, every copy says it may be a repeat.
    unmarked = Counter(text for text in received if not text.startswith(REPEAT))
    assert max(unmarked.values()) == 1, "a message arrived twice without the repeat line"
    marked = [text for text in received if text.startswith(REPEAT)]
    assert len(marked) >= FAULT_KILLS
    sent_texts = {row[0] for row in crash_db.rows("SELECT text FROM forwarding_message WHERE state = 'sent'")}
    assert {text.split("\n", 1)[1] if text.startswith(REPEAT) else text for text in received} == sent_texts
    # The orders of a message sent after an interrupted send tell the owner it may have arrived twice.
    told = crash_db.rows("SELECT count(*) FROM forwarding_requestorder WHERE reason LIKE '%may have arrived twice%'")
    should = crash_db.rows(
        "SELECT count(*) FROM forwarding_requestorder WHERE message_id IN "
        "(SELECT message_id FROM forwarding_attempt WHERE error_kind = 'interrupted')"
    )
    assert told == should and told[0][0] > 0


@pytest.mark.django_db
def test_a_stop_between_a_send_and_its_record_still_records_it(crash_db, tmp_path) -> None:
    """A deploy's SIGTERM lands right after a send (fault point): the worker records it, then exits 0."""
    with FakePanel() as panel, FakeTelegram(strict_limits=False) as telegram:
        telegram.add_bot("123456:DEMO", id=123456, username="panelrelay_demo_bot")
        for n in range(2):
            telegram.add_chat(-1000 - n, type="supergroup", title=f"group {n}")
        for i in range(10):
            panel.add_order(id=60000 + i, provider=f"prov{i % 2}.example", external_id=str(8_000_000 + i))
        env = _env(crash_db, tmp_path, panel, telegram)
        env.pop("PANELRELAY_FAULT_KILL")
        terms = tmp_path / "term-tokens"
        terms.mkdir()
        (terms / "token-0").touch()
        env["PANELRELAY_FAULT_TERM"] = f"forwarding.after_send:{terms}"
        subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=300)
        subprocess.run([sys.executable, "-c", SETUP % {"providers": 2, "ids": 10}], cwd=ROOT, env=env,
                       check=True, timeout=120)  # fmt: skip
        worker = _worker(env, 0)
        try:
            code = worker.wait(timeout=120)  # it stops by itself: the fault point sent it SIGTERM
        finally:
            if worker.poll() is None:
                worker.kill()
        assert code == 0
        assert not list(terms.iterdir()), "the stop arrived between a send and its record"
        first = crash_db.rows("SELECT ok, error_kind FROM forwarding_attempt ORDER BY id")
        assert first[0] in ((True, ""), (1, "")), first  # PostgreSQL says True, SQLite 1
        assert crash_db.rows("SELECT count(*) FROM forwarding_attempt WHERE ok IS NULL")[0][0] == 0
        # The worker runs up to WORKER_THREADS jobs at once: the other group's send, running beside
        # the stopped one, finishes too. Every message that went out is recorded as sent, once.
        recorded = crash_db.rows("SELECT count(*) FROM forwarding_attempt WHERE ok")[0][0]
        assert 1 <= len(telegram.sent) == recorded, "the stopped worker recorded every message it sent"
        assert len({m["chat_id"] for m in telegram.sent}) == len(telegram.sent), "nothing sent twice"
