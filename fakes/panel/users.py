"""Customers (users): seeding them from Python and the v2 `GET /users` list."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

from fakes.base import FakeRequest, Reply
from fakes.panel.envelope import v2_route
from fakes.panel.state import User
from fakes.panel.values import DEFAULT_LIMIT, page_args, utcnow


class Users:
    """FakePanel's customers: Python helpers and the v2 users route."""

    # State set by FakePanel.__init__ (lock by FakeServer's), named here so this part reads alone.
    lock: threading.RLock
    _users: dict[str, User]

    # ----- seeding: users ---------------------------------------------------
    def add_user(self, username: str, *, email: str | None = None, balance: float = 25.0) -> dict[str, Any]:
        with self.lock:
            user = self._ensure_user(username)
            user.email = email or user.email
            user.balance = balance
            return user.to_dict()

    def _ensure_user(self, username: str) -> User:
        if not username:
            raise ValueError("username is required")
        if username not in self._users:
            uid = len(self._users) + 1
            email = f"{username}@customers.example"
            self._users[username] = User(uid, username, email, 25.0, utcnow() - timedelta(days=90))
        return self._users[username]

    # ----- v2: users --------------------------------------------------------
    @v2_route("GET", r"/users/?", "users")
    def v2_users(self, req: FakeRequest) -> Reply:
        limit, offset = page_args(req.query, DEFAULT_LIMIT)
        username = req.query.get("username")
        with self.lock:
            users = sorted(self._users.values(), key=lambda u: u.id)
            found = [u for u in users if not username or u.username == username]
            items = [u.to_dict() for u in found[offset : offset + limit]]
        return self._v2_list(req, items, len(found), limit, offset)
