from __future__ import annotations

from panelrelay.core.testing import BaseTestCase
from panelrelay.forwarding.models import Command, ForwardRequest, RequestOrder
from panelrelay.forwarding.submit import create_request
from panelrelay.panels.models import Panel


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

    def test_it_searches_by_external_or_panel_id_and_filters_by_state(self) -> None:
        self.login(self.alice)
        self.assertContains(self.client.get("/activity/?q=9876543"), "1 order matches")
        self.assertContains(self.client.get("/activity/?q=45324"), "1 order matches")
        self.assertContains(self.client.get("/activity/?q=1111"), "No requests match these filters.")
        self.assertContains(self.client.get("/activity/?state=failed"), "No requests match these filters.")

    def test_the_csv_has_aliases_and_reasons(self) -> None:
        self.login(self.alice)
        body = b"".join(self.client.get("/activity/export.csv").streaming_content).decode()
        self.assertIn("45323,9876543,FastLikes_A", body)
        self.assertIn("not found in the panel", body)

    def test_outcome_codes_filter_the_list_and_fill_a_csv_column(self) -> None:
        self.login(self.alice)
        self.assertContains(self.client.get("/activity/?outcome=not_found"), str(self.req.code))
        self.assertContains(self.client.get("/activity/?outcome=cooldown"), "No requests match these filters.")
        self.assertContains(self.client.get("/activity/"), '<option value="guarantee_ended" >Refill period ended')
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
        self.assertNotContains(self.client.get("/activity/?q=9876543"), "9876543</")
        self.assertEqual(self.client.post(f"/requests/{self.req.code}/again/").status_code, 404)
