"""Loopback fake of the Perfect Panel (PP) admin API, v2 (JSON) and v1 (action style).

Follows /work/shared/facts/panel-apis.md section 2. No official PP spec exists, so the
fake serves the variants the notes say clients must tolerate, chosen by settings
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
"""

from __future__ import annotations

import argparse
import functools
import random
import re
import signal
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import urlencode

from fakes.base import (
    FakeRequest,
    FakeServer,
    Fault,
    RateLimiter,
    Reply,
    json_reply,
    route,
)

STATUSES = (
    "Pending",
    "In progress",
    "Completed",
    "Canceled",
    "Fail",
    "Partial",
    "Processing",
)
STATUS_CODES = {name: code for code, name in enumerate(STATUSES)}
MODE_CODES = {"Manual": 0, "Auto": 1}

ERR_BAD_KEY = 1
ERR_NOT_FOUND = 2
ERR_BAD_REQUEST = 3
ERR_TOO_MANY_IDS = 4
ERR_INJECTED = 100
ERR_RATE_LIMITED = 429
ERR_NO_ROUTE = 404

MAX_IDS = 100  # "up to 100 IDs" per call (facts §2, S2 sends 100 per call)
MAX_LIMIT = 1000  # clients list recent orders with limit=1000; larger values are clamped
DEFAULT_LIMIT = 100
FIRST_ORDER_ID = 10001  # several clients only pick up ids of 4+ digits (\d{4,})
FIRST_TICKET_ID = 501
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"

V2 = r"(?:/admin)?/adminapi/v2"  # one client points at /admin/adminapi/v2
V1 = r"(?:/admin)?/adminapi/v1"
ADMINAPI_RX = re.compile(r"^(?:/admin)?/adminapi(?:/|$)")
V1_RX = re.compile(r"^" + V1 + r"/?$")

CHOICES: dict[str, tuple[Any, ...]] = {
    "status_style": ("status_name", "int", "string"),
    "mode_style": ("int", "name"),
    "envelope": ("full", "data_only"),
    "external_id_type": ("as_given", "str", "int"),
    "quantity_field": ("both", "quantity", "count"),
    "auth_error_status": (200, 401, 403),
}
CONFIG_KEYS = ("api_key", "rps", "latency", "currency", "numbers_as_strings", *CHOICES)
STAT_KINDS = (
    "order_by_id",
    "orders_by_ids",
    "orders_list",
    "tickets_list",
    "ticket_get",
    "ticket_reply",
    "ticket_add",
    "users",
    "v1_orders_by_id",
    "v1_providers",
    "v1_bad_action",
    "auth_failed",
    "rate_limited",
    "faulted",
    "not_found",
)

DEFAULT_SERVICES = (
    (1, "Instagram Likes [30D Refill]"),
    (2, "Instagram Followers | 30 Days Refill"),
    (3, "TikTok Views [No Refill]"),
    (4, "YouTube Views [Lifetime Refill]"),
    (5, "Telegram Members [60D Refill]"),
    (6, "Twitter/X Followers [No Refill]"),
)
DEMO_PROVIDERS = (
    "fastlikes-supply.example",
    "smmrush.example",
    "peakfollow.example",
    "viewstorm.example",
    "instaboost-hub.example",
    "tiktok-wholesale.example",
    "ytgrowth.example",
    "cheapsmm-api.example",
    "socialcore.example",
    "rapidreach.example",
)
DEMO_USERS = (
    "alice",
    "bob",
    "carol",
    "dave",
    "erin",
    "frank",
    "grace",
    "heidi",
    "ivan",
    "judy",
)
# Weighted like a live panel: mostly finished orders, a tail of running and failed ones.
STATUS_WEIGHTS = {
    "Completed": 60,
    "Partial": 8,
    "In progress": 12,
    "Pending": 6,
    "Processing": 5,
    "Canceled": 7,
    "Fail": 2,
}

_AUTO: Any = object()  # "not given" marker where None is a meaningful value


class ApiError(Exception):
    """A v2 failure, answered as HTTP 200 with a non-zero error_code (PP's way)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# ----- value helpers ---------------------------------------------------------


def utcnow() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def parse_time(value: datetime | str | float | None, default: datetime | None = None) -> datetime:
    """Accept a datetime, unix seconds, or "YYYY-MM-DD[ HH:MM:SS]" (UTC when naive)."""
    if value is None or value == "":
        return default or utcnow()
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, (int, float)) or re.fullmatch(r"-?\d+(\.\d+)?", str(value).strip()):
        moment = datetime.fromtimestamp(float(value), UTC)
    else:
        moment = datetime.fromisoformat(str(value).strip())
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def fmt_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(TIME_FORMAT)


def _letters(text: str) -> str:
    return re.sub(r"[^a-z]", "", text.lower())


_STATUS_ALIASES = {_letters(name): name for name in STATUSES} | {
    "cancelled": "Canceled",
    "failed": "Fail",
    "error": "Fail",
}


def normalize_status(value: str | int) -> str:
    """Map 2, "2", "completed", "in_progress", "In progress" ... to the canonical name."""
    text = str(value).strip()
    if text.isdigit():
        code = int(text)
        if code < len(STATUSES):
            return STATUSES[code]
    elif _letters(text) in _STATUS_ALIASES:
        return _STATUS_ALIASES[_letters(text)]
    raise ValueError(f"unknown order status {value!r}")


def normalize_mode(value: str | int) -> str:
    text = str(value).strip().lower()
    if text in ("1", "auto"):
        return "Auto"
    if text in ("0", "manual"):
        return "Manual"
    raise ValueError(f"unknown order mode {value!r}")


def status_slug(name: str) -> str:
    return name.lower().replace(" ", "_")


def parse_ids(raw: str) -> list[int]:
    """Comma-separated ids, de-duplicated in order; at most MAX_IDS."""
    tokens = [t.strip() for t in raw.split(",") if t.strip()]
    if not all(t.isdigit() for t in tokens):
        raise ApiError(ERR_BAD_REQUEST, "Invalid ids")
    ids = list(dict.fromkeys(int(t) for t in tokens))
    if len(ids) > MAX_IDS:
        raise ApiError(ERR_TOO_MANY_IDS, f"Too many ids: maximum is {MAX_IDS}")
    return ids


def _to_int(text: str | None) -> int | None:
    return int(text) if text and text.strip().isdigit() else None


def _page_args(query: dict[str, str], default_limit: int) -> tuple[int, int]:
    limit_raw, offset_raw = query.get("limit") or "0", query.get("offset") or "0"
    if not (limit_raw.isdigit() and offset_raw.isdigit()):
        raise ApiError(ERR_BAD_REQUEST, "Invalid limit or offset")
    limit = min(int(limit_raw), MAX_LIMIT) or default_limit  # limit=0 means "default" (S2 sends it)
    return limit, int(offset_raw)


def request_body(req: FakeRequest) -> dict[str, Any]:
    """JSON object bodies as documented; form bodies tolerated (merged with the query)."""
    if "json" not in req.headers.get("content-type", ""):
        return dict(req.values())
    try:
        data = req.json()
    except ValueError:
        raise ApiError(ERR_BAD_REQUEST, "Invalid JSON body") from None
    if not isinstance(data, dict):
        raise ApiError(ERR_BAD_REQUEST, "JSON body must be an object")
    return data


# ----- state -----------------------------------------------------------------


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


# ----- routing ---------------------------------------------------------------

Kind = str | Callable[[FakeRequest], str]


def v2_route(method: str, path: str, kind: Kind) -> Callable[[Callable[..., Reply]], Callable[..., Reply]]:
    """@route under both v2 prefixes, with the call counter, key check and ApiError envelope."""

    def mark(fn: Callable[..., Reply]) -> Callable[..., Reply]:
        @functools.wraps(fn)
        def wrapped(self: FakePanel, req: FakeRequest) -> Reply:
            self._count(kind(req) if callable(kind) else kind)
            if req.headers.get("x-api-key") != self.api_key:
                self._count("auth_failed")
                return self._v2_error(ERR_BAD_KEY, "Invalid API key", self.auth_error_status)
            try:
                return fn(self, req)
            except ApiError as exc:
                return self._v2_error(exc.code, exc.message)

        return route(method, V2 + path)(wrapped)

    return mark


def _order_kind(req: FakeRequest) -> str:
    return "orders_by_ids" if "ids" in req.query else "orders_list"


def _order_filters(query: dict[str, str]) -> list[Callable[[Order], bool]]:
    """The list filters of GET /orders (facts §2, S5); empty values mean "no filter"."""
    tests: list[Callable[[Order], bool]] = []
    try:
        if provider := query.get("provider", "").lower():
            tests.append(lambda o: (o.provider or "").lower() == provider)
        if raw := query.get("order_status"):
            statuses = {normalize_status(s) for s in raw.split(",") if s.strip()}
            tests.append(lambda o: o.status in statuses)
        if mode_raw := query.get("mode"):
            mode = normalize_mode(mode_raw)
            tests.append(lambda o: o.mode == mode)
        if user := query.get("user"):
            tests.append(lambda o: o.user == user)
        if raw := query.get("service_ids"):
            services = {int(s) for s in raw.split(",") if s.strip()}
            tests.append(lambda o: o.service_id in services)
        if link := query.get("link"):
            tests.append(lambda o: link in o.link)
        if raw := query.get("created_from"):
            since = parse_time(raw)
            tests.append(lambda o: o.created >= since)
        if raw := query.get("created_to"):
            until = parse_time(raw)
            tests.append(lambda o: o.created <= until)
    except ValueError as exc:
        raise ApiError(ERR_BAD_REQUEST, f"Invalid filter: {exc}") from None
    return tests


SORTS: dict[str, tuple[Callable[[Order], Any], bool]] = {
    "date-desc": (lambda o: (o.created, o.id), True),
    "date-asc": (lambda o: (o.created, o.id), False),
    "id-desc": (lambda o: o.id, True),
    "id-asc": (lambda o: o.id, False),
}


def _actions(order: Order) -> dict[str, bool]:
    """What the admin UI would offer for this order; clients read these as hints only."""
    auto = order.mode == "Auto"
    running = order.status in ("Pending", "In progress", "Processing")
    return {
        "refill": auto and order.status in ("Completed", "Partial"),
        "resend": auto and order.status == "Fail",
        "cancel_and_refund": order.status not in ("Canceled", "Partial"),
        "request_cancel": auto and running and bool(order.provider),
    }


class FakePanel(FakeServer):
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

    # ----- seeding: orders --------------------------------------------------
    def add_order(
        self,
        id: int | None = None,  # the API's own field name
        *,
        provider: str | None = "smmrush.com",
        external_id: str | int | None = _AUTO,
        service_id: int = 1,
        service_name: str = "IG Likes",
        status: str | int = "Completed",
        mode: str | int | None = None,
        quantity: int = 1000,
        user: str = "alice",
        link: str | None = None,
        start_count: int | None = None,
        remains: int | None = None,
        created: datetime | str | float | None = None,
        last_update: datetime | str | float | None = None,
        charge: float | None = None,
        status_style: str | None = None,
        type_name: str = "API",
    ) -> dict[str, Any]:
        """Add (or replace, same id) one order; returns its stored, canonical form.

        provider None or "" makes a manual order (mode defaults to Manual, no external_id).
        external_id defaults to a unique numeric string for provider orders.
        """
        _check_style(status_style)
        with self.lock:
            oid = self._next_order_id if id is None else int(id)
            self._next_order_id = max(self._next_order_id, oid + 1)
            name, qty, born = (
                normalize_status(status),
                int(quantity),
                parse_time(created),
            )
            mode = normalize_mode(mode) if mode is not None else ("Auto" if provider else "Manual")
            if external_id is _AUTO:  # a provider order already sent has the provider's id
                external_id = str(586_000 + oid) if provider and mode == "Auto" else None
            order = Order(
                id=oid,
                user=self._ensure_user(user).username,
                service_id=int(service_id),
                service_name=service_name,
                status=name,
                mode=mode,
                quantity=qty,
                link=link or _default_link(service_name, oid),
                start_count=int(_given(start_count, 1000 + oid * 37 % 5000)),
                remains=int(_given(remains, _default_remains(name, qty))),
                created=born,
                last_update=parse_time(last_update, _default_update(name, born, qty)),
                charge=float(_given(charge, round(qty * 0.9 / 1000, 5))),
                provider=provider,
                external_id=external_id,
                status_style=status_style,
                type_name=type_name,
            )
            self._orders[oid] = order
            self._register_provider(order.provider)
            return order.to_dict()

    def _register_provider(self, provider: str | None) -> None:
        if provider:  # ids in order of first appearance, like a panel's provider table
            self._provider_ids.setdefault(provider, len(self._provider_ids) + 1)

    def seed_orders(
        self,
        n: int,
        *,
        providers: Sequence[str] = DEMO_PROVIDERS[:3],
        start_id: int | None = None,
        manual_every: int = 0,
        users: Sequence[str] = ("alice", "bob", "carol"),
        services: Sequence[tuple[int, str]] = DEFAULT_SERVICES,
        statuses: Sequence[str | int] | None = None,
        newest: datetime | str | float | None = None,
        spacing_seconds: int = 300,
        seed: int = 0,
        **overrides: Any,
    ) -> list[dict[str, Any]]:
        """Add n orders with consecutive ids, oldest first, deterministic for a given seed.

        Every `manual_every`-th order is manual (provider alternately "" and None, both
        seen in the wild). `statuses` cycles if given, else a realistic weighted mix.
        `overrides` go to every add_order call (e.g. status_style="int").
        """
        rng = random.Random(seed)
        with self.lock:
            first = self._next_order_id if start_id is None else int(start_id)
            end = parse_time(newest)
            made = []
            for i in range(n):
                spec = self._seed_spec(i, rng, providers, manual_every, users, services, statuses)
                created = end - timedelta(seconds=spacing_seconds * (n - 1 - i))
                made.append(self.add_order(first + i, created=created, **(spec | overrides)))
            return made

    @staticmethod
    def _seed_spec(
        i: int,
        rng: random.Random,
        providers: Sequence[str],
        manual_every: int,
        users: Sequence[str],
        services: Sequence[tuple[int, str]],
        statuses: Sequence[str | int] | None,
    ) -> dict[str, Any]:
        manual = manual_every > 0 and (i + 1) % manual_every == 0
        service_id, service_name = rng.choice(services)
        if statuses:
            status = statuses[i % len(statuses)]
        else:
            status = rng.choices(list(STATUS_WEIGHTS), weights=list(STATUS_WEIGHTS.values()))[0]
        return {
            "provider": ("" if (i // manual_every) % 2 else None) if manual else rng.choice(providers),
            "service_id": service_id,
            "service_name": service_name,
            "status": status,
            "quantity": rng.choice((100, 250, 500, 1000, 2500, 5000, 10000)),
            "user": rng.choice(users),
        }

    def update_order(self, order_id: int, **changes: Any) -> dict[str, Any]:
        """Change fields of a stored order (status, remains, external_id, ...); bumps last_update."""
        with self.lock:
            order = self._orders[int(order_id)]
            for key, value in changes.items():
                if key in ("id", "created") or not hasattr(order, key):
                    raise ValueError(f"cannot update order field {key!r}")
                setattr(order, key, self._coerce_order_field(key, value))
            if "last_update" not in changes:
                order.last_update = utcnow()
            self._register_provider(order.provider)
            return order.to_dict()

    @staticmethod
    def _coerce_order_field(key: str, value: Any) -> Any:
        if key == "status":
            return normalize_status(value)
        if key == "mode":
            return normalize_mode(value)
        if key == "last_update":
            return parse_time(value)
        if key == "status_style":
            _check_style(value)
        return value

    def get_order(self, order_id: int) -> dict[str, Any] | None:
        with self.lock:
            order = self._orders.get(int(order_id))
            return order.to_dict() if order else None

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

    # ----- rendering --------------------------------------------------------
    def _num(self, value: int) -> int | str:
        return str(value) if self.numbers_as_strings else value

    def _external_id(self, value: str | int | None) -> str | int | None:
        if value is None or self.external_id_type == "as_given":
            return value
        if self.external_id_type == "int" and str(value).isdigit():
            return int(value)
        return str(value)

    def _status_fields(self, order: Order) -> dict[str, Any]:
        style = order.status_style or self.status_style
        if style == "string":
            return {"status": status_slug(order.status)}
        code = self._num(STATUS_CODES[order.status])
        return {"status": code} if style == "int" else {"status": code, "status_name": order.status}

    def _mode_fields(self, order: Order) -> dict[str, Any]:
        if self.mode_style == "name":
            return {"mode": order.mode}
        return {"mode": self._num(MODE_CODES[order.mode]), "mode_name": order.mode}

    def _quantity_fields(self, order: Order) -> dict[str, Any]:
        names = ("quantity", "count") if self.quantity_field == "both" else (self.quantity_field,)
        return dict.fromkeys(names, self._num(order.quantity))

    def _charge(self, value: float) -> dict[str, str]:
        symbol = "$" if self.currency == "USD" else ""
        formatted = f"{symbol}{value:.2f}" if symbol else f"{value:.2f} {self.currency}"
        return {
            "value": f"{value:.5f}",
            "currency_code": self.currency,
            "formatted": formatted,
        }

    def _render_order(self, order: Order) -> dict[str, Any]:
        user = self._users[order.user]
        return {
            "id": self._num(order.id),
            "user": order.user,
            "user_id": self._num(user.id),
            "user_email": user.email,
            "type_name": order.type_name,
            "service_id": self._num(order.service_id),
            "service_name": order.service_name,
            **self._status_fields(order),
            **self._mode_fields(order),
            **self._quantity_fields(order),
            "link": order.link,
            "start_count": self._num(order.start_count),
            "remains": self._num(order.remains),
            "created": fmt_time(order.created),
            "last_update": fmt_time(order.last_update),
            "charge": self._charge(order.charge),
            "provider": order.provider,
            "external_id": self._external_id(order.external_id),
            "actions": _actions(order),
        }

    def _v2_ok(self, data: Any, pagination: dict[str, Any] | None = None) -> Reply:
        body: dict[str, Any] = {"data": data}
        if self.envelope == "full":
            body |= {"error_message": None, "error_code": 0}
        if pagination is not None:
            body["pagination"] = pagination
        return json_reply(body)

    def _v2_error(self, code: int, message: str, status: int = 200) -> Reply:
        return json_reply({"data": None, "error_message": message, "error_code": code}, status)

    def _v2_list(self, req: FakeRequest, items: list[Any], total: int, limit: int, offset: int) -> Reply:
        def href(at: int) -> str:
            return f"{self.url}{req.path}?{urlencode(req.query | {'limit': limit, 'offset': at})}"

        pagination = {
            "total": total,
            "offset": offset,
            "limit": limit,
            "next_page_href": href(offset + limit) if offset + limit < total else None,
            "prev_page_href": href(max(0, offset - limit)) if offset > 0 else None,
        }
        return self._v2_ok({"count": len(items), "list": items}, pagination)

    # ----- v2: orders -------------------------------------------------------
    @v2_route("GET", r"/orders/(?P<id>[^/]+)", "order_by_id")
    def v2_order(self, req: FakeRequest) -> Reply:
        with self.lock:
            order = self._orders.get(_to_int(req.params["id"]) or -1)
            if order is None:
                raise ApiError(ERR_NOT_FOUND, "Order not found")
            return self._v2_ok(self._render_order(order))

    @v2_route("GET", r"/orders/?", _order_kind)
    def v2_orders(self, req: FakeRequest) -> Reply:
        ids = parse_ids(req.query["ids"]) if "ids" in req.query else None
        limit, offset = _page_args(req.query, MAX_IDS if ids is not None else DEFAULT_LIMIT)
        tests = _order_filters(req.query)
        key, descending = SORTS.get(req.query.get("sort") or "date-desc", (None, False))
        if key is None:
            raise ApiError(ERR_BAD_REQUEST, f"Invalid sort; use one of {', '.join(SORTS)}")
        with self.lock:
            pool = [self._orders[i] for i in ids if i in self._orders] if ids is not None else self._orders.values()
            found = sorted(
                (o for o in pool if all(t(o) for t in tests)),
                key=key,
                reverse=descending,
            )
            items = [self._render_order(o) for o in found[offset : offset + limit]]
        return self._v2_list(req, items, len(found), limit, offset)

    # ----- v2: tickets ------------------------------------------------------
    @v2_route("GET", r"/tickets/?", "tickets_list")
    def v2_tickets(self, req: FakeRequest) -> Reply:
        limit, offset = _page_args(req.query, DEFAULT_LIMIT)
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
        ticket = self._tickets.get(_to_int(raw_id) or -1)
        if ticket is None:
            raise ApiError(ERR_NOT_FOUND, "Ticket not found")
        return ticket

    # ----- v2: users --------------------------------------------------------
    @v2_route("GET", r"/users/?", "users")
    def v2_users(self, req: FakeRequest) -> Reply:
        limit, offset = _page_args(req.query, DEFAULT_LIMIT)
        username = req.query.get("username")
        with self.lock:
            users = sorted(self._users.values(), key=lambda u: u.id)
            found = [u for u in users if not username or u.username == username]
            items = [u.to_dict() for u in found[offset : offset + limit]]
        return self._v2_list(req, items, len(found), limit, offset)

    # ----- v1 ---------------------------------------------------------------
    V1_ACTIONS: ClassVar[dict[str, str]] = {
        "getOrders-by-id": "v1_orders_by_id",
        "getProviders": "v1_providers",
    }

    @route("GET", V1 + "/?")
    def v1_get(self, req: FakeRequest) -> Reply:
        return self._v1(req)

    @route("POST", V1 + "/?")
    def v1_post(self, req: FakeRequest) -> Reply:
        return self._v1(req)

    def _v1(self, req: FakeRequest) -> Reply:
        params = req.values()
        kind = self.V1_ACTIONS.get(params.get("action", ""), "v1_bad_action")
        self._count(kind)
        if params.get("key") != self.api_key:  # the key is checked before the action
            self._count("auth_failed")
            return json_reply({"error": "bad_auth"})
        if kind == "v1_bad_action":
            return json_reply({"error": "bad_action"})
        return getattr(self, f"_{kind}")(params)

    def _v1_orders_by_id(self, params: dict[str, str]) -> Reply:
        try:
            ids = parse_ids(params.get("orders", ""))
        except ApiError as exc:
            too_many = exc.code == ERR_TOO_MANY_IDS
            return json_reply({"error": "too_many_orders" if too_many else "bad_orders"})
        if not ids:
            return json_reply({"error": "bad_orders"})
        with self.lock:
            items = [self._render_v1_order(self._orders[i]) for i in ids if i in self._orders]
        return json_reply({"status": "success", "orders": items})

    def _v1_providers(self, params: dict[str, str]) -> Reply:
        with self.lock:
            items = [{"id": pid, "name": name} for name, pid in self._provider_ids.items()]
        return json_reply({"status": "success", "providers": items})

    def _render_v1_order(self, order: Order) -> dict[str, Any]:
        style = order.status_style or self.status_style
        code = STATUS_CODES[order.status]
        return {
            "id": self._num(order.id),
            "username": order.user,
            "order_status": self._num(code) if style == "int" else order.status.lower(),
            "service": self._num(order.service_id),
            "service_name": order.service_name,
            "provider": order.provider,
            "external_id": self._external_id(order.external_id),
            "mode": order.mode.lower(),
            "quantity": self._num(order.quantity),
            "link": order.link,
            "start_count": self._num(order.start_count),
            "remains": self._num(order.remains),
            "charge": f"{order.charge:.5f}",
            "date": fmt_time(order.created),
            "current_date": fmt_time(utcnow()),
        }

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


def _given(value: Any, default: Any) -> Any:
    return default if value is None else value


def _check_style(style: str | None) -> None:
    if style is not None and style not in CHOICES["status_style"]:
        raise ValueError(f"status_style must be one of {CHOICES['status_style']}")


def _default_link(service_name: str, order_id: int) -> str:
    name = service_name.lower()
    for word, url in (
        ("tiktok", "https://www.tiktok.com/@creator/video/73{id}"),
        ("youtube", "https://www.youtube.com/watch?v=yt{id}"),
        ("telegram", "https://t.me/channel{id}"),
        ("twitter", "https://x.com/someone/status/17{id}"),
    ):
        if word in name:
            return url.format(id=order_id)
    return f"https://www.instagram.com/p/C{order_id}x/"


def _default_update(status: str, created: datetime, quantity: int) -> datetime:
    # Clients derive delivery time from last_update - created (facts §2, S5), so a worked
    # order was touched later, never in the future.
    if status == "Pending":
        return created
    return max(created, min(created + timedelta(minutes=5 + quantity // 100), utcnow()))


def _default_remains(status: str, quantity: int) -> int:
    if status == "Completed":
        return 0
    if status == "Partial":
        return max(1, quantity // 4)
    if status == "In progress":
        return quantity // 2
    return quantity


# ----- demo data and entry point ----------------------------------------------


def seed_demo(panel: FakePanel, orders: int = 300) -> None:
    """A few hundred orders over ten providers, some manual, and tickets that cite them."""
    made = panel.seed_orders(orders, providers=DEMO_PROVIDERS, users=DEMO_USERS, manual_every=15, seed=7)
    ids = [o["id"] for o in made]
    for user in DEMO_USERS:
        panel.add_user(user, balance=round(random.Random(user).uniform(0, 250), 2))
    _demo_tickets(panel, ids)


def _demo_tickets(panel: FakePanel, ids: list[int]) -> None:
    # Tickets cite orders their author really owns, in the phrasings the parsers see (facts §4).
    def own(user: str, count: int) -> str:
        owned = [o["id"] for o in map(panel.get_order, ids) if o and o["user"] == user]
        return ", ".join(str(i) for i in (owned or ids)[-count:])

    panel.add_ticket("alice", "Orders", f"Urgent Refill: {own('alice', 3)}")
    panel.add_ticket("bob", "Cancel", f"Urgent Refund (Partial/Cancel): {own('bob', 1)}")
    panel.add_ticket("carol", "Speed", f"please speed up {own('carol', 2)}")
    done = panel.add_ticket("dave", "Refill", f"{own('dave', 1)} refill")
    panel.add_ticket_message(done["id"], "support", "Refill requested, please allow 24-48 hours.")
    closed = panel.add_ticket("erin", "Payment", "I paid with crypto but the balance is 0")
    panel.add_ticket_message(closed["id"], "support", "Added, thanks for waiting.")
    panel.set_ticket_status(closed["id"], "Closed")


def _parse_args(argv: Iterable[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m fakes.panel", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8101)
    parser.add_argument("--api-key", default="test-key")
    parser.add_argument("--rps", type=float, default=5, help="requests per second, 0 = unlimited")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every request")
    parser.add_argument("--status-style", choices=CHOICES["status_style"], default="status_name")
    parser.add_argument(
        "--auth-error-status",
        type=int,
        choices=CHOICES["auth_error_status"],
        default=200,
    )
    parser.add_argument("--seed-demo", action="store_true", help="load the demo data set")
    return parser.parse_args(list(argv) if argv is not None else None)


def _stop_on_sigterm(*_: object) -> None:
    raise KeyboardInterrupt  # leave serve_forever() the same way Ctrl-C does


def main(argv: Iterable[str] | None = None) -> None:
    args = _parse_args(argv)
    panel = FakePanel(
        args.host,
        args.port,
        api_key=args.api_key,
        rps=args.rps,
        latency=args.latency,
        status_style=args.status_style,
        auth_error_status=args.auth_error_status,
    )
    if args.seed_demo:
        seed_demo(panel)
        # /_fake/reset then brings the demo back instead of an empty panel.
        panel.on_reset = seed_demo
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    state = panel.snapshot()
    print(
        f"FakePanel on {panel.url} (v2: /adminapi/v2, v1: /adminapi/v1, key {panel.api_key!r}, "
        f"rps {panel.rps:g}); {state['orders']} orders, {state['tickets']} tickets",
        flush=True,
    )
    try:
        panel.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        panel.stop()


if __name__ == "__main__":
    main(sys.argv[1:])
