"""The panel's own control endpoints under /_fake/ (orders, tickets, users, fail_next, stats),
on top of FakeServer's state, reset, fault and config."""

from __future__ import annotations

import re
from typing import Any

from fakes.base import FakeRequest, Reply, json_reply


class Control:
    """FakePanel's /_fake/ routes: seeding and inspection from another process."""

    # State set by FakePanel.__init__ (lock by FakeServer's), named here so this part reads alone.

    # ----- control API (/_fake/...) -----------------------------------------
    CONTROL_ROUTES = (
        ("POST", r"/_fake/orders", "_ctl_add_orders"),
        ("GET", r"/_fake/orders/(?P<id>\d+)", "_ctl_get_order"),
        ("POST", r"/_fake/orders/(?P<id>\d+)", "_ctl_update_order"),
        ("POST", r"/_fake/tickets", "_ctl_add_tickets"),
        ("GET", r"/_fake/tickets/(?P<id>\d+)", "_ctl_get_ticket"),
        ("GET", r"/_fake/tickets/(?P<id>\d+)/replies", "_ctl_ticket_replies"),
        ("POST", r"/_fake/users", "_ctl_add_users"),
        ("POST", r"/_fake/fail_next", "_ctl_fail_next"),
        ("POST", r"/_fake/stats/reset", "_ctl_reset_stats"),
    )

    def _control(self, req: FakeRequest) -> Reply:
        try:
            for method, pattern, name in self.CONTROL_ROUTES:
                m = re.fullmatch(pattern, req.path)
                if m and method == req.method:
                    return getattr(self, name)(req, **m.groupdict())
            return super()._control(req)
        except (
            TypeError,
            ValueError,
            KeyError,
        ) as exc:  # bad seed data is the caller's error
            return json_reply({"error": f"{type(exc).__name__}: {exc}"}, 400)

    def _ctl_add_orders(self, req: FakeRequest) -> Reply:
        spec = req.json()
        if isinstance(spec, dict) and "seed" in spec:
            made = self.seed_orders(**spec["seed"])
        else:
            items = spec.get("orders", []) if isinstance(spec, dict) else spec
            made = [self.add_order(**item) for item in items]
        return json_reply({"ok": True, "ids": [o["id"] for o in made]})

    def _ctl_get_order(self, req: FakeRequest, id: str) -> Reply:
        order = self.get_order(int(id))
        return json_reply(order) if order else json_reply({"error": "no such order"}, 404)

    def _ctl_update_order(self, req: FakeRequest, id: str) -> Reply:
        return json_reply(self.update_order(int(id), **req.json()))

    def _ctl_add_tickets(self, req: FakeRequest) -> Reply:
        spec = req.json()
        items = spec.get("tickets", []) if isinstance(spec, dict) else spec
        return json_reply({"ok": True, "ids": [self._add_ticket_spec(item) for item in items]})

    def _add_ticket_spec(self, item: dict[str, Any]) -> int:
        extra = item.pop("messages", [])
        ticket = self.add_ticket(**item)
        for msg in extra:
            self.add_ticket_message(ticket["id"], msg["sender_name"], msg["message"])
        if "status" in item:  # an explicit status wins over what the messages implied
            self.set_ticket_status(ticket["id"], item["status"])
        return ticket["id"]

    def _ctl_get_ticket(self, req: FakeRequest, id: str) -> Reply:
        ticket = self.get_ticket(int(id))
        return json_reply(ticket) if ticket else json_reply({"error": "no such ticket"}, 404)

    def _ctl_ticket_replies(self, req: FakeRequest, id: str) -> Reply:
        return json_reply(self.tickets_replies(int(id)))

    def _ctl_add_users(self, req: FakeRequest) -> Reply:
        return json_reply({"ok": True, "users": [self.add_user(**item) for item in req.json()]})

    def _ctl_fail_next(self, req: FakeRequest) -> Reply:
        self.fail_next(**(req.json() or {}))
        return json_reply({"ok": True})

    def _ctl_reset_stats(self, req: FakeRequest) -> Reply:
        self.reset_stats()
        return json_reply({"ok": True})
