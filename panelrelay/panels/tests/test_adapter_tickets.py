"""Ticket calls of the adapters against the fake panel, over real HTTP: shapes, errors, v1."""

from __future__ import annotations

import pytest

from fakes.panel import FakePanel
from panelrelay.panels.adapters.base import PanelError
from panelrelay.panels.adapters.parsing import parse_ticket

pytestmark = pytest.mark.django_db  # the rate limiter's slots live in the database


def test_it_lists_only_tickets_waiting_for_staff(fake: FakePanel, make_adapter) -> None:
    waiting = fake.add_ticket("dave", "Orders", "refill 123")
    fake.add_ticket("erin", "Orders", "hello", status="Answered")
    fake.add_ticket("fred", "Orders", "bye", status="Closed")
    tickets = make_adapter().list_tickets()
    assert [(t.id, t.user, t.subject) for t in tickets] == [(str(waiting["id"]), "dave", "Orders")]


def test_it_reads_a_ticket_with_its_messages(fake: FakePanel, make_adapter) -> None:
    ticket = fake.add_ticket("dave", "Orders - Refill", "please refill 123")
    fake.add_ticket_message(ticket["id"], "support", "checking")
    fake.add_ticket_message(ticket["id"], "dave", "and 456")
    got = make_adapter().get_ticket(str(ticket["id"]))
    assert got is not None and got.user == "dave" and got.subject == "Orders - Refill"
    assert [(m.sender, m.text) for m in got.messages] == [
        ("dave", "please refill 123"),
        ("support", "checking"),
        ("dave", "and 456"),
    ]
    assert all(m.id for m in got.messages)


def test_it_replies_on_the_ticket(fake: FakePanel, make_adapter) -> None:
    ticket = fake.add_ticket("dave", "Orders", "refill 123")
    make_adapter().reply_ticket(str(ticket["id"]), "Forwarded to the provider.")
    assert [r["message"] for r in fake.tickets_replies(ticket["id"])] == ["Forwarded to the provider."]


def test_an_unknown_ticket_is_none(fake: FakePanel, make_adapter) -> None:
    assert make_adapter().get_ticket("99999") is None
    assert make_adapter().get_ticket("abc") is None


def test_a_200_with_an_error_code_and_an_html_page_are_panel_errors(fake: FakePanel, make_adapter) -> None:
    fake.fail_next(1, message="Internal error")
    with pytest.raises(PanelError) as exc:
        make_adapter().list_tickets()
    assert exc.value.temporary
    fake.inject("html", path="/tickets", status=502)
    with pytest.raises(PanelError) as exc:
        make_adapter().list_tickets()
    assert exc.value.kind == "web_page"
    fake.inject("malformed", path="/tickets")
    with pytest.raises(PanelError):
        make_adapter().list_tickets()


def test_v1_says_tickets_are_not_supported(fake: FakePanel, make_adapter) -> None:
    with pytest.raises(PanelError) as exc:
        make_adapter("pp_v1").list_tickets()
    assert exc.value.kind == "unsupported" and "not supported" in str(exc.value)


def test_it_tolerates_field_variants() -> None:
    raw = {"ticket_id": "7", "user": {"username": "dave"}, "title": "Refill", "status_name": "Open",
           "messages": [{"message_id": 3, "sender": "dave", "text": "refill 123"}, "junk", {"id": 4}]}  # fmt: skip
    ticket = parse_ticket(raw)
    assert ticket is not None and (ticket.id, ticket.user, ticket.subject, ticket.status) == (
        "7", "dave", "Refill", "Open")  # fmt: skip
    assert [(m.id, m.sender, m.text) for m in ticket.messages] == [("3", "dave", "refill 123")]
    assert parse_ticket({"id": "x"}) is None and parse_ticket([1]) is None
