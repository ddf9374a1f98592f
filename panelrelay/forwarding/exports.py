"""Activity's CSV: streamed when small, built by a worker job into a file when large.

An export of more than INLINE_MAX rows would outlive a web worker's timeout (gunicorn's default is
30 s; 1,000,000 rows take about 20 s at best and far longer on a busy server), so it is built in the
background: the job writes DATA_DIR/exports/<workspace>/<code>.csv (as .part until complete, so
a half-written file is never offered), counting its rows as it goes for the progress bar. Files are
per workspace, downloadable only by the member who asked (or the owner), and deleted once expired.
Every cell goes through core/csvsafe.py, in the file as in the stream.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.http import QueryDict
from django.utils import timezone

from panelrelay.accounts.models import Membership
from panelrelay.core import csvsafe
from panelrelay.forwarding import activity
from panelrelay.forwarding.models import Export
from panelrelay.worker.registry import Retry, stop_requested

INLINE_MAX = 100_000  # rows streamed in the response; more go to a background export
KEEP = timedelta(hours=24)
PROGRESS_EVERY = 20_000  # rows between two progress updates


def path_of(export: Export) -> Path:
    return Path(settings.DATA_DIR) / "exports" / str(export.workspace.code) / f"{export.code}.csv"


def write_rows(export: Export) -> int:
    """Build the file, updating rows_done as it goes; returns the number of rows."""
    membership = Membership.objects.filter(user=export.created_by_id, workspace=export.workspace_id).first()
    if membership is None:
        Export.objects.filter(pk=export.pk).update(state=Export.FAILED, error="You are no longer in this workspace.")
        return 0
    query = QueryDict(mutable=True)
    for key, value in export.filters.items():
        query[key] = value
    f = activity.parse(export.workspace, query)
    user_id = None if membership.has("activity") else export.created_by_id
    qs = activity.export_orders(export.workspace, user_id, f)

    final = path_of(export)
    final.parent.mkdir(parents=True, exist_ok=True)
    part = final.with_suffix(".part")
    Export.objects.filter(pk=export.pk).update(state=Export.RUNNING, rows_done=0)
    rows = 0
    next_report = PROGRESS_EVERY
    with part.open("w", encoding="utf-8", newline="") as out:
        for lines, count in csvsafe.counted_chunks(activity.export_rows(qs)):
            out.write(lines)
            rows += count
            if stop_requested():  # a deploy or Ctrl-C: start again on the next worker, from the top
                out.close()
                part.unlink(missing_ok=True)
                Export.objects.filter(pk=export.pk).update(state=Export.QUEUED, rows_done=0)
                raise Retry(1, "the worker is stopping")
            if rows >= next_report:
                Export.objects.filter(pk=export.pk).update(rows_done=max(0, rows - 1))
                next_report = rows + PROGRESS_EVERY
    os.replace(part, final)
    rows -= 1  # the header
    now = timezone.now()
    Export.objects.filter(pk=export.pk).update(
        state=Export.READY, rows_done=rows, rows_total=rows, size=final.stat().st_size, finished=now, expires=now + KEEP
    )
    return rows


def prune() -> int:
    """Delete expired exports and their files; returns how many."""
    gone = 0
    for export in Export.objects.filter(expires__lt=timezone.now()).select_related("workspace"):
        for candidate in (path_of(export), path_of(export).with_suffix(".part")):
            candidate.unlink(missing_ok=True)
        export.delete()
        gone += 1
    return gone
