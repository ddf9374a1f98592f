"""Sign up, sign in/out, workspaces and switching between them."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from panelrelay.accounts import signin_link, throttle
from panelrelay.accounts.forms import SignInForm, SignUpForm, WorkspaceForm
from panelrelay.accounts.middleware import SESSION_KEY, MemberRequest, SignedInRequest
from panelrelay.accounts.models import Membership, Workspace
from panelrelay.core.tenancy import require_member


def _safe_next(request: HttpRequest, default: str = "forwarding:home") -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    # A path only: redirect() would take "forward" for a view name and fail to reverse it.
    if target.startswith("/") and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
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
    ip = throttle.client_ip(request)
    wait = throttle.take("signup-ip", ip, settings.SIGNUP_THROTTLE_PER_IP) if request.method == "POST" and ip else 0
    if wait:
        # Not validated: the form's "exists already" would let a throttled client keep probing emails.
        form = SignUpForm(initial={"workspace": request.POST.get("workspace"), "email": request.POST.get("email")})
        throttled = f"Too many sign-ups from your address. Try again in about {throttle.minutes(wait)} min."
        return render(request, "accounts/signup.html", {"form": form, "throttled": throttled}, status=429)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with transaction.atomic():
            user = User.objects.create_user(username=data["email"], email=data["email"], password=data["password"])
            workspace = create_workspace(user, data["workspace"])
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        request.session[SESSION_KEY] = str(workspace.code)
        messages.success(request, f"Welcome! Workspace “{workspace.name}” is ready. Start by adding a panel.")
        return redirect("forwarding:home")  # the set-up checklist
    return render(request, "accounts/signup.html", {"form": form})


def signin(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect(_safe_next(request))
    form = SignInForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"].strip().lower()
        attempt = throttle.begin_sign_in(email, throttle.client_ip(request))
        if attempt.wait:
            form.add_error(
                None,
                "Too many failed sign-ins to this account from your address. "
                f"Try again in about {throttle.minutes(attempt.wait)} min, or reset your password.",
            )
            status = 429
        else:
            user = authenticate(request, username=email, password=form.cleaned_data["password"])
            if user is not None:
                throttle.password_was_right(attempt)
            if attempt.by_email:
                # The same answer for a right and a wrong password: only the mailbox learns which.
                if user is not None:
                    signin_link.send(request, user)
                form.add_error(None, SIGN_IN_BY_EMAIL)
                status = 429
            elif user is None:
                form.add_error(None, "Email or password is not correct.")
            else:
                login(request, user)
                return redirect(_safe_next(request))
    return render(request, "accounts/login.html", {"form": form, "next": _safe_next(request, "")}, status=status)


SIGN_IN_BY_EMAIL = (
    "Many sign-ins have failed lately from your network or for this account, so this one finishes by email: "
    "if the email and password are right, a sign-in link is on its way "
    f"(it works for {signin_link.MAX_AGE // 60} minutes)."
)


def signin_by_link(request: HttpRequest, token: str) -> HttpResponse:
    """The emailed link: a page with a button, so a mail scanner opening the link signs nobody in."""
    user = signin_link.user_for(token)
    if user is None:
        return render(request, "accounts/signin_link.html", {}, status=400)
    if request.method == "POST":
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect("forwarding:home")
    return render(request, "accounts/signin_link.html", {"email": user.email})


class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset, throttled per client address and per email.

    The per-email count is of requests, whether or not an account has that email, so the
    answer never tells which emails have accounts.
    """

    def form_valid(self, form):
        ip = throttle.client_ip(self.request)
        email = form.cleaned_data["email"].strip()
        wait = throttle.take("reset-ip", ip, settings.PASSWORD_RESET_THROTTLE_PER_IP) if ip else 0
        wait = wait or throttle.take("reset-email", email, settings.PASSWORD_RESET_THROTTLE_PER_EMAIL)
        if wait:
            form.add_error(
                None,
                "Too many reset requests from your address or for this email. Look for a link sent "
                f"earlier (also in spam), or try again in about {throttle.minutes(wait)} min.",
            )
            return self.render_to_response(self.get_context_data(form=form), status=429)
        return super().form_valid(form)


@require_POST
def signout(request: HttpRequest) -> HttpResponse:
    logout(request)
    messages.info(request, "You are signed out.")
    return redirect("accounts:login")


@login_required
def no_workspace(request: SignedInRequest) -> HttpResponse:
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
def switch_workspace(request: SignedInRequest) -> HttpResponse:
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
def new_workspace(request: SignedInRequest) -> HttpResponse:
    form = WorkspaceForm(request.POST)
    if form.is_valid():
        workspace = create_workspace(request.user, form.cleaned_data["name"])
        request.session[SESSION_KEY] = str(workspace.code)
        messages.success(request, f"Workspace “{workspace.name}” created. You are its owner.")
    else:
        messages.error(request, "Give the new workspace a name.")
    return redirect("accounts:settings")


@require_member()
def settings_page(request: MemberRequest) -> HttpResponse:
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
