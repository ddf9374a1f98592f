"""How fast messages may go out, shared by every process (slots in core's RateSlot table).

Telegram's Bot FAQ: about one message a second per chat, at most 20 a minute per group, about
30 a second per bot. The group's 20 a minute is a budget, not a 3 s gap: two parts of a long
message may go a second apart, as long as no 60 s window holds more than 20 (a `Budget`: a ring
of 20 slots, each free again a window after it was used, so a burst of 20 is fine and the 21st
waits for the oldest to age out). A generic cell rate (core.ratelimit.try_take) with a burst of
20 would let 39 through in some 60 s window, which a per-minute counter on Telegram's side refuses.

WhatsApp gateways have no published limit; sending like a bot gets the number banned (WAHA docs:
"How to avoid blocking"), so each WhatsApp connection keeps its own slow pace on purpose
(Connection.pace_seconds) stretched by random jitter.

The Telegram intervals and the WhatsApp jitter can be overridden in settings (the tests shorten
them so a hundred messages take seconds, not minutes):
PACING_TELEGRAM_GROUP_SECONDS, PACING_TELEGRAM_GROUP_BURST, PACING_TELEGRAM_GROUP_GAP_SECONDS,
PACING_TELEGRAM_PRIVATE_SECONDS, PACING_TELEGRAM_BOT_SECONDS, PACING_WHATSAPP_JITTER,
PACING_TELEGRAM_USER_SECONDS, PACING_TELEGRAM_USER_JITTER.
"""

from __future__ import annotations

import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from panelrelay.core.models import RateSlot

DEFAULTS = {
    # A group's budget: GROUP_BURST messages per GROUP_BURST × GROUP_SECONDS (20 per 60 s), at
    # most one per GROUP_GAP_SECONDS (never more than GROUP_SECONDS: 0 turns group pacing off).
    "PACING_TELEGRAM_GROUP_SECONDS": 3.0,
    "PACING_TELEGRAM_GROUP_BURST": 20,
    "PACING_TELEGRAM_GROUP_GAP_SECONDS": 1.0,  # Bot FAQ: about one message a second per chat
    "PACING_TELEGRAM_PRIVATE_SECONDS": 1.0,  # 1 / second per private chat
    "PACING_TELEGRAM_BOT_SECONDS": 1 / 30,  # 30 / second per bot
    "PACING_WHATSAPP_JITTER": 0.5,
    # A Telegram user account (Telethon): one message per 5–7.5 s for the whole account, because
    # Telegram limits user accounts that send like bots (PEER_FLOOD) far sooner than bots.
    "PACING_TELEGRAM_USER_SECONDS": 5.0,
    "PACING_TELEGRAM_USER_JITTER": 0.5,  # each WhatsApp interval is 100–150 % of the connection's pace
}


def value(name: str) -> float:
    return float(getattr(settings, name, DEFAULTS[name]))


@dataclass(frozen=True)
class Budget:
    """At most `count` events in any `window` seconds, at once or spread out."""

    count: int
    window: float

    def keys(self, key: str) -> list[str]:
        return [f"{key}#{n}" for n in range(self.count)]


Limits = Mapping[str, float | Budget]


def try_acquire(limits: Limits, jitter: float = 0.0, now: datetime | None = None) -> float:
    """Take a slot under every key now, or none. Returns 0 when taken, else seconds to wait.

    A float is a minimum interval in seconds since the key's last event (stretched by up to
    `jitter` × itself at random, for gateways where a regular rhythm looks like a bot); a Budget
    is a ring of slots under `key#0…`, of which the one free soonest is taken. `now` is for tests.
    """
    rows: dict[str, list[str]] = {}  # key → its slot rows
    for key, limit in limits.items():
        rows[key] = limit.keys(key) if isinstance(limit, Budget) else [key]
    names = sorted(name for slots in rows.values() for name in slots)
    with transaction.atomic():
        # Locking the rows (PostgreSQL) / the IMMEDIATE write lock (SQLite) serialises takers;
        # the clock is read after the lock, so time spent waiting for it is not free time.
        slots = _locked(names)
        if len(slots) < len(names):  # a key's first use: its rows are made (in key order), then locked
            _ensure(names)
            slots = _locked(names)
        now = now or timezone.now()
        chosen: dict[str, RateSlot] = {}
        for key in limits:
            chosen[key] = min((slots[name] for name in rows[key]), key=lambda slot: slot.next_at)
        wait = max(((slot.next_at - now).total_seconds() for slot in chosen.values()), default=0.0)
        if wait > 0:
            return wait
        for key, limit in limits.items():
            if isinstance(limit, Budget):
                seconds = limit.window
            else:
                seconds = limit * (1 + random.uniform(0, jitter)) if jitter else limit
            chosen[key].next_at = now + timedelta(seconds=seconds)
        RateSlot.objects.bulk_update(list(chosen.values()), ["next_at"])
    return 0.0


SHORT_WAIT = 0.25  # seconds: a wait this short is slept by the sender, not handed back as a retry


def take(limits: Limits, jitter: float = 0.0, patience: float = SHORT_WAIT) -> float:
    """try_acquire, sleeping through waits of at most `patience` seconds (the bot's 30 a second
    between two workers' sends: 33 ms), up to twice `patience` in all. Returns 0 when taken, else
    the wait that was too long. A re-queued job costs more than such a wait, and a worker with one
    thread would only come back to it after its current lookup."""
    slept = 0.0
    while True:
        wait = try_acquire(limits, jitter)
        if wait <= 0 or wait > patience or slept + wait > 2 * patience:
            return wait
        time.sleep(wait)
        slept += wait


def sent(limits: Limits) -> None:
    """After a send: each chat's gap counts again from now. The slot was taken before the send, and
    the service counts from when the message reached it: a send that left late (a busy process, a
    slow connection) followed by one that left on time would arrive less than a gap apart, and
    Telegram answers that with a 429. Gaps under SHORT_WAIT (the bot's 30 a second) are left as taken.
    """
    now = timezone.now()
    for key, limit in limits.items():
        if not isinstance(limit, Budget) and limit >= SHORT_WAIT:
            until = now + timedelta(seconds=limit)
            RateSlot.objects.filter(key=key, next_at__lt=until).update(next_at=until)


def acquire(limits: Limits, jitter: float = 0.0, max_wait: float = 30.0) -> None:
    """Block until a slot under every key is taken. Raises TimeoutError after max_wait seconds."""
    deadline = time.monotonic() + max_wait
    while True:
        wait = try_acquire(limits, jitter)
        if wait <= 0:
            return
        if time.monotonic() + wait > deadline:
            raise TimeoutError(f"sending slot not free within {max_wait:g} s")
        time.sleep(min(wait, 1.0))


def _locked(names: list[str]) -> dict[str, RateSlot]:
    return {slot.key: slot for slot in RateSlot.objects.select_for_update().filter(key__in=names).order_by("key")}


def _ensure(names: list[str]) -> None:
    existing = set(RateSlot.objects.filter(key__in=names).values_list("key", flat=True))
    missing = [name for name in names if name not in existing]
    if missing:  # another process may create some at the same time: those are skipped
        free = timezone.now() - timedelta(seconds=1)
        RateSlot.objects.bulk_create([RateSlot(key=name, next_at=free) for name in missing], ignore_conflicts=True)
