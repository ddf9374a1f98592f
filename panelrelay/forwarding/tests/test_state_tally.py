"""The order-state tally the database keeps matches a count of the orders, whatever changes them,
on SQLite and PostgreSQL, and folding it changes no count."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections
from django.db.models import Count

from panelrelay.accounts.models import Workspace
from panelrelay.forwarding import state_tally
from panelrelay.forwarding.models import ForwardRequest, RequestOrder, StateTally

pytestmark = pytest.mark.django_db


def _live(ws: Workspace) -> dict[tuple[str, str], int]:
    rows = RequestOrder.objects.filter(workspace=ws).values_list("state", "progress").annotate(n=Count("*"))
    return {(state, progress): n for state, progress, n in rows.order_by()}


def _request(ws: Workspace, n: int, start: int = 0) -> ForwardRequest:
    fwd = ForwardRequest.objects.create(workspace=ws, panel_name="Main", command_label="Refill", total=n)
    RequestOrder.objects.bulk_create(
        RequestOrder(request=fwd, workspace=ws, panel_order_id=str(start + k), command_slug="refill") for k in range(n)
    )
    return fwd


def test_every_kind_of_change_is_tallied_and_folding_keeps_the_counts() -> None:
    ws, other = Workspace.objects.create(name="A"), Workspace.objects.create(name="B")
    first = _request(ws, 30)
    _request(other, 5)
    assert state_tally.counts(ws.id) == {("pending", ""): 30} == _live(ws)

    RequestOrder.objects.filter(request=first, panel_order_id__in=["1", "2", "3"]).update(state="skipped")
    RequestOrder.objects.filter(request=first, state="pending").update(state="sent", outcome="sent")
    one = RequestOrder.objects.filter(request=first, state="sent").first()
    one.progress = "answered"
    one.save()
    RequestOrder.objects.filter(request=first, state="sent").exclude(pk=one.pk).update(reason="no change of state")
    assert state_tally.counts(ws.id) == _live(ws) == {("skipped", ""): 3, ("sent", ""): 26, ("sent", "answered"): 1}

    RequestOrder.objects.filter(request=first, state="skipped").delete()
    second = _request(ws, 7, start=100)
    assert state_tally.counts(ws.id) == _live(ws)
    rows_before = StateTally.objects.count()
    state_tally.fold()
    assert StateTally.objects.count() < rows_before
    assert state_tally.counts(ws.id) == _live(ws) == {("sent", ""): 26, ("sent", "answered"): 1, ("pending", ""): 7}
    assert state_tally.counts(other.id) == _live(other) == {("pending", ""): 5}

    second.delete()  # the request's orders go with it
    ws.delete()
    state_tally.fold()
    assert not StateTally.objects.filter(ws=ws.id).exists(), "keys that sum to zero are dropped"
    state_tally.fold()  # folding twice changes nothing
    assert state_tally.counts(other.id) == {("pending", ""): 5}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_workers_and_a_fold_lose_no_change() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL)")
    ws = Workspace.objects.create(name="Busy")
    fwd = _request(ws, 400)
    ids = list(fwd.orders.values_list("id", flat=True))
    errors: list[BaseException] = []

    def work(part: list[int], state: str) -> None:
        try:
            for k in range(0, len(part), 10):
                RequestOrder.objects.filter(id__in=part[k : k + 10]).update(state=state)
                state_tally.fold()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=work, args=(ids[i::4], s)) for i, s in enumerate(["sent", "skipped", "failed", "sent"])
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert state_tally.counts(ws.id) == _live(ws) == {("sent", ""): 200, ("skipped", ""): 100, ("failed", ""): 100}
