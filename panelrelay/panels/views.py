"""The Panels page: add, edit, delete, enable, Test connection and Sync providers per panel."""

from __future__ import annotations

import logging
from uuid import UUID

from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from panelrelay.accounts.middleware import MemberRequest
from panelrelay.core.actor import acting_as
from panelrelay.core.tenancy import get_for_member, require_member, scoped
from panelrelay.core.toggles import save_toggle
from panelrelay.panels import services
from panelrelay.panels.adapters.base import PanelError
from panelrelay.panels.forms import PanelForm
from panelrelay.panels.models import Panel, Provider
from panelrelay.panels.signals import panel_changed
from panelrelay.panels.verify import Verification, verify

log = logging.getLogger("panelrelay.panels")


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _retention() -> dict:
    return {"retention_days": settings.VAULT_RETENTION_DAYS}


@require_member("panels")
def panels(request: MemberRequest) -> HttpResponse:
    rows = scoped(request, Panel).annotate(provider_count=Count("providers")).order_by("name")
    ctx = {"panels": rows, "form": PanelForm(workspace=request.workspace), **_retention()}
    return render(request, "panels/panels.html", ctx)


def _save_panel(form: PanelForm, panel: Panel) -> Panel:
    data = form.cleaned_data
    panel.name, panel.url, panel.kind = data["name"], data["url"], data["kind"]
    panel.tickets_enabled, panel.tickets_interval = data["tickets_enabled"], data["tickets_interval"]
    if data["api_key"]:
        panel.set_api_key(data["api_key"])
    panel.save()
    return panel


@require_member("panels")
def add_panel(request: MemberRequest) -> HttpResponse:
    form = PanelForm(request.POST or None, workspace=request.workspace)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic(), acting_as(request.user):
            panel = _save_panel(form, Panel(workspace=request.workspace))
            panel_changed.send(Panel, panel=panel, event="panel_added")  # the vault records it
        _say_verdict(request, panel, verify(panel), "added")  # tested and synced on save, outside the transaction
        return redirect("panels:panels")
    return render(request, "panels/panel_form.html", {"form": form, "panel": None, **_retention()})


@require_member("panels")
def edit_panel(request: MemberRequest, code: UUID) -> HttpResponse:
    panel = get_for_member(request, Panel, code=code)
    initial = {"name": panel.name, "url": panel.url, "kind": panel.kind,
               "tickets_enabled": panel.tickets_enabled, "tickets_interval": panel.tickets_interval}  # fmt: skip
    form = PanelForm(request.POST or None, initial=initial, workspace=request.workspace, panel=panel)
    if request.method == "POST" and form.is_valid():
        before = (panel.url, panel.kind, panel.api_key_enc)
        with transaction.atomic(), acting_as(request.user):
            _save_panel(form, panel)
            panel_changed.send(Panel, panel=panel, event="panel_edited")  # the vault records it
        if before != (panel.url, panel.kind, panel.api_key_enc) or not panel.check_ok:
            _say_verdict(request, panel, verify(panel), "saved")  # what it connects to changed: test it again
        else:
            messages.success(request, f"Panel “{panel.name}” saved.")
        return redirect("panels:panels")
    return render(request, "panels/panel_form.html", {"form": form, "panel": panel, **_retention()})


def _say_verdict(request: MemberRequest, panel: Panel, verdict: Verification, done: str) -> None:
    """One message with the verdict: saved and working, saved but the sync failed, or saved but failing."""
    but = "" if verdict.working else ", but it does not work yet"
    text = f"Panel “{panel.name}” {done}{but}. {verdict.headline}: {verdict.detail}"
    if verdict.hint:
        text += f" {verdict.hint}"
    if verdict.working and not verdict.sync_error:
        messages.success(request, text)
    elif verdict.working:
        messages.warning(request, text)
    else:
        log.warning("panel %s failed its check on save: %s", panel.code, verdict.report.message)
        messages.error(request, text)


def _only_here(panel: Panel) -> list[int]:
    """Providers no other panel of the workspace uses: they go with the panel (the vault keeps them)."""
    mine = Provider.objects.filter(panels=panel)
    shared = mine.filter(panels__in=Panel.objects.filter(workspace_id=panel.workspace_id).exclude(pk=panel.pk))
    return sorted(set(mine.values_list("pk", flat=True)) - set(shared.values_list("pk", flat=True)))


@require_member("panels")
def delete_panel(request: MemberRequest, code: UUID) -> HttpResponse:
    panel = get_for_member(request, Panel, code=code)
    orphans = _only_here(panel)
    # The form sends confirm=yes; a bare POST only shows what would be deleted.
    if request.method == "POST" and request.POST.get("confirm") == "yes":
        with transaction.atomic(), acting_as(request.user):
            panel.delete()  # the vault's pre_delete receiver snapshots it with its providers first
            Provider.objects.filter(pk__in=orphans).delete()
        messages.success(request, f"Panel “{panel.name}” deleted, with {len(orphans)} provider(s) only it used.")
        return redirect("panels:panels")
    ctx = {"panel": panel, "orphans": len(orphans), **_retention()}
    return render(request, "panels/panel_delete.html", ctx)


@require_member("panels")
@require_POST
def toggle_tickets(request: MemberRequest, code: UUID) -> HttpResponse:
    panel = get_for_member(request, Panel, code=code)
    save_toggle(request, panel, "tickets_enabled")
    return render(request, "panels/_tickets_toggle.html", {"p": panel})


@require_member("panels")
@require_POST
def toggle_enabled(request: MemberRequest, code: UUID) -> HttpResponse:
    panel = get_for_member(request, Panel, code=code)
    save_toggle(request, panel, "enabled")
    return render(request, "panels/_panel_toggle.html", {"p": panel})


@require_member("panels")
@require_POST
def test_panel(request: MemberRequest, code: UUID) -> HttpResponse:
    panel = get_for_member(request, Panel, code=code)
    report = services.check_connection(panel)
    if not (report.reachable and report.key_accepted):
        log.warning("panel %s test failed: %s", panel.code, report.message)
    if not _is_htmx(request):
        level = messages.SUCCESS if panel.check_ok else messages.ERROR
        messages.add_message(request, level, report.message)
        return redirect("panels:panels")
    return render(request, "panels/_test_report.html", {"panel": panel, "report": report})


@require_member("panels")
@require_POST
def sync_panel(request: MemberRequest, code: UUID) -> HttpResponse:
    panel = get_for_member(request, Panel, code=code)
    result, error = None, ""
    try:
        result = services.sync_providers(panel)
    except PanelError as exc:
        error = str(exc)
        log.warning("panel %s sync failed: %s", panel.code, error)
    if not _is_htmx(request):
        if result:
            messages.success(request, f"{panel.name}: {result.message}")
        else:
            messages.error(request, error)
        return redirect("panels:panels")
    return render(request, "panels/_sync_report.html", {"panel": panel, "result": result, "error": error})
