"""Token authentication and JSON error handling for the REST API."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from panelrelay.api.models import ApiToken, digest
from panelrelay.core import params
from panelrelay.core.errors import too_big_message
from panelrelay.core.params import BadParameter

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
            except BadParameter as exc:
                return error(400, str(exc))
            except ApiError as exc:
                response = error(exc.status, str(exc))
                if exc.status == 405:
                    response["Allow"] = ", ".join(methods)
                return response

        return wrapped

    return decorator


def json_body(request: HttpRequest) -> dict[str, Any]:
    """The body's JSON object; every string in it can be stored (see core.params.text_problem)."""
    if not request.content_type or "json" not in request.content_type:
        raise ApiError(415, "Send a JSON body with Content-Type: application/json.")
    try:
        data = json.loads(request.body or b"null")
    except RequestDataTooBig:
        raise ApiError(413, too_big_message()) from None
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "The body is not valid JSON.") from None
    except RecursionError:  # json.loads recurses once per nested [ or {
        raise ApiError(400, "The body is nested too deeply to be a request.") from None
    if not isinstance(data, dict):
        raise ApiError(400, "The body must be a JSON object.")
    for name, value in data.items():
        _check_strings(name, value)
    return data


def _check_strings(name: str, value: Any) -> None:
    """A NUL or a lone surrogate anywhere in a field is refused, naming the field. A loop, not
    recursion: the body may be nested nearly as deep as json.loads() allows."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            params.check_text(name, item)
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, dict):
            pending.extend(item.values())
