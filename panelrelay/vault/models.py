"""The master admin's backup: append-only snapshots that outlive the tenant data they describe.

A record has no foreign key to any tenant row, so deleting a panel, its providers or the whole
workspace cannot cascade into it. Its payload (panel URL, provider domains as encrypted tokens,
aliases) is encrypted as a whole; only `vault.reveal` opens it, for the master area.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db import models
from django.utils import timezone


class BackupRecord(models.Model):
    EVENTS = [
        ("panel_added", "Panel added"),
        ("panel_edited", "Panel edited"),
        ("panel_deleted", "Panel deleted"),
        ("providers_changed", "Providers detected"),
        ("provider_added", "Provider added by hand"),
        ("alias_renamed", "Alias renamed"),
        ("aliases_restored", "Aliases restored"),
        ("workspace_deleted", "Workspace deleted"),
    ]

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created = models.DateTimeField(default=timezone.now, db_index=True)
    event = models.CharField(max_length=30, choices=EVENTS)
    # Copies, not foreign keys: the workspace and panel may be long gone when this is read.
    workspace_code = models.UUIDField(db_index=True)
    workspace_name = models.CharField(max_length=100)
    panel_code = models.UUIDField(null=True, blank=True, db_index=True)
    panel_name = models.CharField(max_length=100, blank=True)
    actor = models.CharField(max_length=254, blank=True)  # the user's email, or "system"
    payload_enc = models.TextField()  # crypto.encrypt(JSON): see vault.backup.snapshot()

    class Meta:
        ordering = ["-created", "-id"]

    def __str__(self) -> str:
        return f"{self.event} {self.workspace_name}/{self.panel_name or '—'} at {self.created:%Y-%m-%d %H:%M}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Append-only: a record is written once. Retention pruning deletes whole rows in bulk.
        if not self._state.adding:
            raise ValueError("vault records are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise ValueError("vault records are append-only; retention pruning removes old ones")


class BackupDomain(models.Model):
    """The keyed digest of each provider domain in a record: "which panels use this provider?"."""

    record = models.ForeignKey(BackupRecord, models.CASCADE, related_name="domains")
    domain_hmac = models.CharField(max_length=64, db_index=True)

    def __str__(self) -> str:
        return self.domain_hmac[:12]
