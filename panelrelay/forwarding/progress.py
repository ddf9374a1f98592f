"""Where a forward request stands: finished once every order in it is final.

The engine (after looking orders up and writing messages) and delivery (after each message sent
or given up) both call it, so it sits below both rather than in either.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef
from django.utils import timezone

from panelrelay.forwarding.models import ForwardRequest, RequestOrder


def finish_requests(request_ids: list[int]) -> None:
    """Stamp `finished` on requests whose every order is final."""
    # One statement; NOT EXISTS stops at a request's first open order (reading every open order of a
    # 10,000-order request, sorted, after each message sent cost more than the message's own writes).
    still_open = RequestOrder.objects.filter(request_id=OuterRef("pk")).exclude(state__in=RequestOrder.FINAL)
    ForwardRequest.objects.filter(id__in=request_ids, finished__isnull=True).exclude(Exists(still_open)).update(
        finished=timezone.now()
    )
