"""The worker loop: claim, run, record, heartbeat, sleep when idle, stop cleanly."""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
import uuid

from django.conf import settings
from django.db import close_old_connections, connection
from django.db.models import F
from django.utils import timezone

from panelrelay.worker.models import Heartbeat
from panelrelay.worker.queue import claim, run_job, schedule_periodic
from panelrelay.worker.registry import STOPPING

log = logging.getLogger("panelrelay.worker")
HEARTBEAT_EVERY = 5.0


class Worker:
    def __init__(self, worker_id: str | None = None, idle_sleep: float | None = None) -> None:
        self.id = worker_id or f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.idle_sleep = settings.WORKER_IDLE_SLEEP if idle_sleep is None else idle_sleep
        self.stopping = threading.Event()
        self._beat_at = 0.0
        self._done = 0
        self._failed = 0

    def install_signal_handlers(self) -> None:
        def stop(signum: int, _frame: object) -> None:
            log.info("worker %s: %s received, finishing the current step", self.id, signal.Signals(signum).name)
            self.stopping.set()
            STOPPING.set()  # a send in flight completes and is recorded; long jobs yield after their step

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)

    def heartbeat(self, force: bool = False, stopped: bool = False) -> None:
        if not force and time.monotonic() - self._beat_at < HEARTBEAT_EVERY:
            return
        self._beat_at = time.monotonic()
        done, failed, self._done, self._failed = self._done, self._failed, 0, 0
        updated = Heartbeat.objects.filter(worker_id=self.id).update(
            last_seen=timezone.now(),
            jobs_done=F("jobs_done") + done,
            jobs_failed=F("jobs_failed") + failed,
            stopped=stopped,
        )
        if not updated:
            Heartbeat.objects.create(
                worker_id=self.id,
                hostname=socket.gethostname()[:100],
                pid=os.getpid(),
                jobs_done=done,
                jobs_failed=failed,
            )

    def run_once(self) -> int:
        """Schedule periodic tasks, then claim and run one batch. Returns how many jobs ran."""
        schedule_periodic()
        jobs = claim(self.id, limit=1)
        for job in jobs:
            if run_job(job, self.id):
                self._done += 1
            else:
                self._failed += 1
        return len(jobs)

    def run(self, burst: bool = False, max_seconds: float | None = None) -> None:
        """Work until stopped; with burst=True, until no job is due."""
        log.info("worker %s started", self.id)
        deadline = time.monotonic() + max_seconds if max_seconds else None
        self.heartbeat(force=True)
        try:
            while not self.stopping.is_set():
                if deadline and time.monotonic() > deadline:
                    break
                if not connection.in_atomic_block:  # inside a test's transaction it would close it
                    close_old_connections()
                try:
                    ran = self.run_once()
                except Exception:  # a database hiccup: log, wait, try again rather than die
                    log.exception("worker %s: loop error, pausing", self.id)
                    ran = 0
                    self.stopping.wait(max(self.idle_sleep, 2.0))
                self.heartbeat()
                if not ran:
                    if burst:
                        break
                    self.stopping.wait(self.idle_sleep)
        finally:
            self.heartbeat(force=True, stopped=True)
            log.info("worker %s stopped", self.id)
