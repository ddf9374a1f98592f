"""Settings → API tokens: create (shown once) and revoke."""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from panelrelay.accounts.middleware import MemberRequest
from panelrelay.api.models import ApiToken
from panelrelay.core import params
from panelrelay.core.tenancy import get_for_member, require_member, scoped


@require_member(owner=True)
def tokens(request: MemberRequest) -> HttpResponse:
    """The list; a POST creates a token and shows it in its own answer, once.

    Not redirect-after-POST: the token would have to wait for the next page somewhere, and the
    session is stored in the database. Only its hash is kept; reloading creates another one.
    """
    new_token = None
    if request.method == "POST":
        name = params.text(request.POST, "name")[:60]
        if not name:
            messages.error(request, "Give the token a name, e.g. the tool that will use it.")
            return redirect("api:tokens")
        _, new_token = ApiToken.issue(request.workspace, name, request.user)
        messages.success(request, f"Token “{name}” created. Copy it now: it is not shown again.")
    ctx = {
        "tokens": scoped(request, ApiToken).filter(revoked=False).order_by("-created"),
        "new_token": new_token,
        "tab": "api",
    }
    response = render(request, "api/tokens.html", ctx)
    if new_token:
        response["Cache-Control"] = "no-store"  # no cache on the way keeps the page with the token
    return response


@require_member(owner=True)
@require_POST
def revoke(request: MemberRequest, code: UUID) -> HttpResponse:
    token = get_for_member(request, ApiToken, code=code)
    token.revoked = True
    token.save(update_fields=["revoked"])
    messages.success(request, f"Token “{token.name}” revoked: calls with it now fail with 401.")
    return redirect("api:tokens")
