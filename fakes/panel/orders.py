"""Orders: seeding and changing them from Python, rendering them in the panel's configured
style, and the v2 order API (`GET /orders/{id}`, `GET /orders` by ids or as a filtered list)."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from fakes.base import FakeRequest, Reply
from fakes.panel.envelope import v2_route
from fakes.panel.state import Order, User
from fakes.panel.values import (
    CHOICES,
    DEFAULT_LIMIT,
    DEFAULT_SERVICES,
    DEMO_PROVIDERS,
    ERR_BAD_REQUEST,
    ERR_NOT_FOUND,
    MAX_IDS,
    MODE_CODES,
    STATUS_CODES,
    STATUS_WEIGHTS,
    ApiError,
    fmt_time,
    normalize_mode,
    normalize_status,
    page_args,
    parse_ids,
    parse_time,
    status_slug,
    to_int,
    utcnow,
)

_AUTO: Any = object()  # "not given" marker where None is a meaningful value


def _order_kind(req: FakeRequest) -> str:
    return "orders_by_ids" if "ids" in req.query else "orders_list"


def _order_filters(query: dict[str, str]) -> list[Callable[[Order], bool]]:
    """The list filters of GET /orders, as public PP clients send them; empty values mean "no filter"."""
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


class Orders:
    """FakePanel's orders: Python helpers, rendering, and the v2 order routes."""

    # State set by FakePanel.__init__ (lock by FakeServer's), named here so this part reads alone.
    lock: threading.RLock
    _orders: dict[int, Order]
    _users: dict[str, User]
    _provider_ids: dict[str, int]
    _next_order_id: int
    status_style: str
    mode_style: str
    numbers_as_strings: bool
    external_id_type: str
    quantity_field: str
    currency: str

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

    # ----- v2: orders -------------------------------------------------------
    @v2_route("GET", r"/orders/(?P<id>[^/]+)", "order_by_id")
    def v2_order(self, req: FakeRequest) -> Reply:
        with self.lock:
            order = self._orders.get(to_int(req.params["id"]) or -1)
            if order is None:
                raise ApiError(ERR_NOT_FOUND, "Order not found")
            return self._v2_ok(self._render_order(order))

    @v2_route("GET", r"/orders/?", _order_kind)
    def v2_orders(self, req: FakeRequest) -> Reply:
        ids = parse_ids(req.query["ids"]) if "ids" in req.query else None
        limit, offset = page_args(req.query, MAX_IDS if ids is not None else DEFAULT_LIMIT)
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
    # Public PP clients derive delivery time from last_update - created, so a worked
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
