"""The home page's set-up checklist: six steps from a new account to the first forward.

Each step is read from what exists (no progress is stored, so a step undone — the only panel
deleted, the last destination removed — shows as open again), with one small `exists()` query
each over indexed columns of the workspace. The checklist is shown until every step is done.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q
from django.urls import reverse

from panelrelay.accounts.models import Workspace
from panelrelay.forwarding.models import RequestOrder
from panelrelay.panels.models import Panel, Provider
from panelrelay.routing.models import ProviderRoute, RoutingDefaults, ServiceOverride
from panelrelay.transports.models import Connection, Destination


@dataclass(frozen=True)
class Step:
    key: str
    title: str
    done: bool
    url: str
    action: str  # the link's words: where the step is done
    help: str  # one line: what to do, or what is wrong now


@dataclass(frozen=True)
class Checklist:
    steps: list[Step]

    @property
    def done_count(self) -> int:
        return sum(1 for s in self.steps if s.done)

    @property
    def complete(self) -> bool:
        return all(s.done for s in self.steps)

    @property
    def next_step(self) -> Step | None:
        return next((s for s in self.steps if not s.done), None)


def _panel_step(workspace: Workspace) -> Step:
    panels = Panel.objects.filter(workspace=workspace)
    done = panels.filter(check_ok=True).exists()
    help_text = "Its URL and admin API key; it is tested as you save it."
    if not done and (failing := panels.filter(check_ok=False).first()) is not None:
        help_text = f"“{failing.name}” failed its test: {failing.check_reason}"
    return Step("panel", "Add your panel and test it", done, reverse("panels:panels"), "Add a panel", help_text)


def _providers_step(workspace: Workspace) -> Step:
    done = Provider.objects.filter(workspace=workspace).exists()
    return Step(
        "providers",
        "Sync providers",
        done,
        reverse("panels:panels"),
        "Sync providers",
        "Reads your panel's recent orders to learn which providers you use (by alias, never by domain).",
    )


def _connection_step(workspace: Workspace) -> Step:
    done = Connection.objects.filter(workspace=workspace, status="working").exists()
    return Step(
        "connection",
        "Connect Telegram or WhatsApp",
        done,
        reverse("transports:connections"),
        "Connect",
        "A Telegram bot or a WhatsApp gateway that sends the messages; press Check until it says working.",
    )


def _destinations_step(workspace: Workspace) -> Step:
    done = Destination.objects.filter(workspace=workspace, enabled=True).exists()
    return Step(
        "destinations",
        "Add destinations",
        done,
        reverse("transports:destinations"),
        "Add a destination",
        "The provider groups or numbers the messages go to.",
    )


def _routes_step(workspace: Workspace) -> Step:
    routed = (
        ProviderRoute.objects.filter(workspace=workspace, enabled=True, destination__isnull=False).exists()
        or ServiceOverride.objects.filter(workspace=workspace, enabled=True).exists()
        or RoutingDefaults.objects.filter(workspace=workspace)
        .filter(Q(fallback_destination__isnull=False) | Q(manual_destination__isnull=False))
        .exists()
    )
    return Step(
        "routes",
        "Route providers to destinations",
        routed,
        reverse("routing:routing"),
        "Set routes",
        "Pick each provider's destination, or set a fallback for every provider without one.",
    )


def _forward_step(workspace: Workspace) -> Step:
    done = RequestOrder.objects.filter(workspace=workspace, state=RequestOrder.SENT).exists()
    return Step(
        "forward",
        "Forward your first request",
        done,
        reverse("forwarding:forward"),
        "Forward",
        "Paste order ids, press a command, and watch them go out.",
    )


def checklist(workspace: Workspace) -> Checklist:
    """The six steps in order, each done or not, read now."""
    return Checklist(
        [
            _panel_step(workspace),
            _providers_step(workspace),
            _connection_step(workspace),
            _destinations_step(workspace),
            _routes_step(workspace),
            _forward_step(workspace),
        ]
    )
