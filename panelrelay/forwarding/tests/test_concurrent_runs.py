"""Two runs of the same engine job at once (a lease that ran out, a retry) send each order once.

The race is made on purpose: both runs stop at the fault point `forwarding.before_assign`, after
each has read the same unassigned orders and before either writes a message, and go on together.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connections
from django.db.models import Count

from panelrelay.accounts.models import Workspace
from panelrelay.core import faults
from panelrelay.demo import scenario
from panelrelay.forwarding.assembly import assemble_messages
from panelrelay.forwarding.engine import Decider, process_request
from panelrelay.forwarding.models import Command, ForwardRequest, Message, RequestOrder
from panelrelay.forwarding.submit import create_request
from panelrelay.worker.models import Job

GROUPS = (-1001, -1002, -1003)


@pytest.fixture
def request_of_300(fake_panel, fake_telegram):
    ws = Workspace.objects.create(name="twice")
    panel = scenario.panel(ws, fake_panel.url)
    tg = scenario.telegram(ws, fake_telegram.url)
    for n, chat in enumerate(GROUPS):
        fake_telegram.add_chat(chat, type="supergroup", title=f"group {n}")
        dest = scenario.destination(tg, f"G{n}", "tg_group", str(chat))
        scenario.route(scenario.provider(ws, f"prov{n}.example", f"P{n}"), dest)
    for i in range(300):
        fake_panel.add_order(id=70000 + i, provider=f"prov{i % 3}.example", external_id=str(8_100_000 + i))
    return create_request(ws, panel, Command.for_workspace(ws)[0], [str(70000 + i) for i in range(300)])


def run_twice_at_once(target, request: ForwardRequest) -> list[BaseException]:
    barrier = threading.Barrier(2, timeout=30)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            target(ForwardRequest.objects.select_related("panel", "command", "workspace").get(pk=request.pk))
        except BaseException as exc:  # collected and asserted on below
            errors.append(exc)
        finally:
            connections.close_all()

    with faults.injected("forwarding.before_assign", barrier.wait):
        threads = [threading.Thread(target=run) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    return errors


def assert_each_order_in_exactly_one_message(request: ForwardRequest) -> None:
    orders = RequestOrder.objects.filter(request=request)
    assert orders.count() == 300
    assert not orders.filter(message__isnull=True).exists(), "every order is in a message"
    assert Message.objects.count() == len(GROUPS), "one message per group, not two"
    per_message = dict(orders.values_list("message").annotate(n=Count("id")))
    assert sorted(per_message.values()) == [100, 100, 100]
    for message in Message.objects.all():
        ids = {line for line in message.text.split("\n")[1:]}
        assert ids == {o.external_id for o in orders.filter(message=message)}, "the text lists exactly its orders"
    assert Job.objects.filter(kind="forwarding.deliver").count() == len(GROUPS)


@pytest.mark.django_db(transaction=True)
def test_the_engine_run_twice_at_once_puts_each_order_in_exactly_one_message(request_of_300) -> None:
    errors = run_twice_at_once(process_request, request_of_300)
    assert errors == []
    assert_each_order_in_exactly_one_message(request_of_300)


@pytest.mark.django_db(transaction=True)
def test_two_assemblies_that_read_the_same_orders_do_not_both_take_them(request_of_300) -> None:
    # The lookups first, so that both runs below race on assembly alone.
    decider = Decider(request_of_300)
    pending = list(request_of_300.orders.values_list("id", "panel_order_id"))
    for start in range(0, 300, 100):
        decider.lookup_chunk(request_of_300.panel, pending[start : start + 100])
    assert request_of_300.orders.filter(state=RequestOrder.QUEUED).count() == 300
    errors = run_twice_at_once(assemble_messages, request_of_300)
    assert errors == []
    assert_each_order_in_exactly_one_message(request_of_300)


@pytest.mark.django_db
def test_a_worker_asked_to_stop_yields_after_the_lookup_in_flight(request_of_300, monkeypatch) -> None:
    """A deploy's SIGTERM arrives during the first lookup: that chunk is saved, the rest waits."""
    from panelrelay.worker import registry

    original = Decider.lookup_chunk

    def lookup_then_sigterm(self, panel, chunk, *ahead):
        following = original(self, panel, chunk, *ahead)
        registry.STOPPING.set()
        return following

    monkeypatch.setattr(Decider, "lookup_chunk", lookup_then_sigterm)
    try:
        with pytest.raises(registry.Retry, match="stopping"):
            process_request(request_of_300)
    finally:
        registry.STOPPING.clear()
    assert request_of_300.orders.filter(looked_up=True).count() == 100
    assert not Message.objects.exists()
    monkeypatch.setattr(Decider, "lookup_chunk", original)
    process_request(request_of_300)  # the next worker carries on
    assert request_of_300.orders.filter(looked_up=True).count() == 300
    assert Message.objects.count() == len(GROUPS)


@pytest.mark.django_db
def test_a_stale_lookup_does_not_set_orders_that_went_out_back_to_queued(request_of_300) -> None:
    """Run A looked up a chunk; run B (A's lease ran out) did too, assembled and sent; A saves late."""
    stale = Decider(request_of_300)
    chunk = list(request_of_300.orders.order_by("id").values_list("id", "panel_order_id")[:100])
    process_request(request_of_300)  # run B: everything looked up, assembled into messages
    RequestOrder.objects.filter(message__isnull=False).update(state=RequestOrder.SENT)
    stale.lookup_chunk(request_of_300.panel, chunk)  # run A's late save of its chunk
    states = set(RequestOrder.objects.filter(id__in=[pk for pk, _ in chunk]).values_list("state", flat=True))
    assert states == {RequestOrder.SENT}
