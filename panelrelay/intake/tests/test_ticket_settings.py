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
