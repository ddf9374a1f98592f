"""A provider at a glance on the Providers page: how much it answers, and how fast.

The numbers come from the orders sent to the provider, which live in forwarding, a layer above
panels. Forwarding registers its source here from ForwardingConfig.ready() (`SOURCES`), so this
page shows them without importing anything above it. The whole scorecard, with its chart, is a
forwarding fragment the provider's own page loads by htmx.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

GLANCE_DAYS = 7  # the window of the Providers page's column


@dataclass(frozen=True)
class Glance:
    """One provider's last GLANCE_DAYS days: orders sent, share answered, median time to answer."""

    requests: int
    answered_share: float | None
    median: timedelta | None

    @property
    def answered_text(self) -> str:
        return percent(self.answered_share)

    @property
    def median_text(self) -> str:
        return duration(self.median)


# (workspace id, provider ids) -> {provider id: Glance}; providers with no orders are left out.
SOURCES: list[Callable[[int, list[int]], dict[int, Glance]]] = []


def glances(workspace_id: int, provider_ids: list[int]) -> dict[int, Glance]:
    found: dict[int, Glance] = {}
    for source in SOURCES:
        found.update(source(workspace_id, provider_ids))
    return found


def percent(share: float | None) -> str:
    return "—" if share is None else f"{round(share * 100)} %"


def duration(value: timedelta | None) -> str:
    """`45 s`, `14 min`, `2.5 h`, `1.2 d`: short enough for a table cell, exact enough to compare."""
    if value is None:
        return "—"
    seconds = value.total_seconds()
    if seconds < 60:
        return f"{round(seconds)} s"
    if seconds < 3600:
        return f"{round(seconds / 60)} min"
    if seconds < 86400:
        return f"{seconds / 3600:.1f} h".replace(".0 h", " h")
    return f"{seconds / 86400:.1f} d".replace(".0 d", " d")
