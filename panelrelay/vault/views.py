"""The vault in the master area: list and search, export, restore. Superusers only (404 otherwise)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any
from uuid import UUID

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from panelrelay.accounts.models import Workspace
from panelrelay.core import csvsafe, params
from panelrelay.master.guard import master_only
from panelrelay.panels.models import Panel
from panelrelay.panels.providers import domain_digest, looks_like_domain, normalize_domain
from panelrelay.vault import reveal
from panelrelay.vault.models import BackupRecord
from panelrelay.vault.restore import RestoreError, restore_aliases

PAGE_SIZE = 50
EXPORT_FIELDS = [
    "created",
    "event",
    "workspace_name",
    "workspace_code",
    "panel_name",
    "panel_url",
    "panel_code",
    "actor",
    "alias",
    "domain",
    "enabled",
    "note",
    "code",
]


# A search by alias or part of a domain opens records (reveal.search_parts): at most this many,
# newest first, and for at most this long, within the master admin's request.
PART_SEARCH_RECORDS = 5000
PART_SEARCH_SECONDS = 2.0
PART_SEARCH_MIN_LENGTH = 3


def _search(request: HttpRequest) -> tuple[QuerySet[BackupRecord], str, str, reveal.PartSearch | None]:
    """Records matching `q` and `event`: by workspace, panel name, actor or a code (in the database),
    by an exact provider domain (its keyed digest), and by an alias or part of a domain ("viewstorm",
    "Storm_D"), which needs the records opened: the newest PART_SEARCH_RECORDS, within PART_SEARCH_SECONDS.

    `q` is read from a POSTed form only: a domain in a URL reaches the browser's history and every
    access log on the way. The event filter and the page number are not secret and work in links.
    """
    data = request.POST if request.method == "POST" else request.GET
    q, event = params.text(request.POST, "q"), data.get("event", "")
    records = BackupRecord.objects.all()
    if event in dict(BackupRecord.EVENTS):
        records = records.filter(event=event)
    parts = None
    if q:
        match = Q(workspace_name__icontains=q) | Q(panel_name__icontains=q) | Q(actor__icontains=q)
        try:
            code = uuid.UUID(q)
            match |= Q(workspace_code=code) | Q(panel_code=code)
        except ValueError:
            pass
        domain = normalize_domain(q)
        if domain and looks_like_domain(domain):
            # Domains are matched by their keyed digest: exact (normalised) domain, no decryption.
            match |= Q(domains__domain_hmac=domain_digest(domain))
        if len(q.strip()) >= PART_SEARCH_MIN_LENGTH:
            newest = records.only("id", "payload_enc").order_by("-created", "-id")[: PART_SEARCH_RECORDS + 1]
            parts = reveal.search_parts(newest.iterator(chunk_size=200), q, PART_SEARCH_RECORDS, PART_SEARCH_SECONDS)
            match |= Q(id__in=parts.ids)
        records = records.filter(match).distinct()
    return records, q, event, parts


@master_only
@require_http_methods(["GET", "POST"])
def records(request: HttpRequest) -> HttpResponse:
    found, q, event, parts = _search(request)
    page = Paginator(found, PAGE_SIZE).get_page((request.POST if request.method == "POST" else request.GET).get("page"))
    rows = [(record, reveal.as_row(record)) for record in page]
    live_ws = set(Workspace.objects.filter(code__in={r.workspace_code for r, _ in rows}).values_list("code", flat=True))
    live_panels = set(Panel.objects.filter(code__in={r.panel_code for r, _ in rows}).values_list("code", flat=True))
    domain = normalize_domain(q)
    domain_users = []
    if domain and looks_like_domain(domain):  # "which panels use this provider?"
        using = BackupRecord.objects.filter(domains__domain_hmac=domain_digest(domain))
        pairs = using.values("workspace_name", "panel_name").distinct().order_by("workspace_name", "panel_name")
        domain_users = list(pairs[:100])

    ctx = {
        "parts": parts,
        "part_seconds": f"{PART_SEARCH_SECONDS:g}",
        "part_records": PART_SEARCH_RECORDS,
        "domain_users": domain_users,
        "rows": [(r, row, r.workspace_code in live_ws, r.panel_code in live_panels) for r, row in rows],
        "page": page,
        "q": q,
        "event": event,
        "events": BackupRecord.EVENTS,
        "total": BackupRecord.objects.count(),
        "retention_days": settings.VAULT_RETENTION_DAYS,
        "tab": "vault",
    }
    return render(request, "vault/records.html", ctx)


def _export_rows(records: QuerySet[BackupRecord]) -> Iterator[list[Any]]:
    for record in records.iterator(chunk_size=200):
        row = reveal.as_row(record)
        for provider in row["providers"] or [{"alias": "", "domain": "", "enabled": ""}]:
            yield [row[f] if f in row else provider[f] for f in EXPORT_FIELDS]


@master_only
@require_POST
def export(request: HttpRequest, fmt: str) -> HttpResponseBase:
    if fmt not in ("csv", "json"):
        raise Http404
    found, _q, _event, _parts = _search(request)
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response: HttpResponseBase
    if fmt == "json":
        body = json.dumps([reveal.as_row(r) for r in found.iterator(chunk_size=200)], indent=1)
        response = HttpResponse(body, content_type="application/json")
        response["Content-Disposition"] = f'attachment; filename="vault-{stamp}.json"'
    else:
        response = csvsafe.response(_with_header(_export_rows(found)), f"vault-{stamp}.csv")
    response["Cache-Control"] = "no-store"
    return response


def _with_header(rows: Iterator[list[Any]]) -> Iterator[list[Any]]:
    yield EXPORT_FIELDS
    yield from rows


@master_only
@require_POST
def restore(request: HttpRequest, code: UUID) -> HttpResponse:
    record = get_object_or_404(BackupRecord, code=code)
    try:
        result = restore_aliases(record, request.user)
    except RestoreError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, result.message)
    return redirect("vault:records")  # never with the search in the URL: it may be a domain
