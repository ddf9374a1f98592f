"""Two workers on PostgreSQL never run the same job."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from panelrelay.worker import registry
from panelrelay.worker.models import Job
from panelrelay.worker.queue import enqueue
from panelrelay.worker.runner import Worker

RUNS: list[tuple[str, int]] = []
LOCK = threading.Lock()


@registry.handler("test.concurrent")
def _record(job: Job) -> None:
    with LOCK:
        RUNS.append((job.locked_by, job.pk))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_never_run_the_same_job() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL-only: SKIP LOCKED claims (CI runs the suite with DATABASE_URL)")
    RUNS.clear()
    ids = {enqueue("test.concurrent").pk for _ in range(300)}

    def work(name: str) -> None:
        try:
            Worker(worker_id=name, idle_sleep=0.001).run(burst=True)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(f"w{n}",)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    ran = [pk for _, pk in RUNS]
    assert sorted(ran) == sorted(ids), "every job ran exactly once"
    assert len({w for w, _ in RUNS}) > 1, "the work was actually shared between workers"
    assert Job.objects.filter(kind="test.concurrent", state=Job.DONE).count() == 300
