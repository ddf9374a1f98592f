"""Sign up, sign in/out, workspaces and switching between them."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import authenticate, login, logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from panelrelay.accounts import throttle
from panelrelay.accounts.forms import SignInForm, SignUpForm, WorkspaceForm
from panelrelay.accounts.middleware import SESSION_KEY
from panelrelay.accounts.models import Membership, Workspace
from panelrelay.core.tenancy import require_member


def _safe_next(request: HttpRequest, default: str = "forwarding:home") -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return default


def create_workspace(user: User, name: str) -> Workspace:
    with transaction.atomic():
        workspace = Workspace.objects.create(name=name)
        Membership.objects.create(user=user, workspace=workspace, role=Membership.OWNER)
    return workspace


def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("forwarding:home")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with transaction.atomic():
            user = User.objects.create_user(username=data["email"], email=data["email"], password=data["password"])
            workspace = create_workspace(user, data["workspace"])
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        request.session[SESSION_KEY] = str(workspace.code)
        messages.success(request, f"Welcome! Workspace “{workspace.name}” is ready. Start by adding a panel.")
        return redirect("forwarding:forward")
    return render(request, "accounts/signup.html", {"form": form})


def signin(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect(_safe_next(request))
    form = SignInForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"].strip().lower()
        ip = throttle.client_ip(request)
        wait = throttle.seconds_locked(email, ip)
        if wait:
            minutes = max(1, round(wait / 60))
            form.add_error(None, f"Too many failed sign-ins. Try again in about {minutes} min, or reset your password.")
            status = 429
        else:
            user = authenticate(request, username=email, password=form.cleaned_data["password"])
            if user is None:
                throttle.record_failure(email, ip)
                form.add_error(None, "Email or password is not correct.")
            else:
                throttle.clear_account(email)
                login(request, user)
                return redirect(_safe_next(request))
    return render(request, "accounts/login.html", {"form": form, "next": _safe_next(request, "")}, status=status)


@require_POST
def signout(request: HttpRequest) -> HttpResponse:
    logout(request)
    messages.info(request, "You are signed out.")
    return redirect("accounts:login")


@login_required
def no_workspace(request: HttpRequest) -> HttpResponse:
    if request.workspace is not None:
        return redirect("forwarding:home")
    form = WorkspaceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        workspace = create_workspace(request.user, form.cleaned_data["name"])
        request.session[SESSION_KEY] = str(workspace.code)
        return redirect("forwarding:home")
    return render(request, "accounts/no_workspace.html", {"form": form})


@login_required
@require_POST
def switch_workspace(request: HttpRequest) -> HttpResponse:
    code = request.POST.get("workspace", "")
    membership = next((m for m in request.memberships if str(m.workspace.code) == code), None)
    if membership is None:
        messages.error(request, "That workspace is not one of yours.")
    else:
        request.session[SESSION_KEY] = code
        messages.success(request, f"Switched to {membership.workspace.name}.")
    return redirect("forwarding:home")


@login_required
@require_POST
def new_workspace(request: HttpRequest) -> HttpResponse:
    form = WorkspaceForm(request.POST)
    if form.is_valid():
        workspace = create_workspace(request.user, form.cleaned_data["name"])
        request.session[SESSION_KEY] = str(workspace.code)
        messages.success(request, f"Workspace “{workspace.name}” created. You are its owner.")
    else:
        messages.error(request, "Give the new workspace a name.")
    return redirect("accounts:settings")


@require_member()
def settings_page(request: HttpRequest) -> HttpResponse:
    form = WorkspaceForm(request.POST or None, initial={"name": request.workspace.name})
    if request.method == "POST":
        if not request.membership.is_owner:
            messages.error(request, "Only the owner can rename the workspace.")
        elif form.is_valid():
            request.workspace.name = form.cleaned_data["name"]
            request.workspace.save(update_fields=["name"])
            messages.success(request, "Workspace renamed.")
            return redirect("accounts:settings")
    return render(request, "accounts/settings.html", {"form": form, "new_form": WorkspaceForm(), "tab": "general"})
