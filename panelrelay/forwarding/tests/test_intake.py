from __future__ import annotations

from panelrelay.core.testing import BaseTestCase
from panelrelay.forwarding.intake import MAX_IDS, IntakeError, create_request, parse_ids
from panelrelay.forwarding.models import Command, Request, RequestOrder
from panelrelay.panels.models import Panel
from panelrelay.worker.models import Job


def test_ids_are_found_whatever_the_separators_and_deduplicated() -> None:
    assert parse_ids("45323, 45324\n45325;45323  #45326 order-45327\t45324") == [
        "45323", "45324", "45325", "45326", "45327"]  # fmt: skip
    assert parse_ids("") == []
    assert parse_ids("no ids here") == []
    assert parse_ids("0045 45") == ["45"]


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

    def test_it_refuses_empty_and_oversized_requests(self) -> None:
        with self.assertRaisesRegex(IntakeError, "No order ids"):
            create_request(self.workspace, self.panel, self.refill, [])
        with self.assertRaisesRegex(IntakeError, "more than 10,000"):
            create_request(self.workspace, self.panel, self.refill, [str(i) for i in range(MAX_IDS + 1)])
        self.assertFalse(Request.objects.exists())
        self.assertFalse(RequestOrder.objects.exists())

    def test_it_refuses_another_workspaces_panel_or_a_disabled_one(self) -> None:
        with self.assertRaisesRegex(IntakeError, "not in this workspace"):
            create_request(self.other_workspace, self.panel, self.refill, ["1"])
        self.panel.enabled = False
        self.panel.save()
        with self.assertRaisesRegex(IntakeError, "turned off"):
            create_request(self.workspace, self.panel, self.refill, ["1"])

    def test_the_four_builtin_commands_exist_once(self) -> None:
        Command.for_workspace(self.workspace)
        slugs = [c.slug for c in Command.for_workspace(self.workspace)]
        self.assertEqual(slugs, ["refill", "cancel", "speed_up", "partial"])
