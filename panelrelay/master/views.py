"""The platform operator's pages: workspaces with a suspend toggle, and system health."""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from panelrelay.accounts.models import Membership, Workspace
from panelrelay.core import params
from panelrelay.core.toggles import switched_on
from panelrelay.master.guard import master_only
from panelrelay.worker.models import Heartbeat, Job
from panelrelay.worker.queue import queue_depth


def _workspace_rows(query: str) -> list[tuple[Workspace, str, int]]:
    qs = Workspace.objects.annotate(members=Count("memberships", distinct=True)).order_by("-created")
    if query:
        qs = qs.filter(Q(name__icontains=query) | Q(memberships__user__email__icontains=query)).distinct()
    owners = dict(
        Membership.objects.filter(role=Membership.OWNER, workspace__in=qs).values_list("workspace_id", "user__email")
    )
    panel_counts = _panel_counts()
    return [(ws, owners.get(ws.id, "—"), panel_counts.get(ws.id, 0)) for ws in qs[:500]]


def _panel_counts() -> dict[int, int]:
    """Panels per workspace, once the panels app has a Panel model."""
    from django.apps import apps

    try:
        panel = apps.get_model("panels", "Panel")
    except LookupError:
        return {}
    return dict(panel.objects.values("workspace_id").annotate(n=Count("id")).values_list("workspace_id", "n"))


@master_only
def workspaces(request: HttpRequest) -> HttpResponse:
    query = params.text(request.GET, "q")
    return render(request, "master/workspaces.html", {"rows": _workspace_rows(query), "q": query, "tab": "workspaces"})


@master_only
@require_POST
def toggle_suspended(request: HttpRequest, code: UUID) -> HttpResponse:
    ws = get_object_or_404(Workspace, code=code)
    ws.suspended = switched_on(request)
    ws.suspended_at = timezone.now() if ws.suspended else None
    ws.save(update_fields=["suspended", "suspended_at"])
    if request.headers.get("HX-Request"):
        return render(request, "master/_suspend_toggle.html", {"ws": ws})
    messages.success(request, f"{ws.name} is {'suspended' if ws.suspended else 'active again'}.")
    return workspaces(request)


@master_only
def health(request: HttpRequest) -> HttpResponse:
    ctx = {
        "heartbeats": Heartbeat.objects.order_by("-last_seen")[:50],
        "depth": sorted(queue_depth().items()),
        "due": Job.objects.filter(state=Job.QUEUED, run_at__lte=timezone.now()).count(),
        "failed": Job.objects.filter(state=Job.FAILED).order_by("-finished")[:20],
        "tab": "health",
    }
    return render(request, "master/health.html", ctx)
