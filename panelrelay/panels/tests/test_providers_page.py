"""The Providers page: aliases renamed in place, toggles, add by domain, Sync, Find order."""

from __future__ import annotations

import re

from panelrelay.core import crypto
from panelrelay.core.testing import BaseTestCase
from panelrelay.demo import scenario
from panelrelay.panels.models import Provider
from panelrelay.panels.tests.helpers import PanelTestCase
from panelrelay.routing.models import ProviderRoute
from panelrelay.vault.models import BackupRecord

HX = {"HTTP_HX_REQUEST": "true"}
DOMAINS = ("alpha-prov.example", "beta-prov.example")


class ProvidersPageTestCase(PanelTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.fake.seed_orders(20, providers=DOMAINS, manual_every=5, services=((1204, "IG Likes HQ"), (88, "TT Views")))
        self.fake.add_order(
            30001, provider=DOMAINS[0], external_id="9876543", service_id=1204, service_name="IG Likes HQ"
        )

    def sync(self) -> None:
        self.client.post("/providers/sync/")

    def test_sync_lists_providers_by_alias_with_services_and_counts(self) -> None:
        self.login(self.alice)
        r = self.client.post("/providers/sync/", follow=True)
        self.assertContains(r, "Main: Scanned 21 recent order(s): 2 provider(s) (2 new), 4 manual order(s).")
        self.assertContains(r, "Provider 1")
        self.assertContains(r, "Provider 2")
        self.assertContains(r, "#1204")
        self.assertContains(r, "Set in Routing")
        for domain in DOMAINS:
            self.assertNotContains(r, domain.split(".")[0])
        self.assertEqual(sum(Provider.objects.values_list("orders_seen", flat=True)), 17)

    def test_each_provider_shows_its_route_read_back_through_routings_relation(self) -> None:
        self.login(self.alice)
        self.sync()
        first, second = Provider.objects.order_by("alias")
        group = scenario.destination(scenario.telegram(self.workspace, self.fake.url), "Alpha grp", "tg_group", "-1001")
        scenario.route(first, group)
        ProviderRoute.objects.filter(provider=first).update(enabled=False)
        ProviderRoute.objects.create(workspace=self.workspace, provider=second, destination=None)  # no destination yet
        r = self.client.get("/providers/")
        rows = re.findall(r"<tr\b.*?</tr>", r.content.decode(), flags=re.S)
        first_row = next(row for row in rows if first.alias in row)
        second_row = next(row for row in rows if second.alias in row)
        self.assertIn("Alpha grp", first_row)
        self.assertIn("(off)", first_row)
        self.assertIn("Set in Routing", second_row)
        self.assertNotIn("None", second_row)

    def test_sync_over_htmx_reloads_the_page(self) -> None:
        self.login(self.alice)
        r = self.client.post("/providers/sync/", **HX)
        self.assertEqual((r.status_code, r["HX-Refresh"]), (204, "true"))

    def test_sync_without_a_panel_says_what_to_do(self) -> None:
        self.panel.delete()
        self.login(self.alice)
        r = self.client.post("/providers/sync/", follow=True)
        self.assertContains(r, "Add and enable a panel first")

    def test_rename_in_place_and_duplicates_refused(self) -> None:
        self.login(self.alice)
        self.sync()
        first, second = Provider.objects.order_by("alias")
        r = self.client.get(f"/providers/{first.code}/alias/", **HX)
        self.assertContains(r, 'name="alias"')
        r = self.client.post(f"/providers/{first.code}/alias/", {"alias": "FastLikes_A"}, **HX)
        self.assertContains(r, "FastLikes_A")
        self.assertNotContains(r, 'name="alias"')
        r = self.client.post(f"/providers/{second.code}/alias/", {"alias": "fastlikes_a"}, **HX)
        self.assertContains(r, "is already the alias of another provider")
        second.refresh_from_db()
        self.assertEqual(second.alias, "Provider 2")
        r = self.client.post(f"/providers/{second.code}/alias/", {"alias": DOMAINS[1]}, **HX)
        self.assertContains(r, "cannot contain a web address")
        self.assertEqual(BackupRecord.objects.filter(event="alias_renamed").count(), 1)
        r = self.client.get(f"/providers/{first.code}/alias/?cancel=1", **HX)
        self.assertContains(r, "FastLikes_A")
        self.assertNotContains(r, "<form")

    def test_an_alias_answers_the_same_for_a_providers_domain_and_any_other_host(self) -> None:
        # Once "must not be a provider's domain" for a provider and accepted for any other host:
        # staff with the panels toggle could test their guesses one by one.
        self.staff.can_panels = True
        self.staff.save()
        self.login(self.alice)
        self.sync()
        self.login(self.bob)
        provider = Provider.objects.order_by("alias").first()
        answers = set()
        for host in (DOMAINS[0], DOMAINS[1].upper(), "unrelated-guess.example", "smmrush.example"):
            r = self.client.post(f"/providers/{provider.code}/alias/", {"alias": f"Alpha ({host})"}, **HX)
            body = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", r.content.decode())
            self.assertNotIn(host.lower(), body.lower())
            answers.add(body)
        self.assertEqual(len(answers), 1, answers)
        self.assertIn("Alpha ([web address])", answers.pop())
        provider.refresh_from_db()
        self.assertEqual(provider.alias, "Provider 1")

    def test_the_provider_toggle_saves_in_place(self) -> None:
        self.login(self.alice)
        self.sync()
        provider = Provider.objects.first()
        self.client.post(f"/providers/{provider.code}/enabled/", {"value": "off"}, **HX)
        provider.refresh_from_db()
        self.assertFalse(provider.enabled)
        self.assertContains(self.client.get("/providers/?show=off"), provider.alias)

    def test_find_order_shows_alias_external_id_service_status_and_mode(self) -> None:
        self.login(self.alice)
        r = self.client.get("/providers/find/", {"order": "30001"}, **HX)
        self.assertContains(r, "Provider 1")
        self.assertContains(r, "9876543")
        self.assertContains(r, "#1204")
        self.assertContains(r, "Completed")
        self.assertContains(r, "Auto")
        self.assertNotContains(r, "alpha-prov")
        r = self.client.get("/providers/find/", {"order": "10005"}, **HX)  # a manual order
        self.assertContains(r, "(no provider)")
        self.assertContains(r, "Manual")

    def test_find_order_explains_every_failure(self) -> None:
        self.login(self.alice)
        self.assertContains(self.client.get("/providers/find/", {"order": ""}), "Type a panel order id")
        self.assertContains(self.client.get("/providers/find/", {"order": "12a"}), "An order id is a number")
        self.assertContains(
            self.client.get("/providers/find/", {"order": "999999"}), "Order 999999 is not in panel “Main”"
        )
        self.fake.fail_next(message="Order lookup failed at upstream alpha-prov.example")
        r = self.client.get("/providers/find/", {"order": "30001"})
        self.assertContains(r, "the panel reported an error")
        self.assertNotContains(r, "alpha-prov")

    def test_find_order_picks_the_panel_and_never_another_workspaces(self) -> None:
        theirs = self.make_panel("Theirs", workspace=self.other_workspace)
        self.login(self.alice)
        r = self.client.get("/providers/find/", {"order": "30001", "panel": str(theirs.code)})
        self.assertContains(r, "in Main")  # someone else's panel code falls back to one of Alice's

    def test_the_owner_adds_a_provider_by_domain_and_never_sees_it_again(self) -> None:
        self.login(self.alice)
        r = self.client.post(
            "/providers/add/", {"domain": "https://www.Hand-Prov.example/", "alias": "Backup_2"}, follow=True
        )
        self.assertContains(r, "Provider added as “Backup_2”.")
        self.assertContains(r, "added by hand")
        self.assertNotContains(r, "hand-prov")
        provider = Provider.objects.get(alias="Backup_2")
        self.assertEqual(crypto.decrypt(provider.domain_enc), "hand-prov.example")
        r = self.client.post("/providers/add/", {"domain": "hand-prov.example"}, follow=True)
        self.assertContains(r, "already in your list")
        r = self.client.post("/providers/add/", {"domain": "not a domain"}, follow=True)
        self.assertContains(r, "does not look like a domain")
        self.assertEqual(BackupRecord.objects.filter(event="provider_added").count(), 1)

    def test_staff_with_the_panels_toggle_rename_but_cannot_add_by_domain(self) -> None:
        self.login(self.bob)
        self.assertEqual(self.client.get("/providers/").status_code, 403)
        self.assertEqual(self.client.get("/providers/find/", {"order": "30001"}).status_code, 200)  # forward toggle
        self.give_bob(panels=True, forward=False)
        r = self.client.get("/providers/")
        self.assertNotContains(r, "Add provider")
        self.assertEqual(self.client.post("/providers/add/", {"domain": "x.example"}).status_code, 403)
        self.give_bob(panels=False)
        self.assertEqual(self.client.get("/providers/find/", {"order": "30001"}).status_code, 403)

    def test_another_workspaces_provider_does_not_exist(self) -> None:
        self.login(self.alice)
        self.sync()
        provider = Provider.objects.first()
        self.login(self.charlie)
        self.assertEqual(self.client.post(f"/providers/{provider.code}/alias/", {"alias": "Mine"}).status_code, 404)
        self.assertEqual(self.client.post(f"/providers/{provider.code}/enabled/", {"value": "off"}).status_code, 404)
        self.assertNotContains(self.client.get("/providers/"), provider.alias)
        provider.refresh_from_db()
        self.assertTrue(provider.enabled)


class ProviderFollowUpTestCase(BaseTestCase):
    def test_the_owner_sets_a_providers_own_reminder_delay_and_clears_it(self) -> None:
        from panelrelay.panels.models import Provider

        provider = Provider.objects.create(workspace=self.workspace, alias="Slow_P", domain_enc="x", domain_hmac="h")
        url = f"/providers/{provider.code}/follow-up/"
        self.login(self.alice)
        self.client.post(url, {"follow_up_hours": "2"})
        provider.refresh_from_db()
        self.assertEqual(provider.follow_up_hours, 2)
        self.assertContains(
            self.client.get(f"/providers/{provider.code}/"), 'name="follow_up_hours" id="follow-up-hours" value="2"'
        )
        self.assertEqual(self.client.post(url, {"follow_up_hours": "999"}).status_code, 400)
        self.assertEqual(self.client.post(url, {"follow_up_hours": "two"}).status_code, 400)
        self.client.post(url, {"follow_up_hours": ""})
        provider.refresh_from_db()
        self.assertIsNone(provider.follow_up_hours)
        self.login(self.charlie)
        self.assertEqual(self.client.post(url, {"follow_up_hours": "1"}).status_code, 404)
