"""Tenant guards: every object lookup in a view goes through here.

Outsiders get 404 (an object of another workspace does not exist for them); a member who
lacks the permission toggle gets 403. Views never query by a bare id.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, Protocol, TypeVar

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect

from panelrelay.core import params

M = TypeVar("M", bound=Model)
View = Callable[..., HttpResponseBase]  # a streamed CSV export is a view too


class _Member(Protocol):
    @property
    def is_owner(self) -> bool: ...
    def has(self, perm: str) -> bool: ...


class TenantRequest(Protocol):
    """What the guards read from a request behind require_member(). core imports no app, so it names
    the attributes rather than the models; accounts.middleware.MemberRequest is the real type."""

    @property
    def workspace(self) -> Model: ...
    @property
    def membership(self) -> _Member: ...


def require_member(perm: str | None = None, owner: bool = False) -> Callable[[View], View]:
    """Signed in, inside a workspace, and (optionally) holding `perm` or being the owner."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            membership = getattr(request, "membership", None)
            if membership is None:
                # The platform operator (a superuser) works in the master area, not in a workspace.
                return redirect("master:workspaces" if request.user.is_superuser else "accounts:no_workspace")
            if owner and not membership.is_owner:
                raise PermissionDenied("Only the workspace owner can do this.")
            if perm and not membership.has(perm):
                raise PermissionDenied("Your role in this workspace does not allow this. Ask the owner.")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def scoped(request: TenantRequest, model_or_qs: type[M] | QuerySet[M]) -> QuerySet[M]:
    """The rows of the current workspace only."""
    qs = model_or_qs if isinstance(model_or_qs, QuerySet) else model_or_qs._default_manager.all()
    return qs.filter(workspace=request.workspace)


def get_for_member(
    request: TenantRequest, model_or_qs: type[M] | QuerySet[M], perm: str | None = None, **lookup: Any
) -> M:
    """Fetch one object of the current workspace: 404 for outsiders, 403 without `perm`."""
    obj = get_object_or_404(scoped(request, model_or_qs), **lookup)
    if perm and not request.membership.has(perm):
        raise PermissionDenied("Your role in this workspace does not allow this. Ask the owner.")
    return obj


def get_picked(
    request: TenantRequest, model_or_qs: type[M] | QuerySet[M], data: Any, name: str, perm: str | None = None
) -> M | None:
    """The object a form's select sent by its code as `name`: None when empty, a 400 naming the
    field when the value is not a code at all, and like get_for_member() otherwise."""
    code = params.code(data, name)
    return get_for_member(request, model_or_qs, perm, code=code) if code else None
