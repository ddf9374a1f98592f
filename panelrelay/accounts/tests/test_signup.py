from __future__ import annotations

from django.contrib.auth.models import User
from django.test import TestCase

from panelrelay.accounts.models import Membership, Workspace


class SignupTestCase(TestCase):
    def post(self, **overrides):
        data = {"workspace": "Fast SMM", "email": "Owner@Example.org", "password": "a long secret phrase"}
        data.update(overrides)
        return self.client.post("/accounts/signup/", data)

    def test_it_creates_a_workspace_owned_by_the_new_user(self) -> None:
        r = self.post()
        self.assertRedirects(r, "/forward/")
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
