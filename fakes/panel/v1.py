"""The v1 admin API: one URL, `action` and `key` as parameters (getOrders-by-id,
getProviders), errors as `{"error": ...}`."""

from __future__ import annotations

import threading
from typing import Any, ClassVar

from fakes.base import FakeRequest, Reply, json_reply, route
from fakes.panel.state import Order
from fakes.panel.values import ERR_TOO_MANY_IDS, STATUS_CODES, V1, ApiError, fmt_time, parse_ids, utcnow


class V1Api:
    """FakePanel's v1 routes."""

    # State set by FakePanel.__init__ (lock by FakeServer's), named here so this part reads alone.
    lock: threading.RLock
    api_key: str
    status_style: str
    _orders: dict[int, Order]
    _provider_ids: dict[str, int]

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
