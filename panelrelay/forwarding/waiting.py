"""Orders that need a route: they wait ("Needs a route") until the owner sets one and sends them.

The engine leaves an order it cannot route in `RequestOrder.WAITING` (outcome `needs_route`)
instead of skipping it. Nothing sends it silently when a route appears: the owner confirms from
the request page or the Routing page ("12 orders are waiting for this provider — send now").
`send_waiting` then routes them again with the provider and service stored at lookup (the panel
is not asked again: nothing about the order changed, only the rules) and hands them to assembly.

Nothing twice: an order moves out of WAITING only by a conditional UPDATE `WHERE state =
'waiting' AND message IS NULL`, so two "send now" clicks at once move each order once, and
assembly claims each order into one message only (assembly._claim_into_message).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Count, QuerySet
from django.utils import timezone

from panelrelay.accounts.models import Workspace
from panelrelay.core import faults
from panelrelay.forwarding.assembly import assemble_messages
from panelrelay.forwarding.models import ForwardRequest, Outcome, RequestOrder
from panelrelay.forwarding.progress import finish_requests
from panelrelay.panels.adapters.base import AUTO, MANUAL
from panelrelay.panels.models import Provider
from panelrelay.panels.services import ResolvedOrder
from panelrelay.routing.resolve import Decision, Router
from panelrelay.transports.models import Destination

MANUAL_KEY = "manual"  # the group of manual-service orders (no provider) in the Routing page's box


@dataclass(frozen=True)
class WaitingGroup:
    """The waiting orders of one provider (or of manual services), and whether a route exists now."""

    key: str  # the provider's code, or MANUAL_KEY
    label: str  # the provider's alias, or "Manual services"
    count: int
    destination: str  # where they would go now; "" while nothing routes them
    provider: Provider | None


@dataclass(frozen=True)
class SendResult:
    sent: int  # moved to queued and handed to assembly
    still_waiting: int  # no route yet (or its destination is off or broken)
    skipped: int  # the provider was turned off meanwhile


def waiting_orders(workspace: Workspace) -> QuerySet[RequestOrder]:
    return RequestOrder.objects.filter(workspace=workspace, state=RequestOrder.WAITING, message__isnull=True)


def groups(workspace: Workspace, request: ForwardRequest | None = None) -> list[WaitingGroup]:
    """Waiting orders by provider (and manual services), with where each group would go now."""
    scope = waiting_orders(workspace)
    if request is not None:
        scope = scope.filter(request=request)
    rows = scope.values("provider_id", "manual").annotate(n=Count("id")).order_by("provider_id", "manual")
    counts: dict[int | None, int] = defaultdict(int)
    for row in rows:
        counts[row["provider_id"]] += row["n"]
    if not counts:
        return []
    providers = {p.id: p for p in Provider.objects.filter(workspace=workspace, id__in=[k for k in counts if k])}
    router = Router(workspace)
    out = []
    for provider_id, n in counts.items():
        provider = providers.get(provider_id) if provider_id is not None else None
        if provider_id is not None and provider is None:
            continue  # the provider was deleted: its orders keep waiting under no name
        decision = router.decide(_stand_in("", provider, manual=provider is None, service_id=""), None)
        usable = decision.destination is not None and decision.destination.enabled and not decision.destination.broken
        out.append(
            WaitingGroup(
                key=str(provider.code) if provider else MANUAL_KEY,
                label=provider.alias if provider else "Manual services",
                count=n,
                destination=str(decision.destination) if usable else "",
                provider=provider,
            )
        )
    return sorted(out, key=lambda g: (not g.destination, g.label.casefold()))


def send_waiting(
    workspace: Workspace, *, request: ForwardRequest | None = None, provider: Provider | None = None,
    manual: bool = False,
) -> SendResult:  # fmt: skip
    """Route and send the waiting orders of a request, of a provider, or of manual services.

    Orders that still have no usable route keep waiting with the reason updated; orders of a
    provider turned off meanwhile are skipped like the engine would (outcome provider_off).
    """
    scope = waiting_orders(workspace)
    if request is not None:
        scope = scope.filter(request=request)
    if provider is not None:
        scope = scope.filter(provider=provider)
    elif manual:
        scope = scope.filter(provider__isnull=True)
    orders = list(scope.select_related("provider", "request__panel").order_by("id"))
    router = Router(workspace)
    moves: dict[tuple[str, str, int | None, int | None, str], list[int]] = defaultdict(list)
    still = skipped = 0
    for order in orders:
        if order.provider is not None and not order.provider.enabled:
            moves[(RequestOrder.SKIPPED, Outcome.PROVIDER_OFF, None, None,
                   f"provider {order.provider.alias} is turned off")].append(order.id)  # fmt: skip
            continue
        decision = router.decide(
            _stand_in(order.panel_order_id, order.provider, manual=order.manual, service_id=order.service_id),
            order.request.panel,
        )
        why = _unusable(decision)
        if why:
            moves[(RequestOrder.WAITING, Outcome.NEEDS_ROUTE, None, None, f"needs a route: {why}")].append(order.id)
            continue
        assert decision.destination is not None  # _unusable said so
        moves[(RequestOrder.QUEUED, Outcome.ROUTED, decision.destination.id, decision.rule, decision.reason)].append(
            order.id
        )
    sent_requests: set[int] = set()
    sent = 0
    labels = {d.id: str(d)[:120] for d in Destination.objects.filter(workspace=workspace)}
    for (state, outcome, destination_id, rule, reason), ids in moves.items():
        fields = dict(state=state, outcome=outcome, reason=reason[:300], updated=timezone.now())
        if state == RequestOrder.QUEUED and destination_id is not None:
            fields.update(destination_id=destination_id, rule=rule, destination_label=labels.get(destination_id, ""))
        faults.point("waiting.before_claim")
        # The claim: only orders still waiting move, so a second click (or a second worker) moves none twice.
        moved = RequestOrder.objects.filter(id__in=ids, state=RequestOrder.WAITING, message__isnull=True).update(
            **fields
        )
        if state == RequestOrder.QUEUED:
            sent += moved
            sent_requests.update(
                RequestOrder.objects.filter(id__in=ids, state=RequestOrder.QUEUED).values_list("request_id", flat=True)
            )
        elif state == RequestOrder.SKIPPED:
            skipped += moved
        else:
            still += len(ids)
    touched = sorted(sent_requests | {o.request_id for o in orders})
    for fwd in ForwardRequest.objects.filter(id__in=sorted(sent_requests)).select_related("workspace"):
        assemble_messages(fwd)
    finish_requests(touched)
    return SendResult(sent=sent, still_waiting=still, skipped=skipped)


def _unusable(decision: Decision) -> str:
    if decision.destination is None:
        return decision.reason
    if not decision.destination.enabled:
        return f"destination {decision.destination} is turned off"
    if decision.destination.broken:
        return f"destination {decision.destination} is broken"
    return ""


def _stand_in(order_id: str, provider: Provider | None, *, manual: bool, service_id: str) -> ResolvedOrder:
    """What the router needs of an order, from what the lookup stored (no new panel call)."""
    return ResolvedOrder(
        id=order_id, external_id=None, provider=provider, service_id=service_id or None, service_name="",
        status="", status_label="", mode=MANUAL if manual else AUTO, quantity=None, created=None, user=None, link="",
    )  # fmt: skip
