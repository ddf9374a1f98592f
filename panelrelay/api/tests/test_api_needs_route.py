"""The API and the CSV say "waiting" / needs_route for an order that waits for a route (issue 13)."""

from __future__ import annotations

import json

from panelrelay.api.models import ApiToken
from panelrelay.core.testing import BaseTestCase
from panelrelay.forwarding.models import Outcome, RequestOrder
from panelrelay.panels.models import Panel


class NeedsRouteApiTests(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        panel = Panel(workspace=self.workspace, name="Main", url="http://127.0.0.1:9/")
        panel.set_api_key("k" * 16)
        panel.save()
        _, self.token = ApiToken.issue(self.workspace, "support bot")

    def call(self, method: str, url: str, body=None):
        extra = {"data": json.dumps(body), "content_type": "application/json"} if body is not None else {}
        return getattr(self.client, method)(url, HTTP_AUTHORIZATION=f"Bearer {self.token}", **extra)

    def test_a_waiting_order_is_reported_and_filtered_by_the_api_and_the_csv(self) -> None:
        body = self.call("post", "/api/v1/requests", {"command": "refill", "ids": ["1", "2"]}).json()
        RequestOrder.objects.filter(panel_order_id="1").update(
            state=RequestOrder.WAITING, outcome=Outcome.NEEDS_ROUTE, looked_up=True,
            reason="needs a route: provider Slow_B has no destination, and no fallback is set",
        )  # fmt: skip
        detail = self.call("get", body["url"]).json()
        self.assertEqual(detail["counts"]["waiting"], 1)
        waiting = self.call("get", body["url"] + "?state=waiting").json()["orders"]
        self.assertEqual(
            [(o["order_id"], o["state"], o["outcome"]) for o in waiting], [("1", "waiting", "needs_route")]
        )
        self.assertIn("needs a route", waiting[0]["reason"])
        self.login(self.alice)
        csv = b"".join(self.client.get("/activity/export.csv").streaming_content).decode()
        self.assertIn(',waiting,needs_route,"needs a route: provider Slow_B has no destination', csv)
