"""Writing vault records: a full snapshot of one panel (or of a workspace's unlinked providers).

Snapshots, not diffs: any single record is enough to restore what it shows. Provider domains
go in as the `domain_enc` tokens already stored on `Provider`, so writing a backup never
decrypts a domain; the payload around them is encrypted once more as a whole.
"""

from __future__ import annotations

import json
from typing import Any

from django.db import transaction

from panelrelay.accounts.models import Workspace
from panelrelay.core import actor, crypto
from panelrelay.panels.models import Panel, Provider
from panelrelay.vault.models import BackupDomain, BackupRecord


def _provider_item(provider: Provider) -> dict[str, Any]:
    return {
        "alias": provider.alias,
        "domain_enc": provider.domain_enc,
        "domain_hmac": provider.domain_hmac,
        "enabled": provider.enabled,
    }


def snapshot(
    workspace: Workspace, event: str, panel: Panel | None, providers: list[Provider], note: str = ""
) -> BackupRecord:
    payload = {
        "workspace": {"code": str(workspace.code), "name": workspace.name},
        "panel": None
        if panel is None
        else {"code": str(panel.code), "name": panel.name, "url": panel.url, "kind": panel.kind},
        "providers": [_provider_item(p) for p in providers],
        "note": note,
    }
    with transaction.atomic():
        record = BackupRecord.objects.create(
            event=event,
            workspace_code=workspace.code,
            workspace_name=workspace.name[:100],
            panel_code=panel.code if panel else None,
            panel_name=panel.name[:100] if panel else "",
            actor=actor.current()[:254],  # who acted: core.actor.acting_as() around the change
            payload_enc=crypto.encrypt(json.dumps(payload)),
        )
        digests = {p.domain_hmac for p in providers}
        BackupDomain.objects.bulk_create([BackupDomain(record=record, domain_hmac=d) for d in sorted(digests)])
    return record


def snapshot_panel(panel: Panel, event: str, note: str = "") -> BackupRecord:
    """The panel, its URL and every provider its orders used, with their aliases, right now."""
    providers = list(Provider.objects.filter(panels=panel).order_by("alias"))
    return snapshot(panel.workspace, event, panel, providers, note)


def snapshot_unlinked(workspace: Workspace, event: str, note: str = "") -> BackupRecord | None:
    """Providers tied to no panel (added by hand, restored): they need their own record."""
    providers = list(Provider.objects.filter(workspace=workspace, panels=None).order_by("alias"))
    if not providers and event != "workspace_deleted":
        return None
    return snapshot(workspace, event, None, providers, note)


def snapshot_provider(provider: Provider, event: str) -> list[BackupRecord]:
    """A provider changed (renamed, added): snapshot each panel it belongs to, or the unlinked set."""
    panels = list(provider.panels.select_related("workspace"))
    if not panels:
        record = snapshot_unlinked(provider.workspace, event)
        return [record] if record else []
    return [snapshot_panel(panel, event) for panel in panels]
