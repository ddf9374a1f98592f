"""Fixtures: the loopback fakes (shared with the forwarding tests), a workspace wired to them."""

from __future__ import annotations

import pytest

from panelrelay.forwarding.tests.conftest import fake_panel, fake_telegram, fast_retries  # noqa: F401


@pytest.fixture
def no_pacing(settings):
    settings.PACING_TELEGRAM_GROUP_SECONDS = 0
    settings.PACING_TELEGRAM_PRIVATE_SECONDS = 0
    settings.PACING_TELEGRAM_BOT_SECONDS = 0
    return settings
