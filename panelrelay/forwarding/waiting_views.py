"""Orders waiting for a route: the box on the Routing page and the "send now" of it and of a request page."""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from panelrelay.accounts.middleware import MemberRequest
from panelrelay.core import params
from panelrelay.core.tenancy import get_for_member, require_member
from panelrelay.forwarding import waiting
from panelrelay.forwarding.models import ForwardRequest
from panelrelay.panels.models import Provider


@require_member("routing")
def waiting_box(request: MemberRequest) -> HttpResponse:
    """The Routing page's "N orders are waiting for this provider — send now" box (loaded by htmx)."""
    return render(request, "forwarding/_waiting_box.html", {"groups": waiting.groups(request.workspace)})


@require_member("forward")
@require_POST
def send_waiting(request: MemberRequest) -> HttpResponse:
    """Send the waiting orders of one provider (or of manual services) that now have a route."""
    key = params.text(request.POST, "group")
    if key == waiting.MANUAL_KEY:
        result = waiting.send_waiting(request.workspace, manual=True)
        label = "manual services"
    else:
        code = params.code(request.POST, "group")
        if code is None:
            return HttpResponseBadRequest("group must be a provider code or “manual”")
        provider = get_for_member(request, Provider, code=code)
        result = waiting.send_waiting(request.workspace, provider=provider)
        label = provider.alias
    text = _said(result, label)
    if request.headers.get("HX-Request"):
        ctx = {"groups": waiting.groups(request.workspace), "said": text}
        return render(request, "forwarding/_waiting_box.html", ctx)
    messages.success(request, text)
    return redirect("routing:routing")


@require_member("forward")
@require_POST
def send_request_waiting(request: MemberRequest, code: UUID) -> HttpResponse:
    """The request page's "send now": its waiting orders that have a route now."""
    fwd = get_for_member(request, ForwardRequest, code=code)
    if not request.membership.has("activity") and fwd.created_by_id != request.user.id:
        messages.error(request, "You can send your own requests only.")
        return redirect("forwarding:request", code=fwd.code)
    result = waiting.send_waiting(request.workspace, request=fwd)
    (messages.success if result.sent else messages.warning)(request, _said(result, "this request"))
    return redirect("forwarding:request", code=fwd.code)


def _said(result: waiting.SendResult, label: str) -> str:
    parts = []
    if result.sent:
        parts.append(f"{result.sent:,} order(s) of {label} sent to their route")
    if result.still_waiting:
        parts.append(f"{result.still_waiting:,} still need a route")
    if result.skipped:
        parts.append(f"{result.skipped:,} skipped: their provider is turned off")
    return "; ".join(parts) + "." if parts else f"No order of {label} was waiting (already sent?)."
