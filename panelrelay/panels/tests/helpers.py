"""A base test case with a fake panel running and a panel of Alice's pointed at it."""

from __future__ import annotations

from fakes.panel import FakePanel
from panelrelay.core.testing import BaseTestCase
from panelrelay.panels.models import Panel
from panelrelay.panels.tests.conftest import KEY


class PanelTestCase(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.fake = FakePanel(api_key=KEY, rps=5).start()
        self.addCleanup(self.fake.stop)
        self.panel = self.make_panel("Main")

    def make_panel(self, name: str, workspace=None, kind: str = "pp_v2") -> Panel:
        panel = Panel(workspace=workspace or self.workspace, name=name, url=self.fake.url, kind=kind)
        panel.set_api_key(KEY)
        panel.save()
        return panel

    def give_bob(self, **toggles: bool) -> None:
        for key, value in toggles.items():
            setattr(self.staff, f"can_{key}", value)
        self.staff.save()
