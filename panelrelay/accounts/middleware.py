"""Attach the current workspace and membership to each request; stop suspended workspaces."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from panelrelay.accounts.models import Membership, Workspace

SESSION_KEY = "workspace"
# Paths a member of a suspended workspace can still use: to leave, or to switch elsewhere.
SUSPENDED_ALLOWED = ("/accounts/", "/static/", "/master/")


class WorkspaceRequest(HttpRequest):
    """A request once WorkspaceMiddleware has run: the attributes it sets, for type checking."""

    workspace: Workspace | None
    membership: Membership | None
    memberships: list[Membership]


class SignedInRequest(WorkspaceRequest):
    """The request of a @login_required view."""

    user: User


class MemberRequest(SignedInRequest):
    """The request of a view behind core.tenancy.require_member(): signed in and inside a workspace."""

    workspace: Workspace
    membership: Membership


class WorkspaceMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: WorkspaceRequest) -> HttpResponse:
        request.membership = None
        request.workspace = None
        request.memberships = []
        if request.user.is_authenticated:
            self._attach(request, request.user)
            workspace = request.workspace
            if workspace is not None and workspace.suspended and not request.path.startswith(SUSPENDED_ALLOWED):
                return render(request, "accounts/suspended.html", status=403)
            if workspace is not None:
                workspace.touch()
        return self.get_response(request)

    def _attach(self, request: WorkspaceRequest, user: User) -> None:
        memberships = list(user.memberships.select_related("workspace").order_by("workspace__name"))
        request.memberships = memberships
        if not memberships:
            return
        wanted = request.session.get(SESSION_KEY)
        current = next((m for m in memberships if str(m.workspace.code) == wanted), memberships[0])
        request.membership = current
        request.workspace = current.workspace
