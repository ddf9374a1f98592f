"""Login throttling per account and per client address, stored in the database.

The database (not a per-process cache) keeps the count, so every web process sees the same
number: a guesser cannot spread attempts over gunicorn workers.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone

from panelrelay.accounts.models import LoginFailure


def client_ip(request: HttpRequest) -> str | None:
    # REMOTE_ADDR only: X-Forwarded-For is set by the client unless a proxy rewrites it,
    # and trusting it would let a guesser pick a fresh address per attempt.
    return request.META.get("REMOTE_ADDR") or None


def seconds_locked(username: str, ip: str | None) -> int:
    """How long this account or address must wait; 0 when it may try now."""
    window = timedelta(seconds=settings.LOGIN_THROTTLE_WINDOW)
    since = timezone.now() - window
    recent = LoginFailure.objects.filter(at__gte=since)
    checks = [(recent.filter(username=username.lower()), settings.LOGIN_THROTTLE_PER_ACCOUNT)]
    if ip:
        checks.append((recent.filter(ip=ip), settings.LOGIN_THROTTLE_PER_IP))
    wait = 0
    for qs, limit in checks:
        times = list(qs.order_by("-at").values_list("at", flat=True)[:limit])
        if len(times) >= limit:
            oldest_counted = times[-1]
            wait = max(wait, int((oldest_counted + window - timezone.now()).total_seconds()) + 1)
    return wait


def record_failure(username: str, ip: str | None) -> None:
    LoginFailure.objects.create(username=username.lower()[:254], ip=ip)


def clear_account(username: str) -> None:
    LoginFailure.objects.filter(username=username.lower()).delete()


def prune() -> int:
    cutoff = timezone.now() - timedelta(seconds=settings.LOGIN_THROTTLE_WINDOW * 2)
    return LoginFailure.objects.filter(at__lt=cutoff).delete()[0]
