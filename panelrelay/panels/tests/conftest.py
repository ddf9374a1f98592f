"""Fixtures for the panels tests: a loopback fake panel and adapters pointed at it."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest

from fakes.panel import FakePanel
from panelrelay.panels.adapters.base import PanelAdapter
from panelrelay.panels.adapters.registry import adapter_class

KEY = "test-key-0123456789"


@pytest.fixture
def fake() -> Iterator[FakePanel]:
    with FakePanel(api_key=KEY, rps=5) as panel:
        yield panel


@pytest.fixture
def make_adapter(fake: FakePanel) -> Callable[..., PanelAdapter]:
    def make(kind: str = "pp_v2", key: str = KEY, url: str | None = None) -> PanelAdapter:
        cls = adapter_class(kind)
        return cls(name="Main", base_url=url or fake.url, api_key=key, rate_key=f"panel:{uuid.uuid4()}")

    return make


@pytest.fixture
def workspace(db):
    from panelrelay.accounts.models import Workspace

    return Workspace.objects.create(name="Alice SMM")


@pytest.fixture
def make_panel(fake: FakePanel, workspace):
    from panelrelay.panels.models import Panel

    def make(name: str = "Main", kind: str = "pp_v2", ws=None, url: str | None = None) -> Panel:
        panel = Panel(workspace=ws or workspace, name=name, url=url or fake.url, kind=kind)
        panel.set_api_key(KEY)
        panel.save()
        return panel

    return make


@pytest.fixture
def panel(make_panel):
    return make_panel()
