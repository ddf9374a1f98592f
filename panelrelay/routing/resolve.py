"""Pick the destination of an order, and say which rule picked it and why.

A Router loads every rule of a workspace once, so deciding for 10,000 orders costs four
queries, not 10,000.
"""

from __future__ import annotations

from dataclasses import dataclass

from panelrelay.accounts.models import Workspace
from panelrelay.panels.adapters.base import MANUAL
from panelrelay.panels.models import Panel
from panelrelay.panels.services import ResolvedOrder
from panelrelay.routing.models import ProviderRoute, RoutingDefaults, ServiceOverride
from panelrelay.transports.models import Destination

RULES = {1: "Service-ID override", 2: "Provider", 3: "Manual services", 4: "Fallback"}


@dataclass(frozen=True)
class Decision:
    destination: Destination | None
    rule: int | None  # 1..4, None when nothing matched
    reason: str  # "by rule 2 (provider FastLikes_A)" or why there is no route

    def describe(self, order_id: str) -> str:
        if self.destination is None:
            return f"{order_id} → no destination: {self.reason}"
        return f"{order_id} → {self.destination}, {self.reason}"


class Router:
    def __init__(self, workspace: Workspace) -> None:
        destinations = {d.id: d for d in Destination.objects.filter(workspace=workspace)}

        def destination(pk: int | None) -> Destination | None:  # a nullable foreign key: no id, no destination
            return destinations.get(pk) if pk is not None else None

        self.overrides: dict[tuple[int | None, str], Destination] = {}
        for o in ServiceOverride.objects.filter(workspace=workspace, enabled=True):
            self.overrides[(o.panel_id, o.service_id)] = destinations[o.destination_id]
        self.routes: dict[int, tuple[Destination | None, bool]] = {
            r.provider_id: (destination(r.destination_id), r.enabled)
            for r in ProviderRoute.objects.filter(workspace=workspace)
        }
        defaults = RoutingDefaults.objects.filter(workspace=workspace).first()
        self.manual = destination(defaults.manual_destination_id) if defaults else None
        self.fallback = destination(defaults.fallback_destination_id) if defaults else None

    def decide(self, order: ResolvedOrder, panel: Panel | None = None) -> Decision:
        override = self._override(order, panel)
        if override is not None:
            return Decision(override, 1, f"by rule 1 (service {order.service_id} override)")
        provider = order.provider
        if provider is not None:
            destination, enabled = self.routes.get(provider.id, (None, True))
            if destination is not None and enabled:
                return Decision(destination, 2, f"by rule 2 (provider {provider.alias})")
        elif order.mode == MANUAL and self.manual is not None:
            return Decision(self.manual, 3, "by rule 3 (manual service)")
        if self.fallback is not None:
            return Decision(self.fallback, 4, f"by rule 4 (fallback: {self._why_fallback(order)})")
        return Decision(None, None, self._why_fallback(order) + ", and no fallback is set")

    def _override(self, order: ResolvedOrder, panel: Panel | None) -> Destination | None:
        if not order.service_id:
            return None
        if panel is not None and (panel.id, order.service_id) in self.overrides:
            return self.overrides[(panel.id, order.service_id)]
        return self.overrides.get((None, order.service_id))

    def _why_fallback(self, order: ResolvedOrder) -> str:
        provider = order.provider
        if provider is None:
            return "manual service with no manual destination" if order.mode == MANUAL else "provider unknown"
        destination, enabled = self.routes.get(provider.id, (None, True))
        if destination is not None and not enabled:
            return f"the route of provider {provider.alias} is turned off"
        return f"provider {provider.alias} has no destination"
