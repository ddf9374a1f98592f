"""While a panel fails, every order still waiting for its lookup says why it waits (issue 13 §3)."""

from __future__ import annotations

import pytest

from panelrelay.forwarding.engine import process_request
from panelrelay.forwarding.models import Outcome, RequestOrder
from panelrelay.forwarding.tests.test_end_to_end import refill, seed, wired  # noqa: F401 (fixture)
from panelrelay.worker.registry import Retry

pytestmark = pytest.mark.django_db


def test_a_failing_panel_marks_every_waiting_order_not_only_the_chunk_being_looked_up(wired, fake_panel) -> None:  # noqa: F811
    ws, panel, _ = wired
    req = refill(ws, panel, seed(fake_panel))  # 250 ids: three chunks of lookups
    fake_panel.fail_next(2, message="Database busy")  # the first chunk's call fails; so does its retry
    with pytest.raises(Retry):
        process_request(req)
    rows = list(req.orders.values_list("state", "outcome", "reason"))
    assert len(rows) == 250
    assert {(state, outcome) for state, outcome, _ in rows} == {(RequestOrder.RETRYING, Outcome.LOOKUP_RETRYING)}
    assert all(reason.startswith("looking up again: Panel “Main”") and "Database busy" in reason for *_, reason in rows)
    with pytest.raises(Retry):
        process_request(req)  # still failing: still all waiting, with the reason
    assert not req.orders.exclude(outcome=Outcome.LOOKUP_RETRYING).exists()
    process_request(req)  # the panel answers again: every order is decided
    assert not req.orders.filter(state__in=(RequestOrder.RETRYING, RequestOrder.PENDING)).exists()
    assert not req.orders.filter(looked_up=False).exists()


def test_a_second_chunk_failing_keeps_the_first_chunks_decisions(wired, fake_panel) -> None:  # noqa: F811
    ws, panel, _ = wired
    req = refill(ws, panel, seed(fake_panel))
    calls = {"n": 0}
    from panelrelay.core import faults

    def fail_on_second_call() -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            fake_panel.fail_next(1, message="Database busy")

    with faults.injected("forwarding.before_lookup", fail_on_second_call), pytest.raises(Retry):
        process_request(req)
    first = req.orders.order_by("id")[:100]
    assert not any(o.state in (RequestOrder.RETRYING, RequestOrder.PENDING) for o in first)
    rest = req.orders.order_by("id")[100:]
    assert {o.outcome for o in rest} == {Outcome.LOOKUP_RETRYING}
