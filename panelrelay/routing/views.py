"""The Routing page: Provider & Group Linking, service-ID overrides, manual and fallback, route check."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from django.contrib import messages
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from panelrelay.accounts.middleware import MemberRequest
from panelrelay.core import params
from panelrelay.core.tenancy import get_for_member, get_picked, require_member, scoped
from panelrelay.core.toggles import save_toggle
from panelrelay.panels.adapters.base import PanelError
from panelrelay.panels.models import Panel, Provider, ServiceSeen
from panelrelay.panels.services import find_order
from panelrelay.reading.orderids import is_order_id
from panelrelay.routing.models import ProviderRoute, RoutingDefaults, ServiceOverride
from panelrelay.routing.resolve import RULES, Router
from panelrelay.transports.models import Destination


def _destination(request: MemberRequest) -> Destination | None:
    """The destination picked in the form's select; "" means none."""
    return get_picked(request, Destination, request.POST, "destination")


@require_member("routing")
def routing(request: MemberRequest) -> HttpResponse:
    providers = scoped(request, Provider).order_by("alias")
    routes = {
        r.provider_id: r for r in scoped(request, ProviderRoute).select_related("destination", "backup_destination")
    }
    ctx = {
        "rows": [(p, routes.get(p.id), routes[p.id].enabled if p.id in routes else True) for p in providers],
        "overrides": _with_seen(request, scoped(request, ServiceOverride).select_related("destination", "panel")),
        "destinations": scoped(request, Destination).order_by("name"),
        "panels": scoped(request, Panel).order_by("name"),
        "defaults": RoutingDefaults.of(request.workspace),
        "rules": RULES,
    }
    return render(request, "routing/routing.html", ctx)


@require_member("routing")
@require_POST
def set_provider_destination(request: MemberRequest, code: UUID) -> HttpResponse:
    provider = get_for_member(request, Provider, code=code)
    route, _ = ProviderRoute.objects.get_or_create(provider=provider, defaults={"workspace": request.workspace})
    route.destination = _destination(request)
    route.save(update_fields=["destination"])
    return render(
        request, "routing/_saved.html", {"text": f"{provider.alias} → {route.destination or 'no destination'}"}
    )


@require_member("routing")
@require_POST
def set_provider_backup(request: MemberRequest, code: UUID) -> HttpResponse:
    """Where this provider's unanswered requests go after the reminder (forwarding/followup.py)."""
    provider = get_for_member(request, Provider, code=code)
    backup = _destination(request)  # first: a bad or foreign pick leaves no route behind
    route, _ = ProviderRoute.objects.get_or_create(provider=provider, defaults={"workspace": request.workspace})
    if backup is not None and backup.id == route.destination_id:
        text = f"{provider.alias}: the backup must be another chat than its destination; not saved"
        return render(request, "routing/_saved.html", {"text": text, "error": True})
    route.backup_destination = backup
    route.save(update_fields=["backup_destination"])
    return render(request, "routing/_saved.html", {"text": f"{provider.alias} backup → {backup or 'none'}"})


@require_member("routing")
@require_POST
def toggle_provider_route(request: MemberRequest, code: UUID) -> HttpResponse:
    provider = get_for_member(request, Provider, code=code)
    route, _ = ProviderRoute.objects.get_or_create(provider=provider, defaults={"workspace": request.workspace})
    save_toggle(request, route, "enabled")
    return render(request, "routing/_route_toggle.html", {"p": provider, "on": route.enabled})


@require_member("routing")
@require_POST
def set_default(request: MemberRequest, which: str) -> HttpResponse:
    if which not in ("manual", "fallback"):
        return HttpResponseBadRequest("unknown default")
    defaults = RoutingDefaults.of(request.workspace)
    destination = _destination(request)
    setattr(defaults, f"{which}_destination", destination)
    defaults.save()
    label = "Manual services" if which == "manual" else "Fallback"
    return render(request, "routing/_saved.html", {"text": f"{label} → {destination or 'no destination'}"})


@require_member("routing")
@require_POST
def add_override(request: MemberRequest) -> HttpResponse:
    service_id = params.text(request.POST, "service_id")
    destination = _destination(request)
    panel = get_picked(request, Panel, request.POST, "panel")
    if not params.is_digits(service_id, max_length=40) or destination is None:
        messages.error(request, "A service override needs a numeric service id and a destination.")
        return redirect("routing:routing")
    if scoped(request, ServiceOverride).filter(service_id=service_id, panel=panel).exists():
        messages.error(request, f"Service {service_id} already has an override{' on ' + panel.name if panel else ''}.")
        return redirect("routing:routing")
    ServiceOverride.objects.create(
        workspace=request.workspace,
        service_id=service_id,
        service_name=params.text(request.POST, "service_name")[:200] or _service_name(request, service_id),
        panel=panel,
        destination=destination,
    )
    messages.success(request, f"Orders of service {service_id} now go to {destination}.")
    if not _seen_on(_seen(request, [service_id]), service_id, panel):
        where = f"on {panel.name}" if panel else "on any panel"
        messages.warning(
            request,
            f"Service {service_id} has not been seen {where} yet (no forwarded order used it): check the id. "
            "The override applies once orders of it arrive.",
        )
    return redirect("routing:routing")


@require_member("routing")
@require_POST
def set_override_destination(request: MemberRequest, code: UUID) -> HttpResponse:
    """Change an override's destination in place (the Routing page's select)."""
    override = get_for_member(request, ServiceOverride, code=code)
    destination = _destination(request)
    if destination is None:
        text = f"service {override.service_id} needs a destination (remove the override instead); not saved"
        return render(request, "routing/_saved.html", {"text": text, "error": True})
    override.destination = destination
    override.save(update_fields=["destination"])
    return render(request, "routing/_saved.html", {"text": f"service {override.service_id} → {destination}"})


def _seen(request: MemberRequest, service_ids: Iterable[str]) -> set[tuple[int, str]]:
    """(panel id, service id) of the given services that orders of this workspace were seen with."""
    rows = ServiceSeen.objects.filter(provider__workspace=request.workspace, service_id__in=list(service_ids))
    return set(rows.values_list("panel_id", "service_id"))


def _seen_on(seen: set[tuple[int, str]], service_id: str, panel: Panel | None) -> bool:
    if panel is not None:
        return (panel.id, service_id) in seen
    return any(sid == service_id for _, sid in seen)


def _with_seen(request: MemberRequest, overrides: Iterable[ServiceOverride]) -> list[tuple[ServiceOverride, bool]]:
    """Each override with whether its service id was seen on its panel (any panel when it has none):
    a mistyped id is flagged on the page instead of silently matching nothing."""
    overrides = list(overrides)
    seen = _seen(request, {o.service_id for o in overrides})
    return [(o, _seen_on(seen, o.service_id, o.panel)) for o in overrides]


def _service_name(request: MemberRequest, service_id: str) -> str:
    """The name seen on orders of this service (Providers → services seen), if any."""
    row = (
        ServiceSeen.objects.filter(provider__workspace=request.workspace, service_id=service_id)
        .order_by("-last_seen")
        .first()
    )
    return row.name[:200] if row else ""


@require_member("routing")
@require_POST
def toggle_override(request: MemberRequest, code: UUID) -> HttpResponse:
    override = get_for_member(request, ServiceOverride, code=code)
    save_toggle(request, override, "enabled")
    return render(request, "routing/_override_toggle.html", {"o": override})


@require_member("routing")
@require_POST
def delete_override(request: MemberRequest, code: UUID) -> HttpResponse:
    override = get_for_member(request, ServiceOverride, code=code)
    override.delete()
    messages.success(request, f"Override for service {override.service_id} removed.")
    return redirect("routing:routing")


@require_member("routing")
def check(request: MemberRequest) -> HttpResponse:
    """Which destination would this order go to, and why? Nothing is sent."""
    order_id = request.GET.get("order", "").strip()
    panels = list(scoped(request, Panel).order_by("name"))
    panel = next((p for p in panels if str(p.code) == request.GET.get("panel")), panels[0] if panels else None)
    ctx: dict = {"order_id": order_id}
    if not is_order_id(order_id):
        ctx["error"] = "Enter a panel order id (digits only)."
    elif panel is None:
        ctx["error"] = "Add a panel first."
    else:
        try:
            found = find_order(panel, order_id)
        except PanelError as exc:
            ctx["error"] = str(exc)
        else:
            if found is None:
                ctx["error"] = f"Order {order_id} was not found in {panel.name}."
            else:
                ctx["order"] = found
                ctx["decision"] = Router(request.workspace).decide(found, panel)
    return render(request, "routing/_check.html", ctx)
