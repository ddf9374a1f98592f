from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def workspace(request: HttpRequest) -> dict:
    membership = getattr(request, "membership", None)
    perms = {}
    if membership is not None:
        perms = {key: membership.has(key) for key in ("forward", "routing", "panels", "activity")}
        perms["owner"] = membership.is_owner
    return {
        "workspace": getattr(request, "workspace", None),
        "membership": membership,
        "memberships": getattr(request, "memberships", []),
        "perms_ws": perms,
        "site_name": settings.SITE_NAME,
    }
