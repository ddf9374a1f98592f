"""Lookups running at once never wait on, or deadlock over, the same provider rows (PostgreSQL)."""

from __future__ import annotations

import random
import threading
from collections import Counter

import pytest
from django.db import connection, connections

from panelrelay.accounts.models import Workspace
from panelrelay.panels import providers
from panelrelay.panels.adapters import base
from panelrelay.panels.models import Panel, Provider, SeenOrder, ServiceSeen

DOMAINS = [f"p{n}.example" for n in range(8)]


def _order(oid: int) -> base.PanelOrder:
    return base.PanelOrder(
        id=str(oid), external_id=str(9000 + oid), provider_domain=DOMAINS[oid % len(DOMAINS)],
        service_id=str(oid % 5), service_name=f"Service {oid % 5}", status=base.COMPLETED, mode=base.AUTO,
    )  # fmt: skip


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_lookups_of_the_same_providers_never_deadlock_and_count_right() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL-only: row locks between connections (CI runs the suite with DATABASE_URL)")
    panel = Panel(workspace=Workspace.objects.create(name="W"), name="Main", url="http://127.0.0.1:9/")
    panel.set_api_key("k" * 16)
    panel.save()
    providers.match(panel, [_order(n) for n in range(len(DOMAINS))])  # the providers exist; their first orders
    # 6 "workers" × 12 chunks of 100 orders over ids 0..1999: every chunk touches every provider, and
    # the workers overlap (an order looked up by several requests at once counts once).
    errors: list[BaseException] = []
    start = threading.Barrier(6)

    def lookups(seed: int) -> None:
        rng = random.Random(seed)
        try:
            start.wait()
            for _ in range(12):
                first = rng.randrange(0, 1900)
                chunk = [_order(n) for n in range(first, first + 100)]
                rng.shuffle(chunk)
                providers.match(panel, chunk)
                if rng.random() < 0.3:
                    providers.flush_counts()  # flushes run beside lookups, and beside each other
        except BaseException as exc:  # a deadlock is an OperationalError from psycopg
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=lookups, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == [], errors
    while providers.flush_counts():
        pass
    seen = set(SeenOrder.objects.filter(panel=panel).values_list("order_id", flat=True))
    expected = Counter(DOMAINS[int(oid) % len(DOMAINS)] for oid in seen)
    by_alias = {p.alias: p.orders_seen for p in Provider.objects.all()}
    got = {DOMAINS[int(n) % len(DOMAINS)]: by_alias[providers.match(panel, [_order(int(n))])[n].alias]
           for n in ("0", "1", "2", "3", "4", "5", "6", "7")}  # fmt: skip
    assert got == dict(expected)
    assert sum(ServiceSeen.objects.values_list("orders", flat=True)) == len(seen)
