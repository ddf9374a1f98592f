"""Workspaces, their members with four permission toggles, and one-time invites."""

from __future__ import annotations

import secrets
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

# The four toggles a staff member has. Owners have all of them.
PERMISSIONS = {
    "forward": "Forward requests",
    "routing": "Manage routing",
    "panels": "Manage panels",
    "activity": "See all activity",
}


class Workspace(models.Model):
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=100)
    created = models.DateTimeField(default=timezone.now)
    last_activity = models.DateTimeField(null=True, blank=True)
    suspended = models.BooleanField(default=False)
    suspended_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.name

    @property
    def owner(self) -> Membership | None:
        return self.memberships.filter(role=Membership.OWNER).select_related("user").first()

    def touch(self) -> None:
        """Record activity at most once a minute: it feeds the master area's list."""
        now = timezone.now()
        if not self.last_activity or now - self.last_activity > timedelta(minutes=1):
            Workspace.objects.filter(pk=self.pk).update(last_activity=now)
            self.last_activity = now


class WorkspaceOwned(models.Model):
    """Base for every tenant row: a workspace and a random public code for URLs."""

    workspace = models.ForeignKey(Workspace, models.CASCADE)
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)

    class Meta:
        abstract = True


class Membership(models.Model):
    OWNER = "owner"
    STAFF = "staff"
    ROLES = [(OWNER, "Owner"), (STAFF, "Staff")]

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="memberships")
    workspace = models.ForeignKey(Workspace, models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=ROLES, default=STAFF)
    can_forward = models.BooleanField(default=True)
    can_routing = models.BooleanField(default=False)
    can_panels = models.BooleanField(default=False)
    can_activity = models.BooleanField(default=False)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "workspace"], name="one_membership_per_workspace")]

    def __str__(self) -> str:
        return f"{self.user} in {self.workspace} ({self.role})"

    @property
    def is_owner(self) -> bool:
        return self.role == self.OWNER

    def has(self, perm: str) -> bool:
        if perm not in PERMISSIONS:
            raise ValueError(f"unknown permission {perm}")
        return self.is_owner or getattr(self, f"can_{perm}")

    def toggles(self) -> list[tuple[str, str, bool]]:
        return [(key, label, self.has(key)) for key, label in PERMISSIONS.items()]


def _invite_token() -> str:
    return secrets.token_urlsafe(24)


class Invite(models.Model):
    workspace = models.ForeignKey(Workspace, models.CASCADE, related_name="invites")
    token = models.CharField(max_length=64, unique=True, default=_invite_token)
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    email = models.EmailField(blank=True)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+")
    can_forward = models.BooleanField(default=True)
    can_routing = models.BooleanField(default=False)
    can_panels = models.BooleanField(default=False)
    can_activity = models.BooleanField(default=False)
    created = models.DateTimeField(default=timezone.now)
    accepted_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+")
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"invite to {self.workspace} ({self.email or 'link'})"

    @property
    def expires(self):
        return self.created + timedelta(days=settings.INVITE_VALID_DAYS)

    @property
    def usable(self) -> bool:
        return not self.revoked and self.accepted_at is None and timezone.now() < self.expires

    def permissions(self) -> dict[str, bool]:
        return {f"can_{key}": getattr(self, f"can_{key}") for key in PERMISSIONS}


class LoginFailure(models.Model):
    """One failed sign-in; counted per account and per address to throttle guessing."""

    username = models.CharField(max_length=254, db_index=True)
    ip = models.GenericIPAddressField(null=True, db_index=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return f"failed sign-in for {self.username} at {self.at:%Y-%m-%d %H:%M}"
