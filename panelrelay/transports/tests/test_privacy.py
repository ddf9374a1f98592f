"""Chat titles from Telegram and the gateways are stored with known provider domains masked."""

from __future__ import annotations

from panelrelay.core.testing import BaseTestCase
from panelrelay.panels.providers import add_by_domain
from panelrelay.transports.privacy import mask_domains


class MaskDomainsTestCase(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        add_by_domain(self.workspace, "fastlikes.example", "FastLikes_A")
        add_by_domain(self.other_workspace, "theirs.example", "Theirs")

    def test_it_replaces_every_spelling_of_a_known_domain_by_its_alias(self) -> None:
        ws = self.workspace.pk
        self.assertEqual(mask_domains(ws, "fastlikes.example · refills"), "FastLikes_A · refills")
        self.assertEqual(mask_domains(ws, "Support: HTTPS://WWW.FastLikes.example/api/v2"), "Support: FastLikes_A")
        self.assertEqual(mask_domains(ws, "fastlikes.example:443 and fastlikes.example"), "FastLikes_A and FastLikes_A")

    def test_it_leaves_other_text_and_other_workspaces_domains_alone(self) -> None:
        ws = self.workspace.pk
        for title in ("Provider B · support", "theirs.example team", "unknown.example", "v2.5 prices"):
            self.assertEqual(mask_domains(ws, title), title)
