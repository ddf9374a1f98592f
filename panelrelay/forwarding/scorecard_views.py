"""A provider's scorecard, as a fragment the provider's page (panels) loads by htmx.

Panels sits below forwarding and cannot read the orders; the page asks this URL instead.
"""

from __future__ import annotations

from uuid import UUID

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from panelrelay.accounts.middleware import MemberRequest
from panelrelay.core.tenancy import get_for_member, require_member
from panelrelay.forwarding.scorecard import WINDOWS, Score, chart, daily, scores
from panelrelay.panels.models import Provider


@require_member("panels")
@require_GET
def provider_scorecard(request: MemberRequest, code: UUID) -> HttpResponse:
    provider = get_for_member(request, Provider, code=code)
    workspace_id = request.workspace.pk
    cards = {days: scores(workspace_id, [provider.pk], days).get(provider.pk) or Score(days) for days in WINDOWS}
    cells = {days: card.rows() for days, card in cards.items()}
    rows = [(name, *(cells[days][name] for days in WINDOWS)) for name in cells[WINDOWS[0]]]
    ctx = {
        "provider": provider,
        "windows": WINDOWS,
        "rows": rows,
        "empty": not any(card.requests for card in cards.values()),
        "chart": chart(daily(workspace_id, provider.pk)),
    }
    return render(request, "forwarding/_scorecard.html", ctx)
