"""The refill guarantee and ticket ownership rules in the engine, and where the owner sets them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from panelrelay.core.testing import BaseTestCase
from panelrelay.demo import scenario
from panelrelay.forwarding.models import Command, ForwardingSettings
from panelrelay.forwarding.submit import create_request
from panelrelay.intake.tests.helpers import order, wire

pytestmark = pytest.mark.usefixtures("no_pacing")


def _old(days: int) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).strftime("%Y-%m-%d %H:%M:%S")


def _refill(wired, ids: list[str], **kw):
    request = create_request(wired.workspace, wired.panel, Command.for_workspace(wired.workspace)[0], ids, **kw)
    scenario.drain(timeout=15)
    return dict(request.orders.values_list("panel_order_id", "reason"))


@pytest.mark.django_db
def test_a_refill_after_the_guarantee_is_skipped_with_the_reason(fake_panel, fake_telegram) -> None:
    wired = wire(fake_panel, fake_telegram)
    order(fake_panel, 80001, "dave", service_name="IG Followers [30 Days Refill]", created=_old(45))
    order(fake_panel, 80002, "dave", service_name="IG Followers ♻️ 60D", created=_old(45))
    order(fake_panel, 80003, "dave", service_name="IG Followers Lifetime", created=_old(900))
    order(fake_panel, 80004, "dave", service_name="IG Followers [No Refill]", created=_old(1))
    reasons = _refill(wired, ["80001", "80002", "80003", "80004"])
    assert reasons["80001"].startswith("refill period of 30 days ended on ")
    assert reasons["80002"].startswith("sent to")
    assert reasons["80003"].startswith("sent to")
    assert reasons["80004"].startswith("the service has no refill")


@pytest.mark.django_db
def test_the_owner_can_turn_the_guarantee_rule_off(fake_panel, fake_telegram) -> None:
    wired = wire(fake_panel, fake_telegram)
    ForwardingSettings.objects.create(workspace=wired.workspace, refill_guarantee=False)
    order(fake_panel, 80001, "dave", service_name="IG Followers R30", created=_old(45))
    assert _refill(wired, ["80001"])["80001"].startswith("sent to")


@pytest.mark.django_db
def test_the_guarantee_applies_to_refills_only(fake_panel, fake_telegram) -> None:
    wired = wire(fake_panel, fake_telegram)
    order(fake_panel, 80001, "dave", service_name="IG Followers R30", created=_old(45), status="In progress")
    cancel = Command.for_workspace(wired.workspace)[1]
    request = create_request(wired.workspace, wired.panel, cancel, ["80001"])
    scenario.drain(timeout=15)
    assert request.orders.get().state == "sent"


@pytest.mark.django_db
def test_ownership_is_checked_only_for_ticket_requests(fake_panel, fake_telegram) -> None:
    wired = wire(fake_panel, fake_telegram)
    order(fake_panel, 80001, "erin")
    assert _refill(wired, ["80001"])["80001"].startswith("sent to")  # manual: anyone's order
    order(fake_panel, 80002, "erin")
    assert _refill(wired, ["80002"], ticket_user="dave")["80002"] == "not the ticket author's order"


class SettingsTestCase(BaseTestCase):
    def test_it_saves_ticket_words_per_command_and_the_guarantee_toggle(self) -> None:
        self.login(self.alice)
        refill = Command.for_workspace(self.workspace)[0]
        url = reverse("forwarding:update_command", args=[refill.code])
        data = {"label": "Refill", "word": "REFILL", "statuses": ["completed"], "keywords": "рефил,\n دوبارہ , ,"}
        self.client.post(url, data)
        refill.refresh_from_db()
        self.assertEqual((refill.keywords, refill.keyword_list), ("рефил, دوبارہ", ["рефил", "دوبارہ"]))
        page = self.client.get(reverse("forwarding:settings"))
        self.assertContains(page, 'value="рефил, دوبارہ"')
        options = {"cooldown_hours": 12, "max_age_hours": 24}
        self.client.post(reverse("forwarding:settings"), options)
        self.assertFalse(ForwardingSettings.of(self.workspace).refill_guarantee)
        self.client.post(reverse("forwarding:settings"), options | {"refill_guarantee": "on"})
        self.assertTrue(ForwardingSettings.of(self.workspace).refill_guarantee)

    def test_staff_without_the_routing_toggle_cannot_change_words(self) -> None:
        self.login(self.bob)
        refill = Command.for_workspace(self.workspace)[0]
        url = reverse("forwarding:update_command", args=[refill.code])
        response = self.client.post(url, {"label": "Refill", "word": "REFILL", "keywords": "x"})
        self.assertEqual(response.status_code, 403)


class PanelRowTestCase(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        from panelrelay.panels.models import Panel

        self.panel = Panel(workspace=self.workspace, name="Main", url="https://panel.example")
        self.panel.set_api_key("k" * 16)
        self.panel.save()

    def test_the_panels_row_turns_ticket_reading_on_and_the_edit_form_sets_the_interval(self) -> None:
        self.login(self.alice)
        page = self.client.get(reverse("panels:panels"))
        self.assertContains(page, "every 60 s")
        self.client.post(reverse("panels:toggle_tickets", args=[self.panel.code]), {"value": "on"})
        self.panel.refresh_from_db()
        self.assertTrue(self.panel.tickets_enabled)
        data = {"name": "Main", "url": "https://panel.example", "kind": "pp_v2", "tickets_interval": "5"}
        self.assertContains(self.client.post(reverse("panels:edit", args=[self.panel.code]), data), "15")
        data |= {"tickets_interval": "120", "tickets_enabled": "on"}
        self.client.post(reverse("panels:edit", args=[self.panel.code]), data)
        self.panel.refresh_from_db()
        self.assertEqual((self.panel.tickets_enabled, self.panel.tickets_interval), (True, 120))

    def test_outsiders_and_staff_without_panels_cannot_toggle(self) -> None:
        url = reverse("panels:toggle_tickets", args=[self.panel.code])
        self.login(self.charlie)
        self.assertEqual(self.client.post(url, {"value": "on"}).status_code, 404)
        self.login(self.bob)
        self.assertEqual(self.client.post(url, {"value": "on"}).status_code, 403)

    def test_ticket_replies_are_edited_on_settings_tickets(self) -> None:
        from panelrelay.intake.models import TicketSettings

        self.login(self.alice)
        self.assertContains(self.client.get(reverse("intake:tickets")), "Replies on the ticket")
        data = {"reply_forwarded": "Done {ids}", "reply_already": "a", "reply_not_eligible": "b",
                "reply_not_yours": "c", "reply_outcome_done": "d", "reply_outcome_refused": "e"}  # fmt: skip
        self.client.post(reverse("intake:tickets"), data)
        options = TicketSettings.of(self.workspace)
        self.assertEqual((options.replies_enabled, options.reply_forwarded), (False, "Done {ids}"))
        self.login(self.bob)
        self.assertEqual(self.client.get(reverse("intake:tickets")).status_code, 403)
