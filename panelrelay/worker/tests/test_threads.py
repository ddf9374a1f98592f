"""One worker runs several claimed jobs at once: a job that waits does not hold up the others."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
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
