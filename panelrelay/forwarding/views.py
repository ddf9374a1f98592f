"""Forward (paste ids, pick a command), a request's live result table, and the Activity log."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q, QuerySet
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from panelrelay.accounts.middleware import MemberRequest
from panelrelay.core import csvsafe, params
from panelrelay.core.tenancy import get_for_member, require_member, scoped
from panelrelay.forwarding.forms import ForwardForm
from panelrelay.forwarding.models import Command, ForwardRequest, Outcome, Progress, RequestOrder
from panelrelay.forwarding.submit import SubmitError, create_request
from panelrelay.panels.models import Panel, Provider

STATE_TABS = [
    ("", "All"),
    ("queued", "Queued"),
    ("sent", "Sent"),
    ("retrying", "Retrying"),
    ("failed", "Failed"),
    ("skipped", "Skipped"),
]
# After sending: what the provider and the panel said (RequestOrder.progress); "awaiting" is "".
PROGRESS_TABS = [
    ("awaiting", "Awaiting answer"),
    (Progress.ANSWERED, "Answered"),
    (Progress.CONFIRMED, "Confirmed"),
    (Progress.FOLLOW_UP, "Follow-up sent"),
    (Progress.ESCALATED, "Escalated"),
    (Progress.NO_ANSWER, "No answer"),
]
ROWS_PER_PAGE = 200


@require_member()
def home(request: MemberRequest) -> HttpResponse:
    """Where sign-in lands: Forward for those who may forward, else Activity."""
    return redirect("forwarding:forward" if request.membership.has("forward") else "forwarding:activity")


@require_member("forward")
def forward(request: MemberRequest) -> HttpResponse:
    panels = list(scoped(request, Panel).filter(enabled=True).order_by("name"))
    commands = [c for c in Command.for_workspace(request.workspace) if c.enabled]
    form = ForwardForm(request.POST or None, workspace_id=request.workspace.id, panels=panels, commands=commands)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        panel = next(p for p in panels if str(p.code) == data["panel"])
        force = data["force"] and request.membership.is_owner
        try:
            fwd = create_request(
                request.workspace,
                panel,
                data["command"],
                data["ids"],
                note=data["note"],
                user=request.user,
                force=force,
            )
        except SubmitError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request, f"{fwd.command_label}: {fwd.total:,} order(s) received. Results appear below as they come in."
            )
            return redirect("forwarding:request", code=fwd.code)
    recent = [(fwd, "") for fwd in _with_counts(_visible_requests(request))[:8]]  # no Copy button here
    return render(
        request, "forwarding/forward.html", {"form": form, "panels": panels, "commands": commands, "recent": recent}
    )


def _visible_requests(request: MemberRequest) -> QuerySet[ForwardRequest]:
    qs = scoped(request, ForwardRequest).select_related("created_by", "panel")
    if not request.membership.has("activity"):
        qs = qs.filter(created_by=request.user)  # staff without "see all activity" see their own
    return qs


def _with_counts(qs: QuerySet[ForwardRequest]) -> QuerySet[ForwardRequest]:
    open_states = [RequestOrder.PENDING, RequestOrder.QUEUED, RequestOrder.RETRYING]
    return qs.annotate(
        sent=Count("orders", filter=Q(orders__state=RequestOrder.SENT)),
        skipped=Count("orders", filter=Q(orders__state=RequestOrder.SKIPPED)),
        failed=Count("orders", filter=Q(orders__state=RequestOrder.FAILED)),
        open=Count("orders", filter=Q(orders__state__in=open_states)),
    )


def _get_request(request: MemberRequest, code: UUID) -> ForwardRequest:
    fwd = get_for_member(request, ForwardRequest, code=code)
    if not request.membership.has("activity") and fwd.created_by_id != request.user.id:
        raise PermissionDenied("You can see your own requests only. Ask the owner for “See all activity”.")
    return fwd


def _counts(fwd: ForwardRequest) -> dict[str, int]:
    rows = fwd.orders.values("state").annotate(n=Count("id"))
    counts = {row["state"]: row["n"] for row in rows}
    counts["final"] = sum(counts.get(s, 0) for s in RequestOrder.FINAL)
    counts["all"] = fwd.total
    return counts


def _progress_filter(value: str) -> Q:
    return Q(state=RequestOrder.SENT, progress="") if value == "awaiting" else Q(progress=value)


def _progress_counts(fwd: ForwardRequest) -> list[tuple[str, str, int]]:
    rows = fwd.orders.filter(state=RequestOrder.SENT).values("progress").annotate(n=Count("id"))
    found = {row["progress"] or "awaiting": row["n"] for row in rows}
    return [(key, label, found.get(key, 0)) for key, label in PROGRESS_TABS]


def _request_context(request: MemberRequest, fwd: ForwardRequest) -> dict[str, Any]:
    state = params.text(request.GET, "state")
    progress = params.text(request.GET, "progress")
    orders = fwd.orders.select_related("message").order_by("id")
    if state:
        orders = orders.filter(state=state)
    if progress:
        orders = orders.filter(_progress_filter(progress))
    page = Paginator(orders, ROWS_PER_PAGE).get_page(request.GET.get("page"))
    counts = _counts(fwd)
    return {
        "fwd": fwd,
        "page": page,
        "counts": counts,
        "state": state,
        "progress": progress,
        "progress_tabs": _progress_counts(fwd) if counts.get(RequestOrder.SENT) else [],
        "tabs": [(key, label, counts["all"] if not key else counts.get(key, 0)) for key, label in STATE_TABS],
        "done": counts["final"] >= fwd.total,
        "percent": int(100 * counts["final"] / fwd.total) if fwd.total else 100,
        "external_ids": "\n".join(
            fwd.orders.filter(state=RequestOrder.SENT).exclude(external_id="").values_list("external_id", flat=True)
        ),
    }


@require_member()
def request_detail(request: MemberRequest, code: UUID) -> HttpResponse:
    fwd = _get_request(request, code)
    template = "forwarding/_request_rows.html" if request.headers.get("HX-Request") else "forwarding/request.html"
    return render(request, template, _request_context(request, fwd))


@require_member("forward")
@require_POST
def re_request(request: MemberRequest, code: UUID) -> HttpResponse:
    fwd = _get_request(request, code)
    only = request.POST.get("only", "")
    orders = fwd.orders.all()
    if only == "failed":
        orders = orders.filter(state=RequestOrder.FAILED)
    ids = list(orders.values_list("panel_order_id", flat=True))
    if fwd.panel is None or fwd.command is None:
        messages.error(request, "The panel or command of that request was deleted; paste the ids again.")
        return redirect("forwarding:request", code=fwd.code)
    try:
        new = create_request(request.workspace, fwd.panel, fwd.command, ids, note=fwd.note, user=request.user)
    except SubmitError as exc:
        messages.error(request, str(exc))
        return redirect("forwarding:request", code=fwd.code)
    messages.success(request, f"Re-requested {len(ids):,} order(s). The cooldown still applies.")
    return redirect("forwarding:request", code=new.code)


def _filtered_orders(request: MemberRequest) -> QuerySet[RequestOrder]:
    qs = RequestOrder.objects.filter(workspace=request.workspace).select_related("request")
    if not request.membership.has("activity"):
        qs = qs.filter(request__created_by=request.user)
    g = request.GET
    if panel := params.code(g, "panel"):
        qs = qs.filter(request__panel__code=panel)
    if provider := params.code(g, "provider"):
        qs = qs.filter(provider__code=provider)
    if command := params.text(g, "command"):
        qs = qs.filter(command_slug=command)
    if state := params.text(g, "state"):
        qs = qs.filter(state=state)
    if outcome := params.text(g, "outcome"):
        qs = qs.filter(outcome=outcome)
    if progress := params.text(g, "progress"):
        qs = qs.filter(_progress_filter(progress))
    if source := params.text(g, "source"):
        qs = qs.filter(request__source=source)
    if day := params.day(g, "date"):
        qs = qs.filter(request__created__date=day)
    if q := params.text(g, "q"):
        qs = qs.filter(Q(panel_order_id=q) | Q(external_id=q))
    return qs


@require_member()
def activity(request: MemberRequest) -> HttpResponse:
    orders = _filtered_orders(request)
    request_ids = orders.values("request_id")
    reqs = _with_counts(_visible_requests(request).filter(id__in=request_ids))
    page = Paginator(reqs.order_by("-created"), 50).get_page(request.GET.get("page"))
    ctx = {
        "page": page,
        "rows": _with_external_ids(page.object_list),
        "filters": request.GET,
        "panels": scoped(request, Panel).order_by("name"),
        "providers": scoped(request, Provider).order_by("alias"),
        "commands": Command.for_workspace(request.workspace),
        "sources": ForwardRequest.SOURCES,
        "states": RequestOrder.STATES,
        "outcomes": Outcome.choices,
        "progresses": PROGRESS_TABS,
        "query": request.GET.urlencode(),
        "matches": orders.count() if request.GET.get("q") else None,
    }
    return render(request, "forwarding/activity.html", ctx)


def _with_external_ids(listed: Iterable[ForwardRequest]) -> list[tuple[ForwardRequest, str]]:
    """Each listed request with its sent orders' external ids, for its Copy button (one query)."""
    requests = list(listed)
    by_request: dict[int, list[str]] = {r.id: [] for r in requests}
    rows = RequestOrder.objects.filter(request_id__in=by_request, state=RequestOrder.SENT).exclude(external_id="")
    for request_id, external_id in rows.order_by("id").values_list("request_id", "external_id"):
        by_request[request_id].append(external_id)
    return [(r, "\n".join(by_request[r.id])) for r in requests]


def _when(moment: datetime | None) -> str:
    return timezone.localtime(moment).isoformat(timespec="seconds") if moment else ""


@require_member()
def export_csv(request: MemberRequest) -> StreamingHttpResponse:
    """Every order matching the Activity filters, one row each. Aliases only, never a domain."""
    orders = _filtered_orders(request).order_by("-request__created", "id")
    header = ["requested", "panel", "command", "source", "panel_order_id", "external_id", "provider", "service_id",
              "service", "status", "destination", "state", "outcome", "reason", "sent_at", "progress", "answer",
              "answer_text", "answered_at", "panel_status_now", "confirmed_at"]  # fmt: skip

    def rows() -> Iterator[list[Any]]:
        yield header
        for o in orders.iterator(chunk_size=1000):
            yield [
                timezone.localtime(o.request.created).isoformat(timespec="seconds"), o.request.panel_name,
                o.request.command_label, o.request.get_source_display(), o.panel_order_id, o.external_id,
                o.provider_alias or ("(manual)" if o.manual else ""), o.service_id, o.service_name, o.status_label,
                o.destination_label, o.state, o.outcome, o.reason,
                _when(o.sent_at), o.progress, o.answer_kind, o.answer_text, _when(o.answered_at), o.watched_status,
                _when(o.confirmed_at),
            ]  # fmt: skip

    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    return csvsafe.response(rows(), f"panelrelay-activity-{stamp}.csv")
