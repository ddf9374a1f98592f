"""Opening vault records, for the master area only.

Together with `panels.providers.match()` (which sees a domain as the panel API sends it), this
is the only code that turns a stored provider domain back into clear text. It is called by the
master-only views and exports of `vault.views`, and nowhere else.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from panelrelay.core import crypto
from panelrelay.core.logscrub import register_secret
from panelrelay.vault.models import BackupRecord


@dataclass(frozen=True)
class RevealedProvider:
    alias: str
    domain: str
    enabled: bool


def payload(record: BackupRecord) -> dict[str, Any]:
    """The record's JSON; provider domains inside it are still encrypted tokens."""
    return json.loads(crypto.decrypt(record.payload_enc))


def providers(data: dict[str, Any]) -> list[RevealedProvider]:
    found = []
    for item in data.get("providers", []):
        try:
            domain = crypto.decrypt(item["domain_enc"])
        except crypto.DecryptionError:
            domain = "(cannot decrypt: key missing)"
        register_secret(domain)  # if it ever reached a log line, it would be masked there
        found.append(RevealedProvider(item.get("alias", ""), domain, bool(item.get("enabled", True))))
    return found


def as_row(record: BackupRecord) -> dict[str, Any]:
    """One record in clear, for the master's table and exports."""
    data = payload(record)
    panel = data.get("panel") or {}
    return {
        "code": str(record.code),
        "created": record.created.isoformat(),
        "event": record.event,
        "workspace_code": str(record.workspace_code),
        "workspace_name": record.workspace_name,
        "panel_code": str(record.panel_code) if record.panel_code else "",
        "panel_name": record.panel_name,
        "panel_url": panel.get("url", ""),
        "panel_kind": panel.get("kind", ""),
        "actor": record.actor,
        "note": data.get("note", ""),
        "providers": [{"alias": p.alias, "domain": p.domain, "enabled": p.enabled} for p in providers(data)],
    }
