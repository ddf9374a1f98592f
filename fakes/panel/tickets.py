"""Tickets: seeding them and their messages from Python, and the v2 ticket API (list, get,
reply, add)."""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

from fakes.base import FakeRequest, Reply
from fakes.panel.envelope import v2_route
from fakes.panel.state import Ticket, TicketMessage, User
from fakes.panel.values import (
    DEFAULT_LIMIT,
    ERR_BAD_REQUEST,
    ERR_NOT_FOUND,
    ApiError,
    page_args,
    parse_time,
    request_body,
    to_int,
    utcnow,
)


class Tickets:
    """FakePanel's support tickets: Python helpers and the v2 ticket routes."""

    # State set by FakePanel.__init__ (lock by FakeServer's), named here so this part reads alone.
    lock: threading.RLock
    _tickets: dict[int, Ticket]
    _users: dict[str, User]
    _next_ticket_id: int
    _next_message_id: int

    # ----- seeding: tickets -------------------------------------------------
    def add_ticket(
        self,
        user: str,
        subject: str,
        message: str,
        status: str = "Pending",
        *,
        created: datetime | str | float | None = None,
    ) -> dict[str, Any]:
        """A customer ticket whose first message is `message` from `user`."""
        with self.lock:
            self._ensure_user(user)
            first = self._new_message(user, message, parse_time(created))
            ticket = self._open_ticket(user, subject, first)
            ticket.status = status
            return ticket.to_dict()

    def _open_ticket(self, user: str, subject: str, first: TicketMessage) -> Ticket:
        status = "Answered" if first.sender_name == "support" else "Pending"
        ticket = Ticket(self._next_ticket_id, user, subject, status, first.created, first.created)
        ticket.messages.append(first)
        self._tickets[ticket.id] = ticket
        self._next_ticket_id += 1
        return ticket

    def add_ticket_message(self, ticket_id: int, sender_name: str, message: str) -> dict[str, Any]:
        """Append a message; the customer writing re-opens (Pending), "support" answers."""
        with self.lock:
            ticket = self._tickets[int(ticket_id)]
            msg = self._append(ticket, sender_name, message)
            if sender_name != "support":
                ticket.status = "Pending"
            return msg.to_dict()

    def tickets_replies(self, ticket_id: int) -> list[dict[str, Any]]:
        """The replies the product posted via POST /tickets/{id}/reply, oldest first."""
        with self.lock:
            ticket = self._tickets[int(ticket_id)]
            return [m.to_dict() | {"staff_name": m.staff_name} for m in ticket.messages if m.via_api]

    def set_ticket_status(self, ticket_id: int, status: str) -> None:
        """E.g. "Closed": PP has no close endpoint, so only staff in the UI (or a test) closes."""
        with self.lock:
            self._tickets[int(ticket_id)].status = status

    def get_ticket(self, ticket_id: int) -> dict[str, Any] | None:
        with self.lock:
            ticket = self._tickets.get(int(ticket_id))
            return ticket.to_dict() if ticket else None

    def _new_message(self, sender: str, text: str, when: datetime | None = None, **kw: Any) -> TicketMessage:
        msg = TicketMessage(self._next_message_id, sender, text, when or utcnow(), **kw)
        self._next_message_id += 1
        return msg

    def _append(self, ticket: Ticket, sender: str, text: str, **kw: Any) -> TicketMessage:
        msg = self._new_message(sender, text, **kw)
        ticket.messages.append(msg)
        ticket.last_update = msg.created
        if sender == "support":
            ticket.status = "Answered"
        return msg

    # ----- v2: tickets ------------------------------------------------------
    @v2_route("GET", r"/tickets/?", "tickets_list")
    def v2_tickets(self, req: FakeRequest) -> Reply:
        limit, offset = page_args(req.query, DEFAULT_LIMIT)
        user, status = req.query.get("user"), (req.query.get("status") or "").lower()
        with self.lock:
            found = [
                t
                for t in sorted(self._tickets.values(), key=lambda t: t.id, reverse=True)
                if (not user or t.user == user) and (not status or t.status.lower() == status)
            ]
            items = [t.summary() for t in found[offset : offset + limit]]
        return self._v2_list(req, items, len(found), limit, offset)

    @v2_route("GET", r"/tickets/(?P<id>[^/]+)", "ticket_get")
    def v2_ticket(self, req: FakeRequest) -> Reply:
        with self.lock:
            return self._v2_ok(self._ticket_or_fail(req.params["id"]).to_dict())

    @v2_route("POST", r"/tickets/(?P<id>[^/]+)/reply", "ticket_reply")
    def v2_ticket_reply(self, req: FakeRequest) -> Reply:
        body = request_body(req)
        text = str(body.get("message") or "").strip()
        with self.lock:
            ticket = self._ticket_or_fail(req.params["id"])
            if not text:
                raise ApiError(ERR_BAD_REQUEST, "Message is required")
            staff = body.get("staff_name")
            msg = self._append(ticket, "support", text, staff_name=staff and str(staff), via_api=True)
            return self._v2_ok({"ticket_id": ticket.id, "message_id": msg.id, "status": ticket.status})

    @v2_route("POST", r"/tickets/add", "ticket_add")
    def v2_ticket_add(self, req: FakeRequest) -> Reply:
        body = request_body(req)
        username = str(body.get("username") or body.get("user") or "")
        subject, text = str(body.get("subject") or ""), str(body.get("message") or "")
        if not (username and subject and text):
            raise ApiError(ERR_BAD_REQUEST, "username, subject and message are required")
        staff = body.get("staff_name")
        with self.lock:
            if username not in self._users:
                raise ApiError(ERR_NOT_FOUND, "User not found")
            # With staff_name, staff opened it: the first message is theirs ("support").
            first = self._new_message("support", text, staff_name=str(staff)) if staff else None
            ticket = self._open_ticket(username, subject, first or self._new_message(username, text))
        return self._v2_ok({"id": ticket.id})

    def _ticket_or_fail(self, raw_id: str) -> Ticket:
        ticket = self._tickets.get(to_int(raw_id) or -1)
        if ticket is None:
            raise ApiError(ERR_NOT_FOUND, "Ticket not found")
        return ticket
