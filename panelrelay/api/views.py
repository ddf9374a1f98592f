"""REST API v1: create a forward request, read its per-order states, check a route."""

from __future__ import annotations

from django.db.models import Count
from django.http import HttpRequest, JsonResponse
from django.urls import reverse

from panelrelay.api.auth import ApiError, api_view, json_body
from panelrelay.api.openapi import SPEC
from panelrelay.core import params
from panelrelay.forwarding.models import Command, ForwardRequest, RequestOrder
from panelrelay.forwarding.submit import MAX_IDS, SubmitError, create_request, parse_ids
from panelrelay.panels.adapters.base import PanelError
from panelrelay.panels.models import Panel
from panelrelay.panels.privacy import AddressInText, refuse_addresses
from panelrelay.panels.services import find_order
from panelrelay.reading.orderids import is_order_id
from panelrelay.routing.resolve import Router

ORDER_PAGE = 1000
SAFE_INTEGER = 2**53 - 1  # a larger JSON number has lost digits in a JavaScript client before we see it
MAX_OFFSET = 2**31 - 1  # past any request's last order; a larger one overflows the database's OFFSET


def openapi(request: HttpRequest) -> JsonResponse:
    return JsonResponse(SPEC)


def _panel(request: HttpRequest, ref: object) -> Panel:
    panels = Panel.objects.filter(workspace=request.workspace)
    if ref in (None, ""):
        only = list(panels[:2])
        if len(only) != 1:
            raise ApiError(400, "Say which panel: pass `panel` (its name or code).")
        return only[0]
    if not isinstance(ref, str):
        raise ApiError(400, "`panel` must be a string: the panel's name or code.")
    panel = panels.filter(name=ref).first() or (panels.filter(code=ref).first() if _is_uuid(ref) else None)
    if panel is None:
        raise ApiError(404, f"No panel {ref!r} in this workspace.")
    return panel


def _is_uuid(value: str) -> bool:
    import uuid

    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _ids(value: object) -> list[str]:
    """Strings of ids, or JSON integers up to SAFE_INTEGER; every other number is refused and named."""
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(
        isinstance(v, str | int | float) and not isinstance(v, bool) for v in items
    ):
        raise ApiError(400, "`ids` must be a list of order ids or a string of ids.")
    unsafe = [v for v in items if isinstance(v, int) and v > SAFE_INTEGER and is_order_id(str(v))]
    if unsafe:
        raise ApiError(
            400,
            f'Send ids above {SAFE_INTEGER} as strings, e.g. "{unsafe[0]}": as JSON numbers they may have lost digits.',
        )
    try:
        return parse_ids(" ".join(str(v) for v in items))  # -5, 2.5, 1e+25 and 2**70 are named, never cut
    except SubmitError as exc:
        raise ApiError(400, str(exc)) from None


def _command(request: HttpRequest, slug: object) -> Command:
    commands = {c.slug: c for c in Command.for_workspace(request.workspace) if c.enabled}
    if not isinstance(slug, str) or slug not in commands:
        raise ApiError(400, f"`command` must be one of: {', '.join(commands)}.")
    return commands[slug]


@api_view("POST")
def create(request: HttpRequest) -> JsonResponse:
    data = json_body(request)
    ids = _ids(data.get("ids"))
    if len(ids) > MAX_IDS:
        raise ApiError(413, f"At most {MAX_IDS:,} ids in one request.")
    note = data.get("note", "")
    if not isinstance(note, str) or len(note) > 500:
        raise ApiError(400, "`note` must be a string of at most 500 characters.")
    try:  # the note goes into the provider's message and onto request pages that staff read
        refuse_addresses(request.workspace.id, note, "`note`")
    except AddressInText as exc:
        raise ApiError(400, str(exc)) from None
    force = data.get("force", False)
    if not isinstance(force, bool):
        raise ApiError(400, "`force` must be true or false.")
    try:
        fwd = create_request(
            request.workspace, _panel(request, data.get("panel")), _command(request, data.get("command")), ids,
            note=note, source=ForwardRequest.API, source_ref=request.api_token.name, force=force,
        )  # fmt: skip
    except SubmitError as exc:
        raise ApiError(400, str(exc)) from None
    body = _request_json(fwd, with_orders=False)
    response = JsonResponse(body, status=201)
    response["Location"] = body["url"]
    return response


@api_view("GET")
def detail(request: HttpRequest, code) -> JsonResponse:
    fwd = ForwardRequest.objects.filter(workspace=request.workspace, code=code).first()
    if fwd is None:
        raise ApiError(404, "No such request in this workspace.")
    state = params.text(request.GET, "state")
    offset = params.integer(request.GET, "offset", 0, minimum=0, maximum=MAX_OFFSET)
    return JsonResponse(_request_json(fwd, with_orders=True, state=state, offset=offset))


def _request_json(fwd: ForwardRequest, with_orders: bool, state: str = "", offset: int = 0) -> dict:
    counts = dict(fwd.orders.values_list("state").annotate(n=Count("id")))
    body = {
        "id": str(fwd.code),
        "url": reverse("api:request", args=[fwd.code]),
        "panel": fwd.panel_name,
        "command": fwd.command.slug if fwd.command else None,
        "source": fwd.source,
        "note": fwd.note,
        "created": fwd.created.isoformat(),
        "finished": fwd.finished.isoformat() if fwd.finished else None,
        "total": fwd.total,
        "counts": {s: counts.get(s, 0) for s, _ in RequestOrder.STATES},
    }
    if with_orders:
        body.update(_orders_page(fwd, state, offset))
    return body


def _orders_page(fwd: ForwardRequest, state: str, start: int) -> dict:
    orders = fwd.orders.order_by("id")
    if state:
        if state not in dict(RequestOrder.STATES):
            raise ApiError(400, f"`state` must be one of: {', '.join(dict(RequestOrder.STATES))}.")
        orders = orders.filter(state=state)
    rows = [
        {
            "order_id": o.panel_order_id,
            "state": o.state,
            "outcome": o.outcome,
            "reason": o.reason,
            "external_id": o.external_id or None,
            "provider": o.provider_alias or None,
            "manual": o.manual,
            "service_id": o.service_id or None,
            "status": o.status_label or None,
            "destination": o.destination_label or None,
            "sent_at": o.sent_at.isoformat() if o.sent_at else None,
        }  # fmt: skip
        for o in orders[start : start + ORDER_PAGE]
    ]
    following = start + ORDER_PAGE if orders[start + ORDER_PAGE : start + ORDER_PAGE + 1].exists() else None
    return {"orders": rows, "next_offset": following}


@api_view("GET")
def route_check(request: HttpRequest) -> JsonResponse:
    order_id = request.GET.get("order", "").strip()
    if not is_order_id(order_id):
        raise ApiError(400, "Pass `order`: a panel order id (1 to 20 digits).")
    panel = _panel(request, params.text(request.GET, "panel"))
    try:
        found = find_order(panel, order_id)
    except PanelError as exc:
        raise ApiError(502, str(exc)) from None
    if found is None:
        raise ApiError(404, f"Order {order_id} was not found in {panel.name}.")
    decision = Router(request.workspace).decide(found, panel)
    return JsonResponse(
        {
            "order_id": order_id,
            "panel": panel.name,
            "external_id": found.external_id,
            "provider": found.provider.alias if found.provider else None,
            "service_id": found.service_id,
            "status": found.status_label,
            "mode": found.mode,
            "destination": str(decision.destination) if decision.destination else None,
            "rule": decision.rule,
            "reason": decision.reason,
        }  # fmt: skip
    )


@api_view("GET")
def panels(request: HttpRequest) -> JsonResponse:
    rows = Panel.objects.filter(workspace=request.workspace).order_by("name")
    return JsonResponse({"panels": [{"id": str(p.code), "name": p.name, "enabled": p.enabled} for p in rows]})


@api_view("GET")
def commands(request: HttpRequest) -> JsonResponse:
    rows = [c for c in Command.for_workspace(request.workspace) if c.enabled]
    return JsonResponse({"commands": [{"command": c.slug, "label": c.label, "statuses": c.statuses} for c in rows]})
