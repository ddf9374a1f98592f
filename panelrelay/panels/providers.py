"""Providers: from a raw domain in a panel's order to an alias, and nothing further.

This module is where a provider domain exists in clear: `match()` receives the adapter's
orders, normalises each domain, registers it with the log scrubber, encrypts it for storage
and derives its keyed digest. From here on only `Provider` rows (aliases) travel. Stored
domains are never decrypted here: matching compares digests.
"""

from __future__ import annotations

import logging
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import F, Value
from django.db.models.functions import Greatest
from django.utils import timezone

from panelrelay.accounts.models import Workspace
from panelrelay.core import crypto
from panelrelay.core.logscrub import register_secret
from panelrelay.panels.adapters.base import PanelOrder
from panelrelay.panels.models import Panel, Provider, ProviderTally, SeenOrder, ServiceSeen
from panelrelay.panels.privacy import (
    AddressInText,
    domain_digest,
    looks_like_domain,
    normalize_domain,
    refuse_addresses,
)
from panelrelay.panels.signals import panel_changed, provider_changed
from panelrelay.worker.queue import enqueue

log = logging.getLogger("panelrelay.panels")

CHUNK = 500  # orders per round of queries: keeps `IN (…)` lists well inside SQLite's limits
ALIAS_MAX = 60


def next_alias(workspace: Workspace | int) -> str:
    """`Provider N` with N = providers so far + 1, skipping any alias already taken."""
    taken = {a.lower() for a in Provider.objects.filter(workspace=workspace).values_list("alias", flat=True)}
    n = len(taken) + 1
    while f"provider {n}" in taken:
        n += 1
    return f"Provider {n}"


def _create(workspace_id: int, digest: str, domain: str, alias: str | None = None) -> tuple[Provider, bool]:
    """Get or create by (workspace, digest); two processes creating the same one is a race we win or lose."""
    encrypted = crypto.encrypt(domain)
    for _ in range(20):
        name = alias or next_alias(workspace_id)
        try:
            with transaction.atomic():
                provider = Provider.objects.create(
                    workspace_id=workspace_id, alias=name, domain_enc=encrypted, domain_hmac=digest
                )
            return provider, True
        except IntegrityError:
            # Either the domain arrived meanwhile (use that row) or the alias was taken (try the next).
            found = Provider.objects.filter(workspace_id=workspace_id, domain_hmac=digest).first()
            if found:
                return found, False
            alias = None
    raise RuntimeError("no free provider alias after 20 tries")


def match(panel: Panel, orders: Iterable[PanelOrder]) -> dict[str, Provider | None]:
    """Each order's Provider (None for orders without one), registering new providers and counts.

    A handful of queries per CHUNK orders, whatever their number: providers are loaded by
    digest in bulk, counters move once per provider and service, never once per order.
    """
    result: dict[str, Provider | None] = {}
    new_providers: list[Provider] = []
    pending = list(orders)
    for start in range(0, len(pending), CHUNK):
        chunk = pending[start : start + CHUNK]
        digests, providers, created = _resolve_chunk(panel, chunk)
        new_providers += created
        result.update({o.id: providers.get(digests.get(o.id, "")) for o in chunk})
        _count(panel, chunk, {oid: providers[d] for oid, d in digests.items()})
    _linked(panel, {p for p in result.values() if p}, new_providers)
    return result


def _resolve_chunk(
    panel: Panel, orders: list[PanelOrder]
) -> tuple[dict[str, str], dict[str, Provider], list[Provider]]:
    digests: dict[str, str] = {}
    domains: dict[str, str] = {}
    by_raw: dict[str | None, str | None] = {}  # a chunk's orders share a handful of providers: one digest each
    for order in orders:
        raw = order.provider_domain
        if raw not in by_raw:
            domain = normalize_domain(raw)
            by_raw[raw] = None
            if domain:
                register_secret(domain)  # should it ever reach a log line, it is masked there
                by_raw[raw] = digest = domain_digest(domain)
                domains.setdefault(digest, domain)
        if (known := by_raw[raw]) is not None:
            digests[order.id] = known
    providers, created = _providers_for(panel.workspace_id, domains)
    return digests, providers, created


def _providers_for(workspace_id: int, domains: dict[str, str]) -> tuple[dict[str, Provider], list[Provider]]:
    existing = Provider.objects.filter(workspace_id=workspace_id, domain_hmac__in=list(domains))
    providers = {p.domain_hmac: p for p in existing}
    created = []
    for digest, domain in domains.items():
        if digest not in providers:
            providers[digest], is_new = _create(workspace_id, digest, domain)
            if is_new:
                created.append(providers[digest])
    return providers, created


def register_domains(panel: Panel, raw_domains: Iterable[str]) -> list[Provider]:
    """Providers a panel lists itself (v1 getProviders): registered and linked, no orders counted."""
    domains: dict[str, str] = {}
    for raw in raw_domains:
        domain = normalize_domain(raw)
        if domain:
            register_secret(domain)
            domains.setdefault(domain_digest(domain), domain)
    providers, created = _providers_for(panel.workspace_id, domains)
    _linked(panel, set(providers.values()), created)
    return list(providers.values())


def _linked(panel: Panel, providers: set[Provider], created: list[Provider]) -> None:
    """Link providers to the panel; a new provider or link is a change the vault must record."""
    if not providers:
        return
    through = Provider.panels.through
    ids = {p.pk for p in providers}
    known = set(through.objects.filter(panel_id=panel.pk, provider_id__in=ids).values_list("provider_id", flat=True))
    links = [through(panel_id=panel.pk, provider_id=pk) for pk in ids - known]
    through.objects.bulk_create(links, ignore_conflicts=True)
    if links or created:
        panel_changed.send(Panel, panel=panel, event="providers_changed")
        log.info("panel %s: %d new provider(s), %d new link(s)", panel.code, len(created), len(links))


def _count(panel: Panel, orders: list[PanelOrder], provider_of: dict[str, Provider]) -> None:
    """Record what this lookup saw, for flush_counts() to add up later: no provider row is touched here.

    Orders seen and services seen count each panel order once, however often it is looked up:
    the SeenOrder insert says which orders are new (ON CONFLICT DO NOTHING RETURNING), ids sorted
    so that two lookups inserting the same orders at once queue rather than deadlock.
    """
    if not orders:
        return
    now = timezone.now()
    fresh = _first_seen(panel, orders, provider_of, now)
    rows: dict[tuple[int, str], ProviderTally] = {}
    for pk in {p.pk for p in provider_of.values()}:  # last seen, even without a fresh order
        rows[(pk, "")] = ProviderTally(panel=panel, provider_id=pk, seen=now)
    for o in orders:
        provider = provider_of.get(o.id)
        if provider is None or o.id not in fresh:
            continue
        rows[(provider.pk, "")].orders += 1
        if o.service_id:
            sid = str(o.service_id)[:40]
            tally = rows.get((provider.pk, sid))
            if tally is None:  # not setdefault(): that builds a model instance per order, used or not
                tally = rows[(provider.pk, sid)] = ProviderTally(panel=panel, provider_id=provider.pk,
                                                                 service_id=sid, seen=now)  # fmt: skip
            tally.orders += 1
            tally.name = o.service_name[:300]
    if rows:
        _insert_tallies(list(rows.values()))
        transaction.on_commit(_schedule_flush)


def _insert_tallies(rows: list[ProviderTally]) -> None:
    """One INSERT statement (bulk_create would wrap it in a transaction of its own: 2 more round trips)."""
    table = connection.ops.quote_name(ProviderTally._meta.db_table)
    columns = "(panel_id, provider_id, service_id, name, orders, seen)"
    if connection.vendor == "postgresql":  # one parameter per column: a few values to send, not 6 per row
        source = "SELECT * FROM unnest(%s::bigint[], %s::bigint[], %s::varchar[], %s::varchar[], %s::integer[], %s::timestamptz[])"
        params: list[Any] = [[r.panel_id for r in rows], [r.provider_id for r in rows], [r.service_id for r in rows],
                             [r.name for r in rows], [r.orders for r in rows], [r.seen for r in rows]]  # fmt: skip
    else:
        source = "VALUES " + ", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(rows))
        params = [v for r in rows for v in (r.panel_id, r.provider_id, r.service_id, r.name, r.orders,
                                             connection.ops.adapt_datetimefield_value(r.seen))]  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} {columns} {source}", params)  # noqa: S608


def _first_seen(panel: Panel, orders: list[PanelOrder], provider_of: dict[str, Provider], now: datetime) -> set[str]:
    """Insert a SeenOrder per order not seen before on this panel; the ids that were new."""
    table = connection.ops.quote_name(SeenOrder._meta.db_table)
    unique = sorted({o.id for o in orders})
    providers = [p.pk if (p := provider_of.get(oid)) else None for oid in unique]
    params: list[Any]
    if connection.vendor == "postgresql":  # the ids and providers as two arrays (in the ids' order)
        source = (
            "SELECT %s::bigint, o, p, %s::timestamptz FROM unnest(%s::varchar[], %s::bigint[]) AS u(o, p) ORDER BY o"
        )
        params = [panel.pk, now, unique, providers]
    else:
        seen = connection.ops.adapt_datetimefield_value(now)
        source = "VALUES " + ", ".join(["(%s, %s, %s, %s)"] * len(unique))
        params = [v for oid, pk in zip(unique, providers, strict=True) for v in (panel.pk, oid, pk, seen)]
    sql = (f"INSERT INTO {table} (panel_id, order_id, provider_id, seen) {source} "  # noqa: S608
           "ON CONFLICT (panel_id, order_id) DO NOTHING RETURNING order_id")  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {row[0] for row in cursor.fetchall()}


FLUSH_EVERY = 2  # seconds: how long counts wait, at most, for their panels.count job to be due
_flush_slot = -1  # the last time slot this process enqueued a panels.count job for


def _schedule_flush() -> None:
    """One keyed panels.count job per FLUSH_EVERY-second slot, due at the slot's end.

    Called after the tally rows are committed, so the slot's job (due later) finds them.
    """
    global _flush_slot
    slot = int(time.time() // FLUSH_EVERY)
    if slot == _flush_slot:
        return
    due = datetime.fromtimestamp((slot + 1) * FLUSH_EVERY, tz=UTC)
    enqueue("panels.count", key=f"panels.count:{slot}", run_at=due, max_attempts=3)
    _flush_slot = slot


def flush_counts(limit: int = 5000) -> int:
    """Add waiting tallies to Provider and ServiceSeen; returns how many tally rows were added.

    Rows are taken with SKIP LOCKED (two flushes at once share nothing) and provider and
    service rows are updated in key order, so flushes never deadlock with each other;
    nothing else in a lookup writes those rows.
    """
    with transaction.atomic():
        taken = ProviderTally.objects.order_by("id")
        if connection.vendor == "postgresql":
            taken = taken.select_for_update(skip_locked=True)
        rows = list(taken[:limit])
        if not rows:
            return 0
        seen: dict[int, datetime] = {}
        counted: Counter[int] = Counter()
        services: dict[tuple[int, int, str], ProviderTally] = {}
        for row in rows:
            if not row.service_id:
                seen[row.provider_id] = max(seen.get(row.provider_id, row.seen), row.seen)
                counted[row.provider_id] += row.orders
                continue
            key = (row.provider_id, row.panel_id, row.service_id)
            total = services.setdefault(key, ProviderTally(provider_id=row.provider_id, panel_id=row.panel_id,
                                                           service_id=row.service_id, seen=row.seen))  # fmt: skip
            total.orders += row.orders
            total.seen = max(total.seen, row.seen)
            total.name = row.name or total.name
        if connection.vendor == "postgresql":
            _add_seen_postgres(seen, counted)
            _add_services_postgres(services)
        else:
            for pk in sorted(seen):
                Provider.objects.filter(pk=pk).update(last_seen=Greatest("last_seen", Value(seen[pk])),
                                                      orders_seen=F("orders_seen") + counted[pk])  # fmt: skip
            _add_services(services)
        ProviderTally.objects.filter(id__in=[r.pk for r in rows]).delete()
    return len(rows)


def _add_seen_postgres(seen: dict[int, datetime], counted: Counter[int]) -> None:
    """The providers' last seen and counters in two statements (a flush is every two seconds while
    lookups run: one UPDATE per provider was most of its CPU). The rows are locked in id order
    first, so that two flushes still queue rather than deadlock: a multi-row UPDATE locks in the
    order its join happens to produce."""
    if not seen:
        return
    ids = sorted(seen)
    with connection.cursor() as cursor:
        # NO KEY UPDATE, the lock the UPDATE itself takes: FOR UPDATE would also wait for (and deadlock
        # with) the KEY SHARE locks a lookup's inserts take on these rows through their foreign keys.
        cursor.execute("SELECT id FROM panels_provider WHERE id = ANY(%s) ORDER BY id FOR NO KEY UPDATE", [ids])
        cursor.execute(
            "UPDATE panels_provider AS p SET last_seen = GREATEST(p.last_seen, v.seen), "
            "orders_seen = p.orders_seen + v.n "
            "FROM unnest(%s::bigint[], %s::timestamptz[], %s::integer[]) AS v(id, seen, n) WHERE p.id = v.id",
            [ids, [seen[pk] for pk in ids], [counted[pk] for pk in ids]],
        )


def _add_services_postgres(services: dict[tuple[int, int, str], ProviderTally]) -> None:
    """_add_services() in one upsert, its rows in key order (two flushes lock them in the same order)."""
    if not services:
        return
    keys = sorted(services)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO panels_serviceseen AS s (provider_id, panel_id, service_id, name, orders, last_seen) "
            "SELECT * FROM unnest(%s::bigint[], %s::bigint[], %s::varchar[], %s::varchar[], %s::integer[], "
            "%s::timestamptz[]) "
            "ON CONFLICT (provider_id, panel_id, service_id) DO UPDATE SET orders = s.orders + excluded.orders, "
            "name = COALESCE(NULLIF(excluded.name, ''), s.name), last_seen = GREATEST(s.last_seen, excluded.last_seen)",
            [[k[0] for k in keys], [k[1] for k in keys], [k[2] for k in keys], [services[k].name for k in keys],
             [services[k].orders for k in keys], [services[k].seen for k in keys]],
        )  # fmt: skip


def _add_services(services: dict[tuple[int, int, str], ProviderTally]) -> None:
    if not services:
        return
    ServiceSeen.objects.bulk_create(
        [ServiceSeen(provider_id=p, panel_id=pa, service_id=s, name=t.name, orders=0, last_seen=t.seen)
         for (p, pa, s), t in services.items()],
        ignore_conflicts=True,
    )  # fmt: skip
    existing = ServiceSeen.objects.filter(
        provider_id__in={k[0] for k in services}, panel_id__in={k[1] for k in services},
        service_id__in={k[2] for k in services},
    ).order_by("id")  # fmt: skip
    for row in existing:
        total = services.get((row.provider_id, row.panel_id, row.service_id))
        if total is not None:
            ServiceSeen.objects.filter(pk=row.pk).update(
                orders=F("orders") + total.orders, name=total.name or row.name,
                last_seen=Greatest("last_seen", Value(total.seen)),
            )  # fmt: skip


# ----- what owners do with providers ---------------------------------------------------


class AliasError(ValueError):
    """An alias the owner cannot have, with the reason in plain words.

    `shown`: what a form shows back instead of the typed text (it had a web address in it).
    """

    def __init__(self, message: str, shown: str | None = None) -> None:
        super().__init__(message)
        self.shown = shown


def clean_alias(workspace_id: int, alias: str, provider: Provider | None = None) -> str:
    name = " ".join((alias or "").split())
    if not name:
        raise AliasError("Type an alias.")
    if len(name) > ALIAS_MAX:
        raise AliasError(f"Keep the alias under {ALIAS_MAX + 1} characters.")
    others = Provider.objects.filter(workspace_id=workspace_id, alias__iexact=name)
    if provider is not None:
        others = others.exclude(pk=provider.pk)
    if others.exists():
        raise AliasError(f"“{name}” is already the alias of another provider. Pick another name.")
    try:
        # The alias is what staff and messages show; naming a provider by its domain defeats it.
        # Every host name is refused alike, so the answer tells nobody which ones are providers.
        refuse_addresses(workspace_id, name, "An alias")
    except AddressInText as exc:
        raise AliasError(str(exc), shown=exc.masked) from None
    return name


def rename(provider: Provider, alias: str) -> Provider:
    """Give the provider a new alias (AliasError if taken); the vault records the change."""
    name = clean_alias(provider.workspace_id, alias, provider)
    if name == provider.alias:
        return provider
    provider.alias = name
    try:
        with transaction.atomic():
            provider.save(update_fields=["alias"])
    except IntegrityError:  # taken between the check and the save
        raise AliasError(f"“{name}” is already the alias of another provider. Pick another name.") from None
    provider_changed.send(Provider, provider=provider, event="alias_renamed")
    return provider


def add_by_domain(workspace: Workspace, raw_domain: str, alias: str = "") -> tuple[Provider, bool]:
    """An owner types a provider's domain: it is stored like a detected one. (provider, created)."""
    domain = normalize_domain(raw_domain)
    if not domain or not looks_like_domain(domain):
        raise AliasError("That does not look like a domain. Type it like provider-panel.com.")
    register_secret(domain)
    digest = domain_digest(domain)
    existing = Provider.objects.filter(workspace=workspace, domain_hmac=digest).first()
    if existing:
        return existing, False
    name = clean_alias(workspace.pk, alias) if alias.strip() else None
    provider, created = _create(workspace.pk, digest, domain, name)
    if created:
        provider_changed.send(Provider, provider=provider, event="provider_added")
    return provider, created


def group_services(providers: Iterable[Provider]) -> dict[int, list[ServiceSeen]]:
    """Services seen per provider id, most used first (one query for the whole page)."""
    grouped: dict[int, list[ServiceSeen]] = defaultdict(list)
    rows = ServiceSeen.objects.filter(provider__in=list(providers)).order_by("-orders", "service_id")
    for row in rows:
        grouped[row.provider_id].append(row)
    return grouped
