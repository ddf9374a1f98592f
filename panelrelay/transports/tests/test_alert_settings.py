"""Settings → Alerts: the owner picks the alert destination, tests it, sees past incidents."""

from __future__ import annotations

from panelrelay.transports.models import AlertSettings, Incident
from panelrelay.transports.services import send_alert
from panelrelay.transports.tests.helpers import USER, FakeTestCase, destination

URL = "/settings/alerts/"


class AlertSettingsTestCase(FakeTestCase):
    kind = "telegram"

    def test_the_owner_picks_the_alert_destination_and_sends_a_test_alert(self) -> None:
        me = destination(self.connection, USER, name="My Telegram")
        self.login(self.alice)
        self.assertContains(self.client.get(URL), "Send alerts to")
        r = self.client.post(URL, {"destination": str(me.code)}, follow=True)
        self.assertContains(r, "Alerts go to TG · My Telegram")
        self.assertEqual(AlertSettings.of(self.workspace).destination, me)
        r = self.client.post(URL + "test/", follow=True)
        self.assertContains(r, "Test alert delivered to TG · My Telegram")
        self.assertIn("This is a test alert", self.fake.messages_to(USER)[0]["text"])
        r = self.client.post(URL, {"destination": ""}, follow=True)
        self.assertContains(r, "Alerts go to your email")

    def test_incidents_are_listed_open_and_resolved(self) -> None:
        send_alert(self.workspace, "Destination TG · X is broken: bot was kicked", key="destination:x")
        self.login(self.alice)
        r = self.client.get(URL)
        self.assertContains(r, "Destination TG · X is broken: bot was kicked")
        self.assertContains(r, "open")
        self.assertEqual(Incident.objects.count(), 1)

    def test_only_the_owner_sees_alert_settings_and_no_other_workspaces_destination(self) -> None:
        theirs = destination(self.connection, USER, name="Theirs")
        theirs.workspace = self.other_workspace
        theirs.save()
        self.staff.can_routing = True
        self.staff.save()
        self.login(self.bob)
        self.assertEqual(self.client.get(URL).status_code, 403)
        self.assertNotContains(self.client.get("/settings/connections/"), 'href="/settings/alerts/"')
        self.login(self.alice)
        self.assertEqual(self.client.post(URL, {"destination": str(theirs.code)}).status_code, 404)
        self.assertIsNone(AlertSettings.of(self.workspace).destination)
