"""Opening vault records, for the master area only.

Together with `panels.providers.match()` (which sees a domain as the panel API sends it), this
is the only code that turns a stored provider domain back into clear text. It is called by the
master-only views and exports of `vault.views`, and nowhere else. (`rotated_payload()`, for
`manage.py rotate_keys`, opens a record's JSON but leaves the domains in it encrypted.)
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
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


def rotated_payload(token: str) -> str | None:
    """A record's `payload_enc` under the first FERNET_KEYS key, the provider domain tokens inside
    it too, or None when all of it already is (`manage.py rotate_keys`). The record says the same
    after as before, which is why rewriting it is the one exception to append-only. Domains stay
    tokens throughout: `crypto.rotated()` re-encrypts them without handing back the clear text."""
    data = json.loads(crypto.decrypt(token))
    inner = False
    for item in data.get("providers", []):
        if item.get("domain_enc") and (new := crypto.rotated(item["domain_enc"])):
            item["domain_enc"], inner = new, True
    if not inner and crypto.is_current(token):
        return None
    return crypto.encrypt(json.dumps(data))


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


@dataclass(frozen=True)
class PartSearch:
    """What a search by alias or part of a domain found, and how much of the vault it read."""

    ids: list[int]
    scanned: int
    complete: bool  # False: the bound was reached before the oldest record


def search_parts(records: Iterable[BackupRecord], needle: str, max_records: int, max_seconds: float) -> PartSearch:
    """The records (newest first, as given) with a provider whose alias or domain contains `needle`.

    Domains are stored encrypted (and as a keyed digest, which finds only a whole domain), so a
    part of one can only be found by opening the records: this runs inside the master admin's
    request, and stops after `max_records` records or `max_seconds`, whichever comes first. An alias is in the record's payload; a domain is decrypted only when the
    aliases of its record did not already match.
    """
    needle = needle.strip().lower()
    ids: list[int] = []
    scanned = 0
    deadline = time.monotonic() + max_seconds
    for record in records:
        if scanned >= max_records or time.monotonic() > deadline:
            return PartSearch(ids, scanned, complete=False)
        scanned += 1
        data = payload(record)
        items = data.get("providers", [])
        if any(needle in str(item.get("alias", "")).lower() for item in items) or any(
            needle in p.domain.lower() for p in providers(data)
        ):
            ids.append(record.pk)
    return PartSearch(ids, scanned, complete=True)
