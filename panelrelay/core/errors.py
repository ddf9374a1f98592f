"""Error responses: a page for the site, a JSON {"error": "..."} body for every path under /api/.

Django answers these itself (a bad parameter, no matching URL, a body over
DATA_UPLOAD_MAX_MEMORY_SIZE, an exception) before or around any API view, so the API's own
error handling (api/auth.py) cannot cover them: without these handlers an API client would get
an HTML page for a mistyped path.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views import defaults
from django.views.decorators.csrf import requires_csrf_token

from panelrelay.core.params import BadParameter

API_PREFIX = "/api/"


def is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def too_big_message() -> str:
    return f"The request body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE / 2**20:g} MB."


@requires_csrf_token
def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:  # handler400 always gets one
    if isinstance(exception, RequestDataTooBig):
        status, message = 413, too_big_message()
    elif isinstance(exception, BadParameter):
        status, message = 400, str(exception)
    else:  # other SuspiciousOperations (a bad Host header…): their text is for the log, not the client
        status, message = 400, ""
    if is_api(request):
        return JsonResponse({"error": message or "The request could not be understood."}, status=status)
    if not message:
        return defaults.bad_request(request, exception)
    return render(request, "400.html", {"message": message}, status=status)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if is_api(request):
        return JsonResponse({"error": "No such API path, or no such object in this workspace."}, status=404)
    return defaults.page_not_found(request, exception)


@requires_csrf_token
def server_error(request: HttpRequest) -> HttpResponse:
    if is_api(request):
        return JsonResponse({"error": "Internal error: it is logged and will be looked at."}, status=500)
    return defaults.server_error(request)
