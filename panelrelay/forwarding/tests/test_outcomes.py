"""Every order outcome has a machine code beside its sentence; what reads outcomes reads the code."""

from __future__ import annotations

import importlib
from collections import Counter

import pytest
from django.apps import apps

from panelrelay.demo import scenario
from panelrelay.forwarding.models import ForwardRequest, Outcome, RequestOrder
from panelrelay.forwarding.tests.test_end_to_end import refill, seed, wired  # noqa: F401 (fixture)
from panelrelay.intake import tickets

pytestmark = pytest.mark.django_db


def test_each_order_of_a_mixed_request_ends_with_the_code_of_its_fate(wired, fake_panel) -> None:  # noqa: F811
    ws, panel, dest = wired
    req = refill(ws, panel, seed(fake_panel))
    scenario.drain(timeout=60)
    codes = {o.panel_order_id: o.outcome for o in req.orders.all()}
    assert {codes[str(n)] for n in range(50246, 50251)} == {Outcome.NOT_FOUND}
    assert {codes[str(n)] for n in range(50241, 50246)} == {Outcome.STATUS_NOT_ALLOWED}
    assert Counter(codes.values()) == {Outcome.SENT: 240, Outcome.NOT_FOUND: 5, Outcome.STATUS_NOT_ALLOWED: 5}
    again = refill(ws, panel, ["50001", "50002"])
    scenario.drain(timeout=30)
    assert set(again.orders.values_list("outcome", flat=True)) == {Outcome.COOLDOWN}
    assert all(state in RequestOrder.FINAL for state in req.orders.values_list("state", flat=True))


def order(outcome: str, reason: str, state: str = RequestOrder.SKIPPED) -> RequestOrder:
    return RequestOrder(outcome=outcome, reason=reason, state=state, panel_order_id="1", command_slug="refill")


def test_ticket_replies_sort_by_code_so_rewording_a_sentence_changes_nothing() -> None:
    assert tickets.outcome(order(Outcome.COOLDOWN, "Reworded: asked earlier today")) == "already"
    assert tickets.outcome(order(Outcome.IN_PROGRESS, "on its way")) == "already"
    assert tickets.outcome(order(Outcome.NOT_YOURS, "someone else's")) == "not_yours"
    assert tickets.outcome(order(Outcome.NO_ROUTE, "already… no route")) == "not_eligible"  # the old prefix trap
    assert tickets.outcome(order(Outcome.ROUTED, "x", RequestOrder.QUEUED)) == "forwarded"
    # What a customer may read: the status and guarantee sentences; never our routing or providers.
    assert tickets.customer_reason(order(Outcome.STATUS_NOT_ALLOWED, "status Pending does not allow refill")) == (
        "status Pending does not allow refill"
    )
    assert tickets.customer_reason(order(Outcome.NO_ROUTE, "status of provider Alpha: no route")) == (
        "our team will look at it"
    )


def test_rows_from_before_the_codes_get_the_code_of_their_sentence() -> None:
    from panelrelay.accounts.models import Workspace

    ws = Workspace.objects.create(name="old")
    req = ForwardRequest.objects.create(workspace=ws, panel_name="p", command_label="Refill")
    old = {
        "sent to TG · Group": ("sent", Outcome.SENT),
        "already requested at 2026-11-30 10:00 (cooldown 12 h)": ("skipped", Outcome.COOLDOWN),
        "refill period of 30 days ended on 2026-06-14": ("skipped", Outcome.GUARANTEE_ENDED),
        "provider P1 is turned off": ("skipped", Outcome.PROVIDER_OFF),
        "failed: internal error while processing (KeyError)": ("failed", Outcome.INTERNAL_ERROR),
        "in message to TG · Group": ("queued", Outcome.IN_MESSAGE),
        "Provider route": ("queued", Outcome.ROUTED),
    }
    for n, (reason, (state, _)) in enumerate(old.items()):
        RequestOrder.objects.create(request=req, workspace=ws, panel_order_id=str(n), command_slug="refill",
                                    state=state, reason=reason, outcome=Outcome.LOOKING_UP)  # fmt: skip
    importlib.import_module("panelrelay.forwarding.migrations.0003_outcome_codes").backfill(apps, None)
    got = dict(RequestOrder.objects.values_list("reason", "outcome"))
    assert got == {reason: code for reason, (_, code) in old.items()}
