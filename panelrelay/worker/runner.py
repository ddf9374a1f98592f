"""The worker loop: claim, run, record, heartbeat, sleep when idle, stop cleanly.

A worker runs up to WORKER_THREADS claimed jobs at once, each in a thread of its own: a job that
waits (a panel's rate window, a chat's pacing, an HTTP answer) never keeps the worker from
another panel's lookup or a message that is ready to go. Processes add CPU; threads add waiting.
With every thread busy, up to EXPRESS_SLOTS short jobs (registry.EXPRESS: deliveries) may run
beside them: four panels' lookups on four threads still send their full parts as they fill.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
import uuid

from django.conf import settings
from django.db import close_old_connections, connection, connections
from django.db.models import F
from django.utils import timezone

from panelrelay.worker.models import Heartbeat, Job
from panelrelay.worker.queue import claim, run_job, schedule_periodic
from panelrelay.worker.registry import EXPRESS, STOPPING, set_spare_check

log = logging.getLogger("panelrelay.worker")
HEARTBEAT_EVERY = 5.0
# Deliveries that may run beside busy threads. A send mostly waits (the database, the HTTP answer),
# so two overlap: with four lookup threads on a busy machine one slot sent a part every ~0.3 s and
# twenty full parts lagged 1.1-1.6 s on average behind their writing; two: 0.5-0.65 s.
EXPRESS_SLOTS = 2


class Worker:
    def __init__(
        self, worker_id: str | None = None, idle_sleep: float | None = None, threads: int | None = None
    ) -> None:
        self.id = worker_id or f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.idle_sleep = settings.WORKER_IDLE_SLEEP if idle_sleep is None else idle_sleep
        self.threads = max(settings.WORKER_THREADS if threads is None else threads, 1)
        self.stopping = threading.Event()
        self._wake = threading.Event()  # a job thread finished: its slot is free
        self._scheduled_at = -1.0
        self._counts = threading.Lock()
        self._active = 0  # jobs running in this worker's threads now
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
        with self._counts:
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
        """Work until stopped; with burst=True, until no job is due (and none is running)."""
        log.info("worker %s started", self.id)
        deadline = time.monotonic() + max_seconds if max_seconds else None
        self.heartbeat(force=True)
        if self.threads > 1 and not connection.in_atomic_block:  # a test's transaction: one job at a time
            try:
                self._run_threads(burst, deadline)
            finally:
                self.heartbeat(force=True, stopped=True)
                log.info("worker %s stopped", self.id)
            return
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

    def _run_threads(self, burst: bool, deadline: float | None) -> None:
        """Claim as many due jobs as there are free threads; run each in its own thread."""
        running: dict[int, threading.Thread] = {}
        try:
            while not self.stopping.is_set():
                if deadline and time.monotonic() > deadline:
                    break
                for pk, thread in list(running.items()):
                    if not thread.is_alive():
                        thread.join()
                        del running[pk]
                close_old_connections()
                claimed = []
                # Every thread busy: a few more jobs may run beside them if they are short (the
                # express slots, EXPRESS kinds: deliveries), so a long lookup need not step aside.
                free, kinds = self.threads - len(running), None
                if free <= 0 and EXPRESS and len(running) < self.threads + EXPRESS_SLOTS:
                    free, kinds = self.threads + EXPRESS_SLOTS - len(running), EXPRESS
                # A busy worker takes a job only once it has been due a little while (up to one
                # idle poll, by how busy it is): an idle worker polling meanwhile takes it first,
                # so several processes share the lookups (and the cores) instead of one holding all.
                grace = self.idle_sleep * min(len(running), self.threads) / self.threads
                if free > 0:
                    try:
                        self._schedule()
                        claimed = claim(self.id, limit=free, kinds=kinds, grace=grace)
                    except Exception:  # a database hiccup: log, wait, try again rather than die
                        log.exception("worker %s: loop error, pausing", self.id)
                        self.stopping.wait(max(self.idle_sleep, 2.0))
                for job in claimed:
                    thread = threading.Thread(target=self._run_one, args=(job,), name=f"job-{job.pk}", daemon=True)
                    running[job.pk] = thread
                    thread.start()
                self.heartbeat()
                if not claimed:
                    if burst and not running:
                        break
                    self._wake.wait(self.idle_sleep)  # a finished job frees a thread: claim at once
                    self._wake.clear()
        finally:
            for thread in running.values():  # stopping: the running jobs finish their step (STOPPING)
                thread.join()

    def _run_one(self, job: Job) -> None:
        with self._counts:
            self._active += 1
        # A free thread, or the express slots: a delivery runs beside this job now or as soon as
        # a short job in them ends (only a worker with threads has them).
        set_spare_check(lambda: self._active < self.threads or bool(EXPRESS))
        try:
            ok = run_job(job, self.id)
            with self._counts:
                if ok:
                    self._done += 1
                else:
                    self._failed += 1
        finally:
            set_spare_check(None)
            with self._counts:
                self._active -= 1
            connections.close_all()  # this thread's own connection
            self._wake.set()

    def _schedule(self) -> None:
        """Periodic tasks, looked at once a second (the shortest period is 15 s), not on every poll."""
        if time.monotonic() - self._scheduled_at >= 1.0 or self._scheduled_at < 0:
            schedule_periodic()
            self._scheduled_at = time.monotonic()
