from __future__ import annotations

from django.contrib.auth.models import User
from django.test import TestCase, override_settings

from panelrelay.accounts.models import Membership, Workspace


class SignupTestCase(TestCase):
    def post(self, ip: str = "127.0.0.1", **overrides):
        data = {"workspace": "Fast SMM", "email": "Owner@Example.org", "password": "a long secret phrase"}
        data.update(overrides)
        return self.client.post("/accounts/signup/", data, REMOTE_ADDR=ip)

    def test_it_creates_a_workspace_owned_by_the_new_user(self) -> None:
        r = self.post()
        self.assertRedirects(r, "/")  # Home: the set-up checklist
        user = User.objects.get(username="owner@example.org")
        membership = Membership.objects.get(user=user)
        self.assertEqual(membership.role, Membership.OWNER)
        self.assertEqual(membership.workspace.name, "Fast SMM")
        self.assertTrue(all(membership.has(p) for p in ("forward", "routing", "panels", "activity")))

    def test_it_lands_on_the_empty_forward_page(self) -> None:
        self.post()
        r = self.client.get("/forward/")
        self.assertContains(r, "No panels yet — add your first panel")

    def test_it_refuses_an_existing_email(self) -> None:
        self.post()
        self.client.logout()
        r = self.post(workspace="Second")
        self.assertContains(r, "exists already")
        self.assertEqual(Workspace.objects.count(), 1)

    def test_it_refuses_a_weak_password(self) -> None:
        r = self.post(password="12345")
        self.assertContains(r, "too short")
        self.assertFalse(User.objects.exists())

    def test_it_requires_a_workspace_name(self) -> None:
        r = self.post(workspace="")
        self.assertContains(r, "This field is required")
        self.assertFalse(Workspace.objects.exists())

    @override_settings(SIGNUP_THROTTLE_PER_IP=3)
    def test_sign_ups_from_one_address_are_limited_without_checking_the_email(self) -> None:
        for n in range(3):
            self.post(email=f"owner{n}@example.org")
            self.client.logout()
        r = self.post(email="owner0@example.org")  # taken, but a throttled client must not learn it
        self.assertContains(r, "Too many sign-ups from your address", status_code=429)
        self.assertNotContains(r, "exists already", status_code=429)
        r = self.post(email="late@example.org")
        self.assertEqual(r.status_code, 429)
        self.assertFalse(User.objects.filter(username="late@example.org").exists())
        self.assertRedirects(self.post(email="late@example.org", ip="10.0.0.9"), "/")
