"""The Panels page: add, edit, delete, toggles, Test connection and Sync, per permission."""

from __future__ import annotations

from panelrelay.core import crypto
from panelrelay.panels.models import Panel, Provider
from panelrelay.panels.tests.conftest import KEY
from panelrelay.panels.tests.helpers import PanelTestCase
from panelrelay.vault.models import BackupRecord

HX = {"HTTP_HX_REQUEST": "true"}


class PanelsPageTestCase(PanelTestCase):
    def test_it_lists_panels_with_a_masked_key_and_the_backup_notice(self) -> None:
        self.login(self.alice)
        r = self.client.get("/panels/")
        self.assertContains(r, "Main")
        self.assertContains(r, "••••" + KEY[-4:])
        self.assertNotContains(r, KEY)
        self.assertContains(r, "keeps a backup of panel and provider configuration")
        self.assertContains(r, "for recovery and abuse prevention")

    def test_an_empty_workspace_sees_the_next_step(self) -> None:
        self.panel.delete()
        self.login(self.alice)
        self.assertContains(self.client.get("/panels/"), "No panels yet — add your first panel")

    def test_adding_a_panel_encrypts_the_key_and_writes_a_backup(self) -> None:
        self.login(self.alice)
        data = {"name": "Second", "url": self.fake.url + "/admin/adminapi/v2/", "kind": "pp_v1", "api_key": "k" * 30}
        r = self.client.post("/panels/add/", data)
        self.assertRedirects(r, "/panels/")
        panel = Panel.objects.get(name="Second")
        self.assertEqual((panel.url, panel.kind, panel.api_key_tail), (self.fake.url, "pp_v1", "kkkk"))
        self.assertEqual(crypto.decrypt(panel.api_key_enc), "k" * 30)
        self.assertNotIn("k" * 30, panel.api_key_enc)
        record = BackupRecord.objects.get(panel_code=panel.code)
        self.assertEqual(
            (record.event, record.actor, record.panel_name), ("panel_added", "alice@example.org", "Second")
        )

    def test_bad_input_is_refused_with_reasons_and_the_key_is_not_echoed(self) -> None:
        self.login(self.alice)
        r = self.client.post(
            "/panels/add/", {"name": "main", "url": "ftp://x", "kind": "pp_v9", "api_key": "s3cret-typed"}
        )
        self.assertEqual(r.status_code, 200)
        self.assertContains(r, "You already have a panel with this name.")
        self.assertContains(r, "starting with https://")
        self.assertContains(r, "Select a valid choice")
        self.assertNotContains(r, "s3cret-typed")
        r = self.client.post("/panels/add/", {"name": "X", "url": "https://y.example", "kind": "pp_v2"})
        self.assertContains(r, "This field is required.")
        self.assertEqual(Panel.objects.count(), 1)

    def test_private_addresses_are_refused_in_production_mode(self) -> None:
        self.login(self.alice)
        with self.settings(OUTBOUND_ALLOW_PRIVATE=False):
            r = self.client.post(
                "/panels/add/", {"name": "X", "url": "http://127.0.0.1:8080", "kind": "pp_v2", "api_key": "k" * 20}
            )
        self.assertContains(r, "private network")

    def test_editing_keeps_the_key_unless_a_new_one_is_typed(self) -> None:
        self.login(self.alice)
        r = self.client.get(f"/panels/{self.panel.code}/edit/")
        self.assertContains(r, "Leave empty to keep it")
        self.assertNotContains(r, KEY)
        data = {"name": "Main renamed", "url": self.fake.url, "kind": "pp_v2", "api_key": ""}
        self.assertRedirects(self.client.post(f"/panels/{self.panel.code}/edit/", data), "/panels/")
        self.panel.refresh_from_db()
        self.assertEqual((self.panel.name, crypto.decrypt(self.panel.api_key_enc)), ("Main renamed", KEY))
        self.client.post(f"/panels/{self.panel.code}/edit/", data | {"api_key": "new-key-abcdefgh"})
        self.panel.refresh_from_db()
        self.assertEqual(crypto.decrypt(self.panel.api_key_enc), "new-key-abcdefgh")
        events = list(BackupRecord.objects.filter(panel_code=self.panel.code).values_list("event", flat=True))
        self.assertEqual(events, ["panel_edited", "panel_edited"])

    def test_deleting_asks_first_then_removes_the_panel_and_its_own_providers(self) -> None:
        self.fake.seed_orders(20, providers=("a.example", "b.example"))
        other = self.make_panel("Other")
        self.login(self.alice)
        self.client.post(f"/panels/{self.panel.code}/sync/")
        shared = Provider.objects.get(alias="Provider 1")
        shared.panels.add(other)
        r = self.client.get(f"/panels/{self.panel.code}/delete/")
        self.assertContains(r, "Its 1 provider that no other panel uses is removed with it")
        self.assertContains(r, "keeps a backup")
        self.client.post(f"/panels/{self.panel.code}/delete/")  # no confirm: nothing happens
        self.assertTrue(Panel.objects.filter(pk=self.panel.pk).exists())
        r = self.client.post(f"/panels/{self.panel.code}/delete/", {"confirm": "yes"})
        self.assertRedirects(r, "/panels/")
        self.assertFalse(Panel.objects.filter(pk=self.panel.pk).exists())
        self.assertEqual(list(Provider.objects.values_list("alias", flat=True)), ["Provider 1"])
        deleted = BackupRecord.objects.get(event="panel_deleted")
        self.assertEqual((deleted.actor, deleted.domains.count()), ("alice@example.org", 2))

    def test_the_toggle_saves_in_place(self) -> None:
        self.login(self.alice)
        r = self.client.post(f"/panels/{self.panel.code}/enabled/", {"value": "off"}, **HX)
        self.assertContains(r, 'role="switch"')
        self.panel.refresh_from_db()
        self.assertFalse(self.panel.enabled)

    def test_test_connection_reports_in_plain_words(self) -> None:
        self.fake.seed_orders(3)
        self.login(self.alice)
        r = self.client.post(f"/panels/{self.panel.code}/test/", **HX)
        self.assertContains(r, "Reachable: <strong>yes</strong>", html=False)
        self.assertContains(r, "API key: <strong>accepted</strong>", html=False)
        self.assertContains(r, "Tickets: <strong>works</strong>", html=False)
        self.assertContains(r, " ms</strong>")
        self.assertContains(r, 'hx-swap-oob="true"')
        self.panel.refresh_from_db()
        self.assertTrue(self.panel.check_ok)

    def test_a_failed_test_says_why_without_htmx_too(self) -> None:
        self.fake.api_key = "changed-on-the-panel"
        self.login(self.alice)
        r = self.client.post(f"/panels/{self.panel.code}/test/", follow=True)
        self.assertContains(r, "the API key was not accepted")
        self.assertContains(r, "Failed")

    def test_sync_reports_what_it_found(self) -> None:
        self.fake.seed_orders(30, providers=("a.example", "b.example", "c.example"), manual_every=10)
        self.login(self.alice)
        r = self.client.post(f"/panels/{self.panel.code}/sync/", **HX)
        self.assertContains(r, "Scanned 30 recent order(s): 3 provider(s) (3 new), 3 manual order(s).")
        self.fake.inject("html")
        r = self.client.post(f"/panels/{self.panel.code}/sync/", **HX)
        self.assertContains(r, "web page instead of API data")

    def test_a_v1_panel_without_get_providers_is_working_and_says_what_it_lacks(self) -> None:
        self.fake.V1_ACTIONS = {"getOrders-by-id": "v1_orders_by_id"}  # bad_action for the rest
        panel = self.make_panel("Rental", kind="pp_v1")
        self.login(self.alice)
        r = self.client.post(f"/panels/{panel.code}/test/", **HX)
        self.assertContains(r, "Working</span>", html=False)
        self.assertContains(r, "API key: <strong>accepted</strong>", html=False)
        self.assertContains(r, "Order by id: <strong>works</strong>", html=False)
        self.assertContains(r, 'Provider list: <span class="text-body-secondary">not offered by this panel</span>')
        self.assertContains(r, 'Tickets: <span class="text-body-secondary">not offered by the v1 API</span>')
        self.assertNotContains(r, "not accepted")
        self.assertNotContains(r, "bad_action")
        panel.refresh_from_db()
        self.assertTrue(panel.check_ok)
        r = self.client.post(f"/panels/{panel.code}/sync/", **HX)
        self.assertContains(r, "Nothing to sync</span>", html=False)
        self.assertContains(r, "this panel does not offer a provider list")
        self.assertNotContains(r, "Failed")
        self.assertNotContains(r, "bad_action")

    def test_staff_need_the_panels_toggle(self) -> None:
        self.login(self.bob)
        for url in ("/panels/", "/panels/add/", f"/panels/{self.panel.code}/edit/"):
            self.assertEqual(self.client.get(url).status_code, 403, url)
        self.assertEqual(self.client.post(f"/panels/{self.panel.code}/test/").status_code, 403)
        self.give_bob(panels=True)
        self.assertEqual(self.client.get("/panels/").status_code, 200)

    def test_another_workspaces_panel_does_not_exist(self) -> None:
        self.login(self.charlie)
        for url in ("edit", "delete", "test", "sync", "enabled"):
            self.assertEqual(self.client.post(f"/panels/{self.panel.code}/{url}/", {"confirm": "yes"}).status_code, 404)
        self.assertTrue(Panel.objects.filter(pk=self.panel.pk).exists())
        self.assertNotContains(self.client.get("/panels/"), str(self.panel.code))
