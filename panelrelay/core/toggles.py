"""The server side of core/_toggle.html: the switch posts value=on|off, saved at once."""

from __future__ import annotations

from django.db.models import Model
from django.http import HttpRequest


def switched_on(request: HttpRequest) -> bool:
    return request.POST.get("value") == "on"


def save_toggle(request: HttpRequest, obj: Model, field: str) -> bool:
    """Set a boolean field from the switch's POST and save only that field; returns the value."""
    value = switched_on(request)
    setattr(obj, field, value)
    obj.save(update_fields=[field])
    return value
