"""The worker as an operator runs it: a process that stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_the_worker_command_stops_cleanly_on_sigterm(tmp_path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    db = tmp_path / "w.sqlite3"
    env.update(DATA_DIR=str(tmp_path), DATABASE_URL=f"sqlite:///{db}", WORKER_IDLE_SLEEP_MS="50")
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=120)
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "worker", "--id", "sig-test"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            rows = (
                sqlite3.connect(db)
                .execute("select count(*) from worker_heartbeat where worker_id='sig-test'")
                .fetchone()
            )
            if rows[0]:
                break
            time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, out
    assert "SIGTERM received" in out
    stopped = sqlite3.connect(db).execute("select stopped from worker_heartbeat where worker_id='sig-test'").fetchone()
    assert stopped == (1,)
