"""A lookup job that steps aside for full parts (its worker's threads all busy) decides the answers
its prefetch already holds first: no panel call is made twice (issue 14)."""

from __future__ import annotations

import sys

import pytest

from panelrelay.demo import scenario
from panelrelay.forwarding.models import RequestOrder
from panelrelay.forwarding.tests.test_assembly import GROUP, count_lookup_runs, no_pacing, wired  # noqa: F401 (fixtures)
from panelrelay.worker.runner import Worker


@pytest.mark.django_db(transaction=True)
def test_a_job_that_steps_aside_decides_the_answers_already_in(wired, fake_telegram, fake_panel, monkeypatch) -> None:  # noqa: F811
    """Its worker had a thread to spare when the lookups began (the prefetch holds several answers),
    then none when a part was full: the job steps aside, but not before deciding what the panel had
    answered. No call is made twice."""
    request = wired(300)

    def spare_only_at_the_start() -> bool:  # True for the prefetch being made, False for the step aside
        return sys._getframe(1).f_code.co_name == "__init__"

    monkeypatch.setattr("panelrelay.forwarding.engine.spare_thread", spare_only_at_the_start)
    runs = count_lookup_runs(monkeypatch)
    fake_panel.reset_stats()
    scenario.drain(timeout=60, worker=Worker(worker_id="one", idle_sleep=0.01, threads=1))
    assert runs["process"] >= 2, "the job stepped aside for the full part"
    assert fake_panel.stats()["orders_by_ids"] == 3, "three chunks, three calls: no answer dropped"
    assert set(request.orders.values_list("state", flat=True)) == {RequestOrder.SENT}
    assert len(fake_telegram.messages_to(GROUP)) == 4
