"""A panel that keeps failing opens an incident, like a broken connection does, and closes it when it works.

panels/health.py keeps each panel's run of failed lookups on its row; this periodic pass (job
`forwarding.panel_incidents`, every minute) opens an incident `panel:<code>` for each panel
that keeps failing (3 lookups in a row over 5 minutes) — Alerts lists it, the owner's alert
chat is told once (transports.bookkeeping.send_alert, one open incident per key in the
database) — and closes the incidents of panels that answered since, or were turned off.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from django.utils import timezone

from panelrelay.panels.health import failing_panels
from panelrelay.panels.models import Panel
from panelrelay.transports.bookkeeping import close_incidents, send_alert
from panelrelay.transports.models import Incident

KEY = "panel:"


def key(panel: Panel) -> str:
    return f"{KEY}{panel.code}"


def text(panel: Panel) -> str:
    since = timezone.localtime(panel.failing_since).strftime("%H:%M") if panel.failing_since else "?"
    return (
        f"Panel “{panel.name}” keeps failing: {panel.failures} lookups in a row since {since} "
        f"({panel.failure_message or 'no answer'}). Orders on it wait “Retrying”; check it under Panels."
    )[:500]


def reconcile(now: datetime | None = None) -> tuple[int, int]:
    """Open the incidents of panels that keep failing and close the rest. Returns (failing, closed)."""
    failing = failing_panels(now)
    for panel in failing:
        send_alert(panel.workspace, text(panel), key=key(panel))  # once per incident: the key is unique while open
    still = {key(p) for p in failing}
    stale: dict[int, list[str]] = defaultdict(list)
    for workspace_id, open_key in Incident.objects.filter(key__startswith=KEY, closed__isnull=True).values_list(
        "workspace_id", "key"
    ):
        if open_key not in still:
            stale[workspace_id].append(open_key)
    for workspace_id, keys in stale.items():
        close_incidents(workspace_id, keys)
    return len(failing), sum(len(k) for k in stale.values())
