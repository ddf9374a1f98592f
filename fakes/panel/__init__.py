"""Loopback fake of the Perfect Panel (PP) admin API, v2 (JSON) and v1 (action style).

No official PP spec is published (public clients quote an OpenAPI spec of the admin API v2),
so the fake serves the variants those clients must tolerate, chosen by settings
(constructor keywords, also changeable at run time with POST /_fake/config):

- status_style: "status_name" (default; `status` int + `status_name` "Completed", as the
  only pasted list item shows), "int" (`status` int only) or "string" (`status`
  "completed", "in_progress", ...). An order can override it with its own status_style.
- mode_style: "int" (`mode` 1 + `mode_name` "Auto") or "name" (`mode` "Auto").
- envelope: "full" (`data`, `error_message`: null, `error_code`: 0 on success) or
  "data_only" (success carries only `data` / `pagination`; errors always have both).
- numbers_as_strings: ids and counters as "123" instead of 123 (money is always a string).
- external_id_type: "as_given" (str or int, per order), "str" or "int".
- quantity_field: "both" (`quantity` and `count`), "quantity" or "count".
- auth_error_status: HTTP status of a bad/missing key on v2 (200 as PP does, or 401/403).

Int status codes: 0 Pending, 1 In progress, 2 Completed, 3 Canceled, 4 Fail (PP's test
DB) plus two of our own: 5 Partial, 6 Processing. Mode codes: 0 Manual, 1 Auto.

v2 `error_code` values (PP's real numbers are unknown; these are ours): 1 invalid API key,
2 not found (order/ticket/user), 3 bad request, 4 more than 100 ids, 100 injected by
fail_next(), 429 rate limited (HTTP 429), 404 unknown route (HTTP 404).

The parts, by API area: orders.py (seeding, rendering, GET /orders), tickets.py (the ticket
API), users.py (GET /users), v1.py (the action-style v1 API), envelope.py (the v2 answer shape
and key check), control.py (/_fake/ routes), state.py (the stored records), values.py (codes,
limits and value helpers), demo.py (the demo data). FakePanel below joins them with the
settings, counters, rate limit and fault hooks; `python -m fakes.panel` runs __main__.py.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from fakes.base import FakeRequest, FakeServer, Fault, RateLimiter, Reply
from fakes.panel.control import Control
from fakes.panel.demo import seed_demo
from fakes.panel.envelope import Envelope
from fakes.panel.orders import Orders
from fakes.panel.state import Order, Ticket, User
from fakes.panel.tickets import Tickets
from fakes.panel.users import Users
from fakes.panel.v1 import V1Api
from fakes.panel.values import (
    ADMINAPI_RX,
    CHOICES,
    CONFIG_KEYS,
    DEMO_PROVIDERS,
    ERR_BAD_KEY,
    ERR_BAD_REQUEST,
    ERR_INJECTED,
    ERR_NO_ROUTE,
    ERR_NOT_FOUND,
    ERR_RATE_LIMITED,
    ERR_TOO_MANY_IDS,
    FIRST_ORDER_ID,
    FIRST_TICKET_ID,
    MODE_CODES,
    STAT_KINDS,
    STATUS_CODES,
    STATUSES,
    V1_RX,
    V2,
    ApiError,
)

__all__ = [
    "DEMO_PROVIDERS",
    "ERR_BAD_KEY",
    "ERR_BAD_REQUEST",
    "ERR_INJECTED",
    "ERR_NOT_FOUND",
    "ERR_NO_ROUTE",
    "ERR_RATE_LIMITED",
    "ERR_TOO_MANY_IDS",
    "MODE_CODES",
    "STATUSES",
    "STATUS_CODES",
    "ApiError",
    "FakePanel",
    "seed_demo",
]


class FakePanel(Orders, Tickets, Users, V1Api, Control, Envelope, FakeServer):
    """A steerable Perfect Panel admin API (v2 + v1) with in-memory orders, tickets, users."""

    name = "fake-panel"

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        api_key: str = "test-key",
        rps: float = 5,
        latency: float = 0.0,
        status_style: str = "status_name",
        mode_style: str = "int",
        envelope: str = "full",
        auth_error_status: int = 200,
        numbers_as_strings: bool = False,
        external_id_type: str = "as_given",
        quantity_field: str = "both",
        currency: str = "USD",
    ) -> None:
        self._clear_state()
        super().__init__(host, port, latency)
        self.api_key = api_key
        self.rps = rps
        self.status_style = status_style
        self.mode_style = mode_style
        self.envelope = envelope
        self.auth_error_status = auth_error_status
        self.numbers_as_strings = numbers_as_strings
        self.external_id_type = external_id_type
        self.quantity_field = quantity_field
        self.currency = currency
        # Called after reset(); the demo re-seeds itself so /_fake/reset restores it.
        self.on_reset: Callable[[FakePanel], None] | None = None

    def __setattr__(self, name: str, value: Any) -> None:
        # Settings also arrive over POST /_fake/config, so validate them where they land.
        allowed = CHOICES.get(name)
        if allowed is not None and value not in allowed:
            raise ValueError(f"{name} must be one of {allowed}, not {value!r}")
        super().__setattr__(name, value)

    def _clear_state(self) -> None:
        self._orders: dict[int, Order] = {}
        self._tickets: dict[int, Ticket] = {}
        self._users: dict[str, User] = {}
        self._provider_ids: dict[str, int] = {}
        self._calls: Counter[str] = Counter()
        self._next_order_id = FIRST_ORDER_ID
        self._next_ticket_id = FIRST_TICKET_ID
        self._next_message_id = 1

    # ----- settings and introspection ---------------------------------------
    @property
    def rps(self) -> float:
        return self._limiter.per_second

    @rps.setter
    def rps(self, value: float) -> None:
        # 0 disables the limit; any change starts a fresh one-second window.
        self._limiter = RateLimiter(float(value or 0))

    def config(self) -> dict[str, Any]:
        return {key: getattr(self, key) for key in CONFIG_KEYS}

    def stats(self) -> dict[str, int]:
        """Calls per route kind, plus auth_failed / rate_limited / faulted / not_found.

        A route kind counts every call its handler saw, auth failures included; calls
        answered by the rate limit or an injected fault never reach a handler and are
        counted only as rate_limited / faulted.
        """
        with self.lock:
            return dict.fromkeys(STAT_KINDS, 0) | dict(self._calls)

    @property
    def calls(self) -> dict[str, int]:
        return self.stats()

    def reset_stats(self) -> None:
        with self.lock:
            self._calls.clear()

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return super().snapshot() | {
                "orders": len(self._orders),
                "tickets": len(self._tickets),
                "users": len(self._users),
                "providers": list(self._provider_ids),
                "stats": self.stats(),
                "config": self.config(),
            }

    def reset(self) -> None:
        super().reset()
        with self.lock:
            self._clear_state()
        self.rps = self.rps
        if self.on_reset:
            self.on_reset(self)

    def fail_next(
        self,
        times: int = 1,
        *,
        code: int = ERR_INJECTED,
        message: str = "Internal error",
        path: str = V2,
    ) -> Fault:
        """The next `times` v2 calls answer HTTP 200 with a non-zero error_code (PP's failure shape)."""
        body = {"data": None, "error_message": message, "error_code": code}
        return self.inject("status", path=path, times=times, status=200, body=body)

    # ----- dispatch: rate limit, counters, unknown routes -------------------
    def _count(self, kind: str) -> None:
        with self.lock:
            self._calls[kind] += 1

    def dispatch(self, req: FakeRequest) -> Reply | None:
        # The limiter sits in front of everything (like the panel's edge), faults included.
        if ADMINAPI_RX.match(req.path) and not self._limiter.allow("panel"):
            with self.lock:
                self.received.append(req)
            self._count("rate_limited")
            return self._rate_limited(req)
        return super().dispatch(req)

    def _rate_limited(self, req: FakeRequest) -> Reply:
        if V1_RX.match(req.path):
            body: dict[str, Any] = {"error": "Too many requests"}
        else:
            body = {
                "data": None,
                "error_message": "Too many requests",
                "error_code": ERR_RATE_LIMITED,
            }
        return Reply(429, body, {"Retry-After": "1"})

    def _take_fault(self, path: str) -> Fault | None:
        fault = super()._take_fault(path)
        if fault:
            self._count("faulted")
        return fault

    def not_found(self, req: FakeRequest) -> Reply:
        self._count("not_found")
        return self._v2_error(ERR_NO_ROUTE, f"Unknown endpoint {req.method} {req.path}", 404)
