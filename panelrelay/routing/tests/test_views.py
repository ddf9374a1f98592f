from __future__ import annotations

import pytest

from fakes.panel import FakePanel
from panelrelay.core.testing import BaseTestCase
from panelrelay.demo import scenario
from panelrelay.panels.models import Provider, ServiceSeen
from panelrelay.routing.models import ProviderRoute, RoutingDefaults, ServiceOverride
from panelrelay.transports.models import Connection, Destination


class RoutingPageTestCase(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        conn = Connection.objects.create(workspace=self.workspace, kind="telegram", name="Bot")
        self.group = Destination.objects.create(
            workspace=self.workspace, name="FastLikes grp", kind="tg_group", target="-1001", connection=conn
        )
        self.provider = Provider.objects.create(
            workspace=self.workspace, alias="FastLikes_A", domain_enc="x", domain_hmac="a"
        )
        self.staff.can_panels = True
        self.staff.save()

    def test_the_page_states_the_privacy_sentence_and_the_rule_order(self) -> None:
        self.login(self.alice)
        r = self.client.get("/routing/")
        self.assertContains(r, "Our platform forwards requests using provider aliases to protect your privacy.")
        for rule in ("1 Service-ID override", "2 Provider", "3 Manual services", "4 Fallback"):
            self.assertContains(r, rule)

    def test_linking_a_provider_saves_in_place_and_shows_on_providers(self) -> None:
        self.login(self.alice)
        r = self.client.post(
            f"/routing/providers/{self.provider.code}/destination/",
            {"destination": str(self.group.code)},
            HTTP_HX_REQUEST="true",
        )
        self.assertContains(r, "Saved: FastLikes_A → TG · FastLikes grp")
        self.assertEqual(ProviderRoute.objects.get(provider=self.provider).destination, self.group)
        self.assertContains(self.client.get("/providers/"), "TG · FastLikes grp")
        self.client.post(f"/routing/providers/{self.provider.code}/toggle/", {"value": "off"})
        self.assertFalse(ProviderRoute.objects.get(provider=self.provider).enabled)

    def test_overrides_and_defaults(self) -> None:
        self.login(self.alice)
        self.client.post("/routing/overrides/", {"service_id": "1234", "destination": str(self.group.code)})
        override = ServiceOverride.objects.get()
        self.assertEqual((override.service_id, override.destination, override.panel), ("1234", self.group, None))
        r = self.client.post(
            "/routing/overrides/", {"service_id": "1234", "destination": str(self.group.code)}, follow=True
        )
        self.assertContains(r, "already has an override")
        r = self.client.post(
            "/routing/overrides/", {"service_id": "abc", "destination": str(self.group.code)}, follow=True
        )
        self.assertContains(r, "numeric service id")
        self.client.post("/routing/defaults/fallback/", {"destination": str(self.group.code)})
        self.assertEqual(RoutingDefaults.of(self.workspace).fallback_destination, self.group)
        self.assertEqual(self.client.post("/routing/defaults/sideways/", {"destination": ""}).status_code, 400)

    def test_the_sections_come_in_rule_order_with_the_route_check_last(self) -> None:
        self.login(self.alice)
        page = self.client.get("/routing/").content.decode()
        marks = ["1 · Service-ID overrides", "2 · Providers", "3 · Manual services", "4 · Fallback", "Check an order"]
        positions = [page.index(mark) for mark in marks]
        self.assertEqual(positions, sorted(positions))

    def test_an_overrides_destination_changes_in_place_and_never_to_none(self) -> None:
        other = Destination.objects.create(
            workspace=self.workspace, name="Group B", kind="tg_group", target="-1002", connection=self.group.connection
        )
        override = ServiceOverride.objects.create(workspace=self.workspace, service_id="77", destination=self.group)
        self.login(self.alice)
        url = f"/routing/overrides/{override.code}/destination/"
        r = self.client.post(url, {"destination": str(other.code)}, HTTP_HX_REQUEST="true")
        self.assertContains(r, "Saved: service 77 → TG · Group B")
        override.refresh_from_db()
        self.assertEqual(override.destination, other)
        r = self.client.post(url, {"destination": ""}, HTTP_HX_REQUEST="true")
        self.assertContains(r, "needs a destination")
        override.refresh_from_db()
        self.assertEqual(override.destination, other)
        self.assertEqual(self.client.post(url, {"destination": "nonsense"}).status_code, 400)
        page = self.client.get("/routing/")
        self.assertContains(page, f'hx-post="{url}"')
        # another workspace's destination, or another workspace's override: not found
        conn = Connection.objects.create(workspace=self.other_workspace, kind="telegram", name="Theirs")
        theirs = Destination.objects.create(
            workspace=self.other_workspace, name="X", kind="tg_group", target="-9", connection=conn
        )
        self.assertEqual(self.client.post(url, {"destination": str(theirs.code)}).status_code, 404)
        self.login(self.charlie)
        self.assertEqual(self.client.post(url, {"destination": str(theirs.code)}).status_code, 404)
        override.refresh_from_db()
        self.assertEqual(override.destination, other)

    def test_a_service_id_never_seen_is_flagged_not_accepted_silently(self) -> None:
        panel = scenario.panel(self.workspace, "http://127.0.0.1:9", name="Main")
        ServiceSeen.objects.create(provider=self.provider, panel=panel, service_id="1204", name="IG Likes")
        self.login(self.alice)
        r = self.client.post("/routing/overrides/", {"service_id": "1204", "destination": str(self.group.code)},
                             follow=True)  # fmt: skip
        self.assertNotContains(r, "not seen")
        self.assertContains(r, "IG Likes")
        r = self.client.post("/routing/overrides/", {"service_id": "9999", "destination": str(self.group.code)},
                             follow=True)  # fmt: skip
        self.assertContains(r, "Service 9999 has not been seen on any panel yet")
        self.assertContains(r, "not seen on any panel yet</span>")
        self.assertEqual(ServiceOverride.objects.count(), 2)  # saved: it applies once such orders arrive
        second = scenario.panel(self.workspace, "http://127.0.0.1:9", name="Second")
        r = self.client.post("/routing/overrides/", {"service_id": "1204", "panel": str(second.code),
                             "destination": str(self.group.code)}, follow=True)  # fmt: skip
        self.assertContains(r, "Service 1204 has not been seen on Second yet")
        self.assertContains(r, "not seen on this panel yet</span>")
        # seen by another workspace's provider does not count
        theirs = Provider.objects.create(workspace=self.other_workspace, alias="T", domain_enc="y", domain_hmac="b")
        their_panel = scenario.panel(self.other_workspace, "http://127.0.0.1:9", name="Theirs")
        ServiceSeen.objects.create(provider=theirs, panel=their_panel, service_id="9999")
        self.assertContains(self.client.get("/routing/"), "not seen on any panel yet</span>")

    def test_another_workspaces_destination_cannot_be_linked(self) -> None:
        conn = Connection.objects.create(workspace=self.other_workspace, kind="telegram", name="Theirs")
        theirs = Destination.objects.create(
            workspace=self.other_workspace, name="X", kind="tg_group", target="-9", connection=conn
        )
        self.login(self.alice)
        r = self.client.post(f"/routing/providers/{self.provider.code}/destination/", {"destination": str(theirs.code)})
        self.assertEqual(r.status_code, 404)
        self.assertFalse(ProviderRoute.objects.filter(destination=theirs).exists())

    def test_staff_without_manage_routing_is_refused(self) -> None:
        self.login(self.bob)
        self.assertEqual(self.client.get("/routing/").status_code, 403)
        r = self.client.post(
            f"/routing/providers/{self.provider.code}/destination/", {"destination": str(self.group.code)}
        )
        self.assertEqual(r.status_code, 403)
        self.assertFalse(ProviderRoute.objects.exists())


@pytest.mark.django_db
def test_the_route_check_reads_the_order_and_sends_nothing() -> None:
    from django.test import Client

    from panelrelay.accounts.models import Membership, Workspace
    from panelrelay.core.testing import make_user

    with FakePanel(rps=0) as fake:
        fake.add_order(id=45323, provider="fastlikes.example", external_id="9876543", service_id=7)
        ws = Workspace.objects.create(name="W")
        owner = make_user("o@example.org")
        Membership.objects.create(user=owner, workspace=ws, role="owner")
        scenario.panel(ws, fake.url)
        conn = Connection.objects.create(workspace=ws, kind="telegram", name="Bot")
        dest = Destination.objects.create(
            workspace=ws, name="FastLikes grp", kind="tg_group", target="-1", connection=conn
        )
        scenario.route(scenario.provider(ws, "fastlikes.example", "FastLikes_A"), dest)
        client = Client()
        client.force_login(owner)
        r = client.get("/routing/check/", {"order": "45323"})
        text = r.content.decode()
        assert "TG · FastLikes grp" in text and "by rule 2 (provider FastLikes_A)" in text
        assert "fastlikes.example" not in text
        assert "was not found" in client.get("/routing/check/", {"order": "1"}).content.decode()
        assert "digits only" in client.get("/routing/check/", {"order": "abc"}).content.decode()
        fake.inject("html")
        assert "Panel “Main”" in client.get("/routing/check/", {"order": "45323"}).content.decode()
