"""The README's operator command makes a login that signs in (by email) and lands on /master/."""

from __future__ import annotations

import io
import os
from unittest import mock

from django.contrib.auth.models import User
from django.core.management import CommandError, call_command

from panelrelay.core.testing import BaseTestCase

PASSWORD = "operator-relay-2026"


class CreateOperatorTestCase(BaseTestCase):
    def create(self, email: str, password: str = PASSWORD) -> None:
        with mock.patch.dict(os.environ, {"OPERATOR_PASSWORD": password}):
            call_command("createoperator", email=email, no_input=True, stdout=io.StringIO())

    def test_the_operator_signs_in_with_the_email_and_lands_on_master(self) -> None:
        self.create(" Ops@Platform.example ")
        user = User.objects.get(username="ops@platform.example")
        self.assertTrue(user.is_superuser and user.is_staff)
        self.assertFalse(user.memberships.exists())
        r = self.client.post("/accounts/login/", {"email": "ops@platform.example", "password": PASSWORD}, follow=True)
        self.assertEqual(r.redirect_chain[-1][0], "/master/")
        self.assertContains(r, "Alice SMM")  # the master's workspace list
        # any workspace page sends the operator back to the master area, not to "create a workspace"
        self.assertRedirects(self.client.get("/routing/"), "/master/")

    def test_bad_input_is_refused_and_nothing_is_created(self) -> None:
        with self.assertRaisesMessage(CommandError, "is not an email address"):
            self.create("master")
        with self.assertRaisesMessage(CommandError, "too short"):
            self.create("ops@platform.example", password="short")
        with self.assertRaisesMessage(CommandError, "needs a password"):
            self.create("ops@platform.example", password="")
        self.assertFalse(User.objects.filter(is_superuser=True).exists())

    def test_an_existing_account_becomes_the_operator_and_keeps_its_workspace(self) -> None:
        self.create("alice@example.org")
        self.alice.refresh_from_db()
        self.assertTrue(self.alice.is_superuser)
        r = self.client.post("/accounts/login/", {"email": "alice@example.org", "password": PASSWORD}, follow=True)
        self.assertEqual(r.redirect_chain[-1][0], "/")  # a member of a workspace lands in it

    def test_a_member_without_a_workspace_still_gets_the_create_page(self) -> None:
        User.objects.create_user("new@example.org", "new@example.org", PASSWORD)
        self.client.post("/accounts/login/", {"email": "new@example.org", "password": PASSWORD})
        self.assertRedirects(self.client.get("/"), "/accounts/no-workspace/")
