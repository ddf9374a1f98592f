"""Reading and folding the order-state tally the database keeps (models.StateTally, migration 0011).

Activity's tab counts over all of a workspace's orders come from here: a sum over a few rows per
(state, progress) instead of a count of every order. Triggers write the deltas in the transaction
that changes the orders; fold() merges them, in one statement on PostgreSQL (its DELETE … RETURNING
and INSERT see one snapshot, so a delta committed meanwhile is neither lost nor counted twice) and in
one write transaction on SQLite (which has one writer at a time).
"""

from __future__ import annotations

from django.db import connection, transaction
from django.db.models import Max, Sum

from panelrelay.forwarding.models import StateTally

_FOLD_POSTGRES = """
    WITH gone AS (DELETE FROM forwarding_statetally RETURNING ws, state, progress, n)
    INSERT INTO forwarding_statetally (ws, state, progress, n)
    SELECT ws, state, progress, sum(n) FROM gone GROUP BY 1, 2, 3 HAVING sum(n) <> 0
"""


def counts(workspace_id: int) -> dict[tuple[str, str], int]:
    """Orders of the workspace per (state, progress), as committed."""
    rows = StateTally.objects.filter(ws=workspace_id).values_list("state", "progress").annotate(total=Sum("n"))
    return {(state, progress): int(total) for state, progress, total in rows.order_by() if total}


def fold() -> None:
    """Merge the deltas into one row per (workspace, state, progress); drop keys that sum to zero."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_FOLD_POSTGRES)
        return
    with transaction.atomic():  # SQLite: BEGIN IMMEDIATE (settings), so no other writer meanwhile
        last = StateTally.objects.aggregate(last=Max("id"))["last"]
        if last is None:
            return
        merged = (
            StateTally.objects.filter(id__lte=last)
            .values_list("ws", "state", "progress")
            .annotate(total=Sum("n"))
            .order_by()
        )
        keep = [
            StateTally(ws=ws, state=state, progress=progress, n=total) for ws, state, progress, total in merged if total
        ]
        StateTally.objects.filter(id__lte=last).delete()
        StateTally.objects.bulk_create(keep)
