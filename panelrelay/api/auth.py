"""Token authentication for REST API v1: `Authorization: Bearer <token>`, a workspace's API token."""

from __future__ import annotations

from typing import cast

from django.http import HttpRequest
from django.utils import timezone
from ninja.errors import HttpError
from ninja.security import HttpBearer

from panelrelay.accounts.models import Workspace
from panelrelay.api.models import ApiToken, digest

HOW = "Send your API token as: Authorization: Bearer <token>."


class ApiRequest(HttpRequest):
    """The request of an operation behind TokenAuth: the token's workspace and the token."""

    workspace: Workspace
    api_token: ApiToken


class TokenAuth(HttpBearer):
    """A token not revoked, of a workspace not suspended; the call then acts in that workspace."""

    def __call__(self, request: HttpRequest) -> ApiToken:
        # ninja answers a missing header, or another scheme, with a bare "Unauthorized".
        token = super().__call__(request)
        if token is None:
            raise HttpError(401, HOW)
        return token

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken:
        if not token.strip():
            raise HttpError(401, HOW)
        found = ApiToken.objects.select_related("workspace").filter(token_hash=digest(token.strip()), revoked=False)
        api_token = found.first()
        if api_token is None:
            raise HttpError(401, "The API token is not valid or was revoked.")
        if api_token.workspace.suspended:
            raise HttpError(403, "This workspace is suspended by the platform operator.")
        authed = cast(ApiRequest, request)  # it becomes one here
        authed.workspace, authed.api_token = api_token.workspace, api_token
        if not api_token.last_used or (timezone.now() - api_token.last_used).total_seconds() > 60:
            ApiToken.objects.filter(pk=api_token.pk).update(last_used=timezone.now())  # one write a minute at most
        return api_token
