"""The base test case: an owner, a staff member and an outsider, each in place."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.test import TestCase

from panelrelay.accounts.models import Membership, Workspace

PASSWORD = "correct horse battery staple"


def make_user(email: str, password: str = PASSWORD, **extra: Any) -> User:
    return User.objects.create_user(username=email, email=email, password=password, **extra)


class BaseTestCase(TestCase):
    """alice owns workspace “Alice SMM”; bob is her staff (forward only); charlie owns another."""

    def setUp(self) -> None:
        super().setUp()
        self.alice = make_user("alice@example.org")
        self.workspace = Workspace.objects.create(name="Alice SMM")
        self.owner = Membership.objects.create(user=self.alice, workspace=self.workspace, role=Membership.OWNER)

        self.bob = make_user("bob@example.org")
        self.staff = Membership.objects.create(
            user=self.bob, workspace=self.workspace, role=Membership.STAFF, can_forward=True
        )

        self.charlie = make_user("charlie@example.org")
        self.other_workspace = Workspace.objects.create(name="Charlie Panels")
        Membership.objects.create(user=self.charlie, workspace=self.other_workspace, role=Membership.OWNER)

    def login(self, user: User) -> None:
        self.client.force_login(user)
