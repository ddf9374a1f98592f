from __future__ import annotations

import pytest

from panelrelay.core import faults
from panelrelay.core.testing import BaseTestCase
from panelrelay.forwarding.models import Command, ForwardRequest, RequestOrder
from panelrelay.forwarding.submit import MAX_IDS, SubmitError, create_request, parse_ids
from panelrelay.panels.models import Panel
from panelrelay.worker.models import Job


def test_ids_are_split_at_spaces_commas_semicolons_and_new_lines_and_deduplicated() -> None:
    assert parse_ids("45323, 45324\n45325;45323  45326\t45324") == ["45323", "45324", "45325", "45326"]
    assert parse_ids("") == []


def test_a_token_that_is_not_an_id_refuses_the_list_and_is_named() -> None:
    for text, named in [
        ("9999999999999999999910001", "9999…10001"),  # once read as 99999999999999999999 and 10001
        ("45323 -5", "-5"),
        ("1e5", "1e5"),
        ("0045 45", "0045"),  # once trimmed to 45
        ("#45326 order-45327", "#45326, order-45327"),
        ("no ids here", "no, ids, here"),
    ]:
        with pytest.raises(SubmitError, match=f"^Not an order id: {named}\\."):
            parse_ids(text)


class IntakeTestCase(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.panel = Panel(workspace=self.workspace, name="Main", url="http://127.0.0.1:9/")
        self.panel.set_api_key("k" * 16)
        self.panel.save()
        self.refill = Command.for_workspace(self.workspace)[0]

    def test_it_persists_the_request_its_orders_and_one_job(self) -> None:
        req = create_request(self.workspace, self.panel, self.refill, ["1", "2", "3"], note=" hi ", user=self.alice)
        self.assertEqual((req.total, req.note, req.command_label, req.panel_name), (3, "hi", "Refill", "Main"))
        self.assertEqual(list(req.orders.values_list("panel_order_id", "state")), [
            ("1", "pending"), ("2", "pending"), ("3", "pending")])  # fmt: skip
        job = Job.objects.get(kind="forwarding.process")
        self.assertEqual(
            (job.payload, job.workspace_id, job.key), ({"request": req.id}, self.workspace.id, f"process:{req.id}")
        )

    def test_ten_thousand_ids_are_one_insert_in_their_order_with_every_field_as_the_orm_writes_it(self) -> None:
        ids = [str(500000 - i) for i in range(MAX_IDS)]  # descending: the rows keep the given order
        with self.assertNumQueries(7):  # the request, the one INSERT of its orders, the job; savepoints
            req = create_request(self.workspace, self.panel, self.refill, ids)
        rows = list(req.orders.order_by("id").values_list("panel_order_id", flat=True))
        self.assertEqual(rows, ids)
        first = req.orders.order_by("id").first()
        reference = RequestOrder(request=req, workspace=self.workspace, panel_order_id="1", command_slug="refill")
        for field in RequestOrder._meta.concrete_fields:
            if field.name not in ("id", "panel_order_id", "updated"):
                self.assertEqual(getattr(first, field.attname), getattr(reference, field.attname), field.name)
        self.assertEqual((first.state, first.outcome, first.looked_up), ("pending", "looking_up", False))

    def test_a_failure_after_the_orders_leaves_nothing(self) -> None:
        def crash() -> None:
            raise RuntimeError("crash")

        with faults.injected("forwarding.submit.before_job", crash), self.assertRaises(RuntimeError):
            create_request(self.workspace, self.panel, self.refill, ["1", "2"])
        self.assertFalse(ForwardRequest.objects.exists())
        self.assertFalse(RequestOrder.objects.exists())

    def test_it_refuses_empty_and_oversized_requests(self) -> None:
        with self.assertRaisesRegex(SubmitError, "No order ids"):
            create_request(self.workspace, self.panel, self.refill, [])
        with self.assertRaisesRegex(SubmitError, "more than 10,000"):
            create_request(self.workspace, self.panel, self.refill, [str(i) for i in range(MAX_IDS + 1)])
        with self.assertRaisesRegex(SubmitError, "Not an order id: 0, 1e5, 9999…10001"):
            create_request(self.workspace, self.panel, self.refill, ["1", "0", "1e5", "9999999999999999999910001"])
        self.assertFalse(ForwardRequest.objects.exists())
        self.assertFalse(RequestOrder.objects.exists())

    def test_the_forward_page_refuses_and_names_tokens_that_are_not_whole_ids(self) -> None:
        self.login(self.bob)
        for ids, named in [
            ("45323 9999999999999999999910001", "9999…10001"),
            ("45323, -5", "-5"),
            ("1e5", "1e5"),
            ("45323.0 0045", "45323.0, 0045"),
        ]:
            r = self.client.post("/forward/", {"panel": str(self.panel.code), "ids": ids, "command_button": "refill"})
            self.assertEqual(r.status_code, 200, ids)
            self.assertContains(r, f"Not an order id: {named}.")
        self.assertFalse(ForwardRequest.objects.exists())
        r = self.client.post("/forward/", {"panel": str(self.panel.code), "ids": "45323, 45324;45325\n45323",
                                           "command_button": "refill"})  # fmt: skip
        self.assertEqual(r.status_code, 302)
        self.assertEqual(sorted(ForwardRequest.objects.get().orders.values_list("panel_order_id", flat=True)),
                         ["45323", "45324", "45325"])  # fmt: skip

    def test_it_refuses_another_workspaces_panel_or_a_disabled_one(self) -> None:
        with self.assertRaisesRegex(SubmitError, "not in this workspace"):
            create_request(self.other_workspace, self.panel, self.refill, ["1"])
        self.panel.enabled = False
        self.panel.save()
        with self.assertRaisesRegex(SubmitError, "turned off"):
            create_request(self.workspace, self.panel, self.refill, ["1"])

    def test_the_four_builtin_commands_exist_once(self) -> None:
        Command.for_workspace(self.workspace)
        slugs = [c.slug for c in Command.for_workspace(self.workspace)]
        self.assertEqual(slugs, ["refill", "cancel", "speed_up", "partial"])
