"""Retention: the operator may keep vault records for a limited time (VAULT_RETENTION_DAYS)."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from panelrelay.vault.models import BackupRecord
from panelrelay.worker.models import Job
from panelrelay.worker.registry import periodic

log = logging.getLogger("panelrelay.vault")


def prune(days: int | None = None) -> int:
    """Delete records older than the retention period; 0 days (the default) keeps everything."""
    days = settings.VAULT_RETENTION_DAYS if days is None else days
    if days <= 0:
        return 0
    cutoff = timezone.now() - timedelta(days=days)
    # A queryset delete: the one way a record leaves (BackupRecord.delete() refuses single rows).
    deleted, _ = BackupRecord.objects.filter(created__lt=cutoff).delete()
    if deleted:
        log.info("vault retention: removed %d rows older than %d days", deleted, days)
    return deleted


@periodic("vault.prune", every=24 * 3600)
def prune_job(job: Job) -> None:
    prune()
