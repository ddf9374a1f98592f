"""The 5 requests/s ceiling per panel, shared across processes, and the back-off on HTTP 429."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from fakes.panel import FakePanel
from panelrelay.core.models import RateSlot
from panelrelay.panels.adapters.base import PanelError
from panelrelay.panels.adapters.client import PANEL_RATE, PANEL_WINDOW
from panelrelay.panels.tests.conftest import KEY

REPO = Path(__file__).resolve().parents[3]


@pytest.mark.django_db
def test_it_backs_off_on_429_and_then_succeeds(fake: FakePanel, make_adapter) -> None:
    fake.add_order(1)
    fake.inject("status", status=429, times=2, headers={"Retry-After": "0.3"}, body={"error_code": 429})
    adapter = make_adapter()
    started = time.monotonic()
    assert adapter.get_order("1") is not None
    assert time.monotonic() - started >= 0.6  # waited out both Retry-After headers
    assert len(fake.received) == 3
    assert RateSlot.objects.filter(key__startswith=adapter.rate_key + "#").count() == PANEL_RATE


@pytest.mark.django_db
def test_it_gives_up_after_bounded_retries_with_a_temporary_error(fake: FakePanel, make_adapter) -> None:
    fake.inject("status", status=429, times=10, headers={"Retry-After": "0"}, body={"error_code": 429})
    with pytest.raises(PanelError) as err:
        make_adapter().get_order("1")
    assert err.value.kind == "rate_limited" and err.value.temporary and err.value.retry_after
    assert "HTTP 429" in str(err.value)
    assert len(fake.received) == 4  # the first try and three retries, then the caller's turn


@pytest.mark.django_db
def test_it_recovers_from_the_panels_own_limit(fake: FakePanel, make_adapter) -> None:
    fake.add_order(1)
    fake.rps = 2  # stricter than the documented 5/s: the panel answers 429 with Retry-After: 1
    adapter = make_adapter()
    assert all(adapter.get_order("1") is not None for _ in range(4))
    assert fake.stats()["rate_limited"] >= 1


@pytest.mark.django_db
def test_one_process_stays_under_5_per_second(fake: FakePanel, make_adapter) -> None:
    fake.add_order(1)
    adapter = make_adapter()
    started = time.monotonic()
    for _ in range(8):
        adapter.get_order("1")
    # Five may go at once, the next five a window after the first: 8 calls take at least one window.
    assert time.monotonic() - started >= PANEL_WINDOW * 0.95
    assert fake.stats()["rate_limited"] <= 1  # see the two-process test below


def _shared_database_url(tmp_path: Path) -> str:
    """A database both subprocesses reach: the test database itself on PostgreSQL, else a file."""
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
        return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    url = f"sqlite:///{tmp_path / 'shared.sqlite3'}"
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "core", "--noinput"],
        cwd=REPO,
        env=os.environ | {"DATABASE_URL": url, "DATA_DIR": str(settings.DATA_DIR)},
        check=True,
        capture_output=True,
    )
    return url


@pytest.mark.django_db(transaction=True)
def test_two_processes_together_stay_under_5_per_second(fake: FakePanel, tmp_path: Path) -> None:
    fake.add_order(10001)
    env = os.environ | {"DATABASE_URL": _shared_database_url(tmp_path), "DATA_DIR": str(settings.DATA_DIR)}
    rate_key = f"panel:{uuid.uuid4()}"
    n = 8
    cmd = [sys.executable, "-m", "panelrelay.panels.tests._limit_worker", fake.url, KEY, rate_key, str(n)]
    started = time.monotonic()
    procs = [subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in "ab"]
    outputs = [p.communicate(timeout=60) for p in procs]
    elapsed = time.monotonic() - started
    for proc, (out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err.decode()[-2000:]
        assert json.loads(out)["found"] == n
    # The window's margin (50 ms) absorbs how much later than booked a call reaches the panel;
    # on a loaded machine that can now and then exceed it: one 429 in 16 is handled (retried after
    # its Retry-After), more would mean the processes do not share the window.
    assert fake.stats()["rate_limited"] <= 1, "the panel saw more than 5 requests in some second"
    assert fake.stats()["order_by_id"] == 2 * n
    # Had each process kept its own window, 16 calls would take ~1 s; one shared window takes ≥ 3 of them.
    assert elapsed >= (2 * n - 1) // PANEL_RATE * PANEL_WINDOW * 0.95
