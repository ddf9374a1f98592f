from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.models import User
from django.core import mail
from django.utils import timezone

from panelrelay.accounts.models import Invite, Membership
from panelrelay.core.testing import BaseTestCase


class InviteTestCase(BaseTestCase):
    def invite(self, **data) -> Invite:
        self.login(self.alice)
        self.client.post("/team/invite/", {"can_forward": "on", **data})
        return Invite.objects.latest("created")

    def test_owner_creates_a_one_time_link_and_sees_it(self) -> None:
        invite = self.invite(email="dora@example.org", can_activity="on")
        self.assertEqual(invite.workspace, self.workspace)
        self.assertTrue(invite.can_forward and invite.can_activity and not invite.can_panels)
        self.assertEqual(len(mail.outbox), 1)
        self.assertIn(f"/invite/{invite.token}/", mail.outbox[0].body)
        r = self.client.get("/team/")
        self.assertContains(r, f"/invite/{invite.token}/")

    def test_staff_cannot_invite(self) -> None:
        self.login(self.bob)
        r = self.client.post("/team/invite/", {"can_forward": "on"})
        self.assertEqual(r.status_code, 403)
        self.assertFalse(Invite.objects.exists())

    def test_a_new_person_signs_up_through_the_link(self) -> None:
        invite = self.invite(can_routing="on")
        self.client.logout()
        r = self.client.post(
            f"/invite/{invite.token}/", {"email": "dora@example.org", "password": "dora's long phrase"}
        )
        self.assertRedirects(r, "/", fetch_redirect_response=False)
        dora = User.objects.get(username="dora@example.org")
        m = Membership.objects.get(user=dora)
        self.assertEqual((m.workspace, m.role, m.can_routing, m.can_panels), (self.workspace, "staff", True, False))

    def test_the_link_works_once(self) -> None:
        invite = self.invite()
        self.client.logout()
        self.client.post(f"/invite/{invite.token}/", {"email": "dora@example.org", "password": "dora's long phrase"})
        self.client.logout()
        r = self.client.post(f"/invite/{invite.token}/", {"email": "eve@example.org", "password": "eve's long phrase"})
        self.assertEqual(r.status_code, 410)
        self.assertFalse(User.objects.filter(username="eve@example.org").exists())

    def test_an_expired_or_revoked_link_is_refused(self) -> None:
        invite = self.invite()
        Invite.objects.filter(pk=invite.pk).update(created=timezone.now() - timedelta(days=8))
        self.assertEqual(self.client.get(f"/invite/{invite.token}/").status_code, 410)
        other = self.invite()
        self.client.post(f"/team/invite/{other.code}/revoke/")
        self.assertEqual(self.client.get(f"/invite/{other.code}/").status_code, 404)
        self.assertEqual(self.client.get(f"/invite/{other.token}/").status_code, 410)

    def test_an_existing_user_joins_a_second_workspace_and_switches(self) -> None:
        invite = self.invite()
        self.login(self.charlie)
        self.client.post(f"/invite/{invite.token}/")
        self.assertEqual(self.charlie.memberships.count(), 2)
        self.client.post("/accounts/switch/", {"workspace": str(self.other_workspace.code)})
        r = self.client.get("/team/")
        self.assertContains(r, "Charlie Panels")
        self.client.post("/accounts/switch/", {"workspace": str(self.workspace.code)})
        r = self.client.get("/team/")
        self.assertContains(r, "alice@example.org")

    def test_nobody_switches_into_a_workspace_they_are_not_in(self) -> None:
        self.login(self.charlie)
        self.client.post("/accounts/switch/", {"workspace": str(self.workspace.code)})
        r = self.client.get("/team/")
        self.assertNotContains(r, "alice@example.org")


class ToggleTestCase(BaseTestCase):
    def url(self, perm: str = "panels", member: Membership | None = None) -> str:
        return f"/team/{(member or self.staff).code}/toggle/{perm}/"

    def test_owner_turns_a_permission_on_and_off_in_place(self) -> None:
        self.login(self.alice)
        r = self.client.post(self.url(), {"value": "on"}, HTTP_HX_REQUEST="true")
        self.assertContains(r, "checked")
        self.staff.refresh_from_db()
        self.assertTrue(self.staff.can_panels)
        self.client.post(self.url(), {"value": "off"})
        self.staff.refresh_from_db()
        self.assertFalse(self.staff.can_panels)

    def test_the_toggle_is_enforced_on_the_server(self) -> None:
        self.login(self.bob)
        self.assertEqual(self.client.get("/panels/").status_code, 403)
        self.staff.can_panels = True
        self.staff.save()
        self.assertEqual(self.client.get("/panels/").status_code, 200)
        self.staff.can_forward = False
        self.staff.save()
        self.assertEqual(self.client.get("/forward/").status_code, 403)

    def test_staff_cannot_change_toggles(self) -> None:
        self.login(self.bob)
        r = self.client.post(self.url("routing"), {"value": "on"})
        self.assertEqual(r.status_code, 403)
        self.staff.refresh_from_db()
        self.assertFalse(self.staff.can_routing)

    def test_the_owner_keeps_every_permission(self) -> None:
        self.login(self.alice)
        r = self.client.post(self.url("forward", self.owner), {"value": "off"})
        self.assertEqual(r.status_code, 403)

    def test_an_unknown_permission_is_a_bad_request(self) -> None:
        self.login(self.alice)
        self.assertEqual(self.client.post(self.url("superpowers"), {"value": "on"}).status_code, 400)

    def test_owner_removes_a_member(self) -> None:
        self.login(self.alice)
        self.client.post(f"/team/{self.staff.code}/remove/")
        self.assertFalse(Membership.objects.filter(pk=self.staff.pk).exists())
        self.login(self.bob)
        self.assertRedirects(self.client.get("/forward/"), "/accounts/no-workspace/")
