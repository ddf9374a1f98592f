"""Activity: status tabs with counts, filters as chips, search by order id; and its CSV export."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import FileResponse, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.functional import cached_property

from panelrelay.accounts.middleware import MemberRequest
from panelrelay.core import csvsafe
from panelrelay.core.tenancy import get_for_member, require_member, scoped
from panelrelay.forwarding import activity, exports
from panelrelay.forwarding.models import Command, Export, ForwardRequest, Outcome, RequestOrder
from panelrelay.panels.models import Panel, Provider
from panelrelay.worker.queue import enqueue

PAGES_AHEAD = 20  # under an order filter, requests are counted up to this many pages past the one shown


class CappedPaginator(Paginator):
    """Counts at most `cap` rows. Under an order filter (state, provider, command, outcome) each
    request is probed for a matching order: a year's 10,000 requests cost ~20 ms a view only to
    print "of 201". Counting stops at the cap (no ORDER BY, so PostgreSQL stops probing there), and
    the page then reads "of more than N" with Older links but no Oldest one."""

    def __init__(self, object_list: QuerySet[ForwardRequest], per_page: int, cap: int) -> None:
        super().__init__(object_list, per_page)
        self.listing = object_list
        self.cap = cap
        self.capped = False

    @cached_property
    def count(self) -> int:
        found = self.listing.order_by()[: self.cap + 1].count()
        self.capped = found > self.cap
        return min(found, self.cap)


def _page_number(raw: str | None) -> int:
    try:
        return min(max(int(raw or 1), 1), 1_000_000)
    except ValueError:
        return 1  # Paginator.get_page shows the first page for it too


def _viewer(request: MemberRequest) -> int | None:
    """None when the member sees all activity, else their user id (they see their own requests)."""
    return None if request.membership.has("activity") else request.user.id


def _external_ids(listed: list[ForwardRequest]) -> list[tuple[ForwardRequest, str]]:
    """Each listed request with its sent orders' external ids, for its Copy button (one query)."""
    by_request: dict[int, list[str]] = {r.id: [] for r in listed}
    rows = RequestOrder.objects.filter(request_id__in=by_request, state=RequestOrder.SENT).exclude(external_id="")
    for request_id, external_id in rows.order_by("request_id", "id").values_list("request_id", "external_id"):
        by_request[request_id].append(external_id)
    return [(r, "\n".join(by_request[r.id])) for r in listed]


@require_member()
def activity_page(request: MemberRequest) -> HttpResponse:
    ws, viewer = request.workspace, _viewer(request)
    f = activity.parse(ws, request.GET)
    status_tabs, after_tabs = activity.tabs(ws, viewer, f)
    ctx: dict[str, Any] = {
        "f": f,
        "tabs": status_tabs,
        "after_tabs": after_tabs,
        "chips": activity.chips(f),
        "query": f.url(),
        "add": _add_filter_menu(request, f),
        "exports": list(scoped(request, Export).filter(created_by=request.user, expires__gt=timezone.now())[:3]),
    }
    if f.q:
        ctx["found"] = activity.search(ws, viewer, f)
        ctx["search_limit"] = activity.SEARCH_LIMIT
    else:
        listing = activity.page_requests(ws, viewer, f)
        if f.order_level:
            # The number as read (0, -1 or junk: the first page), not Django's "past the end: the last
            # page", which would be the cap's last page, not the list's.
            wanted = _page_number(request.GET.get("page"))
            number: int | str | None = wanted
            cap = (wanted + PAGES_AHEAD) * activity.PER_PAGE
            paginator: Paginator = CappedPaginator(listing, activity.PER_PAGE, cap)
        else:  # counted from the requests alone
            number = request.GET.get("page")
            paginator = Paginator(listing, activity.PER_PAGE)
        page = paginator.get_page(number)
        listed = list(page.object_list)
        activity.attach_counts(listed)
        ctx["page"] = page
        ctx["rows"] = _external_ids(listed)
    return render(request, "forwarding/activity.html", ctx)


def _add_filter_menu(request: MemberRequest, f: activity.Filters) -> list[tuple[str, list[tuple[str, str]]]]:
    """The "Add a filter" menu: per filter not yet set, its values as links that add a chip."""
    groups: list[tuple[str, list[tuple[str, str]]]] = []

    def group(name: str, title: str, values: list[tuple[str, str]]) -> None:
        if name not in f.raw and values:
            groups.append((title, [(label, f.url(**{name: value})) for value, label in values]))

    group("provider", "Provider", [(str(p.code), p.alias) for p in scoped(request, Provider).order_by("alias")])
    group("panel", "Panel", [(str(p.code), p.name) for p in scoped(request, Panel).order_by("name")])
    group("command", "Command", [(c.slug, c.label) for c in Command.for_workspace(request.workspace)])
    group("outcome", "Outcome", [(str(v), str(label)) for v, label in Outcome.choices])
    group("source", "Source", [(v, str(label)) for v, label in ForwardRequest.SOURCES])
    return groups


@require_member()
def export_csv(request: MemberRequest) -> HttpResponseBase:
    """Every order matching the Activity filters, one row each. Aliases only, never a domain.

    Up to exports.INLINE_MAX rows stream in the response; more are built by a worker (exports.py)."""
    ws, viewer = request.workspace, _viewer(request)
    f = activity.parse(ws, request.GET)
    qs = activity.export_orders(ws, viewer, f)
    many = qs.order_by()[: exports.INLINE_MAX + 1].count()
    if many > exports.INLINE_MAX:
        estimate = activity.orders(ws, viewer, f).order_by().count()
        job = Export.objects.create(
            workspace=ws,
            created_by=request.user,
            filters=f.raw,
            rows_total=estimate,
            expires=timezone.now() + exports.KEEP,
        )
        enqueue("forwarding.export", {"export": job.pk}, workspace=ws, key=f"forwarding.export:{job.pk}")
        return redirect("forwarding:export_status", code=job.code)
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    return csvsafe.chunk_response(activity.export_chunks(qs), f"panelrelay-activity-{stamp}.csv")


def _own_export(request: MemberRequest, code: UUID) -> Export:
    export = get_for_member(request, Export.objects.select_related("workspace"), code=code)
    if export.created_by_id != request.user.id and not request.membership.is_owner:
        raise PermissionDenied("This export belongs to another member.")
    return export


@require_member()
def export_status(request: MemberRequest, code: UUID) -> HttpResponse:
    export = _own_export(request, code)
    expired = export.expires <= timezone.now()
    template = "forwarding/_export_status.html" if request.headers.get("HX-Request") else "forwarding/export.html"
    return render(request, template, {"export": export, "expired": expired})


@require_member()
def export_download(request: MemberRequest, code: UUID) -> HttpResponseBase:
    export = _own_export(request, code)
    path = exports.path_of(export)
    if export.expires <= timezone.now() or (export.state == Export.READY and not path.exists()):
        return render(request, "forwarding/export.html", {"export": export, "expired": True}, status=410)
    if export.state != Export.READY:
        return redirect("forwarding:export_status", code=export.code)
    stamp = timezone.localtime(export.created).strftime("%Y%m%d-%H%M")
    return FileResponse(
        path.open("rb"), as_attachment=True, filename=f"panelrelay-activity-{stamp}.csv", content_type="text/csv"
    )
