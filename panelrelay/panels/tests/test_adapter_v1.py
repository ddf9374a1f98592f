"""The Perfect Panel v1 (action style) adapter against the fake panel."""

from __future__ import annotations

import pytest

from fakes.panel import FakePanel
from panelrelay.panels.adapters import base
from panelrelay.panels.adapters.base import PanelError

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("style", ["status_name", "int"])
def test_it_reads_orders_by_id_in_both_status_styles(fake: FakePanel, make_adapter, style: str) -> None:
    fake.status_style = style
    fake.add_order(10, provider="p.example", external_id=555, status="In progress", quantity=700)
    fake.add_order(11, provider="", status="Canceled")
    orders = make_adapter("pp_v1").get_orders(["10", "11", "12"])
    assert set(orders) == {"10", "11"}
    first = orders["10"]
    assert (first.external_id, first.provider_domain, first.status, first.mode, first.quantity) == (
        "555",
        "p.example",
        base.IN_PROGRESS,
        base.AUTO,
        700,
    )
    assert (orders["11"].status, orders["11"].mode) == (base.CANCELED, base.MANUAL)


def test_it_batches_by_100_and_posts_the_key(fake: FakePanel, make_adapter) -> None:
    fake.seed_orders(150, start_id=3000)
    orders = make_adapter("pp_v1").get_orders([str(i) for i in range(3000, 3150)])
    assert len(orders) == 150
    calls = fake.requests_to(r"/adminapi/v1")
    assert len(calls) == 2
    assert all("key" not in c.query for c in calls), "the key travels in the body, not the URL"


def test_get_order_and_an_unknown_order(fake: FakePanel, make_adapter) -> None:
    fake.add_order(42, provider="p.example")
    adapter = make_adapter("pp_v1")
    assert adapter.get_order("42").id == "42"
    assert adapter.get_order("43") is None


def test_bad_auth_and_bad_action_are_clear(fake: FakePanel, make_adapter) -> None:
    with pytest.raises(PanelError) as err:
        make_adapter("pp_v1", key="nope-nope-nope").get_orders(["1"])
    assert err.value.kind == "auth" and "bad_auth" in str(err.value)
    fake.inject("status", status=200, body={"error": "bad_action"})
    with pytest.raises(PanelError) as err:
        make_adapter("pp_v1").get_orders(["1"])
    assert err.value.kind == "unsupported" and not err.value.temporary
    assert "does not offer the v1 action “getOrders-by-id” (bad_action); try the v2 API kind" in str(err.value)


def test_it_lists_the_panels_providers_but_no_recent_orders(fake: FakePanel, make_adapter) -> None:
    fake.add_order(1, provider="one.example")
    fake.add_order(2, provider="two.example")
    adapter = make_adapter("pp_v1")
    assert sorted(adapter.provider_domains()) == ["one.example", "two.example"]
    assert adapter.recent_orders() == []


@pytest.mark.parametrize("kind", ["html", "malformed", "empty"])
def test_broken_answers_are_errors(fake: FakePanel, make_adapter, kind: str) -> None:
    fake.inject(kind)
    with pytest.raises(PanelError) as err:
        make_adapter("pp_v1").get_orders(["1"])
    expected = "web_page" if kind == "html" else "bad_response"  # a web page has its own kind (Test connection says so)
    assert err.value.kind == expected and str(err.value).startswith("Panel “Main”: ")
