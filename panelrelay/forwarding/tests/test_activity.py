from __future__ import annotations

import re

from panelrelay.core.testing import BaseTestCase
from panelrelay.forwarding.models import Command, ForwardRequest, RequestOrder
from panelrelay.forwarding.submit import create_request
from panelrelay.panels.models import Panel, Provider


class ActivityTestCase(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.panel = Panel(workspace=self.workspace, name="Main", url="http://127.0.0.1:9/")
        self.panel.set_api_key("k" * 16)
        self.panel.save()
        self.refill = Command.for_workspace(self.workspace)[0]
        self.req = create_request(self.workspace, self.panel, self.refill, ["45323", "45324"], user=self.alice)
        RequestOrder.objects.filter(panel_order_id="45323").update(
            state="sent", outcome="sent", external_id="9876543", provider_alias="FastLikes_A"
        )
        RequestOrder.objects.filter(panel_order_id="45324").update(
            state="skipped", outcome="not_found", reason="not found in the panel"
        )

    def test_it_lists_requests_with_copy_and_re_request(self) -> None:
        self.login(self.alice)
        r = self.client.get("/activity/")
        self.assertContains(r, 'data-copy="9876543"')
        self.assertContains(r, f"/requests/{self.req.code}/again/")
        self.assertContains(r, "1 sent")
        self.assertContains(r, "1 skipped")

    def test_a_search_by_external_or_panel_id_lists_the_matching_orders(self) -> None:
        self.login(self.alice)
        r = self.client.get("/activity/?q=9876543")
        self.assertContains(r, "1 order matches")
        self.assertContains(r, 'data-order="45323"')  # the order itself, not its request
        self.assertNotContains(r, 'data-order="45324"')
        self.assertContains(r, f"/requests/{self.req.code}/")
        r = self.client.get("/activity/?q=45324")
        self.assertContains(r, 'data-order="45324"')
        self.assertContains(r, "not found in the panel")
        self.assertContains(self.client.get("/activity/?q=1111"), "No order has the id")
        self.assertContains(self.client.get("/activity/?state=failed"), "No requests match these filters.")

    def test_status_tabs_count_orders(self) -> None:
        self.login(self.alice)
        r = self.client.get("/activity/")
        tabs = dict(
            re.findall(r'data-tab="(\w+)" href="[^"]*">[^<]+<span class="badge[^"]*">(\d+)<', r.content.decode())
        )
        self.assertEqual(tabs["all"], "2")
        self.assertEqual(tabs["sent"], "1")
        self.assertEqual(tabs["skipped"], "1")
        self.assertEqual(tabs["failed"], "0")
        self.assertEqual(tabs["awaiting"], "1")
        self.assertNotIn("waiting", tabs, "Needs a route shows only when an order needs one")
        RequestOrder.objects.filter(panel_order_id="45324").update(state="waiting", outcome="needs_route")
        r = self.client.get("/activity/?state=waiting")
        self.assertContains(
            r, 'data-tab="waiting" href="?state=waiting">Needs a route <span class="badge text-bg-light">1<'
        )
        self.assertContains(r, str(self.req.code))

    def test_filters_are_chips_that_remove_themselves(self) -> None:
        provider = Provider.objects.create(
            workspace=self.workspace, alias="FastLikes_A", domain_enc="x", domain_hmac="x"
        )
        RequestOrder.objects.filter(panel_order_id="45323").update(provider=provider)
        self.login(self.alice)
        r = self.client.get(f"/activity/?provider={provider.code}&outcome=sent&state=sent")
        chips = re.findall(r'data-filter="(\w+)">([^<]+)<b>([^<]+)</b>\s*<a href="\?([^"]*)"', r.content.decode())
        self.assertEqual(
            [(name, label.strip(), value) for name, label, value, _ in chips],
            [("provider", "Provider:", "FastLikes_A"), ("outcome", "Outcome:", "Sent")],
        )
        self.assertEqual(chips[0][3], "state=sent&amp;outcome=sent")  # removing one keeps the others
        self.assertContains(r, str(self.req.code))
        self.assertNotContains(r, "<select")  # no dropdown wall any more

    def test_bad_filter_values_are_a_400_naming_the_parameter(self) -> None:
        self.login(self.alice)
        for query, name in [
            ("state=nope", "state"),
            ("progress=nope", "progress"),
            ("outcome=nope", "outcome"),
            ("source=nope", "source"),
            ("provider=notauuid", "provider"),
            (f"provider={self.req.code}", "provider"),  # a code, but not of a provider of this workspace
            ("date=2026-13-45", "date"),
            ("q=a%00b", "q"),
        ]:
            r = self.client.get(f"/activity/?{query}")
            self.assertEqual(r.status_code, 400, query)
            self.assertContains(r, f"`{name}`", status_code=400)
            self.assertEqual(self.client.get(f"/activity/export.csv?{query}").status_code, 400, query)

    def test_the_csv_has_aliases_and_reasons(self) -> None:
        self.login(self.alice)
        body = b"".join(self.client.get("/activity/export.csv").streaming_content).decode()
        self.assertIn("45323,9876543,FastLikes_A", body)
        self.assertIn("not found in the panel", body)

    def test_outcome_codes_filter_the_list_and_fill_a_csv_column(self) -> None:
        self.login(self.alice)
        self.assertContains(self.client.get("/activity/?outcome=not_found"), str(self.req.code))
        self.assertContains(self.client.get("/activity/?outcome=cooldown"), "No requests match these filters.")
        self.assertContains(
            self.client.get("/activity/"),
            '<a class="dropdown-item" href="?outcome=guarantee_ended">Refill period ended',
        )
        body = b"".join(self.client.get("/activity/export.csv?outcome=not_found").streaming_content).decode()
        header, *rows = body.strip().splitlines()
        self.assertIn(",state,outcome,reason,", header)
        self.assertEqual(len(rows), 1)
        self.assertIn(",skipped,not_found,not found in the panel,", rows[0])

    def test_re_request_forwards_the_same_ids_again(self) -> None:
        self.login(self.alice)
        r = self.client.post(f"/requests/{self.req.code}/again/")
        new = ForwardRequest.objects.exclude(pk=self.req.pk).get()
        self.assertRedirects(r, f"/requests/{new.code}/", fetch_redirect_response=False)
        self.assertEqual(sorted(new.orders.values_list("panel_order_id", flat=True)), ["45323", "45324"])

    def test_staff_without_see_all_activity_see_only_their_own(self) -> None:
        create_request(self.workspace, self.panel, self.refill, ["777"], user=self.bob)
        self.login(self.bob)
        r = self.client.get("/activity/")
        self.assertNotContains(r, str(self.req.code))
        self.assertEqual(self.client.get(f"/requests/{self.req.code}/").status_code, 403)
        body = b"".join(self.client.get("/activity/export.csv").streaming_content).decode()
        self.assertNotIn("45323", body)
        self.assertIn("777", body)

    def test_an_outsider_never_sees_the_request(self) -> None:
        self.login(self.charlie)
        self.assertEqual(self.client.get(f"/requests/{self.req.code}/").status_code, 404)
        r = self.client.get("/activity/?q=9876543")
        self.assertContains(r, "0 orders match")
        self.assertNotContains(r, "data-order=")
        self.assertEqual(self.client.post(f"/requests/{self.req.code}/again/").status_code, 404)
