"""The Destinations page: where messages go, how the last delivery went, and a Test button."""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from panelrelay.accounts.middleware import MemberRequest
from panelrelay.core.tenancy import get_for_member, require_member, scoped
from panelrelay.core.toggles import save_toggle
from panelrelay.transports.base import TransportError
from panelrelay.transports.discovery import refresh_chats
from panelrelay.transports.forms import DestinationForm, parse_code
from panelrelay.transports.models import Connection, Destination, DiscoveredChat
from panelrelay.transports.services import deliver

FILTERS = {"all": Q(), "broken": Q(broken=True), "off": Q(enabled=False)}
# The typed-target box's example, for the kind of connection chosen (targets.normalize() takes these).
TARGET_EXAMPLES = {
    "telegram": "-1001234567890 · @supergroup · 500000001 (a user who pressed Start)",
    "telegram_user": "@username · +44 7700 900123 · t.me/name",
    "whatsapp": "+44 7700 900123 · 120363…@g.us",
}


@require_member("routing")
def destinations(request: MemberRequest) -> HttpResponse:
    shown = request.GET.get("show", "all")
    shown = shown if shown in FILTERS else "all"
    rows = scoped(request, Destination).select_related("connection").order_by("name")
    counts = rows.aggregate(**{name: Count("id", filter=q) for name, q in FILTERS.items()})
    ctx = {
        "destinations": rows.filter(FILTERS[shown]),
        "counts": counts,
        "shown": shown,
        "has_connections": scoped(request, Connection).exists(),
    }
    return render(request, "transports/destinations.html", ctx)


def _form_page(request: HttpRequest, form: DestinationForm, destination: Destination | None) -> HttpResponse:
    # Offer a connection that works first: the picker under it then has something to show.
    working = sorted(form.connections, key=lambda c: c.status != Connection.WORKING)
    picked = form["connection"].value() or (str(working[0].code) if working else "")
    sender = next((c for c in form.connections if str(c.code) == picked), None)
    # Only the kinds this connection sends to: a Telegram bot is never offered a WhatsApp number.
    # (Hidden, not left out: app.js shows the others when the connection changes.)
    kinds = [(v, label, sender is not None and v not in sender.destination_kinds) for v, label in Destination.KINDS]
    ctx = {
        "form": form,
        "destination": destination,
        "connections": [(c, TARGET_EXAMPLES.get(c.kind, TARGET_EXAMPLES["whatsapp"])) for c in form.connections],
        "picked_connection": picked,
        "kinds": kinds,
        "target_example": TARGET_EXAMPLES.get(sender.kind if sender else "", TARGET_EXAMPLES["whatsapp"]),
    }
    return render(request, "transports/destination_form.html", ctx)


@require_member("routing")
def add_destination(request: MemberRequest) -> HttpResponse:
    form = DestinationForm(request.POST or None, workspace=request.workspace)
    if request.method == "POST" and form.is_valid():
        destination = form.save()
        messages.success(request, f"Destination {destination} added. Press Test to send it a test message.")
        return redirect("transports:destinations")
    return _form_page(request, form, None)


@require_member("routing")
def edit_destination(request: MemberRequest, code: UUID) -> HttpResponse:
    destination = get_for_member(request, Destination, code=code)
    form = DestinationForm(request.POST or None, workspace=request.workspace, instance=destination)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, f"Destination {destination} saved.")
        return redirect("transports:destinations")
    return _form_page(request, form, destination)


@require_member("routing")
@require_POST
def toggle_destination(request: MemberRequest, code: UUID) -> HttpResponse:
    destination = get_for_member(request, Destination, code=code)
    save_toggle(request, destination, "enabled")
    return render(request, "transports/_destination_toggle.html", {"d": destination})


@require_member("routing")
@require_POST
def delete_destination(request: MemberRequest, code: UUID) -> HttpResponse:
    destination = get_for_member(request, Destination, code=code)
    destination.delete()
    messages.success(request, f"Destination {destination} deleted. Routes that used it now have no destination.")
    return redirect("transports:destinations")


@require_member("routing")
@require_POST
def test_destination(request: MemberRequest, code: UUID) -> HttpResponse:
    """Send a test message through deliver(), the path every real message takes."""
    destination = get_for_member(request, Destination.objects.select_related("connection"), code=code)
    stamp = timezone.localtime().strftime("%H:%M:%S")
    text = f"✓ Test message from {request.workspace.name} ({stamp}). Requests for you will arrive here."
    try:
        remote_id = deliver(destination, text)
    except TransportError as exc:
        if exc.local:
            messages.warning(request, f"Sending to {destination} is paced: try again in {exc.retry_after:.0f} s.")
        else:
            messages.error(request, f"Test to {destination} failed: {exc}.")
    else:
        messages.success(request, f"Test message delivered to {destination} (message id {remote_id or '—'}).")
    return redirect("transports:destinations")


@require_member("routing")
@require_GET
def chats(request: MemberRequest) -> HttpResponse:
    """The picker: chats the chosen connection can send to, refreshed from the service now."""
    code = request.GET.get("connection", "")
    connection = scoped(request, Connection).filter(code=code).first() if parse_code(code) else None
    error = refresh_chats(connection) if connection is not None else ""
    found = DiscoveredChat.objects.filter(connection=connection, active=True).order_by("kind", "title")
    ctx = {"c": connection, "chats": found if connection else [], "error": error, "picked": request.GET.get("pick")}
    return render(request, "transports/_chats.html", ctx)
