"""deliver()'s bookkeeping: pacing, broken destinations and connections, incidents and alerts."""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import override_settings

from panelrelay.transports.base import TransportError
from panelrelay.transports.models import AlertSettings, Connection, Incident
from panelrelay.transports.services import deliver, refresh_status, send_alert
from panelrelay.transports.tests.helpers import GROUP, TOKEN, USER, FakeTestCase, destination
from panelrelay.worker.models import Job
from panelrelay.worker.queue import claim, run_job
from panelrelay.worker.runner import Worker


def run_alert_jobs() -> None:
    for job in claim("test", limit=10):
        run_job(job, "test")


class DeliverTestCase(FakeTestCase):
    kind = "telegram"

    def setUp(self) -> None:
        super().setUp()
        self.group = destination(self.connection, GROUP, name="FastLikes grp")

    def kick(self) -> TransportError:
        self.fake.kick(GROUP, notify=False)
        with pytest.raises(TransportError) as caught:
            deliver(self.group, "REFILL\n1")
        return caught.value

    @override_settings(PACING_TELEGRAM_GROUP_SECONDS=60, PACING_TELEGRAM_GROUP_GAP_SECONDS=60)
    def test_it_does_not_send_or_record_when_the_pacing_slot_is_taken(self) -> None:
        deliver(self.group, "first")
        before = self.group.last_delivery_at
        with pytest.raises(TransportError) as caught:
            deliver(self.group, "second")
        self.assertEqual((caught.value.kind, caught.value.local), ("rate_limited", True))
        self.assertGreater(caught.value.retry_after, 59)
        self.group.refresh_from_db()
        self.assertEqual(self.group.last_delivery_at, before)
        self.assertEqual([m["text"] for m in self.fake.messages_to(GROUP)], ["first"])

    @override_settings(PACING_TELEGRAM_GROUP_SECONDS=60)
    def test_the_pace_of_one_chat_does_not_hold_up_another(self) -> None:
        deliver(self.group, "to the group")
        deliver(destination(self.connection, USER), "to the user")
        self.assertEqual(len(self.fake.sent), 2)

    def test_a_gone_target_breaks_the_destination_and_alerts_once(self) -> None:
        self.kick()
        self.kick()
        self.group.refresh_from_db()
        self.assertTrue(self.group.broken)
        self.assertEqual(self.group.broken_reason, "bot was kicked from the supergroup chat")
        self.assertEqual(self.group.last_delivery_message, "bot was kicked from the supergroup chat")
        [incident] = Incident.objects.filter(workspace=self.workspace)
        self.assertIn("Destination TG · FastLikes grp is broken: bot was kicked", incident.text)
        self.assertEqual(Job.objects.filter(kind="transports.alert").count(), 1)

    def test_a_later_success_heals_the_destination_and_the_next_failure_alerts_again(self) -> None:
        self.kick()
        self.fake.bot_added(GROUP)
        deliver(self.group, "REFILL\n2")
        self.group.refresh_from_db()
        self.assertEqual((self.group.broken, self.group.broken_reason, self.group.last_delivery_ok), (False, "", True))
        self.assertIsNotNone(Incident.objects.get().closed)
        self.kick()
        self.assertEqual(Incident.objects.filter(closed__isnull=True).count(), 1)
        self.assertEqual(Job.objects.filter(kind="transports.alert").count(), 2)

    def test_a_rejected_token_breaks_the_connection_until_a_check_succeeds(self) -> None:
        self.connection.set_secret("42:" + "x" * 35)
        self.connection.save()
        for _ in range(3):
            with pytest.raises(TransportError):
                deliver(self.group, "x")
        self.connection.refresh_from_db()
        self.assertEqual(self.connection.status, Connection.BROKEN)
        self.assertEqual(Incident.objects.filter(key=f"connection:{self.connection.code}").count(), 1)
        self.group.refresh_from_db()
        self.assertFalse(self.group.broken)  # the chat is fine; the bot's token is not
        self.connection.set_secret(TOKEN)
        self.connection.save()
        self.assertEqual(refresh_status(self.connection).state, Connection.WORKING)
        self.assertFalse(Incident.objects.filter(closed__isnull=True).exists())

    def test_an_alert_goes_to_the_owners_alert_destination(self) -> None:
        me = destination(self.connection, USER, name="My Telegram")
        AlertSettings.objects.create(workspace=self.workspace, destination=me)
        self.kick()
        run_alert_jobs()
        [alert] = self.fake.messages_to(USER)
        self.assertIn("Destination TG · FastLikes grp is broken", alert["text"])
        self.assertIn("Alice SMM", alert["text"])
        self.assertEqual(Incident.objects.get().alerted_via, "TG · My Telegram")

    def test_an_alert_falls_back_to_email_when_the_alert_destination_is_the_broken_one(self) -> None:
        AlertSettings.objects.create(workspace=self.workspace, destination=self.group)
        self.kick()
        run_alert_jobs()
        self.assertEqual(len(mail.outbox), 1)
        self.assertEqual(mail.outbox[0].to, ["alice@example.org"])
        self.assertIn("bot was kicked", mail.outbox[0].body)
        self.assertTrue(Incident.objects.get().alerted_via.startswith("email (TG · FastLikes grp is broken)"))

    def test_an_alert_without_destination_is_emailed(self) -> None:
        send_alert(self.workspace, "Something broke", key="test:1")
        send_alert(self.workspace, "Something broke again", key="test:1")
        Worker(worker_id="w", idle_sleep=0.01).run(burst=True)
        self.assertEqual([m.body.splitlines()[1] for m in mail.outbox], ["Something broke"])

    def test_an_alert_waits_while_its_destination_is_temporarily_unreachable(self) -> None:
        me = destination(self.connection, USER, name="My Telegram")
        AlertSettings.objects.create(workspace=self.workspace, destination=me)
        send_alert(self.workspace, "Something broke", key="test:2")
        self.fake.inject("html", path="sendMessage")
        run_alert_jobs()
        job = Job.objects.get(kind="transports.alert")
        self.assertEqual((job.state, Incident.objects.get().alerted_at), (Job.QUEUED, None))
        self.assertEqual(mail.outbox, [])
