"""REST API v1's refusals: every one is {"error": "<a sentence>"} with its status, as core/errors.py
answers for the paths no operation reaches (an unknown path, a malformed id in one).

django-ninja answers its own way ({"detail": …}, 422 for a schema's refusal, a plain-text 405);
`install()` replaces each of those answers, and `JsonBody` says what is wrong with a body that
is not a JSON object. ErrorOut (api/schemas.py) is this shape in the document.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.urls import URLPattern, URLResolver
from django.views.decorators.csrf import csrf_exempt
from ninja.errors import HttpError, ValidationError
from ninja.parser import Parser

from panelrelay.core.errors import too_big_message

if TYPE_CHECKING:
    from collections.abc import Callable

    from ninja import NinjaAPI


def error(status: int, message: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


class JsonBody(Parser):
    """The body as a JSON object, or an HttpError that says what it is instead."""

    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        if not request.content_type or "json" not in request.content_type:
            raise HttpError(415, "Send a JSON body with Content-Type: application/json.")
        try:
            data = json.loads(request.body)
        except (ValueError, UnicodeDecodeError):
            raise HttpError(400, "The body is not valid JSON.") from None
        except RecursionError:  # json.loads recurses once per nested [ or {
            raise HttpError(400, "The body is nested too deeply to be a request.") from None
        if not isinstance(data, dict):
            raise HttpError(400, "The body must be a JSON object.")
        return data


def install(api: NinjaAPI) -> None:
    # The decorator form for our named handlers: add_exception_handler's type says a handler may be
    # given the exception class itself, which ninja never does (it passes what it caught).
    api.exception_handler(HttpError)(_refused)
    api.exception_handler(ValidationError)(_invalid)
    api.add_exception_handler(RequestDataTooBig, lambda request, exc: error(413, too_big_message()))
    api.add_exception_handler(Http404, lambda request, exc: error(404, "No such object in this workspace."))
    api.exception_handler(Exception)(_unexpected)


def _refused(request: HttpRequest, exc: HttpError) -> JsonResponse:
    # ninja re-raises whatever the parser raised as HttpError(400, "Cannot parse request body")
    # from it: JsonBody's own refusal is the one that says what is wrong.
    if isinstance(exc.__cause__, HttpError):
        exc = exc.__cause__
    return error(exc.status_code, str(exc))


def _invalid(request: HttpRequest, exc: ValidationError) -> JsonResponse:
    """A schema's refusal: a 400 (ninja says 422) whose sentence names the first wrong field."""
    return error(400, sentence(exc.errors[0]))


def sentence(problem: dict[str, Any]) -> str:
    """One of ninja's validation errors said in words, naming the field or parameter."""
    source, *path = problem["loc"]  # ("query", "offset"), or ("body", <the body's parameter>, "ids")
    if source == "body":
        path = path[1:]
    if not path:  # the body itself: absent (JsonBody refuses any other non-object)
        return "The body must be a JSON object."
    field = path[0]
    if problem["type"] == "missing":
        return f"`{field}` is required."
    if problem["type"] == "problem":  # schemas.explained() and Storable: "must be …"
        return f"`{field}` {problem['msg']}"
    if problem["type"] == "value_error":  # a validator's own sentence, e.g. the tokens that are not ids
        return f"`{field}`: {problem['ctx']['error']}"
    return f"`{field}` is not valid: {problem['msg']}."


def _unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    # ninja answers a plain-text traceback under DEBUG; Django's handler500 (core/errors.py)
    # answers JSON under /api/ and logs it, in every mode.
    raise exc


def json_not_allowed(patterns: list[URLPattern | URLResolver]) -> list[URLPattern | URLResolver]:
    """ninja's URL patterns, answering a method the path does not take in JSON, not in plain text."""
    return [
        URLPattern(p.pattern, _allowing(p.callback), p.default_args, p.name) if isinstance(p, URLPattern) else p
        for p in patterns  # ninja makes no resolvers (includes); one would keep ninja's own 405
    ]


def _allowing(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    def allowing(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        if isinstance(response, HttpResponseNotAllowed):
            allowed = response["Allow"]
            response = error(405, f"Use {' or '.join(allowed.split(', '))} here.")
            response["Allow"] = allowed
        return response

    # As ninja set it: a token, not a cookie, authenticates.
    return csrf_exempt(allowing) if getattr(view, "csrf_exempt", False) else allowing
