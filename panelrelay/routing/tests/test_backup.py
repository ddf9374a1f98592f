"""The Routing page's Backup column: where a provider's unanswered requests go after the reminder."""

from __future__ import annotations

from panelrelay.core.testing import BaseTestCase
from panelrelay.panels.models import Provider
from panelrelay.routing.models import ProviderRoute
from panelrelay.transports.models import Connection, Destination


class BackupColumnTestCase(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        conn = Connection.objects.create(workspace=self.workspace, kind="telegram", name="Bot")
        self.group = Destination.objects.create(
            workspace=self.workspace, name="FastLikes grp", kind="tg_group", target="-1001", connection=conn
        )
        self.spare = Destination.objects.create(
            workspace=self.workspace, name="Spare grp", kind="tg_group", target="-1002", connection=conn
        )
        self.provider = Provider.objects.create(
            workspace=self.workspace, alias="FastLikes_A", domain_enc="x", domain_hmac="a"
        )
        self.url = f"/routing/providers/{self.provider.code}/backup/"

    def test_it_is_off_by_default_and_shown_per_provider(self) -> None:
        self.login(self.alice)
        r = self.client.get("/routing/")
        self.assertContains(r, 'aria-label="Backup destination of FastLikes_A"')
        self.assertContains(r, f'hx-post="{self.url}"')
        self.assertContains(r, 'id="saved-backup-')
        self.assertFalse(ProviderRoute.objects.filter(backup_destination__isnull=False).exists())

    def test_it_saves_in_place_and_leaves_the_main_destination(self) -> None:
        ProviderRoute.objects.create(workspace=self.workspace, provider=self.provider, destination=self.group)
        self.login(self.alice)
        r = self.client.post(self.url, {"destination": str(self.spare.code)}, HTTP_HX_REQUEST="true")
        self.assertContains(r, "Saved: FastLikes_A backup → TG · Spare grp")
        route = ProviderRoute.objects.get(provider=self.provider)
        self.assertEqual((route.destination, route.backup_destination), (self.group, self.spare))
        page = self.client.get("/routing/").content.decode()
        backup_select = page[page.index('aria-label="Backup destination of FastLikes_A"') :].split("</select>")[0]
        self.assertIn(f'value="{self.spare.code}" selected', backup_select)
        r = self.client.post(self.url, {"destination": ""})
        self.assertContains(r, "Saved: FastLikes_A backup → none")
        self.assertIsNone(ProviderRoute.objects.get(provider=self.provider).backup_destination)

    def test_a_provider_without_a_route_gets_one_with_only_a_backup(self) -> None:
        self.login(self.alice)
        self.client.post(self.url, {"destination": str(self.spare.code)})
        route = ProviderRoute.objects.get(provider=self.provider)
        self.assertEqual((route.destination, route.backup_destination, route.enabled), (None, self.spare, True))

    def test_the_backup_cannot_be_the_main_destination(self) -> None:
        ProviderRoute.objects.create(workspace=self.workspace, provider=self.provider, destination=self.group)
        self.login(self.alice)
        r = self.client.post(self.url, {"destination": str(self.group.code)})
        self.assertContains(r, "the backup must be another chat than its destination; not saved")
        self.assertIsNone(ProviderRoute.objects.get(provider=self.provider).backup_destination)

    def test_another_workspaces_destination_or_provider_is_a_404(self) -> None:
        conn = Connection.objects.create(workspace=self.other_workspace, kind="telegram", name="Theirs")
        theirs = Destination.objects.create(
            workspace=self.other_workspace, name="X", kind="tg_group", target="-9", connection=conn
        )
        their_provider = Provider.objects.create(
            workspace=self.other_workspace, alias="Theirs_1", domain_enc="y", domain_hmac="b"
        )
        self.login(self.alice)
        self.assertEqual(self.client.post(self.url, {"destination": str(theirs.code)}).status_code, 404)
        url = f"/routing/providers/{their_provider.code}/backup/"
        self.assertEqual(self.client.post(url, {"destination": str(self.spare.code)}).status_code, 404)
        self.assertFalse(ProviderRoute.objects.exclude(backup_destination=None).exists())

    def test_bad_input_is_a_400_and_staff_without_routing_a_403(self) -> None:
        self.login(self.alice)
        self.assertEqual(self.client.post(self.url, {"destination": "not-a-code"}).status_code, 400)
        self.assertEqual(self.client.get(self.url).status_code, 405)
        self.login(self.bob)
        self.assertEqual(self.client.post(self.url, {"destination": str(self.spare.code)}).status_code, 403)
        self.assertFalse(ProviderRoute.objects.exists())
