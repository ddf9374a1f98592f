"""What other apps call: orders resolved to provider aliases, Find order, Sync providers.

Nothing that leaves this module carries a provider domain: a `ResolvedOrder` names its
provider by the `Provider` row (alias, enabled, code). Every function raises `PanelError`
(from `panels.adapters.base`) when the panel cannot answer, with a message fit to show.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from panelrelay.panels import health
from panelrelay.panels import providers as registry
from panelrelay.panels.adapters.base import (
    MANUAL,
    STATUS_LABELS,
    ConnectionReport,
    PanelAdapter,
    PanelError,
    PanelOrder,
)
from panelrelay.panels.models import Panel, Provider

log = logging.getLogger("panelrelay.panels")


@dataclass(frozen=True)
class ResolvedOrder:
    """One panel order as the rest of PanelRelay sees it: by alias, never by domain."""

    id: str
    external_id: str | None
    provider: Provider | None
    service_id: str | None
    service_name: str
    status: str  # a status constant of adapters/base.py
    status_label: str
    mode: str  # AUTO or MANUAL
    quantity: int | None
    created: datetime | None
    user: str | None
    link: str
    remains: int | None = None  # what is left to deliver; None when the panel does not say

    @property
    def is_manual(self) -> bool:
        return self.mode == MANUAL


@dataclass(frozen=True)
class SyncResult:
    orders_scanned: int
    providers_seen: int
    new_providers: int
    manual_orders: int
    provider_list_offered: bool = True  # False: the API has a provider list but this panel lacks it

    @property
    def nothing_to_sync(self) -> bool:
        return not self.orders_scanned and not self.provider_list_offered

    @property
    def message(self) -> str:
        if self.nothing_to_sync:
            return (
                "Nothing to sync: this panel does not offer a provider list (getProviders) and its API cannot "
                "list recent orders. Providers are added as their orders are forwarded or found with Find order."
            )
        if not self.orders_scanned and not self.providers_seen:
            return "The panel returned no orders yet: nothing to learn providers from."
        new = f" ({self.new_providers} new)" if self.new_providers else ""
        manual = f", {self.manual_orders} manual order(s)" if self.manual_orders else ""
        return f"Scanned {self.orders_scanned} recent order(s): {self.providers_seen} provider(s){new}{manual}."


def _resolved(order: PanelOrder, provider: Provider | None) -> ResolvedOrder:
    return ResolvedOrder(
        id=order.id,
        external_id=order.external_id,
        provider=provider,
        service_id=order.service_id,
        service_name=order.service_name,
        status=order.status,
        status_label=STATUS_LABELS.get(order.status, order.status),
        mode=order.mode,
        quantity=order.quantity,
        created=order.created,
        user=order.user,
        link=order.link,
        remains=order.remains,
    )


def resolve_orders(
    panel: Panel, ids: list[str], fetched: Callable[[], dict[str, PanelOrder]] | None = None
) -> dict[str, ResolvedOrder]:
    """Fetch orders (batched ≤100, rate-limited), register/match providers and services seen,
    return ResolvedOrder by id; ids the panel does not know are absent. Raises PanelError.

    `fetched`, when given, returns (or raises) the panel's answer for `ids` already asked for
    elsewhere (the engine's prefetch thread asks only the panel; the rest happens here)."""
    try:
        orders = fetched() if fetched is not None else panel.adapter().get_orders([str(i) for i in ids])
    except PanelError as exc:
        health.lookup_failed(panel, exc)  # a run that lasts becomes an incident (panels/health.py)
        raise
    health.lookup_worked(panel)
    providers = registry.match(panel, orders.values())
    return {oid: _resolved(order, providers.get(oid)) for oid, order in orders.items()}


def find_order(panel: Panel, order_id: str) -> ResolvedOrder | None:
    """One order by its panel id, or None when the panel does not know it. Raises PanelError."""
    try:
        order = panel.adapter().get_order(str(order_id).strip())
    except PanelError as exc:
        health.lookup_failed(panel, exc)
        raise
    health.lookup_worked(panel)
    if order is None:
        return None
    return _resolved(order, registry.match(panel, [order]).get(order.id))


def sync_providers(panel: Panel, limit: int = 1000) -> SyncResult:
    """Scan the panel's most recent orders (and its own provider list, where the API has one)."""
    adapter = panel.adapter()
    try:
        orders = adapter.recent_orders(limit)
        listed, offered = _listed_domains(adapter)
        before = Provider.objects.filter(workspace_id=panel.workspace_id).count()
        matched = registry.match(panel, orders)
        extra = registry.register_domains(panel, listed) if listed else []
        registry.flush_counts()  # an owner's sync shows its counts at once
    except PanelError as exc:
        _note_sync(panel, str(exc), ok=False)
        raise
    seen = {p.pk for p in matched.values() if p} | {p.pk for p in extra}
    result = SyncResult(
        orders_scanned=len(orders),
        providers_seen=len(seen),
        new_providers=max(Provider.objects.filter(workspace_id=panel.workspace_id).count() - before, 0),
        manual_orders=sum(1 for o in orders if o.mode == MANUAL),
        provider_list_offered=offered,
    )
    _note_sync(panel, result.message, ok=True)
    return result


def _listed_domains(adapter: PanelAdapter) -> tuple[list[str], bool]:
    """The panel's own provider list, and whether it has one: a missing list is not a failure."""
    try:
        return adapter.provider_domains(), True
    except PanelError as exc:
        if exc.kind != "unsupported":
            raise
        return [], False


def _note_sync(panel: Panel, message: str, *, ok: bool) -> None:
    """The last sync's time, result and message; a failure is kept as a failure (sync_ok False)."""
    panel.synced_at, panel.sync_message, panel.sync_ok = timezone.now(), message[:300], ok
    Panel.objects.filter(pk=panel.pk).update(
        synced_at=panel.synced_at, sync_message=panel.sync_message, sync_ok=panel.sync_ok
    )
    log.info("panel %s sync: %s", panel.code, panel.sync_message)


def check_connection(panel: Panel) -> ConnectionReport:
    """Run the adapter's Test connection and keep its one-line result on the panel's row."""
    try:
        report = panel.adapter().test_connection()
    except PanelError as exc:  # the stored key cannot be read: nothing was called
        report = ConnectionReport(
            reachable=False, key_accepted=False, capabilities=[], round_trip_ms=None, message=str(exc)
        )
    panel.last_checked, panel.check_ok = timezone.now(), bool(report.reachable and report.key_accepted)
    panel.check_message = report.message[:300]
    Panel.objects.filter(pk=panel.pk).update(
        last_checked=panel.last_checked, check_ok=panel.check_ok, check_message=panel.check_message
    )
    if panel.check_ok:
        health.lookup_worked(panel)  # it answers again: a failing run (and its incident) ends
    return report
