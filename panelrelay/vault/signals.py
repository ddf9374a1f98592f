"""Deletions are backed up however they happen: a view, a cascade from the workspace, the shell."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import pre_delete
from django.dispatch import receiver

from panelrelay.accounts.models import Workspace
from panelrelay.panels.models import Panel
from panelrelay.vault import backup


@receiver(pre_delete, sender=Panel, dispatch_uid="vault-panel-deleted")
def panel_deleted(sender: type[Panel], instance: Panel, **kwargs: Any) -> None:
    # pre_delete runs before anything of the cascade is gone: the panel's providers still exist.
    backup.snapshot_panel(instance, "panel_deleted")


@receiver(pre_delete, sender=Workspace, dispatch_uid="vault-workspace-deleted")
def workspace_deleted(sender: type[Workspace], instance: Workspace, **kwargs: Any) -> None:
    # Its panels each write their own record through the cascade; this one keeps the rest.
    backup.snapshot_unlinked(instance, "workspace_deleted")
