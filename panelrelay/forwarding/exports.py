"""Activity's CSV: streamed when small, built by a worker job into a file when large.

An export of more than INLINE_MAX rows would outlive a web worker's timeout (gunicorn's default is
30 s; 1,000,000 rows take several seconds even written by PostgreSQL, 20 s through Python, and far
longer on a busy server), so it is built in the background: the job writes
DATA_DIR/exports/<workspace>/<code>.csv (as .part until complete, so a half-written file is never
offered), counting its rows as it goes for the progress bar. Files are
per workspace, downloadable only by the member who asked (or the owner), and deleted once expired.
Every cell goes through core/csvsafe.py, in the file as in the stream.
"""

from __future__ import annotations

import os
from contextlib import closing
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.http import QueryDict
from django.utils import timezone

from panelrelay.accounts.models import Membership
from panelrelay.forwarding import activity
from panelrelay.forwarding.models import Export
from panelrelay.worker.registry import Retry, stop_requested

INLINE_MAX = 100_000  # rows streamed in the response; more go to a background export
KEEP = timedelta(hours=24)
PROGRESS_EVERY = 20_000  # rows between two progress updates
CHUNK = 1000  # rows written at a time (and between two checks for a stopping worker)


def path_of(export: Export) -> Path:
    return Path(settings.DATA_DIR) / "exports" / str(export.workspace.code) / f"{export.code}.csv"


class _Progress:
    """rows_done as the file grows, written beside an export's reading.

    The COPY that reads the rows on PostgreSQL holds the job's connection, so the count is written
    through a second connection, opened for the export and closed after it. Not inside a transaction
    (a test's): the export's row there is invisible to another connection, or locked by our own
    transaction; the count is then only written at the end. SQLite reads through Python, which leaves
    the connection free between chunks."""

    def __init__(self, export: Export, alias: str) -> None:
        self.export, self.alias = export, alias
        self.side: BaseDatabaseWrapper | None = None
        self.inline = connections[alias].vendor != "postgresql"

    def __enter__(self) -> _Progress:
        if not self.inline and not connections[self.alias].in_atomic_block:
            self.side = connections.create_connection(self.alias)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.side is not None:
            self.side.close()

    def write(self, rows: int) -> None:
        if self.inline:
            Export.objects.filter(pk=self.export.pk).update(rows_done=rows)
        elif self.side is not None:
            with self.side.cursor() as cursor:
                sql = f"UPDATE {Export._meta.db_table} SET rows_done = %s WHERE id = %s"  # noqa: S608
                cursor.execute(sql, [rows, self.export.pk])


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
    # On PostgreSQL the chunks come from a COPY, which holds the connection until it ends: the progress
    # goes through another one, and a stop closes the chunks (cancelling the COPY) before the update.
    with (
        part.open("wb") as out,
        _Progress(export, qs.db) as progress,
        closing(activity.export_chunks(qs, CHUNK)) as chunks,
    ):
        for data, count in chunks:
            out.write(data)
            rows += count
            if stop_requested():  # a deploy or Ctrl-C: start again on the next worker, from the top
                chunks.close()
                out.close()
                part.unlink(missing_ok=True)
                Export.objects.filter(pk=export.pk).update(state=Export.QUEUED, rows_done=0)
                raise Retry(1, "the worker is stopping")
            if rows >= next_report:
                progress.write(max(0, rows - 1))
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
