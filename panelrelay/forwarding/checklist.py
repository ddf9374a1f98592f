"""The home page's set-up checklist: six steps from a new account to the first forward.

Each step is read from what exists (no progress is stored, so a step undone — the only panel
deleted, the last destination removed — shows as open again), all in one query (an EXISTS per
step over indexed columns of the workspace). The checklist is shown until every step is done.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Exists, Q
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


def _done(workspace: Workspace) -> dict[str, bool]:
    """Every step's state in one query: an EXISTS per step over indexed columns of the workspace."""
    ws = workspace.pk
    checks = {
        "panel": Panel.objects.filter(workspace_id=ws, check_ok=True),
        "providers": Provider.objects.filter(workspace_id=ws),
        "connection": Connection.objects.filter(workspace_id=ws, status="working"),
        "destinations": Destination.objects.filter(workspace_id=ws, enabled=True),
        "route": ProviderRoute.objects.filter(workspace_id=ws, enabled=True, destination__isnull=False),
        "override": ServiceOverride.objects.filter(workspace_id=ws, enabled=True),
        "default": RoutingDefaults.objects.filter(workspace_id=ws).filter(
            Q(fallback_destination__isnull=False) | Q(manual_destination__isnull=False)
        ),
        "forward": RequestOrder.objects.filter(workspace_id=ws, state=RequestOrder.SENT),
    }
    # Prefixed: "panel" and the like are reverse relations of Workspace, which an annotation may not shadow.
    row = Workspace.objects.filter(pk=ws).values(**{f"has_{k}": Exists(qs) for k, qs in checks.items()}).get()
    return {k.removeprefix("has_"): bool(v) for k, v in row.items()}


def _panel_step(workspace: Workspace, done: bool) -> Step:
    help_text = "Its URL and admin API key; it is tested as you save it."
    if not done and (failing := Panel.objects.filter(workspace=workspace, check_ok=False).first()) is not None:
        help_text = f"“{failing.name}” failed its test: {failing.check_reason}"
    return Step("panel", "Add your panel and test it", done, reverse("panels:panels"), "Add a panel", help_text)


def checklist(workspace: Workspace) -> Checklist:
    """The six steps in order, each done or not, read now."""
    done = _done(workspace)
    return Checklist(
        [
            _panel_step(workspace, done["panel"]),
            Step("providers", "Sync providers", done["providers"], reverse("panels:panels"), "Sync providers",
                 "Reads your panel's recent orders to learn which providers you use (by alias, never by domain)."),
            Step("connection", "Connect Telegram or WhatsApp", done["connection"],
                 reverse("transports:connections"), "Connect",
                 "A Telegram bot or a WhatsApp gateway that sends the messages; press Check until it says working."),
            Step("destinations", "Add destinations", done["destinations"], reverse("transports:destinations"),
                 "Add a destination", "The provider groups or numbers the messages go to."),
            Step("routes", "Route providers to destinations", done["route"] or done["override"] or done["default"],
                 reverse("routing:routing"), "Set routes",
                 "Pick each provider's destination, or set a fallback for every provider without one."),
            Step("forward", "Forward your first request", done["forward"], reverse("forwarding:forward"),
                 "Forward", "Paste order ids, press a command, and watch them go out."),
        ]
    )  # fmt: skip
