"""API tokens: shown once, stored as a SHA-256 digest, revocable."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.contrib.auth.models import User
from django.db import models
from django.utils import timezone

from panelrelay.accounts.models import Workspace, WorkspaceOwned

PREFIX = "pr_"


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ApiToken(WorkspaceOwned):
    name = models.CharField(max_length=60)
    token_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=12)  # the first characters, to tell tokens apart
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+")
    created = models.DateTimeField(default=timezone.now)
    last_used = models.DateTimeField(null=True, blank=True)
    revoked = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @classmethod
    def issue(cls, workspace: Workspace, name: str, user: User | None = None) -> tuple[ApiToken, str]:
        """Create a token; the clear value is returned once and never stored."""
        clear = PREFIX + secrets.token_urlsafe(32)
        token = cls.objects.create(
            workspace=workspace, name=name, token_hash=digest(clear), prefix=clear[:10], created_by=user
        )
        return token, clear
