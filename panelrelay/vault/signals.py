"""The vault's receivers: every change to a panel or its providers is backed up, however it happens.

Changes come from panels' own signals (`panels.signals`: added, edited, providers synced, alias
renamed); deletions from Django's `pre_delete`, so a view, a cascade from the workspace or the
shell are all covered. `VaultConfig.ready()` imports this module, which connects them.
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import pre_delete
from django.dispatch import receiver

from panelrelay.accounts.models import Workspace
from panelrelay.panels.models import Panel, Provider
from panelrelay.panels.signals import panel_changed, provider_changed
from panelrelay.vault import backup


@receiver(pre_delete, sender=Panel, dispatch_uid="vault-panel-deleted")
def panel_deleted(sender: type[Panel], instance: Panel, **kwargs: Any) -> None:
    # pre_delete runs before anything of the cascade is gone: the panel's providers still exist.
    backup.snapshot_panel(instance, "panel_deleted")


@receiver(pre_delete, sender=Workspace, dispatch_uid="vault-workspace-deleted")
def workspace_deleted(sender: type[Workspace], instance: Workspace, **kwargs: Any) -> None:
    # Its panels each write their own record through the cascade; this one keeps the rest.
    backup.snapshot_unlinked(instance, "workspace_deleted")


@receiver(panel_changed, dispatch_uid="vault-panel-changed")
def panel_saved(sender: type[Panel], panel: Panel, event: str, **kwargs: Any) -> None:
    backup.snapshot_panel(panel, event)


@receiver(provider_changed, dispatch_uid="vault-provider-changed")
def provider_saved(sender: type[Provider], provider: Provider, event: str, **kwargs: Any) -> None:
    backup.snapshot_provider(provider, event)
