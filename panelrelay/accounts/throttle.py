"""Throttles for sign-in, password reset and sign-up, kept in the database.

The database (not a per-process cache) keeps the counts, so every web process sees the same
numbers: a guesser cannot spread attempts over gunicorn workers.

Sign-in counts failures, and the rule is that one client's failures never lock anyone else out:
- an account may fail LOGIN_THROTTLE_PER_ACCOUNT times from one client address; then that
  client is refused for that account, before the password is checked;
- past LOGIN_THROTTLE_PER_IP failures from the client address (credential stuffing: one try
  per account), or LOGIN_THROTTLE_ACCOUNT_TOTAL failures on the account from all addresses
  (guessing from many addresses), the password is still checked but the answer no longer
  says whether it was right: a right password gets a sign-in link by email. A guesser learns
  nothing more; the account's owner still signs in.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import math
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from panelrelay.accounts.models import LoginFailure
from panelrelay.core import ratelimit
from panelrelay.core.models import RateSlot

# RateSlot keys of this module start with this, so prune() can find them.
KEY_PREFIX = "acct:"
log = logging.getLogger(__name__)
_warned_about_proxy = False


def client_ip(request: HttpRequest) -> str | None:
    """The address the throttles count the request under.

    With TRUSTED_PROXY_COUNT = 0 (the default) it is REMOTE_ADDR: X-Forwarded-For is whatever
    the client wrote unless a proxy of ours rewrote it. With N proxies in front, each appends
    the address it was reached from, so the client is the Nth address from the right; what a
    client put further left is ignored. An IPv6 client is counted by its /64 network, which
    one subscriber usually holds in full.
    """
    remote = request.META.get("REMOTE_ADDR") or ""
    chosen = remote
    proxies = settings.TRUSTED_PROXY_COUNT
    if not proxies and "HTTP_X_FORWARDED_FOR" in request.META:
        _warn_about_proxy(remote)
    if proxies:
        hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        hops = [hop for hop in hops if hop]
        # Fewer entries than proxies: the request did not come through all of them.
        chosen = hops[-proxies] if len(hops) >= proxies else remote
    return _bucket(chosen) or _bucket(remote)


def _warn_about_proxy(remote: str) -> None:
    # Behind a proxy with TRUSTED_PROXY_COUNT=0 every client looks like the proxy, and the
    # throttles count them all as one: say so once per process.
    global _warned_about_proxy
    if not _warned_about_proxy:
        _warned_about_proxy = True
        log.warning(
            "Requests from %s carry X-Forwarded-For but TRUSTED_PROXY_COUNT=0: the throttles count every "
            "client as %s. Behind a reverse proxy, set TRUSTED_PROXY_COUNT (docs/CONFIGURATION.md).",
            remote,
            remote,
        )


def _bucket(value: str) -> str | None:
    try:
        address = ipaddress.ip_address(value.strip("[]"))
    except ValueError:
        return None
    if address.version == 6 and address.ipv4_mapped:
        return str(address.ipv4_mapped)
    if address.version == 6:
        return str(ipaddress.IPv6Network(f"{address}/64", strict=False).network_address)
    return str(address)


# ----- sign-in -------------------------------------------------------------------------------


@dataclass
class SignIn:
    """One sign-in attempt, counted as a failure until its password proves right."""

    username: str
    ip: str | None
    row_id: int | None
    wait: int = 0  # > 0: refused, the password is not to be checked
    by_email: bool = False  # a right password signs in through an emailed link only


def begin_sign_in(username: str, ip: str | None) -> SignIn:
    """Count an attempt before its password is checked; say whether and how it may go on."""
    username = username.lower()[:254]
    window = timedelta(seconds=settings.LOGIN_THROTTLE_WINDOW)
    limit = settings.LOGIN_THROTTLE_PER_ACCOUNT
    locks = sorted([_key("login-account", username)] + ([_key("login-ip", ip)] if ip else []))
    with transaction.atomic():
        # Locking the account's row and the address's row (in one order, so two attempts
        # cannot deadlock) makes counting and reserving one step for attempts sharing either:
        # however many arrive at once, no more than the limit reach the password check.
        for key in locks:
            RateSlot.objects.select_for_update().get_or_create(key=key)
        now = timezone.now()
        recent = LoginFailure.objects.filter(at__gt=now - window)
        own = recent.filter(username=username, ip=ip)
        if own.count() >= limit:
            return SignIn(username, ip, None, wait=_seconds_left(own, limit, window))
        by_email = recent.filter(username=username).count() >= settings.LOGIN_THROTTLE_ACCOUNT_TOTAL or (
            ip is not None and recent.filter(ip=ip).count() >= settings.LOGIN_THROTTLE_PER_IP
        )
        row = LoginFailure.objects.create(username=username, ip=ip, at=now)
    return SignIn(username, ip, row.pk, by_email=by_email)


def password_was_right(attempt: SignIn) -> None:
    """The attempt was not a failure. A sign-in (not a link) also clears this client's count."""
    if attempt.by_email:
        if attempt.row_id is not None:  # by_email comes only with a counted attempt, which has a row
            LoginFailure.objects.filter(pk=attempt.row_id).delete()
    else:
        LoginFailure.objects.filter(username=attempt.username, ip=attempt.ip).delete()


def _seconds_left(failures: QuerySet, limit: int, window: timedelta) -> int:
    """Until the oldest of the last `limit` failures leaves the window."""
    times = list(failures.order_by("-at").values_list("at", flat=True)[:limit])
    if not times:
        return 1
    return max(1, math.ceil((times[-1] + window - timezone.now()).total_seconds()))


# ----- password reset, sign-up and sign-in links: requests per hour -------------------------


def take(kind: str, value: str, per_hour: int) -> int:
    """Count one `kind` request under `value` (an address or an email); seconds to wait if over."""
    return math.ceil(ratelimit.try_take(_key(kind, value), per_hour, 3600))


def _key(kind: str, value: str) -> str:
    # Values are hashed: keys have a length limit, and this table need not hold emails.
    return f"{KEY_PREFIX}{kind}:{hashlib.sha256(value.lower().encode()).hexdigest()[:32]}"


def minutes(seconds: int) -> int:
    return max(1, round(seconds / 60))


def prune() -> int:
    now = timezone.now()
    cutoff = now - timedelta(seconds=settings.LOGIN_THROTTLE_WINDOW * 2)
    deleted = LoginFailure.objects.filter(at__lt=cutoff).delete()[0]
    # A slot whose time is long past is the same as no slot: try_take() recreates it.
    idle = RateSlot.objects.filter(key__startswith=KEY_PREFIX, next_at__lt=now - timedelta(days=1))
    return deleted + idle.delete()[0]
