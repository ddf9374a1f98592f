"""The master area exists only for superusers: everyone else gets 404, not 403."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Concatenate, ParamSpec, TypeVar

from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase

P = ParamSpec("P")
R = TypeVar("R", bound=HttpResponseBase)


def master_only(view: Callable[Concatenate[HttpRequest, P], R]) -> Callable[Concatenate[HttpRequest, P], R]:
    @wraps(view)
    def wrapped(request: HttpRequest, *args: P.args, **kwargs: P.kwargs) -> R:
        if not (request.user.is_authenticated and request.user.is_active and request.user.is_superuser):
            raise Http404
        return view(request, *args, **kwargs)

    return wrapped
