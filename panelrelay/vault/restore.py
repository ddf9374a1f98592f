"""Bring a deleted panel's providers and aliases back into its workspace, from a vault record.

Domains travel as the encrypted tokens the record holds: restoring decrypts none of them.
A provider the workspace already has again (same digest: the panel was re-added and synced)
gets its old alias back; a missing one is re-created under it. An alias now used by another
provider is left alone and reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from panelrelay.accounts.models import Workspace
from panelrelay.core import actor
from panelrelay.panels.models import Panel, Provider
from panelrelay.panels.providers import next_alias
from panelrelay.vault import backup, reveal
from panelrelay.vault.models import BackupRecord


class RestoreError(Exception):
    """The record cannot be restored; the message says why in plain words."""


@dataclass
class RestoreResult:
    workspace: Workspace
    created: int = 0
    renamed: int = 0
    unchanged: int = 0
    conflicts: list[str] = field(default_factory=list)
    providers: list[Provider] = field(default_factory=list)

    @property
    def message(self) -> str:
        text = (
            f"Restored into “{self.workspace.name}”: {self.created} provider(s) re-created, "
            f"{self.renamed} alias(es) put back, {self.unchanged} already in place."
        )
        if self.conflicts:
            text += f" Left alone because another provider now uses the alias: {', '.join(self.conflicts)}."
        return text


def _target_panel(workspace: Workspace, panel: dict[str, Any] | None) -> Panel | None:
    """The same panel if it still exists, else one re-added with the same URL, else none."""
    if not panel:
        return None
    panels = Panel.objects.filter(workspace=workspace)
    code = panel.get("code")
    same = panels.filter(code=code).first() if code else None
    return same or panels.filter(url=panel.get("url", "")).first()


def _alias_free(workspace: Workspace, alias: str, provider: Provider | None = None) -> bool:
    others = Provider.objects.filter(workspace=workspace, alias__iexact=alias)
    return not (others.exclude(pk=provider.pk) if provider else others).exists()


def _restore_one(workspace: Workspace, item: dict[str, Any], result: RestoreResult) -> Provider:
    alias, digest = item.get("alias", ""), item["domain_hmac"]
    provider = Provider.objects.filter(workspace=workspace, domain_hmac=digest).first()
    if provider is None:
        name = alias if alias and _alias_free(workspace, alias) else next_alias(workspace)
        if name != alias:
            result.conflicts.append(alias)
        result.created += 1
        return Provider.objects.create(
            workspace=workspace,
            alias=name,
            domain_enc=item["domain_enc"],
            domain_hmac=digest,
            enabled=bool(item.get("enabled", True)),
        )
    if provider.alias == alias:
        result.unchanged += 1
    elif alias and _alias_free(workspace, alias, provider):
        provider.alias = alias
        provider.save(update_fields=["alias"])
        result.renamed += 1
    else:
        result.conflicts.append(alias)
    return provider


def restore_aliases(record: BackupRecord, user: Any) -> RestoreResult:
    workspace = Workspace.objects.filter(code=record.workspace_code).first()
    if workspace is None:
        raise RestoreError(f"The workspace “{record.workspace_name}” no longer exists: there is nowhere to restore to.")
    data = reveal.payload(record)
    items = [item for item in data.get("providers", []) if item.get("domain_hmac") and item.get("domain_enc")]
    if not items:
        raise RestoreError("This record holds no providers to restore.")
    result = RestoreResult(workspace)
    panel = _target_panel(workspace, data.get("panel"))
    with transaction.atomic(), actor.acting_as(user):
        result.providers = [_restore_one(workspace, item, result) for item in items]
        if panel is not None:
            panel.providers.add(*result.providers)
        note = f"restored from the record of {record.created:%Y-%m-%d %H:%M} ({record.get_event_display()})"
        backup.snapshot(workspace, "aliases_restored", panel, result.providers, note)
    return result
