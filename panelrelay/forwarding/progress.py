"""Where a forward request stands: finished once every order in it is final.

The engine (after looking orders up and writing messages) and delivery (after each message sent
or given up) both call it, so it sits below both rather than in either.
"""

from __future__ import annotations

from django.utils import timezone

from panelrelay.forwarding.models import ForwardRequest, RequestOrder


def finish_requests(request_ids: list[int]) -> None:
    """Stamp `finished` on requests whose every order is final."""
    open_ids = set(
        RequestOrder.objects.filter(request_id__in=request_ids)
        .exclude(state__in=RequestOrder.FINAL)
        .values_list("request_id", flat=True)
    )
    done = [rid for rid in request_ids if rid not in open_ids]
    if done:
        ForwardRequest.objects.filter(id__in=done, finished__isnull=True).update(finished=timezone.now())
