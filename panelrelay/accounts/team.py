"""The Team page: members with four toggles each, and one-time invite links."""

from __future__ import annotations

from uuid import UUID

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.core.mail import send_mail
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from panelrelay.accounts.forms import AccountForm, InviteForm
from panelrelay.accounts.middleware import SESSION_KEY, MemberRequest
from panelrelay.accounts.models import PERMISSIONS, Invite, Membership
from panelrelay.core.tenancy import get_for_member, require_member, scoped
from panelrelay.core.toggles import switched_on


def invite_url(request: HttpRequest, invite: Invite) -> str:
    return request.build_absolute_uri(reverse("accounts:invite", args=[invite.token]))


@require_member()
def team(request: MemberRequest) -> HttpResponse:
    members = scoped(request, Membership).select_related("user").order_by("role", "created")
    invites = [i for i in scoped(request, Invite).order_by("-created") if i.usable]
    ctx = {
        "members": members,
        "invites": [(i, invite_url(request, i)) for i in invites],
        "form": InviteForm(),
        "permissions": PERMISSIONS,
        "new_link": request.session.pop("new_invite_link", None),
    }
    return render(request, "accounts/team.html", ctx)


@require_member(owner=True)
@require_POST
def toggle(request: MemberRequest, code: UUID, perm: str) -> HttpResponse:
    if perm not in PERMISSIONS:
        return HttpResponseBadRequest("unknown permission")
    member = get_for_member(request, Membership, code=code)
    if member.is_owner:
        raise PermissionDenied("The owner always has every permission.")
    value = switched_on(request)
    setattr(member, f"can_{perm}", value)
    member.save(update_fields=[f"can_{perm}"])
    return render(
        request, "accounts/_member_toggle.html", {"m": member, "key": perm, "on": value, "label": PERMISSIONS[perm]}
    )


@require_member(owner=True)
@require_POST
def remove_member(request: MemberRequest, code: UUID) -> HttpResponse:
    member = get_for_member(request, Membership, code=code)
    if member.is_owner:
        messages.error(request, "The owner cannot be removed.")
    else:
        member.delete()
        messages.success(request, f"{member.user.email} no longer has access to this workspace.")
    return redirect("accounts:team")


@require_member(owner=True)
@require_POST
def create_invite(request: MemberRequest) -> HttpResponse:
    form = InviteForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Enter a valid email address, or leave it empty.")
        return redirect("accounts:team")
    invite = Invite.objects.create(workspace=request.workspace, invited_by=request.user, **form.cleaned_data)
    link = invite_url(request, invite)
    if invite.email:
        send_mail(
            f"Join {request.workspace.name} on {settings.SITE_NAME}",
            f"{request.user.email} invited you to their workspace. Open this link within "
            f"{settings.INVITE_VALID_DAYS} days to join:\n\n{link}\n",
            None,
            [invite.email],
        )
        messages.success(request, f"Invite sent to {invite.email}. You can also copy the link below.")
    else:
        messages.success(request, "Invite link created. Send it to your team member; it works once.")
    request.session["new_invite_link"] = link
    return redirect("accounts:team")


@require_member(owner=True)
@require_POST
def revoke_invite(request: MemberRequest, code: UUID) -> HttpResponse:
    invite = get_for_member(request, Invite, code=code)
    invite.revoked = True
    invite.save(update_fields=["revoked"])
    messages.success(request, "Invite link revoked.")
    return redirect("accounts:team")


def _join(request: HttpRequest, invite: Invite, user: User) -> None:
    with transaction.atomic():
        locked = Invite.objects.select_for_update().get(pk=invite.pk)
        if not locked.usable:
            raise PermissionDenied("This invite link was used or has expired.")
        Membership.objects.get_or_create(
            user=user, workspace=invite.workspace, defaults={"role": Membership.STAFF, **invite.permissions()}
        )
        locked.accepted_by, locked.accepted_at = user, timezone.now()
        locked.save(update_fields=["accepted_by", "accepted_at"])
    request.session[SESSION_KEY] = str(invite.workspace.code)


def accept_invite(request: HttpRequest, token: str) -> HttpResponse:
    invite = get_object_or_404(Invite.objects.select_related("workspace"), token=token)
    if not invite.usable:
        return render(request, "accounts/invite_invalid.html", status=410)
    form = AccountForm(request.POST or None, initial={"email": invite.email})
    if request.method == "POST":
        if request.user.is_authenticated:
            _join(request, invite, request.user)
            messages.success(request, f"You joined {invite.workspace.name}.")
            return redirect("forwarding:home")
        if form.is_valid():
            data = form.cleaned_data
            with transaction.atomic():
                user = User.objects.create_user(username=data["email"], email=data["email"], password=data["password"])
                _join(request, invite, user)
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, f"Welcome! You joined {invite.workspace.name}.")
            return redirect("forwarding:home")
    return render(request, "accounts/invite_accept.html", {"invite": invite, "form": form})
