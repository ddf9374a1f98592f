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


def test_v1_reports_no_tickets(fake: FakePanel, make_adapter) -> None:
    report = make_adapter("pp_v1").test_connection()
    assert report.reachable and report.key_accepted
    assert [(c.name, c.ok) for c in report.capabilities] == [
        ("Order by id", True),
        ("Many orders at once", True),
        ("Tickets", False),
    ]
