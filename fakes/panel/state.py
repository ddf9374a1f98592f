"""What the fake panel keeps in memory: orders, customers (users), tickets and their messages."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from fakes.panel.values import fmt_time


@dataclass
class Order:
    id: int
    user: str
    service_id: int
    service_name: str
    status: str  # canonical name from STATUSES
    mode: str  # "Auto" | "Manual"
    quantity: int
    link: str
    start_count: int
    remains: int
    created: datetime
    last_update: datetime
    charge: float
    provider: str | None  # domain; "" or None for manual orders, kept as given
    external_id: str | int | None  # kept as given so tests can send ints or strings
    status_style: str | None = None  # per-order override of FakePanel.status_style
    type_name: str = "API"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["created"], data["last_update"] = (
            fmt_time(self.created),
            fmt_time(self.last_update),
        )
        return data


@dataclass
class User:
    id: int
    username: str
    email: str
    balance: float
    created: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "username": self.username,
            "email": self.email,
            "balance": f"{self.balance:.5f}",
            "status": "Active",
            "created": fmt_time(self.created),
        }


@dataclass
class TicketMessage:
    id: int
    sender_name: str  # the customer's username, or "support" for staff
    message: str
    created: datetime
    staff_name: str | None = None
    via_api: bool = False  # posted through POST /tickets/{id}/reply, i.e. by the product

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "sender_name": self.sender_name,
            "message": self.message,
            "created": fmt_time(self.created),
        }


@dataclass
class Ticket:
    id: int
    user: str
    subject: str
    status: str  # "Pending" | "Answered" | "Closed" | anything a test sets
    created: datetime
    last_update: datetime
    messages: list[TicketMessage] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "user": self.user,
            "subject": self.subject,
            "status": self.status,
            "created": fmt_time(self.created),
            "last_update": fmt_time(self.last_update),
        }

    def to_dict(self) -> dict[str, Any]:
        return self.summary() | {"messages": [m.to_dict() for m in self.messages]}
