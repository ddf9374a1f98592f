"""Enqueue, claim and run jobs. The claim is atomic on SQLite and PostgreSQL alike."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, connections, transaction
from django.db.models import F, Q
from django.utils import timezone

from panelrelay.core.logscrub import scrub
from panelrelay.worker.models import Job
from panelrelay.worker.registry import HANDLERS, PERIODIC, Permanent, Retry

log = logging.getLogger("panelrelay.worker")


def enqueue(
    kind: str,
    payload: dict[str, Any] | None = None,
    *,
    workspace: Any = None,
    run_at: datetime | None = None,
    key: str | None = None,
    max_attempts: int = 8,
) -> Job:
    """Add a job. With a key, a job that already has that key is returned instead."""
    fields = dict(
        kind=kind,
        payload=payload or {},
        workspace=workspace,
        run_at=run_at or timezone.now(),
        max_attempts=max_attempts,
    )
    if key is None:
        return Job.objects.create(**fields)
    try:
        with transaction.atomic():
            return Job.objects.create(key=key, **fields)
    except IntegrityError:
        return Job.objects.get(key=key)


def _due(now: datetime, grace: float = 0.0) -> Q:
    waiting = Q(state=Job.QUEUED, run_at__lte=now - timedelta(seconds=grace))
    abandoned = Q(state=Job.RUNNING, locked_until__lt=now)  # its worker died mid-job
    active_tenant = Q(workspace__isnull=True) | Q(workspace__suspended=False)
    return (waiting | abandoned) & active_tenant


def claim(worker_id: str, limit: int = 1, kinds: Collection[str] | None = None, grace: float = 0.0) -> list[Job]:
    """Take up to `limit` due jobs for this worker (only of `kinds`, if given; only those due for
    `grace` seconds already: a busy worker leaves a new job to an idle one first). Two workers
    never get the same job."""
    now = timezone.now()
    lease = now + timedelta(seconds=settings.WORKER_LEASE_SECONDS)
    won = dict(state=Job.RUNNING, locked_by=worker_id, locked_until=lease, attempts=F("attempts") + 1)
    due = _due(now, grace) if kinds is None else _due(now, grace) & Q(kind__in=list(kinds))
    if connection.vendor == "postgresql":
        with transaction.atomic():
            # SKIP LOCKED: a row another worker is claiming right now is simply passed over.
            rows = Job.objects.select_for_update(skip_locked=True, of=("self",)).filter(due)
            ids = list(rows.order_by("run_at").values_list("id", flat=True)[:limit])
            if not ids:  # nothing due: the common answer of an idle poll, in one query
                return []
            Job.objects.filter(id__in=ids).update(**won)
    else:
        candidates = list(Job.objects.filter(due).order_by("run_at").values_list("id", flat=True)[: limit * 4])
        if not candidates:
            return []
        ids = []
        for job_id in candidates:
            # The WHERE repeats the due test: the UPDATE only matches if nobody claimed the
            # row since we read it, and its row count tells whether we won.
            if Job.objects.filter(due, id=job_id).update(**won):
                ids.append(job_id)
            if len(ids) >= limit:
                break
    return list(Job.objects.filter(id__in=ids, locked_by=worker_id).order_by("run_at"))


def backoff(attempts: int, base: float = 10.0) -> float:
    """Seconds until the next try: 10 s, 20 s, 40 s … capped at an hour, with ±20 % jitter."""
    delay = min(base * 2 ** max(attempts - 1, 0), 3600)
    return delay * random.uniform(0.8, 1.2)


def _finish(job: Job, worker_id: str, **fields: Any) -> bool:
    """Record the outcome, only if our lease still holds (else another worker owns it now)."""
    fields.setdefault("locked_by", "")
    fields.setdefault("locked_until", None)
    return bool(Job.objects.filter(pk=job.pk, locked_by=worker_id, state=Job.RUNNING).update(**fields))


def renew(job_id: int, worker_id: str) -> bool:
    """Push the lease of a job this worker is running further out; False if it is not ours any more."""
    until = timezone.now() + timedelta(seconds=settings.WORKER_LEASE_SECONDS)
    return bool(Job.objects.filter(pk=job_id, locked_by=worker_id, state=Job.RUNNING).update(locked_until=until))


class LeaseKeeper:
    """Renews a running job's lease from a thread of its own while the handler works.

    A lease only says "this worker is alive and on it": a handler that legitimately runs longer
    than WORKER_LEASE_SECONDS (10,000 ids on a slow panel) must not be claimed by a second worker
    meanwhile. A worker that dies stops renewing, so its job is still claimed again after one lease.
    """

    def __init__(self, job_id: int, worker_id: str) -> None:
        self.job_id, self.worker_id = job_id, worker_id
        self.every = max(settings.WORKER_LEASE_SECONDS / 3, 0.05)
        self.lost = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> LeaseKeeper:
        # Inside a test's transaction the job row is invisible to another connection: nothing to renew.
        if not connection.in_atomic_block:
            self._thread = threading.Thread(target=self._run, name=f"lease-{self.job_id}", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        try:
            while not self._stop.wait(self.every):
                try:
                    if not renew(self.job_id, self.worker_id):
                        self.lost = True
                        log.warning("job #%s: lease lost to another worker while running", self.job_id)
                        return
                except Exception:  # a locked SQLite file, a dropped connection: try again next time
                    log.warning("job #%s: could not renew the lease", self.job_id, exc_info=True)
        finally:
            connections.close_all()  # this thread's own connection


def run_job(job: Job, worker_id: str) -> bool:
    """Run one claimed job, keeping its lease while it runs; never raises. True when it succeeded."""
    with LeaseKeeper(job.pk, worker_id):
        return _run_job(job, worker_id)


def _run_job(job: Job, worker_id: str) -> bool:
    handler = HANDLERS.get(job.kind)
    started = time.monotonic()
    try:
        if handler is None:
            raise Permanent(f"no handler for job kind {job.kind!r}")
        handler(job)
    except Retry as exc:
        later = timezone.now() + timedelta(seconds=exc.seconds)
        _finish(
            job,
            worker_id,
            state=Job.QUEUED,
            run_at=later,
            attempts=F("attempts") - 1,
            last_error=scrub(str(exc))[:2000],
        )
        return True
    except Exception as exc:  # one bad job must never stop the worker
        return _failed(job, worker_id, exc)
    _finish(job, worker_id, state=Job.DONE, finished=timezone.now(), last_error="")
    log.debug("job %s done in %.0f ms", job, (time.monotonic() - started) * 1000)
    return True


def _failed(job: Job, worker_id: str, exc: Exception) -> bool:
    message = scrub(f"{type(exc).__name__}: {exc}")[:2000]
    final = isinstance(exc, Permanent) or job.attempts >= job.max_attempts
    if final:
        _finish(job, worker_id, state=Job.FAILED, finished=timezone.now(), last_error=message)
        log.error("job %s#%s failed for good after %s attempts: %s", job.kind, job.pk, job.attempts, message)
    else:
        later = timezone.now() + timedelta(seconds=backoff(job.attempts))
        _finish(job, worker_id, state=Job.QUEUED, run_at=later, last_error=message)
        log.warning("job %s#%s failed (attempt %s), retrying: %s", job.kind, job.pk, job.attempts, message)
    if not isinstance(exc, Permanent):
        log.debug("traceback of job %s#%s", job.kind, job.pk, exc_info=exc)
    return False


def schedule_periodic(now: datetime | None = None) -> int:
    """Enqueue every periodic task whose current time slot has no job yet."""
    now = now or timezone.now()
    created = 0
    keys = {task.kind: f"periodic:{task.kind}:{int(now.timestamp() // task.every)}" for task in PERIODIC.values()}
    existing = set(Job.objects.filter(key__in=list(keys.values())).values_list("key", flat=True))  # one query
    for kind, key in keys.items():
        if key not in existing:
            enqueue(kind, key=key, max_attempts=1)
            created += 1
    return created


def queue_depth() -> dict[str, int]:
    """Due and waiting jobs per kind, for the master area's health page."""
    from django.db.models import Count

    rows = Job.objects.filter(state__in=[Job.QUEUED, Job.RUNNING]).values("kind", "state").annotate(n=Count("id"))
    depth: dict[str, int] = {}
    for row in rows:
        depth[f"{row['kind']} ({row['state']})"] = row["n"]
    return depth
