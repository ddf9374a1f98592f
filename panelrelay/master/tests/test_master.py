from __future__ import annotations

from panelrelay.core.testing import BaseTestCase, make_user
from panelrelay.worker.models import Heartbeat, Job
from panelrelay.worker.queue import claim, enqueue


class MasterTestCase(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.root = make_user("root@platform.example", is_superuser=True, is_staff=True)

    def test_panel_owners_get_404_not_403(self) -> None:
        for user in (self.alice, self.bob, self.charlie):
            self.login(user)
            for url in ("/master/", "/master/health/", f"/master/workspaces/{self.workspace.code}/suspended/"):
                self.assertEqual(self.client.get(url).status_code, 404, url)
                self.assertEqual(self.client.post(url, {"value": "on"}).status_code, 404, url)
        self.client.logout()
        self.assertEqual(self.client.get("/master/").status_code, 404)

    def test_it_lists_workspaces_with_owner_members_and_panels(self) -> None:
        self.login(self.root)
        r = self.client.get("/master/")
        self.assertContains(r, "Alice SMM")
        self.assertContains(r, "alice@example.org")
        self.assertContains(r, "Charlie Panels")
        r = self.client.get("/master/?q=charlie")
        self.assertNotContains(r, "Alice SMM")

    def test_suspending_stops_the_users_and_the_jobs(self) -> None:
        job = enqueue("test.noop", workspace=self.workspace)
        other = enqueue("test.noop", workspace=self.other_workspace)
        self.login(self.root)
        r = self.client.post(
            f"/master/workspaces/{self.workspace.code}/suspended/", {"value": "on"}, HTTP_HX_REQUEST="true"
        )
        self.assertContains(r, "checked")
        self.login(self.bob)
        r = self.client.get("/forward/")
        self.assertContains(r, "is suspended", status_code=403)
        claimed = claim("w1", limit=10)
        self.assertEqual([j.pk for j in claimed], [other.pk])
        self.assertEqual(Job.objects.get(pk=job.pk).state, Job.QUEUED)

        self.login(self.root)
        self.client.post(f"/master/workspaces/{self.workspace.code}/suspended/", {"value": "off"})
        self.login(self.bob)
        self.assertEqual(self.client.get("/forward/").status_code, 200)
        self.assertEqual([j.pk for j in claim("w1")], [job.pk])

    def test_health_shows_heartbeats_and_queue_depth(self) -> None:
        Heartbeat.objects.create(worker_id="host-1-abc", hostname="host", pid=42)
        enqueue("forwarding.deliver")
        enqueue("forwarding.deliver")
        self.login(self.root)
        r = self.client.get("/master/health/")
        self.assertContains(r, "host-1-abc")
        self.assertContains(r, "alive")
        self.assertContains(r, "forwarding.deliver (queued)")
        self.assertContains(r, "2 due now")
