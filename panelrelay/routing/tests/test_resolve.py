"""The four rules and their precedence, without any network: orders are built by hand."""

from __future__ import annotations

from types import SimpleNamespace

from panelrelay.core.testing import BaseTestCase
from panelrelay.panels.models import Panel, Provider
from panelrelay.routing.models import ProviderRoute, RoutingDefaults, ServiceOverride
from panelrelay.routing.resolve import Router
from panelrelay.transports.models import Connection, Destination


def order(provider=None, service_id="100", mode="auto"):
    return SimpleNamespace(provider=provider, service_id=service_id, mode=mode, external_id="9", status="completed")


class RouterTestCase(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        ws = self.workspace
        conn = Connection.objects.create(workspace=ws, kind="telegram", name="Bot")
        self.dest = {
            name: Destination.objects.create(
                workspace=ws, name=name, kind="tg_group", target=f"-100{n}", connection=conn
            )
            for n, name in enumerate(["FastLikes grp", "Group A", "Manual team", "My chat"])
        }
        self.fast = Provider.objects.create(workspace=ws, alias="FastLikes_A", domain_enc="x", domain_hmac="a")
        self.backup = Provider.objects.create(workspace=ws, alias="Backup_2", domain_enc="x", domain_hmac="b")
        ProviderRoute.objects.create(workspace=ws, provider=self.fast, destination=self.dest["FastLikes grp"])
        self.panel = Panel.objects.create(workspace=ws, name="Main", url="http://x.example/", api_key_enc="x")

    def decide(self, o):
        return Router(self.workspace).decide(o, self.panel)

    def test_rule_2_provider(self) -> None:
        d = self.decide(order(self.fast))
        self.assertEqual(
            (d.destination, d.rule, d.reason), (self.dest["FastLikes grp"], 2, "by rule 2 (provider FastLikes_A)")
        )

    def test_rule_1_service_override_beats_the_provider(self) -> None:
        ServiceOverride.objects.create(workspace=self.workspace, service_id="1234", destination=self.dest["Group A"])
        d = self.decide(order(self.fast, service_id="1234"))
        self.assertEqual((d.destination, d.rule), (self.dest["Group A"], 1))
        self.assertEqual(self.decide(order(self.fast, service_id="5")).rule, 2)

    def test_a_panel_specific_override_beats_an_all_panels_one_and_disabled_ones_do_not_count(self) -> None:
        ServiceOverride.objects.create(workspace=self.workspace, service_id="7", destination=self.dest["Group A"])
        ServiceOverride.objects.create(
            workspace=self.workspace, service_id="7", panel=self.panel, destination=self.dest["My chat"]
        )
        self.assertEqual(self.decide(order(self.fast, service_id="7")).destination, self.dest["My chat"])
        ServiceOverride.objects.filter(panel=self.panel).update(enabled=False)
        self.assertEqual(self.decide(order(self.fast, service_id="7")).destination, self.dest["Group A"])

    def test_rule_3_manual_and_rule_4_fallback(self) -> None:
        defaults = RoutingDefaults.of(self.workspace)
        defaults.manual_destination = self.dest["Manual team"]
        defaults.fallback_destination = self.dest["My chat"]
        defaults.save()
        self.assertEqual(self.decide(order(None, mode="manual")).rule, 3)
        d = self.decide(order(self.backup))  # a provider without a destination
        self.assertEqual((d.destination, d.rule), (self.dest["My chat"], 4))
        self.assertIn("provider Backup_2 has no destination", d.reason)
        d = self.decide(order(None, mode="auto"))  # provider unknown
        self.assertEqual(d.rule, 4)
        self.assertIn("provider unknown", d.reason)

    def test_a_turned_off_route_falls_through_to_the_fallback(self) -> None:
        ProviderRoute.objects.filter(provider=self.fast).update(enabled=False)
        self.assertIn("no fallback", self.decide(order(self.fast)).reason)
        RoutingDefaults.objects.update_or_create(
            workspace=self.workspace, defaults={"fallback_destination": self.dest["My chat"]}
        )
        d = self.decide(order(self.fast))
        self.assertEqual(d.rule, 4)
        self.assertIn("turned off", d.reason)

    def test_no_rule_matches_without_a_fallback(self) -> None:
        d = self.decide(order(self.backup))
        self.assertEqual((d.destination, d.rule), (None, None))
        self.assertEqual(d.reason, "provider Backup_2 has no destination, and no fallback is set")

    def test_another_workspaces_rules_never_apply(self) -> None:
        conn = Connection.objects.create(workspace=self.other_workspace, kind="telegram", name="Bot")
        theirs = Destination.objects.create(
            workspace=self.other_workspace, name="X", kind="tg_group", target="-1", connection=conn
        )
        ServiceOverride.objects.create(workspace=self.other_workspace, service_id="100", destination=theirs)
        RoutingDefaults.objects.create(workspace=self.other_workspace, fallback_destination=theirs)
        self.assertIsNone(self.decide(order(self.backup)).destination)
