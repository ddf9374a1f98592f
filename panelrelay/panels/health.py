"""A panel's run of failed lookups: since when and how many in a row, kept on its row.

Every lookup (panels.services.resolve_orders / find_order) records here: a failure counts one
more and keeps the first failure's time; a success (or a Test connection that works) clears it.
The forwarding layer turns a run that lasts (forwarding/panel_incidents.py) into an incident,
like a broken connection, and closes it once the panel answers again. Writes are single
conditional UPDATEs: lookups of the same panel at once never lose a count.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from panelrelay.panels.adapters.base import PanelError
from panelrelay.panels.models import INCIDENT_AFTER, INCIDENT_FAILURES, Panel


def lookup_failed(panel: Panel, exc: PanelError) -> None:
    now = timezone.now()
    message = str(exc).removeprefix(f"Panel “{panel.name}”: ")  # the row and the alert name the panel already
    Panel.objects.filter(pk=panel.pk).update(
        failures=F("failures") + 1, failing_since=Coalesce(F("failing_since"), now), failure_message=message[:300]
    )


def lookup_worked(panel: Panel) -> None:
    """The panel answered: the run is over (one UPDATE that matches nothing while all is well)."""
    Panel.objects.filter(Q(failures__gt=0) | Q(failing_since__isnull=False), pk=panel.pk).update(
        failures=0, failing_since=None, failure_message=""
    )


def failing_panels(now: datetime | None = None) -> list[Panel]:
    """Every enabled panel that keeps failing, across workspaces (a handful at most)."""
    now = now or timezone.now()
    rows = Panel.objects.filter(
        enabled=True, failures__gte=INCIDENT_FAILURES, failing_since__lte=now - INCIDENT_AFTER
    ).select_related("workspace")
    return list(rows)
