"""A workspace wired to the loopback fakes, for the end-to-end tests, the demo and the benchmark.

Nothing of the product imports it (the demo app is the top layer): it builds panels,
connections, destinations and routes the way an owner would through the pages, only faster.
"""

from __future__ import annotations

import time

from django.db.models import Q

from panelrelay.accounts.models import Workspace
from panelrelay.forwarding.models import RequestOrder
from panelrelay.panels.models import Panel, Provider
from panelrelay.panels.providers import add_by_domain
from panelrelay.routing.models import ProviderRoute, RoutingDefaults, ServiceOverride
from panelrelay.transports.models import Connection, Destination
from panelrelay.worker.runner import Worker


def panel(workspace: Workspace, url: str, key: str = "test-key", name: str = "Main", kind: str = "pp_v2") -> Panel:
    obj = Panel(workspace=workspace, name=name, url=url, kind=kind)
    obj.set_api_key(key)
    obj.save()
    return obj


def provider(workspace: Workspace, domain: str, alias: str) -> Provider:
    return add_by_domain(workspace, domain, alias)[0]


def telegram(workspace: Workspace, api_url: str, token: str = "123456:DEMO", name: str = "Relay bot") -> Connection:
    conn = Connection(workspace=workspace, kind="telegram", name=name, config={"api_url": api_url}, status="working")
    conn.set_secret(token)
    conn.save()
    return conn


def _gateway(workspace: Workspace, kind: str, name: str, config: dict, secret: str, pace: float) -> Connection:
    conn = Connection(workspace=workspace, kind=kind, name=name, config=config, status="working", pace_seconds=pace)
    conn.set_secret(secret)
    conn.save()
    return conn


def waha(
    workspace: Workspace, base_url: str, key: str = "waha-key", pace: float = 0.05, name: str = "WAHA"
) -> Connection:
    return _gateway(workspace, "waha", name, {"base_url": base_url, "session": "default"}, key, pace)


def evolution(
    workspace: Workspace, base_url: str, key: str = "evo-key", pace: float = 0.05, name: str = "Evolution"
) -> Connection:
    return _gateway(workspace, "evolution", name, {"base_url": base_url, "instance": "relay"}, key, pace)


def greenapi(
    workspace: Workspace, api_url: str, token: str = "green-token", pace: float = 0.05, name: str = "Green-API"
) -> Connection:
    return _gateway(workspace, "greenapi", name, {"api_url": api_url, "id_instance": "1101000001"}, token, pace)


def destination(connection: Connection, name: str, kind: str, target: str) -> Destination:
    return Destination.objects.create(
        workspace=connection.workspace, connection=connection, name=name, kind=kind, target=target
    )


def route(prov: Provider, dest: Destination) -> None:
    ProviderRoute.objects.update_or_create(provider=prov, defaults={"workspace": prov.workspace, "destination": dest})


def override(service_id: str, dest: Destination) -> None:
    ServiceOverride.objects.create(workspace=dest.workspace, service_id=service_id, destination=dest)


def defaults(workspace: Workspace, manual: Destination | None = None, fallback: Destination | None = None) -> None:
    RoutingDefaults.objects.update_or_create(
        workspace=workspace, defaults={"manual_destination": manual, "fallback_destination": fallback}
    )


def open_orders(workspace: Workspace | None = None) -> int:
    # An order waiting for a route is not the worker's to move: the owner sends it (forwarding.waiting).
    qs = RequestOrder.objects.filter(~Q(state__in=(*RequestOrder.FINAL, RequestOrder.WAITING)))
    return qs.filter(workspace=workspace).count() if workspace else qs.count()


def drain(timeout: float = 60.0, worker: Worker | None = None) -> float:
    """Run a worker in this thread until every order is final. Returns the seconds it took."""
    worker = worker or Worker(worker_id="drain", idle_sleep=0.02)
    started = time.monotonic()
    while open_orders():
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"{open_orders()} orders still open after {timeout:g} s")
        if not worker.run_once():
            time.sleep(0.02)
    return time.monotonic() - started
