from __future__ import annotations

from datetime import timedelta
from unittest import mock

from django.test import TestCase
from django.utils import timezone

from panelrelay.worker import registry
from panelrelay.worker.models import Job
from panelrelay.worker.queue import backoff, claim, enqueue, run_job, schedule_periodic
from panelrelay.worker.runner import Worker

CALLS: list[int] = []


@registry.handler("test.ok")
def _ok(job: Job) -> None:
    CALLS.append(job.pk)


@registry.handler("test.boom")
def _boom(job: Job) -> None:
    raise RuntimeError("gateway said no")


@registry.handler("test.permanent")
def _permanent(job: Job) -> None:
    raise registry.Permanent("target gone")


@registry.handler("test.later")
def _later(job: Job) -> None:
    raise registry.Retry(30, "rate limited, retry after 30 s")


class QueueTestCase(TestCase):
    def setUp(self) -> None:
        CALLS.clear()

    def test_it_claims_due_jobs_in_order_and_not_future_ones(self) -> None:
        late = enqueue("test.ok", run_at=timezone.now() + timedelta(minutes=5))
        first = enqueue("test.ok", run_at=timezone.now() - timedelta(seconds=2))
        second = enqueue("test.ok")
        jobs = claim("w1", limit=10)
        self.assertEqual([j.pk for j in jobs], [first.pk, second.pk])
        self.assertTrue(all(j.state == Job.RUNNING and j.locked_by == "w1" and j.attempts == 1 for j in jobs))
        self.assertEqual(claim("w2", limit=10), [])
        self.assertEqual(Job.objects.get(pk=late.pk).state, Job.QUEUED)

    def test_a_claim_can_ask_for_some_kinds_only_or_for_jobs_due_a_while_already(self) -> None:
        old = enqueue("test.later", run_at=timezone.now() - timedelta(minutes=2))
        new = enqueue("test.ok")
        self.assertEqual([j.pk for j in claim("w1", limit=10, grace=60)], [old.pk], "due for 2 min, not just now")
        self.assertEqual(claim("w1", limit=10, kinds=["test.boom"]), [])
        self.assertEqual([j.pk for j in claim("w1", limit=10, kinds=["test.ok"])], [new.pk])

    def test_a_successful_job_is_done(self) -> None:
        job = enqueue("test.ok")
        [claimed] = claim("w1")
        self.assertTrue(run_job(claimed, "w1"))
        job.refresh_from_db()
        self.assertEqual((job.state, job.locked_by, CALLS), (Job.DONE, "", [job.pk]))
        self.assertIsNotNone(job.finished)

    def test_a_failing_job_is_retried_later_with_its_error(self) -> None:
        job = enqueue("test.boom")
        [claimed] = claim("w1")
        self.assertFalse(run_job(claimed, "w1"))
        job.refresh_from_db()
        self.assertEqual(job.state, Job.QUEUED)
        self.assertIn("RuntimeError: gateway said no", job.last_error)
        self.assertGreater(job.run_at, timezone.now() + timedelta(seconds=7))
        self.assertEqual(claim("w1"), [])  # not due yet: no crash loop

    def test_it_gives_up_after_max_attempts(self) -> None:
        job = enqueue("test.boom", max_attempts=2)
        for _ in range(2):
            Job.objects.filter(pk=job.pk).update(run_at=timezone.now())
            [claimed] = claim("w1")
            run_job(claimed, "w1")
        job.refresh_from_db()
        self.assertEqual((job.state, job.attempts), (Job.FAILED, 2))

    def test_a_permanent_error_fails_at_once(self) -> None:
        job = enqueue("test.permanent")
        run_job(claim("w1")[0], "w1")
        job.refresh_from_db()
        self.assertEqual((job.state, job.last_error), (Job.FAILED, "Permanent: target gone"))

    def test_retry_waits_without_counting_an_attempt(self) -> None:
        job = enqueue("test.later")
        run_job(claim("w1")[0], "w1")
        job.refresh_from_db()
        self.assertEqual((job.state, job.attempts), (Job.QUEUED, 0))
        self.assertGreater(job.run_at, timezone.now() + timedelta(seconds=25))

    def test_an_unknown_kind_fails_instead_of_looping(self) -> None:
        job = enqueue("test.nobody-handles-this")
        run_job(claim("w1")[0], "w1")
        job.refresh_from_db()
        self.assertEqual(job.state, Job.FAILED)
        self.assertIn("no handler", job.last_error)

    def test_a_crashed_workers_job_is_claimed_again_after_its_lease(self) -> None:
        job = enqueue("test.ok")
        claim("dead-worker")
        self.assertEqual(claim("w2"), [])
        Job.objects.filter(pk=job.pk).update(locked_until=timezone.now() - timedelta(seconds=1))
        [again] = claim("w2")
        self.assertEqual((again.pk, again.attempts), (job.pk, 2))
        run_job(again, "w2")
        # The dead worker's late answer cannot overwrite the outcome: its lease is gone.
        self.assertEqual(Job.objects.filter(pk=job.pk, locked_by="dead-worker").count(), 0)

    def test_keys_make_enqueue_idempotent(self) -> None:
        a = enqueue("test.ok", key="deliver:42")
        b = enqueue("test.ok", key="deliver:42")
        self.assertEqual(a.pk, b.pk)
        self.assertEqual(Job.objects.count(), 1)

    def test_periodic_tasks_run_once_per_slot_whatever_the_number_of_workers(self) -> None:
        now = timezone.now()
        created = schedule_periodic(now) + schedule_periodic(now) + schedule_periodic(now)
        self.assertEqual(created, len(registry.PERIODIC))
        self.assertEqual(Job.objects.filter(kind="worker.prune").count(), 1)
        schedule_periodic(now + timedelta(hours=1))
        self.assertEqual(Job.objects.filter(kind="worker.prune").count(), 2)

    def test_backoff_grows_and_is_capped(self) -> None:
        self.assertLess(backoff(1), 13)
        self.assertGreater(backoff(4), 60)
        self.assertLessEqual(backoff(30), 3600 * 1.2)

    def test_a_worker_in_burst_mode_drains_the_queue_and_records_a_heartbeat(self) -> None:
        for _ in range(3):
            enqueue("test.ok")
        enqueue("test.boom")
        worker = Worker(worker_id="burst-1", idle_sleep=0.01)
        # Without the apps' periodic tasks: one of them can cross a time slot or fan out more
        # jobs during the run, which made the count below depend on the clock.
        with mock.patch.dict(registry.PERIODIC, {}, clear=True):
            worker.run(burst=True)
        self.assertEqual(len(CALLS), 3)
        from panelrelay.worker.models import Heartbeat

        beat = Heartbeat.objects.get(worker_id="burst-1")
        self.assertEqual((beat.jobs_done, beat.jobs_failed, beat.stopped), (3, 1, True))
