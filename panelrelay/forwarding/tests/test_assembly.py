"""Message assembly keeps pace with the lookups, merges requests, and parts arrive in order.

- A part that is full is written (and its delivery queued) right after the chunk that filled it,
  before the last lookup, also when several requests filled it together; the lookup job steps
  aside so that even one worker sends it meanwhile.
- Orders of requests bound for the same destination and command, with the same note, go out in
  one message; a request alone waits for nothing; a request's rest waits at most MERGE_WINDOW.
- Part n+1 of a destination's messages never goes before part n is sent (or has failed).

Time is never waited on for a verdict: jobs are run directly in the order a worker could take them.
"""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from django.db import connections
from django.utils import timezone

from panelrelay.accounts.models import Workspace
from panelrelay.core import faults
from panelrelay.core.models import RateSlot
from panelrelay.demo import scenario
from panelrelay.forwarding import assembly
from panelrelay.forwarding import jobs as forwarding_jobs
from panelrelay.forwarding.assembly import assemble_full_parts, assemble_messages
from panelrelay.forwarding.delivery import deliver_message
from panelrelay.forwarding.engine import Decider, process_request
from panelrelay.forwarding.models import Command, ForwardRequest, Message, RequestOrder
from panelrelay.forwarding.submit import create_request
from panelrelay.worker.models import Job
from panelrelay.worker.registry import Retry
from panelrelay.worker.runner import Worker

GROUP, OTHER = -1001, -1002
LONG = 40  # characters of an external id: about 100 orders fill a 4,096-character Telegram message


@pytest.fixture
def no_pacing(settings):
    settings.PACING_TELEGRAM_GROUP_SECONDS = settings.PACING_TELEGRAM_BOT_SECONDS = 0
    settings.PACING_TELEGRAM_PRIVATE_SECONDS = 0
    return settings


@pytest.fixture
def wired(fake_panel, fake_telegram, no_pacing):
    """A workspace whose provider A routes to GROUP and provider B to OTHER, and a way to make requests."""
    fake_telegram.strict_limits = False
    ws = Workspace.objects.create(name="assembly")
    panel = scenario.panel(ws, fake_panel.url)
    tg = scenario.telegram(ws, fake_telegram.url)
    for alias, chat in (("A", GROUP), ("B", OTHER)):
        fake_telegram.add_chat(chat, type="supergroup", title=f"group {alias}")
        dest = scenario.destination(tg, f"G{alias}", "tg_group", str(chat))
        scenario.route(scenario.provider(ws, f"prov{alias.lower()}.example", alias), dest)
    next_id = [70000]

    def make(count: int, provider: str = "a", note: str = "", long: bool = True) -> ForwardRequest:
        ids = []
        for _ in range(count):
            oid = next_id[0]
            next_id[0] += 1
            external = f"{oid:0{LONG}d}" if long else str(8_000_000 + oid)
            fake_panel.add_order(id=oid, provider=f"prov{provider}.example", external_id=external)
            ids.append(str(oid))
        return create_request(ws, panel, Command.for_workspace(ws)[0], ids, note=note)

    return make


def fresh(request: ForwardRequest) -> ForwardRequest:
    return ForwardRequest.objects.select_related("panel", "command", "workspace").get(pk=request.pk)


def lines_of(message: Message) -> set[str]:
    return set(message.text.split("\n")[1:])


def assert_each_order_once(orders) -> None:
    orders = list(orders)
    assert all(o.message_id for o in orders), "every order is in a message"
    for message in Message.objects.filter(id__in={o.message_id for o in orders}):
        assert lines_of(message) == {o.external_id for o in orders if o.message_id == message.id}


@pytest.mark.django_db
def test_a_full_part_is_written_and_queued_after_the_chunk_that_filled_it(wired) -> None:
    request = wired(300)
    with pytest.raises(Retry, match="full messages go out first"):
        process_request(fresh(request))  # chunk 1: 100 lines of 41 characters do not fit 4,096
    [first] = Message.objects.all()
    assert len(first.text) <= 4096 and len(lines_of(first)) == 99, "full: the 100th line did not fit"
    assert Job.objects.filter(kind="forwarding.deliver", key=f"deliver:{first.id}").exists()
    assert request.orders.filter(looked_up=False).count() == 200, "before the other lookups"
    with pytest.raises(Retry):
        process_request(fresh(request))  # chunk 2: 1 left over + 100 more
    assert Message.objects.count() == 2
    process_request(fresh(request))  # the last chunk: no stepping aside, the rest is written
    assert Message.objects.count() == 4
    assert sorted(len(lines_of(m)) for m in Message.objects.all()) == [3, 99, 99, 99]
    assert_each_order_once(request.orders.all())


@pytest.mark.django_db
def test_requests_that_fill_a_part_together_get_it_written_while_they_are_looked_up(wired) -> None:
    """Four panels' requests, each a quarter of a part per group: the part is full across them, and
    goes out during the lookups instead of waiting, with the group's other parts, for the last one."""
    first, second = wired(60), wired(60)  # 60 lines of 41 characters: 2,460, under 4,096 alone
    Decider(fresh(first)).lookup_chunk(first.panel, list(first.orders.values_list("id", "panel_order_id")))
    assert assemble_full_parts(fresh(first)) is False, "one request's 60 lines are not a full part"
    Decider(fresh(second)).lookup_chunk(second.panel, list(second.orders.values_list("id", "panel_order_id")))
    assert assemble_full_parts(fresh(second)) is True
    [message] = Message.objects.all()
    assert len(lines_of(message)) == 99
    in_it = RequestOrder.objects.filter(message=message)
    assert set(in_it.values_list("request_id", flat=True)) == {first.id, second.id}, "each order keeps its request"
    assert RequestOrder.objects.filter(message__isnull=True).count() == 21, "the rest waits for more or the end"
    assert Job.objects.filter(key=f"deliver:{message.id}").exists()


@pytest.mark.django_db
def test_groups_that_are_not_full_are_not_written_early(wired) -> None:
    request = wired(100, long=False)  # 100 short ids: far from full
    decider = Decider(fresh(request))
    decider.lookup_chunk(request.panel, list(request.orders.values_list("id", "panel_order_id")))
    assert assemble_full_parts(fresh(request)) is False
    assert not Message.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_with_one_worker_a_full_part_is_sent_before_the_last_lookup(wired, fake_telegram, monkeypatch) -> None:
    request = wired(300)
    sent_at_each_lookup: list[int] = []
    original = Decider.lookup_chunk

    def lookup(self, panel, chunk, *ahead):
        sent_at_each_lookup.append(len(fake_telegram.messages_to(GROUP)))
        return original(self, panel, chunk, *ahead)

    monkeypatch.setattr(Decider, "lookup_chunk", lookup)
    # One thread: the lookup job itself must step aside for the part to go before the next lookup.
    scenario.drain(timeout=60, worker=Worker(worker_id="one", idle_sleep=0.01, threads=1))
    assert sent_at_each_lookup == [0, 1, 2], "part 1 was out before the 2nd lookup, part 2 before the 3rd"
    texts = [m["text"] for m in fake_telegram.messages_to(GROUP)]
    assert len(texts) == 4
    assert texts == [m.text for m in Message.objects.order_by("id")], "in order"
    assert set(request.orders.values_list("state", flat=True)) == {RequestOrder.SENT}


@pytest.mark.django_db(transaction=True)
def test_two_requests_to_the_same_group_go_out_in_one_message(wired, fake_telegram) -> None:
    first, second = wired(3, long=False), wired(4, long=False)
    wired(2, provider="b", long=False)  # a third request, to the other group
    scenario.drain(timeout=60, worker=Worker(worker_id="one", idle_sleep=0.01))
    [message] = Message.objects.filter(destination__target=str(GROUP))
    assert len(lines_of(message)) == 7, "both requests' orders in one message"
    assert set(RequestOrder.objects.filter(message=message).values_list("request_id", flat=True)) == {
        first.id,
        second.id,
    }, "each order still points to its own request"
    assert len(fake_telegram.messages_to(GROUP)) == 1
    assert Message.objects.count() == 2, "the other group got its own"
    assert ForwardRequest.objects.filter(finished__isnull=True).count() == 0


@pytest.mark.django_db(transaction=True)
def test_requests_with_different_notes_stay_in_separate_messages(wired, fake_telegram) -> None:
    wired(3, long=False, note="urgent")
    wired(4, long=False, note="")
    scenario.drain(timeout=60, worker=Worker(worker_id="one", idle_sleep=0.01))
    texts = sorted(m["text"] for m in fake_telegram.messages_to(GROUP))
    assert len(texts) == 2
    assert sorted(len(t.split("\n")) for t in texts) == [5, 5], "REFILL + 3 ids + the note; REFILL + 4 ids"
    assert "urgent" in texts[0] + texts[1]


@pytest.mark.django_db
def test_a_request_alone_is_written_at_once(wired) -> None:
    request = wired(5, long=False)
    process_request(fresh(request))
    assert Message.objects.count() == 1
    assert not Job.objects.filter(kind="forwarding.assemble").exists()


@pytest.mark.django_db
def test_a_request_waits_for_another_being_looked_up_but_at_most_the_merge_window(wired) -> None:
    first, second = wired(3, long=False), wired(4, long=False)
    process_request(fresh(first))
    assert not Message.objects.exists(), "the second request is still being looked up: its orders may join"
    [job] = Job.objects.filter(kind="forwarding.assemble")
    wait = (job.run_at - job.created).total_seconds()
    assert assembly.MERGE_WINDOW - 0.5 < wait <= assembly.MERGE_WINDOW + 0.5
    # The window passes before the second request ends (its panel is slow): the first goes alone.
    from panelrelay.forwarding.jobs import assemble

    assemble(job)
    [message] = Message.objects.all()
    assert len(lines_of(message)) == 3
    assert not second.orders.filter(message__isnull=False).exists()


@pytest.mark.django_db
def test_a_request_does_not_wait_for_one_whose_panel_is_failing(wired) -> None:
    first, second = wired(3, long=False), wired(4, long=False)
    second.orders.update(state=RequestOrder.RETRYING)  # its panel failed: looking up again later
    process_request(fresh(first))
    assert Message.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_early_assemblies_at_once_write_each_full_part_once_and_whole(wired) -> None:
    request = wired(250)
    decider = Decider(fresh(request))
    pending = list(request.orders.values_list("id", "panel_order_id"))
    decider.lookup_chunk(request.panel, pending[:100])
    decider.lookup_chunk(request.panel, pending[100:200])
    barrier = threading.Barrier(2, timeout=30)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            assemble_full_parts(fresh(request))
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
    assert errors == []
    sizes = sorted(len(lines_of(m)) for m in Message.objects.all())
    assert sizes == [99, 99], "two full parts, each written once, none cut short by the race"
    per_message = Counter(RequestOrder.objects.filter(message__isnull=False).values_list("message_id", flat=True))
    assert sorted(per_message.values()) == [99, 99]
    assert Job.objects.filter(kind="forwarding.deliver").count() == 2


def three_parts(wired) -> list[Message]:
    request = wired(250)
    decider = Decider(fresh(request))
    pending = list(request.orders.values_list("id", "panel_order_id"))
    for start in range(0, 250, 100):
        decider.lookup_chunk(request.panel, pending[start : start + 100])
    assemble_messages(fresh(request))
    messages = list(Message.objects.select_related("destination", "workspace").order_by("id"))
    assert [m.part for m in messages] == [1, 2, 3]
    return messages


@pytest.mark.django_db
def test_part_three_waits_while_part_two_is_retrying_then_they_arrive_in_order(wired, fake_telegram) -> None:
    one, two, three = three_parts(wired)
    deliver_message(one)
    fake_telegram.force_429(times=1, retry_after=1)
    with pytest.raises(Retry):
        deliver_message(two)  # Telegram said "too many": part 2 waits for its turn
    with pytest.raises(Retry, match=f"waiting for message {two.id} to go first"):
        deliver_message(Message.objects.get(pk=three.pk))  # a worker took part 3 meanwhile
    assert [m["text"] for m in fake_telegram.messages_to(GROUP)] == [one.text]
    RateSlot.objects.update(next_at=timezone.now())  # the 429's retry_after has passed
    deliver_message(Message.objects.get(pk=two.pk))
    deliver_message(Message.objects.get(pk=three.pk))
    assert [m["text"] for m in fake_telegram.messages_to(GROUP)] == [one.text, two.text, three.text]


@pytest.mark.django_db
def test_a_part_goes_once_the_one_before_it_has_failed_or_lost_its_job(wired, fake_telegram) -> None:
    one, two, three = three_parts(wired)
    Message.objects.filter(pk=one.pk).update(state=Message.FAILED)
    Job.objects.filter(key=f"deliver:{two.id}").update(state=Job.FAILED)  # given up, outcome never recorded
    deliver_message(Message.objects.get(pk=three.pk))
    assert [m["text"] for m in fake_telegram.messages_to(GROUP)] == [three.text]


def count_lookup_runs(monkeypatch) -> Counter[str]:
    """How often the lookup job runs (["process"]): once, unless it steps aside."""
    runs = Counter[str]()
    original = forwarding_jobs.process_request

    def counted(req: ForwardRequest) -> None:
        runs["process"] += 1
        original(req)

    monkeypatch.setattr(forwarding_jobs, "process_request", counted)
    return runs


@pytest.mark.django_db(transaction=True)
def test_with_a_spare_thread_the_lookup_job_does_not_step_aside(wired, fake_telegram, fake_panel, monkeypatch) -> None:
    """A worker with a free thread sends full parts beside the lookups: the job goes on, no answer is dropped."""
    request = wired(300)
    monkeypatch.setattr("panelrelay.forwarding.engine.spare_thread", lambda: True)
    runs = count_lookup_runs(monkeypatch)
    fake_panel.reset_stats()
    scenario.drain(timeout=60, worker=Worker(worker_id="one", idle_sleep=0.01, threads=1))
    assert runs["process"] == 1, "one run: the lookup job never stepped aside"
    assert fake_panel.stats()["orders_by_ids"] == 3, "three chunks, three calls: no prefetched answer dropped"
    assert set(request.orders.values_list("state", flat=True)) == {RequestOrder.SENT}
    assert len(fake_telegram.messages_to(GROUP)) == 4


def test_a_job_thread_knows_whether_its_worker_has_a_thread_to_spare() -> None:
    from panelrelay.worker import registry

    assert registry.spare_thread() is False, "outside a worker's job thread: nothing to spare"
    free = [True]
    registry.set_spare_check(lambda: free[0])
    try:
        assert registry.spare_thread() is True
        free[0] = False
        assert registry.spare_thread() is False
        seen: list[bool] = []
        other = threading.Thread(target=lambda: seen.append(registry.spare_thread()))
        other.start()
        other.join()
        assert seen == [False], "the check belongs to the job's own thread"
    finally:
        registry.set_spare_check(None)
