"""A workspace wired to the fake panel and the fake Telegram, and a worker loop with a deadline."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from panelrelay.accounts.models import Workspace
from panelrelay.demo import scenario
from panelrelay.panels.models import Panel
from panelrelay.transports.models import Connection, Destination
from panelrelay.worker.runner import Worker

FAST, SLOW = "fastlikes.example", "slowviews.example"
EXT = 9_000_000


@dataclass
class Wired:
    workspace: Workspace
    panel: Panel
    telegram: Connection
    fast: Destination
    slow: Destination


def wire(fake_panel, fake_telegram, interval: int = 2) -> Wired:
    ws = Workspace.objects.create(name="Tickets")
    for chat in (-1001, -1002):
        fake_telegram.add_chat(chat, type="supergroup", title=f"group {chat}")
    panel = scenario.panel(ws, fake_panel.url)
    Panel.objects.filter(pk=panel.pk).update(tickets_enabled=True, tickets_interval=interval)
    panel.refresh_from_db()
    tg = scenario.telegram(ws, fake_telegram.url)
    tg.config = {**tg.config, "username": "panelrelay_demo_bot"}
    tg.save()
    fast = scenario.destination(tg, "FastLikes grp", "tg_group", "-1001")
    slow = scenario.destination(tg, "Slow grp", "tg_group", "-1002")
    scenario.route(scenario.provider(ws, FAST, "FastLikes_A"), fast)
    scenario.route(scenario.provider(ws, SLOW, "Slow_B"), slow)
    return Wired(ws, panel, tg, fast, slow)


def order(fake_panel, n: int, user: str, provider: str = FAST, **kw) -> None:
    fake_panel.add_order(id=n, provider=provider, external_id=str(EXT + n), user=user, **kw)


def run_until(done: Callable[[], bool], timeout: float = 15.0, worker: Worker | None = None) -> float:
    """Run a worker in this thread until `done()`; the seconds it took. Fails after `timeout`."""
    worker = worker or Worker(worker_id="intake-test", idle_sleep=0.02)
    started = time.monotonic()
    while not done():
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"not done after {timeout:g} s")
        if not worker.run_once():
            time.sleep(0.02)
    return time.monotonic() - started
