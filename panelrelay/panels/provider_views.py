"""The Providers page: aliases (renamed in place), services seen, counts, toggles; Find order; Sync.

No view here ever has a provider domain to render: they read `Provider` rows, whose domain is
an encrypted column no template touches. An owner may type a domain in (Add provider); it is
stored and never shown again.
"""

from __future__ import annotations

import logging
import uuid
from uuid import UUID

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from panelrelay.accounts.middleware import MemberRequest
from panelrelay.core import params
from panelrelay.core.actor import acting_as
from panelrelay.core.tenancy import get_for_member, require_member, scoped
from panelrelay.core.toggles import save_toggle
from panelrelay.panels import providers as registry
from panelrelay.panels import scorecard, services
from panelrelay.panels.adapters.base import PanelError
from panelrelay.panels.forms import ProviderForm
from panelrelay.panels.models import Panel, Provider
from panelrelay.reading.orderids import is_order_id

log = logging.getLogger("panelrelay.panels")
FILTERS = {"all": Q(), "on": Q(enabled=True), "off": Q(enabled=False)}


@require_member("panels")
def providers(request: MemberRequest) -> HttpResponse:
    show = request.GET.get("show", "all") if request.GET.get("show") in FILTERS else "all"
    q = params.text(request.GET, "q")
    everyone = scoped(request, Provider)
    # `route` is routing's one-to-one onto Provider, followed back by the ORM: panels (below
    # routing) shows each provider's route without importing anything of routing.
    shown = everyone.filter(FILTERS[show]).prefetch_related("panels").select_related("route__destination")
    shown = shown.order_by("alias")
    if q:
        shown = shown.filter(alias__icontains=q)
    rows = list(shown[:1000])
    services_of = registry.group_services(rows)
    glances = scorecard.glances(request.workspace.pk, [p.pk for p in rows])
    ctx = {
        "rows": [(p, services_of.get(p.pk, []), glances.get(p.pk)) for p in rows],
        "glance_days": scorecard.GLANCE_DAYS,
        "counts": {key: everyone.filter(cond).count() for key, cond in FILTERS.items()},
        "show": show,
        "q": q,
        "panels": scoped(request, Panel).order_by("-enabled", "name"),  # Find order's default: an enabled one
        "form": ProviderForm(),
    }
    return render(request, "panels/providers.html", ctx)


@require_member("panels")
@require_GET
def provider(request: MemberRequest, code: UUID) -> HttpResponse:
    """A provider's own page: what is known of it, and its scorecard (a forwarding fragment, by htmx)."""
    found = get_for_member(request, Provider.objects.select_related("route__destination"), code=code)
    services = registry.group_services([found]).get(found.pk, [])
    return render(request, "panels/provider.html", {"p": found, "services": services})


@require_member("panels")
def alias(request: MemberRequest, code: UUID) -> HttpResponse:
    """GET: the inline rename form (or, with ?cancel, the plain cell). POST: save it."""
    provider = get_for_member(request, Provider, code=code)
    if request.method == "GET":
        editing = "cancel" not in request.GET
        return render(request, "panels/_alias.html", {"p": provider, "editing": editing})
    error, typed = "", params.text(request.POST, "alias")
    try:
        with acting_as(request.user):
            registry.rename(provider, typed)
    except registry.AliasError as exc:
        error = str(exc)
        provider.refresh_from_db(fields=["alias"])
        typed = typed if exc.shown is None else exc.shown  # never echo a web address back
    ctx = {"p": provider, "editing": bool(error), "error": error, "typed": typed}
    return render(request, "panels/_alias.html", ctx)


@require_member("panels")
@require_POST
def follow_up(request: MemberRequest, code: UUID) -> HttpResponse:
    """The provider's own reminder delay in hours; empty: the workspace's (Settings → Forwarding)."""
    provider = get_for_member(request, Provider, code=code)
    raw = params.text(request.POST, "follow_up_hours").strip()
    if raw:
        hours = params.integer(request.POST, "follow_up_hours", 0, minimum=0, maximum=168)
        Provider.objects.filter(pk=provider.pk).update(follow_up_hours=hours)
        shown = "no reminders" if hours == 0 else f"a reminder after {hours} h"
    else:
        Provider.objects.filter(pk=provider.pk).update(follow_up_hours=None)
        shown = "the workspace's reminder delay"
    messages.success(request, f"{provider.alias}: {shown}.")
    return redirect("panels:provider", code=provider.code)


@require_member("panels")
@require_POST
def toggle_provider(request: MemberRequest, code: UUID) -> HttpResponse:
    provider = get_for_member(request, Provider, code=code)
    save_toggle(request, provider, "enabled")
    return render(request, "panels/_provider_toggle.html", {"p": provider})


@require_member("panels", owner=True)
@require_POST
def add_provider(request: MemberRequest) -> HttpResponse:
    form = ProviderForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Type the provider's domain, like provider-panel.com.")
        return redirect("panels:providers")
    try:
        with acting_as(request.user):
            provider, created = registry.add_by_domain(
                request.workspace, form.cleaned_data["domain"], form.cleaned_data["alias"]
            )
    except registry.AliasError as exc:
        messages.error(request, str(exc))
        return redirect("panels:providers")
    if created:
        messages.success(request, f"Provider added as “{provider.alias}”.")
    else:
        messages.info(request, "That provider is already in your list.")
    return redirect("panels:providers")


@require_member("panels")
@require_POST
def sync_all(request: MemberRequest) -> HttpResponse:
    """Sync every enabled panel (≤ 1000 recent orders each), then reload the page with the result."""
    enabled = list(scoped(request, Panel).filter(enabled=True).order_by("name"))
    if not enabled:
        messages.error(request, "Add and enable a panel first: providers are learnt from its orders.")
    for panel in enabled:
        try:
            with acting_as(request.user):
                result = services.sync_providers(panel)
            messages.success(request, f"{panel.name}: {result.message}")
        except PanelError as exc:
            log.warning("panel %s sync failed: %s", panel.code, exc)
            messages.error(request, str(exc))
    if request.headers.get("HX-Request") == "true":
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"  # the flash and the new rows arrive with the reload
        return response
    return redirect("panels:providers")


def _may_find(request: MemberRequest) -> None:
    # The Forward page (forward toggle) and the Providers page (panels toggle) both use it.
    if not (request.membership.has("panels") or request.membership.has("forward")):
        raise PermissionDenied("Your role in this workspace does not allow this. Ask the owner.")


@require_member()
def find(request: MemberRequest) -> HttpResponse:
    """Panel order id → alias, external id, service, status, mode (an htmx fragment)."""
    _may_find(request)
    order_id = request.GET.get("order", "").strip()
    panels = scoped(request, Panel).order_by("name")
    panel = panels.filter(code=request.GET["panel"]).first() if _is_code(request.GET.get("panel")) else None
    panel = panel or panels.filter(enabled=True).first() or panels.first()
    ctx: dict = {"order_id": order_id, "panel": panel}
    if panel is None:
        ctx["error"] = "Add a panel first: orders are looked up in your panel."
    elif not order_id:
        ctx["error"] = "Type a panel order id, e.g. 45323."
    elif not is_order_id(order_id):
        ctx["error"] = "An order id is a number, e.g. 45323."
    else:
        try:
            ctx["order"] = services.find_order(panel, order_id)
        except PanelError as exc:
            log.warning("panel %s find order failed: %s", panel.code, exc)
            ctx["error"] = str(exc)
        if "order" in ctx and ctx["order"] is None:
            ctx["error"] = f"Order {order_id} is not in panel “{panel.name}”."
    return render(request, "panels/_find_result.html", ctx)


def _is_code(value: str | None) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True
