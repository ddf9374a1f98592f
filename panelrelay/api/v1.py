"""REST API v1: create a forward request, read its per-order states, check a route.

The operations take and answer the schemas of api/schemas.py; django-ninja validates each call
against them and generates the OpenAPI document, served at /api/v1/openapi.json, from the same
code. Every refusal is {"error": …} (api/errors.py), and every status an operation can answer is
in its `response`, so the document lists them all.
"""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from django.db.models import Count
from django.http import HttpResponse
from django.urls import reverse
from ninja import NinjaAPI, Query
from ninja.errors import HttpError
from ninja.renderers import JSONRenderer
from ninja.responses import NinjaJSONEncoder, Status

from panelrelay.api import errors
from panelrelay.api.auth import ApiRequest, TokenAuth
from panelrelay.api.schemas import (
    CommandsOut,
    ErrorOut,
    ForwardIn,
    OrdersQuery,
    PanelsOut,
    RequestOut,
    RequestPageOut,
    RouteOut,
    RouteQuery,
)
from panelrelay.forwarding.models import Command, ForwardRequest, RequestOrder
from panelrelay.forwarding.submit import MAX_IDS, SubmitError, create_request
from panelrelay.panels.adapters.base import PanelError
from panelrelay.panels.models import Panel
from panelrelay.panels.privacy import AddressInText, refuse_addresses
from panelrelay.panels.services import find_order
from panelrelay.routing.resolve import Router

ORDER_PAGE = 1000


class _Encoder(NinjaJSONEncoder):
    def default(self, o: Any) -> Any:
        if isinstance(o, datetime.datetime):  # as before ninja: microseconds and "+00:00", not Django's "Z"
            return o.isoformat()
        return super().default(o)


class _Renderer(JSONRenderer):
    encoder_class = _Encoder


api = NinjaAPI(
    title="PanelRelay API",
    version="1",
    description="Forward refill/cancel/speed-up/partial requests for panel orders and follow each order. "
    "Authenticate with a workspace token (Settings → API tokens) as `Authorization: Bearer <token>`. "
    'Every error is a JSON object {"error": "…"} whose sentence names the wrong field or parameter.',
    urls_namespace="api:v1",
    docs_url=None,  # no Swagger page: it loads its scripts from a CDN, and nothing here loads from third parties
    auth=TokenAuth(),
    parser=errors.JsonBody(),
    renderer=_Renderer(),
)
errors.install(api)


def _errors(*statuses: int) -> dict[frozenset[int], type[ErrorOut]]:
    return {frozenset((401, 403, *statuses)): ErrorOut}  # every call can lack a token or a workspace


@api.post(
    "/requests",
    response={201: RequestOut, **_errors(400, 404, 413, 415)},
    url_name="create",
    operation_id="createRequest",
    summary="Forward a command for one or many panel order ids",
)
def create(request: ApiRequest, response: HttpResponse, body: ForwardIn) -> Status:
    if len(body.ids) > MAX_IDS:
        raise HttpError(413, f"At most {MAX_IDS:,} ids in one request.")
    try:  # the note goes into the provider's message and onto request pages that staff read
        refuse_addresses(request.workspace.id, body.note, "`note`")
        fwd = create_request(
            request.workspace, _panel(request, body.panel), _command(request, body.command), body.ids,
            note=body.note, source=ForwardRequest.API, source_ref=request.api_token.name, force=body.force,
        )  # fmt: skip
    except (AddressInText, SubmitError) as exc:
        raise HttpError(400, str(exc)) from None
    answer = _request_json(fwd)
    response["Location"] = answer["url"]
    return Status(201, answer)


@api.get(
    "/requests/{uuid:id}",
    response={200: RequestPageOut, **_errors(400, 404)},
    url_name="request",
    operation_id="getRequest",
    summary="A request with the state and reason of each order (1,000 orders a page)",
)
def detail(request: ApiRequest, id: uuid.UUID, query: Query[OrdersQuery]) -> dict:  # noqa: A002 (the path's name)
    fwd = ForwardRequest.objects.filter(workspace=request.workspace, code=id).first()
    if fwd is None:
        raise HttpError(404, "No such request in this workspace.")
    return {**_request_json(fwd), **_orders_page(fwd, query.state, query.offset)}


@api.get(
    "/route-check",
    response={200: RouteOut, **_errors(400, 404, 502)},
    url_name="route_check",
    operation_id="routeCheck",
    summary="Which destination an order would go to, and why; nothing is sent",
)
def route_check(request: ApiRequest, query: Query[RouteQuery]) -> dict:
    panel = _panel(request, query.panel)
    try:
        found = find_order(panel, query.order)
    except PanelError as exc:
        raise HttpError(502, str(exc)) from None
    if found is None:
        raise HttpError(404, f"Order {query.order} was not found in {panel.name}.")
    decision = Router(request.workspace).decide(found, panel)
    return {
        "order_id": query.order, "panel": panel.name, "external_id": found.external_id,
        "provider": found.provider.alias if found.provider else None, "service_id": found.service_id,
        "status": found.status_label, "mode": found.mode,
        "destination": str(decision.destination) if decision.destination else None,
        "rule": decision.rule, "reason": decision.reason,
    }  # fmt: skip


@api.get("/panels", response={200: PanelsOut, **_errors()}, operation_id="listPanels", summary="The workspace's panels")
def panels(request: ApiRequest) -> dict:
    rows = Panel.objects.filter(workspace=request.workspace).order_by("name")
    return {"panels": [{"id": p.code, "name": p.name, "enabled": p.enabled} for p in rows]}


@api.get(
    "/commands",
    response={200: CommandsOut, **_errors()},
    operation_id="listCommands",
    summary="The commands that can be forwarded",
)
def commands(request: ApiRequest) -> dict:
    rows = [c for c in Command.for_workspace(request.workspace) if c.enabled]
    return {"commands": [{"command": c.slug, "label": c.label, "statuses": c.statuses} for c in rows]}


def _panel(request: ApiRequest, ref: str | None) -> Panel:
    panels = Panel.objects.filter(workspace=request.workspace)
    if not ref:
        only = list(panels[:2])
        if len(only) != 1:
            raise HttpError(400, "Say which panel: pass `panel` (its name or code).")
        return only[0]
    panel = panels.filter(name=ref).first() or (panels.filter(code=ref).first() if _is_uuid(ref) else None)
    if panel is None:
        raise HttpError(404, f"No panel {ref!r} in this workspace.")
    return panel


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _command(request: ApiRequest, slug: str) -> Command:
    commands = {c.slug: c for c in Command.for_workspace(request.workspace) if c.enabled}
    if slug not in commands:
        raise HttpError(400, f"`command` must be one of: {', '.join(commands)}.")
    return commands[slug]


def _request_json(fwd: ForwardRequest) -> dict:
    counts = dict(fwd.orders.values_list("state").annotate(n=Count("id")))
    return {
        "id": fwd.code, "url": reverse("api:v1:request", args=[fwd.code]), "panel": fwd.panel_name,
        "command": fwd.command.slug if fwd.command else None, "source": fwd.source, "note": fwd.note,
        "created": fwd.created, "finished": fwd.finished, "total": fwd.total,
        "counts": {s: counts.get(s, 0) for s, _ in RequestOrder.STATES},
    }  # fmt: skip


def _orders_page(fwd: ForwardRequest, state: str | None, start: int) -> dict:
    orders = fwd.orders.order_by("id")
    if state:
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
            "sent_at": o.sent_at,
            "progress": o.progress,
            "answer": o.answer_kind or None,
            "answer_text": o.answer_text or None,
            "answered_at": o.answered_at,
            "panel_status": o.watched_status or None,
            "confirmed_at": o.confirmed_at,
        }  # fmt: skip
        for o in orders[start : start + ORDER_PAGE]
    ]
    following = start + ORDER_PAGE if orders[start + ORDER_PAGE : start + ORDER_PAGE + 1].exists() else None
    return {"orders": rows, "next_offset": following}
