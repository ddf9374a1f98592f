"""Token authentication and JSON error handling for the REST API."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from panelrelay.api.models import ApiToken, digest

View = Callable[..., JsonResponse]


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def error(status: int, message: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def _token(request: HttpRequest) -> ApiToken:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise ApiError(401, "Send your API token as: Authorization: Bearer <token>.")
    token = ApiToken.objects.select_related("workspace").filter(token_hash=digest(value.strip()), revoked=False).first()
    if token is None:
        raise ApiError(401, "The API token is not valid or was revoked.")
    if token.workspace.suspended:
        raise ApiError(403, "This workspace is suspended by the platform operator.")
    return token


def api_view(*methods: str) -> Callable[[View], View]:
    """Authenticate by token, allow only `methods`, and turn every ApiError into a JSON reply."""

    def decorator(view: View) -> View:
        @csrf_exempt  # token-authenticated, no cookies: CSRF does not apply
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
            try:
                if request.method not in methods:
                    raise ApiError(405, f"Use {' or '.join(methods)} here.")
                token = _token(request)
                request.workspace = token.workspace
                request.api_token = token
                if not token.last_used or (timezone.now() - token.last_used).total_seconds() > 60:
                    ApiToken.objects.filter(pk=token.pk).update(last_used=timezone.now())
                return view(request, *args, **kwargs)
            except ApiError as exc:
                response = error(exc.status, str(exc))
                if exc.status == 405:
                    response["Allow"] = ", ".join(methods)
                return response

        return wrapped

    return decorator


def json_body(request: HttpRequest) -> dict[str, Any]:
    if not request.content_type or "json" not in request.content_type:
        raise ApiError(415, "Send a JSON body with Content-Type: application/json.")
    try:
        data = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "The body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise ApiError(400, "The body must be a JSON object.")
    return data
