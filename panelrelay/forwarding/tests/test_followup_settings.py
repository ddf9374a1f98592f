"""Settings → Forwarding: the follow-up delays and the owner's words for reading answers."""

from __future__ import annotations

from panelrelay.core.testing import BaseTestCase
from panelrelay.forwarding.models import ForwardingSettings
from panelrelay.panels.providers import add_by_domain

PROVIDER = "smmrush.example"


class FollowUpSettingsTestCase(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        add_by_domain(self.workspace, PROVIDER, "FastLikes_A")
        self.login(self.alice)

    def save(self, **changes):
        body = {"cooldown_hours": "12", "max_age_hours": "24", "refill_guarantee": "on", "follow_up_hours": "6",
                "escalate_hours": "12", "watch_days": "3", **changes}  # fmt: skip
        return self.client.post("/settings/forwarding/", body)

    def test_the_page_shows_the_defaults(self) -> None:
        r = self.client.get("/settings/forwarding/")
        self.assertContains(r, "Remind the provider after (hours)")
        self.assertContains(r, 'name="follow_up_hours" id="id_follow_up_hours" value="6"')
        self.assertContains(r, 'name="escalate_hours" id="id_escalate_hours" value="12"')
        self.assertContains(r, 'name="watch_days" id="id_watch_days" value="3"')
        self.assertContains(r, "Your words for “refused”")

    def test_the_delays_and_words_are_saved_tidied(self) -> None:
        r = self.save(follow_up_hours="2", escalate_hours="4", watch_days="7",
                      answer_done_words="ho gaya,\nsudah ,", answer_refused_words="nahi", answer_working_words="")  # fmt: skip
        self.assertEqual(r.status_code, 302)
        options = ForwardingSettings.of(self.workspace)
        self.assertEqual((options.follow_up_hours, options.escalate_hours, options.watch_days), (2, 4, 7))
        self.assertEqual((options.answer_done_words, options.answer_refused_words), ("ho gaya, sudah", "nahi"))
        self.assertContains(self.client.get("/settings/forwarding/"), "ho gaya, sudah</textarea>")

    def test_zero_turns_reminders_off_and_stays_shown(self) -> None:
        self.assertEqual(self.save(follow_up_hours="0").status_code, 302)
        self.assertEqual(ForwardingSettings.of(self.workspace).follow_up_hours, 0)
        self.assertContains(self.client.get("/settings/forwarding/"), 'id="id_follow_up_hours" value="0"')

    def test_a_form_from_before_these_fields_keeps_them(self) -> None:
        ForwardingSettings.of(self.workspace)
        ForwardingSettings.objects.filter(workspace=self.workspace).update(follow_up_hours=0, watch_days=9)
        r = self.client.post("/settings/forwarding/", {"cooldown_hours": "5", "max_age_hours": "24"})
        self.assertEqual(r.status_code, 302)
        options = ForwardingSettings.of(self.workspace)
        self.assertEqual((options.cooldown_hours, options.follow_up_hours, options.watch_days), (5, 0, 9))

    def test_numbers_out_of_range_are_refused_by_name(self) -> None:
        for field, value, error in (
            ("follow_up_hours", "169", "Between 0 and 168 hours."),
            ("escalate_hours", "0", "Between 1 and 168 hours."),
            ("watch_days", "31", "Between 1 and 30 days."),
            ("watch_days", "0", "Between 1 and 30 days."),
            ("escalate_hours", "-1", "greater than or equal to 0"),
            ("follow_up_hours", "soon", "Enter a whole number."),
        ):
            r = self.save(**{field: value})
            self.assertEqual(r.status_code, 200, field)
            self.assertContains(r, error)
        self.assertEqual(ForwardingSettings.of(self.workspace).follow_up_hours, 6)

    def test_answer_words_with_a_web_address_are_refused_alike_and_not_echoed(self) -> None:
        for host in (PROVIDER, "unrelated-guess.example"):
            r = self.save(answer_done_words=f"done, {host}")
            self.assertEqual(r.status_code, 200)
            self.assertNotIn(host, r.content.decode())
            self.assertContains(r, "Your words for “done” cannot contain a web address")
        self.assertEqual(ForwardingSettings.of(self.workspace).answer_done_words, "")

    def test_staff_without_routing_cannot_change_them(self) -> None:
        self.login(self.bob)
        self.assertEqual(self.save(follow_up_hours="1").status_code, 403)
        self.assertEqual(ForwardingSettings.of(self.workspace).follow_up_hours, 6)
