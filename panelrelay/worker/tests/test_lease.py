"""A running job keeps its lease: a handler that runs past WORKER_LEASE_SECONDS is not claimed twice."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest
from django.db import connections

from panelrelay.worker import registry
from panelrelay.worker.models import Job
from panelrelay.worker.queue import claim, enqueue, run_job
from panelrelay.worker.runner import Worker

RUNS: list[int] = []
STARTED = threading.Event()
RELEASE = threading.Event()


@registry.handler("test.slow")
def _slow(job: Job) -> None:
    RUNS.append(job.pk)
    STARTED.set()
    RELEASE.wait(60)


@pytest.fixture
def slow_handler():
    RUNS.clear()
    STARTED.clear()
    RELEASE.clear()
    yield
    RELEASE.set()


@pytest.mark.django_db(transaction=True)
def test_a_job_running_past_its_lease_is_not_claimed_by_a_second_worker(settings, slow_handler) -> None:
    settings.WORKER_LEASE_SECONDS = 2  # renewed every 2/3 s while the handler runs
    job = enqueue("test.slow")

    def first() -> None:
        try:
            Worker(worker_id="A", idle_sleep=0.01).run_once()
        finally:
            connections.close_all()

    thread = threading.Thread(target=first)
    thread.start()
    assert STARTED.wait(30)
    stolen: list[Job] = []
    # Three whole leases: without renewal worker B would take the job after the first one.
    until = time.monotonic() + 3 * settings.WORKER_LEASE_SECONDS
    while time.monotonic() < until:
        stolen += [j for j in claim("B", limit=50) if j.pk == job.pk]  # periodic jobs are fair game
        time.sleep(0.05)
    RELEASE.set()
    thread.join(30)
    assert stolen == []
    assert [job.pk] == RUNS
    job.refresh_from_db()
    assert job.state == Job.DONE and job.attempts == 1


@pytest.mark.django_db(transaction=True)
def test_a_dead_workers_job_is_still_claimed_again_after_one_lease(settings) -> None:
    """Renewal lives in the worker that runs the job: when that worker is gone, so is the renewal."""
    settings.WORKER_LEASE_SECONDS = 1
    job = enqueue("test.slow")
    [taken] = claim("dead")  # claimed, then its worker was killed: nothing renews the lease
    assert taken.pk == job.pk and job.pk not in [j.pk for j in claim("B")]
    time.sleep(1.1)  # the lease must really run out; this sleep decides nothing about races
    [again] = [j for j in claim("B", limit=50) if j.pk == job.pk]
    assert again.attempts == 2


@pytest.mark.django_db(transaction=True)
def test_a_run_that_lost_its_lease_records_nothing(slow_handler) -> None:
    """Another worker owns the job now: the old run's outcome must not overwrite the new one's."""
    job = enqueue("test.slow")
    [mine] = claim("A")
    Job.objects.filter(pk=job.pk).update(locked_by="B")  # B took it over after A's lease ran out
    RELEASE.set()
    run_job(mine, "A")
    job.refresh_from_db()
    assert job.state == Job.RUNNING and job.locked_by == "B"


def test_a_stop_request_reaches_long_handlers() -> None:
    worker = Worker(worker_id="sig", idle_sleep=0.01)
    try:
        assert not registry.stop_requested()
        worker.install_signal_handlers()
        os.kill(os.getpid(), signal.SIGTERM)
        assert worker.stopping.wait(5) and registry.stop_requested()
    finally:
        registry.STOPPING.clear()
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
