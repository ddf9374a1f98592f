"""Perfect Panel admin API v2: `https://<panel>/adminapi/v2`, header `X-Api-Key`, JSON envelopes.

The envelope is `{"data": …, "error_message": …, "error_code": 0, "pagination": {…}}`; the
panel answers HTTP 200 with a non-zero `error_code` on failure (as public PP clients note), and some panels
send only `data` on success. Orders come from `GET /orders?ids=…` (≤ 100 ids a call) and
`GET /orders/{id}`; recent orders from `GET /orders?sort=date-desc&limit=…`.
"""

from __future__ import annotations

from typing import Any

from panelrelay.panels.adapters.base import (
    ConnectionReport,
    PanelAdapter,
    PanelError,
    PanelOrder,
    PanelTicket,
)
from panelrelay.panels.adapters.client import PanelClient, api_error
from panelrelay.panels.adapters.parsing import chunks, clean_ids, parse_order, parse_ticket
from panelrelay.panels.adapters.reports import connected_report, failed_report, probe

LIST_LIMIT = 1000  # public PP clients list recent orders 1000 at a time (docs/DECISIONS.md: Sync providers)
MAX_PAGES = 50
_NOT_WAITING = {
    "answered",
    "closed",
    "solved",
    "resolved",
}  # a panel that keeps saying "next page" must not keep us forever


class PerfectPanelV2(PanelAdapter):
    kind = "pp_v2"
    label = "Perfect Panel admin API v2"
    batch_size = 100
    api_path = "/adminapi/v2"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.client = PanelClient(self)

    # ----- calls ---------------------------------------------------------------------
    def _get(self, path: str, params: dict[str, Any] | None = None) -> tuple[dict[str, Any], int]:
        """The checked envelope of GET <api>/<path>, and the round-trip time in ms."""
        return self._call("GET", path, params=params)

    def _call(self, method: str, path: str, **kwargs: Any) -> tuple[dict[str, Any], int]:
        body, elapsed = self.client.call(
            method, self.base_url + self.api_path + path, headers={"X-Api-Key": self.api_key}, **kwargs
        )
        if not isinstance(body, dict):
            raise self.client.error("the panel's answer has an unexpected shape", kind="bad_response", temporary=True)
        code = body.get("error_code")
        if code not in (None, 0, "0", "") or (body.get("data") is None and body.get("error_message")):
            raise api_error(self.client, body.get("error_message") or body.get("error"), code)
        if body.get("error"):  # the customer API's {"error": "…"} shape, seen on some installs
            raise api_error(self.client, body["error"])
        if "data" not in body:
            raise self.client.error("the panel's answer has no data", kind="bad_response", temporary=True)
        return body, elapsed

    def _items(self, body: dict[str, Any]) -> list[Any]:
        data = body["data"]
        items = data.get("list") if isinstance(data, dict) else data
        if not isinstance(items, list):
            raise self.client.error(
                "the panel's order list has an unexpected shape", kind="bad_response", temporary=True
            )
        return items

    def _list(self, params: dict[str, Any], want: int) -> list[Any]:
        """Items of GET /orders across pages until `want` items or the last page."""
        items: list[Any] = []
        for _ in range(MAX_PAGES):
            body, _ms = self._get("/orders", params | {"offset": len(items)})
            page = self._items(body)
            items += page
            total = (body.get("pagination") or {}).get("total")
            if not page or len(items) >= want or not isinstance(total, int) or len(items) >= total:
                break
        return items[:want]

    # ----- the contract --------------------------------------------------------------
    def get_orders(self, ids: list[str]) -> dict[str, PanelOrder]:
        found: dict[str, PanelOrder] = {}
        for batch in chunks(clean_ids(ids), self.batch_size):
            params = {"ids": ",".join(batch), "limit": self.batch_size}
            for raw in self._list(params, len(batch)):
                order = parse_order(raw)
                if order and order.id in batch:
                    found[order.id] = order
        return found

    def get_order(self, order_id: str) -> PanelOrder | None:
        ids = clean_ids([order_id])
        if not ids:
            return None
        try:
            body, _ms = self._get(f"/orders/{ids[0]}")
        except PanelError as exc:
            if exc.kind == "not_found":
                return None
            raise
        return parse_order(body["data"])

    def recent_orders(self, limit: int = 1000) -> list[PanelOrder]:
        params = {"sort": "date-desc", "limit": min(limit, LIST_LIMIT)}
        orders = (parse_order(raw) for raw in self._list(params, limit))
        return [order for order in orders if order]

    def list_tickets(self, limit: int = 100) -> list[PanelTicket]:
        # `status=pending`: the customer wrote last (S2). Panels that ignore the filter send every
        # ticket, so answered and closed ones are dropped here too.
        body, _ms = self._get("/tickets", {"status": "pending", "limit": limit})
        tickets = [parse_ticket(raw) for raw in self._items(body)]
        return [t for t in tickets if t and t.status.strip().lower() not in _NOT_WAITING]

    def get_ticket(self, ticket_id: str) -> PanelTicket | None:
        if not str(ticket_id).isdigit():
            return None
        try:
            body, _ms = self._get(f"/tickets/{ticket_id}")
        except PanelError as exc:
            if exc.kind == "not_found":
                return None
            raise
        return parse_ticket(body["data"])

    def reply_ticket(self, ticket_id: str, text: str) -> None:
        # No published PP doc shows the reply body; one public typed client sends {ticket_id, message}.
        # We send both keys.
        self._call("POST", f"/tickets/{ticket_id}/reply", json={"ticket_id": ticket_id, "message": text})

    def test_connection(self) -> ConnectionReport:
        try:
            body, elapsed = self._get("/orders", {"sort": "date-desc", "limit": 1})
            newest = [o for o in map(parse_order, self._items(body)) if o]
        except PanelError as exc:
            return failed_report(exc)
        sample = newest[0].id if newest else "1"
        capabilities = [
            probe("Order by id", lambda: self.get_order(sample)),
            probe("Many orders at once", lambda: self.get_orders([sample, str(max(int(sample) - 1, 1))])),
            probe("Tickets", lambda: self._items(self._get("/tickets", {"limit": 1})[0])),
        ]
        return connected_report(elapsed, capabilities)
