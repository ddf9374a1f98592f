"""Forward (paste ids, pick a command), a request's live result table, and the Activity log."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q, QuerySet
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from panelrelay.accounts.middleware import MemberRequest
from panelrelay.core import params
from panelrelay.core.tenancy import get_for_member, require_member, scoped
from panelrelay.forwarding import forward_page, waiting
from panelrelay.forwarding.forms import ForwardForm
from panelrelay.forwarding.home import home_context
from panelrelay.forwarding.models import Command, ForwardRequest, Progress, RequestOrder
from panelrelay.forwarding.submit import SubmitError, create_request
from panelrelay.panels.models import Panel

STATE_TABS = [
    ("", "All"),
    ("queued", "Queued"),
    ("sent", "Sent"),
    ("retrying", "Retrying"),
    ("waiting", "Needs a route"),
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
    """Where sign-in lands. Owners and staff with Activity: the set-up checklist (owners, until it is
    complete) and the 30-day dashboard. Staff without Activity: Forward (their work, no extra click)."""
    membership = request.membership
    if not (membership.is_owner or membership.has("activity")):
        return redirect("forwarding:forward" if membership.has("forward") else "forwarding:activity")
    return render(request, "forwarding/home.html", home_context(request.workspace, membership))


@require_member("forward")
def forward(request: MemberRequest) -> HttpResponse:
    panels = list(scoped(request, Panel).filter(enabled=True).order_by("name"))
    commands = [c for c in Command.for_workspace(request.workspace) if c.enabled]
    first = forward_page.default_panel(request.user, panels)  # last used, or a working one
    initial = {"panel": str(first.code)} if first else None
    form = ForwardForm(
        request.POST or None, initial=initial, workspace_id=request.workspace.id, panels=panels, commands=commands
    )
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
    options = [(str(p.code), p.name, forward_page.warning(p)) for p in panels]  # the select, a warning per panel
    return render(
        request,
        "forwarding/forward.html",
        {
            "form": form,
            "panels": panels,
            "commands": commands,
            "recent": recent,
            "panel_options": options,
            "panel_warning": {c: w for c, _, w in options}.get(form["panel"].value(), ""),
        },
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
        waiting=Count("orders", filter=Q(orders__state=RequestOrder.WAITING)),
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
    orders = fwd.orders.select_related("message", "provider").order_by("id")
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
        # Orders waiting for a route stop the live refresh too: they move when the owner sends them.
        "settled": counts["final"] + counts.get(RequestOrder.WAITING, 0) >= fwd.total,
        "waiting_groups": waiting.groups(fwd.workspace, fwd) if counts.get(RequestOrder.WAITING) else [],
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
