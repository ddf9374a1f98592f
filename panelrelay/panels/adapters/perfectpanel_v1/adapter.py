"""Perfect Panel admin API v1: `https://<panel>/adminapi/v1` with `key` and `action` parameters.

Seen in real use (a public WhatsApp bot for a PP panel): `action=getOrders-by-id&orders=1,2` answers
`{"status": "success", "orders": [...]}`; errors are `{"error": "bad_auth"}` / `bad_action`.
That action is the one we need and the one that judges the key. `getProviders` (the panel's
provider domains) is listed by one client only and some v1 panels answer it with `bad_action`:
it is optional. v1 has no recent-orders list and no tickets.
We POST the parameters so the key never lands in a proxy's access log as part of a URL.
"""

from __future__ import annotations

from typing import Any

from panelrelay.panels.adapters.base import Capability, ConnectionReport, PanelAdapter, PanelError, PanelOrder
from panelrelay.panels.adapters.client import PanelClient, api_error
from panelrelay.panels.adapters.parsing import chunks, clean_ids, parse_order
from panelrelay.panels.adapters.reports import connected_report, failed_report, probe

ORDERS_ACTION = "getOrders-by-id"  # the action every v1 panel seen in use offers


class PerfectPanelV1(PanelAdapter):
    kind = "pp_v1"
    label = "Perfect Panel admin API v1 (Rental)"
    batch_size = 100
    api_path = "/adminapi/v1"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.client = PanelClient(self)

    def _action(self, action: str, **params: str) -> tuple[dict[str, Any], int]:
        body, elapsed = self.client.call(
            "POST", self.base_url + self.api_path, data={"key": self.api_key, "action": action, **params}
        )
        if not isinstance(body, dict):
            raise self.client.error("the panel's answer has an unexpected shape", kind="bad_response", temporary=True)
        error = body.get("error")
        if error == "bad_auth":
            raise self.client.error("the API key was not accepted (bad_auth)", kind="auth", temporary=False)
        if error == "bad_action":
            hint = "; try the v2 API kind" if action == ORDERS_ACTION else ""
            raise self.client.error(
                f"this panel does not offer the v1 action “{action}” (bad_action){hint}",
                kind="unsupported",
                temporary=False,
            )
        if error:
            raise api_error(self.client, error)
        return body, elapsed

    def _list(self, body: dict[str, Any], key: str) -> list[Any]:
        items = body.get(key)
        if isinstance(items, dict):  # some scripts key the list by id
            items = list(items.values())
        if not isinstance(items, list):
            raise self.client.error(
                f"the panel's {key} list has an unexpected shape", kind="bad_response", temporary=True
            )
        return items

    def get_orders(self, ids: list[str]) -> dict[str, PanelOrder]:
        found: dict[str, PanelOrder] = {}
        for batch in chunks(clean_ids(ids), self.batch_size):
            body, _ms = self._action(ORDERS_ACTION, orders=",".join(batch))
            for raw in self._list(body, "orders"):
                order = parse_order(raw)
                if order and order.id in batch:
                    found[order.id] = order
        return found

    def get_order(self, order_id: str) -> PanelOrder | None:
        ids = clean_ids([order_id])
        return self.get_orders(ids).get(ids[0]) if ids else None

    def recent_orders(self, limit: int = 1000) -> list[PanelOrder]:
        return []  # v1 cannot list orders; provider_domains() covers discovery

    def provider_domains(self) -> list[str]:
        body, _ms = self._action("getProviders")
        names = (item.get("name") if isinstance(item, dict) else item for item in self._list(body, "providers"))
        return [str(name).strip() for name in names if name and str(name).strip()]

    def test_connection(self) -> ConnectionReport:
        # The key is judged by the action we depend on: any normal answer means panel and key
        # work, "order not found" included (order 1 may well not exist). Every other action is
        # an optional capability.
        try:
            body, elapsed = self._action(ORDERS_ACTION, orders="1")
        except PanelError as exc:
            if exc.kind != "not_found":
                return failed_report(exc)
            body, elapsed = {"orders": []}, None
        capabilities = [
            probe("Order by id", lambda: self._list(body, "orders")),
            probe("Many orders at once", lambda: self.get_orders(["1", "2"])),
            probe("Provider list", lambda: self._list(self._action("getProviders")[0], "providers")),
            Capability("Tickets", False, "not offered by the v1 API", offered=False),
        ]
        return connected_report(elapsed, capabilities)
