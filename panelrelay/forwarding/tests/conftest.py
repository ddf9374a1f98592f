"""Fixtures: the loopback fakes, and a workspace wired to them."""

from __future__ import annotations

import pytest

from fakes.panel import FakePanel
from fakes.telegram import FakeTelegram
from fakes.waha import FakeWAHA


@pytest.fixture
def fake_panel():
    with FakePanel() as fake:
        yield fake


@pytest.fixture
def fake_telegram():
    with FakeTelegram() as fake:
        fake.add_bot("123456:DEMO", id=123456, username="panelrelay_demo_bot")  # scenario.telegram()'s token
        yield fake


@pytest.fixture
def fake_waha():
    with FakeWAHA() as fake:
        yield fake


@pytest.fixture
def fast_retries(settings):
    settings.RETRY_BASE_SECONDS = 1
    return settings
