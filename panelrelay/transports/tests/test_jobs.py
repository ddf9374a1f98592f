"""The worker keeps connection statuses fresh and reads Telegram updates on its own."""

from __future__ import annotations

from panelrelay.transports.jobs import poll_telegram
from panelrelay.transports.models import Connection, DiscoveredChat
from panelrelay.transports.tests.helpers import FakeTestCase, connection
from panelrelay.worker.models import Job
from panelrelay.worker.queue import enqueue
from panelrelay.worker.runner import Worker


def run_worker() -> None:
    Worker(worker_id="test", idle_sleep=0.01).run(burst=True)


class TransportJobsTestCase(FakeTestCase):
    kind = "telegram"

    def test_the_periodic_check_refreshes_every_connection_of_active_workspaces(self) -> None:
        suspended = connection(self.other_workspace, "telegram", self.fake)
        self.other_workspace.suspended = True
        self.other_workspace.save()
        broken = connection(self.workspace, "telegram", self.fake, secret="1:" + "x" * 30)
        run_worker()  # a worker schedules the periodic tasks itself
        self.connection.refresh_from_db()
        broken.refresh_from_db()
        suspended.refresh_from_db()
        self.assertEqual((self.connection.status, self.connection.status_message), ("working", "@relay_bot"))
        self.assertEqual(broken.status, "broken")
        self.assertIn("Telegram refused the bot token", broken.status_message)
        self.assertEqual(suspended.status, "unknown")
        self.assertEqual(Job.objects.filter(kind="transports.check", state=Job.DONE).count(), 2)

    def test_the_periodic_poll_records_new_groups_and_skips_broken_bots(self) -> None:
        Connection.objects.filter(pk=self.connection.pk).update(status=Connection.BROKEN)
        self.fake.bot_added(-1009876543210, title="Provider C")
        # The poll alone: a whole worker run would also run the status check, which finds the bot
        # working again and, beside the poll in another thread, may let it read the group first.
        poll_telegram(Job(kind="transports.poll_telegram"))
        self.assertFalse(DiscoveredChat.objects.exists())
        Connection.objects.filter(pk=self.connection.pk).update(status=Connection.WORKING)
        enqueue("transports.poll_telegram", key="again")
        run_worker()
        self.assertEqual(DiscoveredChat.objects.get().title, "Provider C")

    def test_a_poll_that_fails_leaves_the_job_done_and_the_status_to_the_check(self) -> None:
        self.fake.inject("status", path="getUpdates", status=409,
                         body={"ok": False, "error_code": 409, "description": "Conflict: terminated by other getUpdates request"})  # fmt: skip
        run_worker()
        # One poll job per 15-s slot: a run that crosses a slot boundary has two, each run once.
        polls = list(Job.objects.filter(kind="transports.poll_telegram"))
        self.assertTrue(polls)
        self.assertEqual({(job.state, job.attempts) for job in polls}, {(Job.DONE, 1)})  # the 409 is not retried
        self.assertEqual(len(self.fake.requests_to("getUpdates")), len(polls))
        self.connection.refresh_from_db()
        self.assertEqual(self.connection.status, "working")  # set by the status check, not the poll
