"""Settings → Connections (Telegram bots, WhatsApp gateways) and Settings → Alerts."""

from __future__ import annotations

import base64
from typing import Any
from uuid import UUID

from django.conf import settings
from django.contrib import messages
from django.db.models import Count, ProtectedError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from panelrelay.accounts.middleware import MemberRequest
from panelrelay.core.tenancy import get_for_member, get_picked, require_member, scoped
from panelrelay.transports import hooks
from panelrelay.transports.alerts import alert_text
from panelrelay.transports.base import Status, TransportError
from panelrelay.transports.integrations import REGISTRY, form_class
from panelrelay.transports.integrations.telegram import webhook
from panelrelay.transports.integrations.telegram_user import login
from panelrelay.transports.integrations.telegram_user.forms import CodeForm, LoginForm, PasswordForm
from panelrelay.transports.integrations.waha.transport import WahaTransport
from panelrelay.transports.models import AlertSettings, Connection, Destination, Incident, StartLink
from panelrelay.transports.services import deliver, refresh_status

KIND_HELP = {
    "telegram": "Create a bot with @BotFather, paste its token, then add the bot to your providers' groups.",
    "telegram_user": "A personal Telegram account that sends as itself, for providers who will not start a bot.",
    "waha": "Your self-hosted WAHA server. PanelRelay shows the pairing QR code here while the session waits.",
    "evolution": "Your self-hosted Evolution API and one of its instances.",
    "greenapi": "A Green-API instance (hosted). Its idInstance and token are in the Green-API console.",
}
KIND_STEPS = {
    "telegram": [
        "In Telegram, open @BotFather, send /newbot and choose a name: it answers with the token.",
        "Paste the token here and save: PanelRelay checks it at once (getMe).",
        "Add the bot to each provider's group. The groups then appear in the Destinations picker.",
        "For a provider who writes from a personal account, send a one-time start link from the Destinations page.",
    ],
    "telegram_user": [
        "On my.telegram.org (API development tools), create an app: it shows the api_id and api_hash.",
        "Give them here with the account's phone number: Telegram sends a login code to the account.",
        "Type the code, then the two-step verification password if the account has one.",
        "Destinations are @usernames, +phone numbers in the account's contacts, or t.me links.",
        "Telegram limits accounts that send like bots: PanelRelay keeps at least 5 s between messages.",
    ],
    "waha": [
        "Run WAHA on your server (docker) with WAHA_API_KEY set, and give its address here.",
        "Save: if the session waits for pairing, its QR code appears on the Connections page.",
        "Scan it with the WhatsApp of the number that will send: WhatsApp → Linked devices.",
        "Unofficial gateways can get a number banned for bot-like sending: keep the pause between messages.",
    ],
    "evolution": [
        "Give the address of your Evolution API and the instance that is connected to WhatsApp.",
        "The API key is the global AUTHENTICATION_API_KEY or the instance's own token.",
        "Pair the instance in Evolution's manager if its state is not “open”.",
        "Unofficial gateways can get a number banned for bot-like sending: keep the pause between messages.",
    ],
    "greenapi": [
        "In console.green-api.com, open your instance: it shows the apiUrl, idInstance and apiTokenInstance.",
        "Authorise the instance there by scanning its QR code with WhatsApp.",
        "The Developer plan allows only a few chats a month: PanelRelay tells you when the quota is reached.",
    ],
}


@require_member("routing")
def connections(request: MemberRequest) -> HttpResponse:
    found = scoped(request, Connection).annotate(n_destinations=Count("destinations")).order_by("name")
    # Each with the URL a gateway posts to, shown only to those who may edit connections.
    rows = [(c, hooks.url_for(c) if c.receive == Connection.RECEIVE_WEBHOOK else "") for c in found]
    ctx = {"tab": "connections", "connections": rows, "kinds": Connection.KINDS, "help": KIND_HELP,
           "webhook_base": settings.SITE_URL.rstrip("/"), "receive_choices": Connection.RECEIVE_CHOICES}  # fmt: skip
    return render(request, "transports/connections.html", ctx)


def _flash_status(request: HttpRequest, connection: Connection, status: Status) -> None:
    if status.state == Connection.WORKING:
        messages.success(request, f"{connection.name} works: {status.message}.")
    elif status.state == Connection.PENDING:
        messages.warning(request, f"{connection.name} is saved and waits: {status.message}.")
    else:
        messages.error(request, f"{connection.name} is saved, but it does not work yet: {status.message}.")


@require_member("routing")
def add_connection(request: MemberRequest, kind: str) -> HttpResponse:
    if kind not in REGISTRY:
        raise Http404("no such connection kind")
    if kind == "telegram_user":
        return redirect("transports:telegram_user_login")
    form = form_class(kind)(request.POST or None)
    if request.method == "POST" and form.is_valid():
        connection = form.save(request.workspace)
        _flash_status(request, connection, refresh_status(connection))
        return redirect("transports:connections")
    ctx = {"tab": "connections", "form": form, "kind_label": dict(Connection.KINDS)[kind], "help": KIND_HELP[kind],
           "steps": KIND_STEPS[kind]}  # fmt: skip
    return render(request, "transports/connection_form.html", ctx)


@require_member("routing")
def edit_connection(request: MemberRequest, code: UUID) -> HttpResponse:
    connection = get_for_member(request, Connection, code=code)
    form = form_class(connection.kind)(request.POST or None, instance=connection)
    if request.method == "POST" and form.is_valid():
        form.save(request.workspace)
        _flash_status(request, connection, refresh_status(connection))
        return redirect("transports:connections")
    ctx = {"tab": "connections", "form": form, "connection": connection, "kind_label": connection.get_kind_display(),
           "help": KIND_HELP[connection.kind], "steps": KIND_STEPS[connection.kind]}  # fmt: skip
    return render(request, "transports/connection_form.html", ctx)


LOGIN_STEPS = {"start": LoginForm, "code": CodeForm, "password": PasswordForm}


@require_member("routing")
def telegram_user_login(request: MemberRequest) -> HttpResponse:
    """Add a Telegram user account: phone → code → two-step password, one form per step.

    The half-done login is kept encrypted in the Django session, tied to this workspace.
    """
    pending = login.load(request.session.get(login.SESSION_KEY))
    if pending is not None and pending.get("workspace") != request.workspace.pk:
        pending = None
    if request.method == "POST" and "restart" in request.POST:
        request.session.pop(login.SESSION_KEY, None)
        return redirect("transports:telegram_user_login")
    step = pending["step"] if pending else "start"
    form = LOGIN_STEPS[step](request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            return _login_step(request, step, form.cleaned_data, pending)
        except login.LoginError as exc:
            if exc.restart:
                request.session.pop(login.SESSION_KEY, None)
            messages.error(request, str(exc))
            return redirect("transports:telegram_user_login")
    ctx = {"tab": "connections", "form": form, "step": step, "pending": pending,
           "help": KIND_HELP["telegram_user"], "steps": KIND_STEPS["telegram_user"]}  # fmt: skip
    return render(request, "transports/telegram_user_login.html", ctx)


def _login_step(
    request: MemberRequest, step: str, data: dict[str, Any], pending: dict[str, Any] | None
) -> HttpResponse:
    """Run one step; redirect to the next one, or to Connections once signed in."""
    if step == "start":
        pending = login.start(data["name"], data["api_id"], data["api_hash"], data["phone"])
        pending["workspace"] = request.workspace.pk
        messages.info(request, "Telegram sent a login code to the account. Type it below.")
        user = None
    elif pending is None:  # only "start" comes without a half-done login; anything else starts over
        return redirect("transports:telegram_user_login")
    elif step == "code":
        user = login.submit_code(pending, data["code"])
        if user is None:
            messages.info(request, "The account has two-step verification: enter its password.")
    else:
        user = login.submit_password(pending, data["password"])
    if user is None:
        request.session[login.SESSION_KEY] = login.dump(pending)
        return redirect("transports:telegram_user_login")
    request.session.pop(login.SESSION_KEY, None)
    connection = login.save(request.workspace, pending, user)
    messages.success(request, f"{connection.name} works: {connection.status_message}.")
    return redirect("transports:connections")


@require_member("routing")
@require_POST
def check_connection(request: MemberRequest, code: UUID) -> HttpResponse:
    connection = get_for_member(request, Connection, code=code)
    _flash_status(request, connection, refresh_status(connection))
    return redirect("transports:connections")


@require_member("routing")
@require_POST
def updates_mode(request: MemberRequest, code: UUID) -> HttpResponse:
    """A Telegram bot's updates: polled by the worker (default), or pushed by Telegram (webhook)."""
    connection = get_for_member(request, Connection.objects.filter(kind="telegram"), code=code)
    use_webhook = request.POST.get("mode") == "webhook"
    try:
        if use_webhook:
            webhook.enable(connection)
        else:
            webhook.disable(connection)
    except TransportError as exc:
        what = "set the webhook" if use_webhook else "remove the webhook"
        messages.error(request, f"{connection.name}: Telegram did not {what}: {exc}")
        return redirect("transports:connections")
    refresh_status(connection)  # the status column says which way updates come
    if use_webhook:
        messages.success(request, f"{connection.name}: Telegram now sends updates to {connection.webhook_url}.")
    else:
        messages.success(request, f"{connection.name}: back to polling; the worker reads updates every 15 s.")
    return redirect("transports:connections")


@require_member("routing")
@require_POST
def receive_mode(request: MemberRequest, code: UUID) -> HttpResponse:
    """How messages written to a WhatsApp gateway or a Telegram user account reach PanelRelay."""
    connection = get_for_member(request, Connection.objects.exclude(kind="telegram"), code=code)
    mode = request.POST.get("receive", "")
    allowed = dict(Connection.RECEIVE_CHOICES)
    if mode not in allowed or (mode == Connection.RECEIVE_WEBHOOK and connection.kind not in hooks.GATEWAYS):
        return HttpResponseBadRequest("receive: choose off, webhook (WhatsApp gateways) or poll")
    Connection.objects.filter(pk=connection.pk).update(receive=mode, poll_state={})
    if mode == Connection.RECEIVE_WEBHOOK:
        connection.receive = mode
        messages.success(request, f"{connection.name}: paste this webhook URL into the gateway (message events): "
                                  f"{hooks.url_for(connection)}")  # fmt: skip
    elif mode == Connection.RECEIVE_POLL:
        messages.success(request, f"{connection.name}: the worker reads the destination chats every 30 s.")
    else:
        messages.success(request, f"{connection.name}: messages written to it are not read.")
    return redirect("transports:connections")


@require_member("routing")
@require_POST
def delete_connection(request: MemberRequest, code: UUID) -> HttpResponse:
    connection = get_for_member(request, Connection, code=code)
    try:
        connection.delete()
    except ProtectedError:
        n = connection.destinations.count()
        messages.error(request, f"{connection.name} still sends to {n} destination(s): move or delete them first.")
    else:
        messages.success(request, f"Connection {connection.name} deleted; its token is gone with it.")
    return redirect("transports:connections")


@require_member("routing")
def qr_code(request: MemberRequest, code: UUID) -> HttpResponse:
    """The WAHA pairing QR code, fetched through us so the owner needs no access to WAHA itself.
    Polled by the page every few seconds while the session waits; stops once it works."""
    connection = get_for_member(request, Connection, code=code)
    png, status = None, None
    if connection.kind == "waha":
        status = refresh_status(connection)
        if status.state == Connection.PENDING:
            png = WahaTransport(connection).qr_png()
    image = "data:image/png;base64," + base64.b64encode(png).decode() if png else ""
    return render(request, "transports/_qr.html", {"c": connection, "image": image, "status": status})


@require_member("routing")
@require_POST
def start_link(request: MemberRequest, code: UUID) -> HttpResponse:
    """A new one-time t.me/<bot>?start=<token> link, for a person to press Start."""
    connection = get_for_member(request, Connection, code=code)
    username = connection.config.get("username")
    link = None
    if connection.is_telegram and username:
        token = StartLink.objects.create(workspace=request.workspace, connection=connection).token
        link = f"https://t.me/{username}?start={token}"
    return render(request, "transports/_start_link.html", {"c": connection, "link": link})


@require_member(owner=True)
def alerts(request: MemberRequest) -> HttpResponse:
    alert_settings = AlertSettings.of(request.workspace)
    destinations = scoped(request, Destination).order_by("name")
    if request.method == "POST":
        alert_settings.destination = get_picked(request, Destination, request.POST, "destination")
        alert_settings.save(update_fields=["destination"])
        where = alert_settings.destination or "your email (no alert destination)"
        messages.success(request, f"Alerts go to {where}.")
        return redirect("transports:alerts")
    ctx = {
        "tab": "alerts",
        "alert_settings": alert_settings,
        "destinations": destinations,
        "incidents": scoped(request, Incident).order_by("-opened")[:50],
    }
    return render(request, "transports/alerts.html", ctx)


@require_member(owner=True)
@require_POST
def test_alert(request: MemberRequest) -> HttpResponse:
    destination = AlertSettings.of(request.workspace).destination
    if destination is None:
        messages.error(request, "Choose an alert destination first.")
        return redirect("transports:alerts")
    text = alert_text(request.workspace, "This is a test alert. Real alerts say which destination or connection broke.")
    try:
        deliver(destination, text)
    except TransportError as exc:
        messages.error(request, f"The test alert to {destination} failed: {exc}.")
    else:
        messages.success(request, f"Test alert delivered to {destination}.")
    return redirect("transports:alerts")
