"""The next chunk's panel call runs while this chunk is decided and written (issue 14).

These tests run outside a transaction (the prefetch thread has its own connection; inside the
test transaction the engine fetches in turn, so the other tests see the same data).
"""

from __future__ import annotations

import threading

import pytest

from panelrelay.core import faults
from panelrelay.forwarding.engine import process_request
from panelrelay.forwarding.models import Outcome, RequestOrder
from panelrelay.forwarding.tests.test_end_to_end import refill, seed, wired  # noqa: F401 (fixture)
from panelrelay.worker.registry import Retry

pytestmark = pytest.mark.django_db(transaction=True)


def _prefetch_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "lookup-prefetch"]


def test_the_next_chunk_is_fetched_before_this_chunks_write_ends(wired, fake_panel) -> None:  # noqa: F811
    ws, panel, _ = wired
    req = refill(ws, panel, seed(fake_panel))  # 250 ids: three chunks, three panel calls
    answered = threading.Event()
    seen: list[bool] = []

    def hold_the_first_write() -> None:
        # Chunk 1's write waits here until chunk 2's answer is in: with sequential lookups it
        # never comes (the call would only start after this write), and the test fails.
        if not seen:
            seen.append(answered.wait(timeout=30))

    with (
        faults.injected("forwarding.prefetched", answered.set),
        faults.injected("forwarding.before_write", hold_the_first_write),
    ):
        process_request(req)
    assert seen == [True]
    assert not _prefetch_threads()
    assert not req.orders.filter(looked_up=False).exists()
    assert not req.orders.filter(state__in=(RequestOrder.PENDING, RequestOrder.RETRYING)).exists()
    assert req.orders.count() == 250


def test_a_failing_prefetch_leaves_the_waiting_orders_retrying_with_the_reason(wired, fake_panel) -> None:  # noqa: F811
    ws, panel, _ = wired
    req = refill(ws, panel, seed(fake_panel))

    prefetches: list[int] = []

    def fail_chunk_2s_call() -> None:  # in the prefetch thread, before each call (chunk 1's is the first)
        prefetches.append(1)
        if len(prefetches) == 2:
            fake_panel.fail_next(1, message="Database busy")  # chunk 2's call fails

    with faults.injected("forwarding.prefetch", fail_chunk_2s_call), pytest.raises(Retry):
        process_request(req)
    assert prefetches == [1, 1]  # and no call after the failed one
    assert not _prefetch_threads()  # the failed prefetch did not outlive the job
    first = list(req.orders.order_by("id")[:100])
    assert all(o.looked_up for o in first)
    assert not any(o.state in (RequestOrder.RETRYING, RequestOrder.PENDING) for o in first)
    rest = list(req.orders.order_by("id")[100:])
    assert {(o.state, o.outcome) for o in rest} == {(RequestOrder.RETRYING, Outcome.LOOKUP_RETRYING)}
    assert all(o.reason.startswith("looking up again: Panel “Main”") and "Database busy" in o.reason for o in rest)
    process_request(req)  # the panel answers again: every order is decided
    assert not req.orders.filter(looked_up=False).exists()
