"""Worker jobs of the panels app."""

from __future__ import annotations

from panelrelay.panels.providers import flush_counts
from panelrelay.worker.models import Job
from panelrelay.worker.registry import handler


@handler("panels.count")
def count(job: Job) -> None:
    """Add what lookups saw to the providers' counters (providers.flush_counts), all of it."""
    while flush_counts():
        pass
