"""One worker runs several claimed jobs at once: a job that waits does not hold up the others."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone

from panelrelay.worker import registry
from panelrelay.worker.models import Job
from panelrelay.worker.queue import enqueue
from panelrelay.worker.runner import Worker

OTHER_RAN = threading.Event()
SEEN: dict[str, bool] = {}


@registry.handler("test.waits_for_other")
def _waits(job: Job) -> None:
    # Like a lookup waiting for its panel's rate window: it waits until the other job has run.
    SEEN["other ran while this one waited"] = OTHER_RAN.wait(timeout=20)


@registry.handler("test.other")
def _other(job: Job) -> None:
    OTHER_RAN.set()


@pytest.mark.django_db(transaction=True)
def test_a_waiting_job_does_not_keep_the_worker_from_another_due_job() -> None:
    OTHER_RAN.clear()
    SEEN.clear()
    first = enqueue("test.waits_for_other", run_at=timezone.now() - timedelta(seconds=1))
    other = enqueue("test.other")
    Worker(worker_id="w-threads", idle_sleep=0.01, threads=2).run(burst=True, max_seconds=60)
    assert SEEN == {"other ran while this one waited": True}
    assert set(Job.objects.filter(pk__in=[first.pk, other.pk]).values_list("state", flat=True)) == {Job.DONE}


RELEASE = threading.Event()
SHORT_RAN = threading.Event()
PLAIN_RAN = threading.Event()
SPARE: list[bool] = []


@registry.handler("test.long")
def _long(job: Job) -> None:
    SPARE.append(registry.spare_thread())
    RELEASE.wait(timeout=20)


@registry.handler("test.short", express=True)
def _short(job: Job) -> None:
    SHORT_RAN.set()


@registry.handler("test.plain")
def _plain(job: Job) -> None:
    PLAIN_RAN.set()


@pytest.mark.django_db(transaction=True)
def test_with_every_thread_busy_a_short_job_runs_in_an_express_slot_and_a_long_one_waits() -> None:
    """Four panels' lookups on four threads: a delivery still goes out beside them (the express
    slot), so a lookup that wrote a full part need not step aside; other jobs wait for a thread."""
    for event in (RELEASE, SHORT_RAN, PLAIN_RAN):
        event.clear()
    SPARE.clear()
    start = timezone.now() - timedelta(seconds=10)
    longs = [enqueue("test.long", run_at=start), enqueue("test.long", run_at=start)]
    plain = enqueue("test.plain", run_at=start + timedelta(seconds=1))
    short = enqueue("test.short", run_at=start + timedelta(seconds=2))
    worker = Worker(worker_id="w-express", idle_sleep=0.01, threads=2)

    def work() -> None:
        try:
            worker.run(burst=True, max_seconds=60)
        finally:
            connections.close_all()  # this thread's claim connection (the test database is dropped after)

    runner = threading.Thread(target=work)
    runner.start()
    try:
        assert SHORT_RAN.wait(timeout=20), "the short job ran while both threads were busy"
        assert not PLAIN_RAN.is_set(), "a job that is not express waits for a thread"
    finally:
        RELEASE.set()
        runner.join(timeout=60)
    assert PLAIN_RAN.is_set()
    assert SPARE == [True, True], "a busy worker with express slots can still send beside a lookup"
    jobs = [*longs, plain, short]
    assert set(Job.objects.filter(pk__in=[j.pk for j in jobs]).values_list("state", flat=True)) == {Job.DONE}
