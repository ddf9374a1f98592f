"""The Customers page (who writes, their links, the conversation, staff takeover) and
Settings → Customers (which connections take customers, limits, the answer templates).

Seeing customers and their conversations takes "See all activity"; linking, pausing and blocking
take "Forward requests" too (a linked customer makes requests); the settings take "Manage routing".
"""

from __future__ import annotations

import re
from datetime import timedelta
from uuid import UUID

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Max, Q
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from panelrelay.accounts.middleware import MemberRequest
from panelrelay.core import params
from panelrelay.core.tenancy import get_for_member, get_picked, require_member, scoped
from panelrelay.customers import linking
from panelrelay.customers.models import (
    KIND_LABELS,
    KINDS,
    ChatState,
    Customer,
    CustomerChannel,
    CustomerLink,
    CustomerSettings,
    ReplyTemplate,
)
from panelrelay.intake.tickets import provider_names
from panelrelay.panels.models import Panel
from panelrelay.panels.privacy import AddressInText, refuse_addresses
from panelrelay.transports.models import Connection

# What the conversation says beside a message: why the bot kept quiet, or which answer it was.
ENTRY_LABELS = {
    "silent": "no answer (chatter)", "paused": "no answer (staff took over)", "blocked": "no answer (blocked)",
    "limited": "over the rate limit", "too_many": "rate-limit refusal", "answer": "the answer",
    "link": "link steps", "link_private": "asked to link in private", "linked": "linked", "help": "help", "outcome_done": "provider's outcome: done",
    "outcome_refused": "provider's outcome: refused",
}  # fmt: skip
CONVERSATION = 100  # entries shown on a customer's page, newest last
CUSTOMER_KINDS = ("telegram", "waha", "evolution", "greenapi")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})?$")


def _acting(request: MemberRequest) -> None:
    if not request.membership.has("forward"):
        raise PermissionDenied("Your role in this workspace does not allow this. Ask the owner.")


@require_member("activity")
def customers(request: MemberRequest) -> HttpResponse:
    query = params.text(request.GET, "q", max_length=100).strip()
    rows = scoped(request, Customer).annotate(last=Max("entries__at")).prefetch_related("links__panel")
    if query:
        rows = rows.filter(Q(identity__icontains=query.lstrip("+")) | Q(name__icontains=query)
                           | Q(links__username__iexact=query)).distinct()  # fmt: skip
    page = Paginator(rows.order_by("-last", "-id"), 50).get_page(params.integer(request.GET, "page", 1, minimum=1,
                                                                              maximum=100_000))  # fmt: skip
    channels = scoped(request, CustomerChannel).filter(enabled=True).select_related("connection")
    context = {"page": page, "q": query, "channels": channels, "can_act": request.membership.has("forward")}
    return render(request, "customers/customers.html", context)


@require_member("activity")
def customer(request: MemberRequest, code: UUID) -> HttpResponse:
    found = get_for_member(request, Customer, "activity", code=code)
    entries = list(found.entries.select_related("request", "connection").order_by("-at", "-id")[:CONVERSATION])[::-1]
    now = timezone.now()
    chats = {}
    for entry in entries:
        if entry.connection_id is not None:
            chats[(entry.connection_id, entry.chat_id)] = entry.connection
    states = {(s.connection_id, s.chat_id): s for s in scoped(request, ChatState).filter(
        chat_id__in=[c for _, c in chats])}  # fmt: skip
    chat_rows = [{"connection": conn, "chat_id": chat, "state": states.get((cid, chat)),
                  "paused": bool(states.get((cid, chat)) and states[(cid, chat)].paused(now))}
                 for (cid, chat), conn in chats.items()]  # fmt: skip
    context = {
        "customer": found, "entries": [(e, ENTRY_LABELS.get(e.kind, "")) for e in entries], "chats": chat_rows,
        "links": found.links.select_related("panel", "linked_by").order_by("id"),
        "panels": scoped(request, Panel).filter(enabled=True).order_by("created", "id"),
        "codes": found.codes.order_by("-created")[:5], "now": now,
        "can_act": request.membership.has("forward"),
        "pause_hours": CustomerSettings.of(request.workspace).pause_hours,
    }  # fmt: skip
    return render(request, "customers/customer.html", context)


@require_member("activity")
@require_POST
def add(request: MemberRequest) -> HttpResponse:
    """Staff add a customer by number or Telegram id (before they write) and link a username."""
    _acting(request)
    network = params.text(request.POST, "network", max_length=10)
    identity = params.text(request.POST, "identity", max_length=100).strip().lstrip("+").replace(" ", "")
    if network not in dict(Customer.NETWORKS) or not params.is_digits(identity, max_length=30):
        messages.error(request, "Give a WhatsApp number (digits, with the country code) or a Telegram user id.")
        return redirect("customers:customers")
    found, _ = Customer.objects.get_or_create(workspace=request.workspace, network=network, identity=identity)
    return _link(request, found)


@require_member("activity")
@require_POST
def link(request: MemberRequest, code: UUID) -> HttpResponse:
    _acting(request)
    return _link(request, get_for_member(request, Customer, "activity", code=code))


def _link(request: MemberRequest, found: Customer) -> HttpResponse:
    panel = get_picked(request, Panel, request.POST, "panel")
    username = params.text(request.POST, "username", max_length=150).strip()
    if panel is None or not username:
        messages.error(request, "Choose the panel and type the customer's panel username.")
    else:
        linking.link_by_staff(found, panel, username, request.user)
        messages.success(
            request, f"Linked to {username} on {panel.name}: their requests act on that user's orders only."
        )
    return redirect("customers:customer", found.code)


@require_member("activity")
@require_POST
def unlink(request: MemberRequest, code: UUID) -> HttpResponse:
    _acting(request)
    found = get_for_member(request, CustomerLink, "activity", code=code)
    found.delete()
    messages.success(request, f"Unlinked {found.username}.")
    return redirect("customers:customer", found.customer.code)


@require_member("activity")
@require_POST
def block(request: MemberRequest, code: UUID) -> HttpResponse:
    _acting(request)
    found = get_for_member(request, Customer, "activity", code=code)
    found.blocked = params.text(request.POST, "value", max_length=3) == "on"
    found.save(update_fields=["blocked"])
    messages.success(request, "Blocked: the bot ignores them." if found.blocked else "Unblocked.")
    return redirect("customers:customer", found.code)


@require_member("activity")
@require_POST
def pause(request: MemberRequest, code: UUID) -> HttpResponse:
    """Staff takeover of one chat: the bot is silent there for N hours, or until resumed."""
    _acting(request)
    found = get_for_member(request, Customer, "activity", code=code)
    connection = get_picked(request, Connection, request.POST, "connection")
    chat = params.text(request.POST, "chat", max_length=200)
    if connection is None or not found.entries.filter(connection=connection, chat_id=chat).exists():
        messages.error(request, "That chat is not one of this customer's.")
        return redirect("customers:customer", found.code)
    default = CustomerSettings.of(request.workspace).pause_hours
    hours = params.integer(request.POST, "hours", default, minimum=0, maximum=24 * 30)
    state, _ = ChatState.objects.get_or_create(workspace=request.workspace, connection=connection, chat_id=chat)
    if hours:
        state.paused_until, state.paused_by = timezone.now() + timedelta(hours=hours), request.user
        messages.success(request, f"The bot is silent in this chat for {hours} hours, or until you resume it.")
    else:
        state.paused_until = None
        messages.success(request, "The bot answers in this chat again.")
    state.save(update_fields=["paused_until", "paused_by"])
    return redirect("customers:customer", found.code)


@require_member("activity")
@require_POST
def language(request: MemberRequest, code: UUID) -> HttpResponse:
    _acting(request)
    found = get_for_member(request, Customer, "activity", code=code)
    value = params.text(request.POST, "language", max_length=10).strip().casefold()
    if value and not _LANGUAGE.match(value):
        messages.error(request, "A language is a code like en, ru or pt-br.")
    else:
        found.language = value
        found.save(update_fields=["language"])
    return redirect("customers:customer", found.code)


# ----- Settings → Customers ----------------------------------------------------------------


@require_member("routing")
def settings_page(request: MemberRequest) -> HttpResponse:
    options = CustomerSettings.of(request.workspace)
    language = params.text(request.GET, "language", max_length=10).strip().casefold()
    if language and not _LANGUAGE.match(language):
        language = ""
    if request.method == "POST":
        return _save_settings(request, options)
    connections = scoped(request, Connection).filter(kind__in=CUSTOMER_KINDS).order_by("name", "id")
    channels = {c.connection_id: c for c in scoped(request, CustomerChannel)}
    mine = dict(scoped(request, ReplyTemplate).filter(language=language).values_list("kind", "text"))
    languages = sorted(set(scoped(request, ReplyTemplate).exclude(language="").values_list("language", flat=True)))
    context = {
        "tab": "customers", "options": options,
        "rows": [{"connection": c, "channel": channels.get(c.pk)} for c in connections],
        "templates": [{"kind": k, "label": KIND_LABELS[k], "text": mine.get(k, ""), "default": KINDS[k]} for k in KINDS],
        "language": language, "languages": languages,
        "panels": scoped(request, Panel).order_by("created", "id"),
    }  # fmt: skip
    return render(request, "customers/settings.html", context)


def _save_settings(request: MemberRequest, options: CustomerSettings) -> HttpResponse:
    what = params.text(request.POST, "form", max_length=20)
    if what == "channel":
        connection = get_picked(request, Connection, request.POST, "connection")
        if connection is None or connection.kind not in CUSTOMER_KINDS:
            messages.error(request, "Choose a WhatsApp gateway or a Telegram bot connection.")
            return redirect("customers:settings")
        groups = [g for g in re.split(r"[\s,]+", params.text(request.POST, "groups", max_length=2000)) if g][:50]
        channel, _ = CustomerChannel.objects.get_or_create(workspace=request.workspace, connection=connection)
        channel.enabled = params.text(request.POST, "enabled", max_length=3) == "on"
        channel.groups = groups
        channel.save(update_fields=["enabled", "groups"])
        messages.success(request, f"{connection.name}: customer support {'on' if channel.enabled else 'off'}.")
    elif what == "limits":
        options.messages_per_minute = params.integer(request.POST, "messages_per_minute", 20, minimum=1, maximum=1000)
        options.ids_per_minute = params.integer(request.POST, "ids_per_minute", 100, minimum=1, maximum=100)
        options.code_valid_hours = params.integer(request.POST, "code_valid_hours", 24, minimum=1, maximum=24 * 14)
        options.pause_hours = params.integer(request.POST, "pause_hours", 12, minimum=1, maximum=24 * 30)
        options.save()
        messages.success(request, "Customer settings saved.")
    elif what == "templates":
        language = params.text(request.POST, "language", max_length=10).strip().casefold()
        if language and not _LANGUAGE.match(language):
            messages.error(request, "A language is a code like en, ru or pt-br.")
            return redirect("customers:settings")
        problems = _save_templates(request, language)
        for problem in problems:
            messages.error(request, problem)
        if not problems:
            messages.success(request, f"Answers saved{' for ' + language if language else ''}.")
        return redirect(f"{_settings_url()}?language={language}" if language else _settings_url())
    return redirect("customers:settings")


def _settings_url() -> str:
    return reverse("customers:settings")


def _save_templates(request: MemberRequest, language: str) -> list[str]:
    aliases = provider_names(request.workspace.pk)
    problems = []
    for kind in KINDS:
        text = params.text(request.POST, f"t_{kind}", max_length=2000).strip()
        try:
            refuse_addresses(request.workspace.pk, text, f"The “{KIND_LABELS[kind]}” answer")
        except AddressInText as exc:
            problems.append(str(exc))
            continue
        if aliases and aliases.search(text):
            problems.append(f"The “{KIND_LABELS[kind]}” answer names a provider: customers never read one.")
            continue
        if text:
            ReplyTemplate.objects.update_or_create(workspace=request.workspace, language=language, kind=kind,
                                                   defaults={"text": text})  # fmt: skip
        else:
            ReplyTemplate.objects.filter(workspace=request.workspace, language=language, kind=kind).delete()
    return problems
