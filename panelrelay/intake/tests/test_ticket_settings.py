"""Settings → Tickets: the reply texts customers read on their tickets carry no web address."""

from __future__ import annotations

from panelrelay.core.testing import BaseTestCase
from panelrelay.intake.models import DEFAULT_REPLIES, TicketSettings
from panelrelay.panels.providers import add_by_domain

REPLIES = {f"reply_{key}": text for key, text in DEFAULT_REPLIES.items()}


class TicketRepliesTestCase(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        add_by_domain(self.workspace, "smmrush.example", "FastLikes_A")
        self.login(self.alice)

    def test_a_reply_with_any_web_address_is_refused_alike_and_shown_masked(self) -> None:
        for host in ("smmrush.example", "https://SMMRUSH.example/", "unrelated-guess.example"):
            data = {"replies_enabled": "on", **REPLIES, "reply_forwarded": f"Sent to {host} for {{ids}}."}
            r = self.client.post("/settings/tickets/", data)
            self.assertContains(r, "A ticket reply cannot contain a web address")
            self.assertContains(r, "Sent to [web address] for {ids}.")
            self.assertNotIn("smmrush", r.content.decode().lower())
            self.assertNotIn("unrelated-guess", r.content.decode().lower())
        self.assertEqual(TicketSettings.of(self.workspace).reply_forwarded, DEFAULT_REPLIES["forwarded"])

    def test_replies_without_one_are_saved(self) -> None:
        data = {"replies_enabled": "on", **REPLIES, "reply_forwarded": "Done: {ids}. Thanks!"}
        self.assertEqual(self.client.post("/settings/tickets/", data).status_code, 302)
        self.assertEqual(TicketSettings.of(self.workspace).reply_forwarded, "Done: {ids}. Thanks!")

    def test_the_outcome_replies_are_edited_and_checked_like_the_others(self) -> None:
        data = {"replies_enabled": "on", **REPLIES, "reply_outcome_refused": "See smmrush.example: {reason}"}
        r = self.client.post("/settings/tickets/", data)
        self.assertContains(r, "A ticket reply cannot contain a web address")
        self.assertNotIn("smmrush", r.content.decode().lower())
        data["reply_outcome_refused"] = "No {command} for {ids}: {reason}"
        data["reply_outcome_done"] = "Done: {ids}."
        self.assertEqual(self.client.post("/settings/tickets/", data).status_code, 302)
        saved = TicketSettings.of(self.workspace)
        self.assertEqual(
            (saved.reply_outcome_done, saved.reply_outcome_refused), ("Done: {ids}.", data["reply_outcome_refused"])
        )


class TicketPaceTestCase(BaseTestCase):
    """The panels' row says the interval is an average and what the adaptive polling does now."""

    def test_the_page_shows_each_panels_current_pace(self) -> None:
        from datetime import timedelta

        from django.utils import timezone

        from panelrelay.demo import scenario
        from panelrelay.intake.models import TicketPoll
        from panelrelay.panels.models import Panel

        now = timezone.now()
        busy = scenario.panel(self.workspace, "http://127.0.0.1:9", name="Busy panel")
        quiet = scenario.panel(self.workspace, "http://127.0.0.1:9", name="Quiet panel")
        Panel.objects.filter(pk__in=[busy.pk, quiet.pk]).update(tickets_enabled=True, tickets_interval=60)
        TicketPoll.objects.create(panel=busy, credits=20, polled_at=now, active_at=now - timedelta(seconds=10),
                                  next_at=now + timedelta(seconds=20))  # fmt: skip
        TicketPoll.objects.create(panel=quiet, credits=5, polled_at=now, active_at=now - timedelta(hours=1),
                                  next_at=now + timedelta(seconds=150))  # fmt: skip
        self.login(self.alice)
        page = self.client.get("/settings/tickets/").content.decode()
        self.assertIn("Every (average)", page)
        busy_row = page.split("Busy panel", 1)[1].split("</tr>", 1)[0]
        quiet_row = page.split("Quiet panel", 1)[1].split("</tr>", 1)[0]
        self.assertIn("now every 20 s: a new ticket or message", busy_row)
        self.assertIn("now every 150 s: saving the calls spent when busy", quiet_row)
