"""Test connection: reachable, key accepted, capabilities and round-trip time, in plain words."""

from __future__ import annotations

import pytest

from fakes.panel import FakePanel

pytestmark = pytest.mark.django_db


def test_a_working_v2_panel_reports_every_capability(fake: FakePanel, make_adapter) -> None:
    fake.seed_orders(5)
    fake.add_ticket("alice", "Refill", "please refill 10001")
    report = make_adapter().test_connection()
    assert report.reachable and report.key_accepted
    assert [(c.name, c.ok) for c in report.capabilities] == [
        ("Order by id", True),
        ("Many orders at once", True),
        ("Tickets", True),
    ]
    assert report.round_trip_ms is not None and report.round_trip_ms >= 0
    assert "the API key works" in report.message


def test_an_empty_panel_still_proves_its_capabilities(fake: FakePanel, make_adapter) -> None:
    report = make_adapter().test_connection()
    assert all(c.ok for c in report.capabilities)


def test_a_wrong_key_is_reachable_but_not_accepted(fake: FakePanel, make_adapter) -> None:
    report = make_adapter(key="wrong-key-123456").test_connection()
    assert report.reachable and not report.key_accepted
    assert "API key was not accepted" in report.message and report.capabilities == []


def test_an_unreachable_panel_says_so(make_adapter) -> None:
    with FakePanel() as gone:
        url = gone.url
    report = make_adapter(url=url).test_connection()
    assert not report.reachable and not report.key_accepted
    assert "cannot be reached" in report.message


def test_a_missing_capability_is_reported_with_its_reason(fake: FakePanel, make_adapter) -> None:
    fake.inject("status", path=r"/tickets", status=404, body={"data": None, "error_code": 404, "error_message": "x"})
    report = make_adapter().test_connection()
    tickets = report.capabilities[-1]
    assert tickets.name == "Tickets" and not tickets.ok and "HTTP 404" in tickets.detail
    assert "Working: order by id, many orders at once." in report.message


def test_an_html_page_says_nothing_about_the_key(fake: FakePanel, make_adapter) -> None:
    fake.inject("html")
    report = make_adapter().test_connection()
    assert report.reachable and report.key_accepted is None and "web page" in report.message


def capabilities(report) -> list[tuple[str, bool, bool]]:
    return [(c.name, c.ok, c.offered) for c in report.capabilities]


def test_v1_reports_its_capabilities_and_no_tickets(fake: FakePanel, make_adapter) -> None:
    report = make_adapter("pp_v1").test_connection()
    assert report.reachable and report.key_accepted
    assert capabilities(report) == [
        ("Order by id", True, True),
        ("Many orders at once", True, True),
        ("Provider list", True, True),
        ("Tickets", False, False),
    ]
    assert report.message.endswith("Working: order by id, many orders at once, provider list. Not offered: tickets.")


def test_a_v1_panel_without_get_providers_works_and_names_the_list_as_not_offered(
    fake: FakePanel, make_adapter
) -> None:
    fake.V1_ACTIONS = {"getOrders-by-id": "v1_orders_by_id"}  # this panel answers bad_action to the rest
    report = make_adapter("pp_v1").test_connection()
    assert report.reachable and report.key_accepted is True and report.round_trip_ms is not None
    assert capabilities(report) == [
        ("Order by id", True, True),
        ("Many orders at once", True, True),
        ("Provider list", False, False),
        ("Tickets", False, False),
    ]
    assert report.capabilities[2].detail == "not offered by this panel"
    assert "the API key works" in report.message and "Not offered: provider list, tickets." in report.message
    assert "bad_action" not in report.message


def test_v1_judges_the_key_by_get_orders_by_id(fake: FakePanel, make_adapter) -> None:
    report = make_adapter("pp_v1", key="wrong-key-123456").test_connection()
    assert report.reachable and report.key_accepted is False and "bad_auth" in report.message
    assert fake.stats()["v1_orders_by_id"] == 1 and fake.stats()["v1_providers"] == 0


def test_v1_order_not_found_is_a_normal_answer(fake: FakePanel, make_adapter) -> None:
    fake.inject("status", status=200, body={"error": "Order not found"})
    report = make_adapter("pp_v1").test_connection()
    assert report.reachable and report.key_accepted is True and "the API key works" in report.message


def test_a_v1_panel_without_get_orders_by_id_is_not_working_but_the_key_is_not_blamed(
    fake: FakePanel, make_adapter
) -> None:
    fake.V1_ACTIONS = {"getProviders": "v1_providers"}
    report = make_adapter("pp_v1").test_connection()
    assert report.reachable and report.key_accepted is None and report.capabilities == []
    assert "does not offer the v1 action “getOrders-by-id” (bad_action); try the v2 API kind" in report.message
