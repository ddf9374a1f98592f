"""Adding a panel tests and syncs it on save: each failure has its own plain message, and a
failed sync is kept as a failure, never shown as "Last sync: just now"."""

from __future__ import annotations

from django.contrib.messages import get_messages

from fakes.panel import FakePanel
from panelrelay.core import faults
from panelrelay.panels.models import Panel, Provider
from panelrelay.panels.tests.conftest import KEY
from panelrelay.panels.tests.helpers import PanelTestCase


class PanelAddChecksTestCase(PanelTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.panel.delete()  # a new account: no panel yet
        self.login(self.alice)

    def add(self, url: str | None = None, key: str = KEY, kind: str = "pp_v2", name: str = "Main"):
        data = {"name": name, "url": url or self.fake.url, "kind": kind, "api_key": key}
        r = self.client.post("/panels/add/", data)
        self.assertRedirects(r, "/panels/", fetch_redirect_response=False)
        [message] = list(get_messages(r.wsgi_request))
        return Panel.objects.get(name=name), message

    def test_a_good_key_is_tested_and_synced_on_save(self) -> None:
        self.fake.seed_orders(6)  # three demo providers
        panel, message = self.add()
        self.assertEqual(message.level_tag, "success")
        self.assertIn("Panel “Main” added. Connected and synced:", str(message))
        self.assertIn("the API key works", str(message))
        self.assertIn("Scanned 6 recent order(s): 3 provider(s) (3 new)", str(message))
        self.assertTrue(panel.check_ok)
        self.assertIs(panel.sync_ok, True)
        self.assertEqual(Provider.objects.filter(workspace=self.workspace).count(), 3)
        page = self.client.get("/panels/").content.decode()
        self.assertIn("Working", page)
        self.assertNotIn("check-reason", page)

    def test_a_wrong_key_is_saved_but_marked_failing_and_nothing_is_synced(self) -> None:
        panel, message = self.add(key="wrong-key-0000000000")
        self.assertEqual(message.level_tag, "error")
        self.assertIn(
            "Panel “Main” added, but it does not work yet. API key not accepted: The API key was not", str(message)
        )
        self.assertIn("Settings → API", str(message))
        self.assertIs(panel.check_ok, False)
        self.assertIsNone(panel.sync_ok)  # no sync was tried with a key that does not work
        self.assertIsNone(panel.synced_at)
        page = self.client.get("/panels/").content.decode()
        self.assertIn("check-reason", page)
        self.assertIn("The API key was not accepted", page)

    def test_a_404_at_the_panel_url_is_no_panel_api_not_a_bad_key(self) -> None:
        self.fake.inject("status", times=20, status=404, body={"error": "Not Found"})
        panel, message = self.add()
        self.assertEqual(message.level_tag, "error")
        self.assertIn("No panel API at this address: There is no panel API at this address (HTTP 404)", str(message))
        self.assertNotIn("not accepted", str(message))
        self.assertIs(panel.check_ok, False)

    def test_an_unreachable_host_says_so(self) -> None:
        with FakePanel() as gone:
            url = gone.url
        panel, message = self.add(url=url)
        self.assertEqual(message.level_tag, "error")
        self.assertIn("Cannot reach this address: The panel cannot be reached", str(message))
        self.assertNotIn("not accepted", str(message))
        self.assertIs(panel.check_ok, False)

    def test_an_html_error_page_is_not_a_panel_api(self) -> None:
        self.fake.inject("html", times=20, status=502)
        panel, message = self.add()
        self.assertEqual(message.level_tag, "error")
        self.assertIn("A web page answered, not a panel API", str(message))
        self.assertNotIn("not accepted", str(message))
        self.assertIs(panel.check_ok, False)

    def test_a_failed_sync_is_recorded_and_shown_as_failed(self) -> None:
        self.fake.seed_orders(3)
        self.add()
        self.fake.fail_next(1, message="Internal error")  # the next call: Sync providers' order list
        r = self.client.post(f"/panels/{Panel.objects.get().code}/sync/")
        self.assertRedirects(r, "/panels/", fetch_redirect_response=False)
        panel = Panel.objects.get()
        self.assertIs(panel.sync_ok, False)
        self.assertIn("Internal error", panel.sync_message)
        cell = self.client.get("/panels/").content.decode().split(f'id="panel-{panel.code}-sync"')[1][:400]
        self.assertIn("Failed", cell)

    def test_a_sync_failure_after_a_good_test_is_a_warning_not_a_success(self) -> None:
        self.fake.seed_orders(3)
        with faults.injected("panels.verify.before_sync", lambda: self.fake.fail_next(1, message="Database busy")):
            panel, message = self.add()
        self.assertEqual(message.level_tag, "warning")
        self.assertIn("Connected, but Sync providers failed", str(message))
        self.assertTrue(panel.check_ok)
        self.assertIs(panel.sync_ok, False)
        self.assertIn("Database busy", str(message))
        self.assertIn("Database busy", str(message))

    def test_editing_only_the_name_does_not_call_the_panel_again(self) -> None:
        panel, _ = self.add()
        calls = len(self.fake.received)
        data = {"name": "Renamed", "url": self.fake.url, "kind": "pp_v2", "api_key": ""}
        r = self.client.post(f"/panels/{panel.code}/edit/", data)
        self.assertRedirects(r, "/panels/", fetch_redirect_response=False)
        self.assertEqual(len(self.fake.received), calls)

    def test_a_new_key_on_edit_is_tested_again(self) -> None:
        panel, _ = self.add(key="wrong-key-0000000000")
        data = {"name": "Main", "url": self.fake.url, "kind": "pp_v2", "api_key": KEY}
        r = self.client.post(f"/panels/{panel.code}/edit/", data)
        message = list(get_messages(r.wsgi_request))[-1]  # after the add's own message
        self.assertEqual(message.level_tag, "success")
        self.assertIn("Panel “Main” saved. Connected and synced", str(message))
        panel.refresh_from_db()
        self.assertTrue(panel.check_ok)
