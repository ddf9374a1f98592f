"""The Activity CSV written by PostgreSQL (COPY) is byte for byte the file the Python rows make.

On PostgreSQL the export's CSV comes from the database (activity.export_chunks -> csvsafe.copy_chunks);
the Python path (export_rows -> csvsafe.counted_chunks) stays for SQLite and is the reference: same
header, columns, labels, time stamps in the active time zone, formula cells neutralised, quoting,
CRLF line ends and row order, for every filter and for a member who sees only their own requests."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.db import connection, connections
from django.http import QueryDict
from django.utils import timezone

from panelrelay.accounts.models import Membership, Workspace
from panelrelay.core import csvsafe
from panelrelay.core.testing import make_user
from panelrelay.forwarding import activity, exports
from panelrelay.forwarding.models import Command, Export, ForwardRequest, RequestOrder
from panelrelay.panels.models import Panel, Provider
from panelrelay.worker.registry import Retry

pytestmark = pytest.mark.django_db

on_postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY is PostgreSQL's")

TRICKY = [
    "=1+1", "  @x", "-5", "+5", "@SUM(A1)", "\tTAB", "\rCR", "\nLF", "a,b", 'say "hi", then go', '"', "'", ",",
    "line1\nline2", "cr\rin", "crlf\r\nin", "ünïcødé ✓ 日本語 🙂", " leading space", "trailing ", "   ", " ", "",
    "\\.", "\\", "NULL", "a;b", "x=1", "tab\tinside", "- 5", "—dash", "＝fullwidth",
    "9@x", "#1", "?=x", "~-", "A=1", "Ω-",
]  # fmt: skip


@pytest.fixture
def shop(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    owner = make_user("owner@example.org")
    staff = make_user("staff@example.org")
    ws = Workspace.objects.create(name="Shop")
    Membership.objects.create(user=owner, workspace=ws, role=Membership.OWNER)
    Membership.objects.create(user=staff, workspace=ws, role=Membership.STAFF, can_forward=True)
    panel = Panel(workspace=ws, name="Main", url="http://127.0.0.1:9/")
    panel.set_api_key("k" * 16)
    panel.save()
    provider = Provider.objects.create(workspace=ws, alias="FastLikes_A", domain_enc="x", domain_hmac="x")
    refill = Command.for_workspace(ws)[0]
    sources = [value for value, _label in ForwardRequest.SOURCES] + ["weird", "=evil", " -x"]
    states = [RequestOrder.SENT, RequestOrder.FAILED, RequestOrder.SKIPPED, RequestOrder.RETRYING]
    # Around a change of summer time in Europe and in Newfoundland (-03:30 / -02:30), with microseconds.
    base = datetime(2026, 3, 8, 5, 29, 59, 999_999, tzinfo=UTC)
    n = 0
    for i in range(len(TRICKY)):
        fwd = ForwardRequest.objects.create(
            workspace=ws, panel=panel, panel_name=TRICKY[-1 - i] or "Main", command=refill,
            command_label=TRICKY[(i + 3) % len(TRICKY)] or "Refill", created_by=owner if i % 3 else staff,
            total=3, source=sources[i % len(sources)], created=base + timedelta(days=7 * (i % 5), minutes=i),
        )  # fmt: skip
        for k in range(3):
            n += 1
            cell = TRICKY[(i + k) % len(TRICKY)]
            RequestOrder.objects.create(
                request=fwd, workspace=ws, panel_order_id=str(1000 + n) if k else cell or "0", command_slug="refill",
                state=states[(i + k) % 4], provider=provider if k != 1 else None,
                provider_alias=["FastLikes_A", "", cell][k], manual=k == 1 and i % 2 == 0,
                external_id=cell, service_id=str(k), service_name=cell, status_label=cell[:40],
                destination_label=cell, reason=cell, progress="", answer_kind="", answer_text=cell,
                watched_status=cell[:40],
                sent_at=None if k == 0 else base + timedelta(days=i, seconds=k, microseconds=123_456),
                answered_at=base - timedelta(days=200 - i) if k == 2 else None,
                confirmed_at=base + timedelta(hours=i * 11) if k != 1 else None,
            )  # fmt: skip
    other = Workspace.objects.create(name="Other")
    RequestOrder.objects.create(
        request=ForwardRequest.objects.create(
            workspace=other, panel_name="Theirs", command_label="Refill", created_by=make_user("o@example.org")
        ),
        workspace=other, panel_order_id="999999", command_slug="refill", service_name="not yours",
    )  # fmt: skip
    return {"ws": ws, "owner": owner, "staff": staff}


def _python(qs) -> bytes:
    return b"".join(text.encode() for text, _count in csvsafe.counted_chunks(activity.export_rows(qs)))


def _chunks(qs, per: int = 1000) -> tuple[bytes, int]:
    parts = list(activity.export_chunks(qs, per=per))
    return b"".join(text for text, _count in parts), sum(count for _text, count in parts)


def _zone() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('TimeZone')")
        return str(cursor.fetchone()[0])


@on_postgresql
@pytest.mark.parametrize("zone", ["UTC", "Asia/Kolkata", "America/St_Johns", "Australia/Lord_Howe"])
@pytest.mark.parametrize(
    "query, viewer", [("", None), ("state=failed", None), ("source=ticket", None), ("", "staff"), ("q=-5", None)]
)
def test_copy_writes_the_same_bytes_as_the_python_rows(shop, zone: str, query: str, viewer: str | None) -> None:
    before = _zone()
    f = activity.parse(shop["ws"], QueryDict(query))
    user_id = shop[viewer].id if viewer else None
    with timezone.override(zone):
        qs = activity.export_orders(shop["ws"], user_id, f)
        expected = _python(qs)
        got, rows = _chunks(qs, per=4)  # several chunks, rows with quoted LFs among them
    assert expected.count(b"\r\n") > 1
    assert got == expected
    assert rows == len(list(activity.export_rows(qs)))
    assert b"not yours" not in got
    assert _zone() == before, "the session's time zone is put back"


@on_postgresql
def test_the_copy_is_what_the_python_path_writes_cell_by_cell(shop) -> None:
    """The reference itself, spelled out: a few cells as a spreadsheet should see them."""
    f = activity.parse(shop["ws"], QueryDict())
    with timezone.override("Asia/Kolkata"):
        body, _rows = _chunks(activity.export_orders(shop["ws"], None, f))
    text = body.decode()
    assert text.startswith(",".join(activity.HEADER) + "\r\n")
    assert "'=1+1" in text and "'  @x" in text and "'\tTAB" in text and '"say ""hi"", then go"' in text
    assert "(manual)" in text and "Customer chat" in text and "'=evil" in text
    assert "2026-03-08T10:59:59+05:30" in text, "seconds truncated like isoformat(timespec='seconds')"


@on_postgresql
def test_a_failing_copy_inside_a_transaction_raises_its_own_error(shop) -> None:
    """The zone is put back by the rollback there; restoring it by hand on the aborted transaction
    would replace the real error with "current transaction is aborted"."""
    from django.db import transaction
    from psycopg.errors import DivisionByZero  # the COPY's own error: psycopg's cursor.copy(), not Django's wrapper

    f = activity.parse(shop["ws"], QueryDict())
    failing = activity.export_orders(shop["ws"], None, f).extra(
        where=["1 / (forwarding_requestorder.id - forwarding_requestorder.id) = 1"]
    )
    with pytest.raises(DivisionByZero), transaction.atomic(), timezone.override("Asia/Kolkata"):
        list(activity.export_chunks(failing))
    assert _zone() == "UTC"


@on_postgresql
def test_an_abandoned_copy_leaves_the_connection_ready(shop) -> None:
    before = _zone()
    f = activity.parse(shop["ws"], QueryDict())
    with timezone.override("Asia/Kolkata"):
        chunks = activity.export_chunks(activity.export_orders(shop["ws"], None, f), per=2)
        next(chunks), next(chunks)
        chunks.close()  # a client that hung up half-way: the COPY is cancelled
    assert _zone() == before
    assert RequestOrder.objects.filter(workspace=shop["ws"]).count() == 3 * len(TRICKY)


def test_the_streamed_download_and_the_file_are_the_python_rows(shop, client) -> None:
    """Through the view and the worker's file, on either database: the same bytes as the reference."""
    f = activity.parse(shop["ws"], QueryDict())
    expected = _python(activity.export_orders(shop["ws"], None, f))
    client.force_login(shop["owner"])
    response = client.get("/activity/export.csv")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert b"".join(response.streaming_content) == expected

    job = Export.objects.create(
        workspace=shop["ws"], created_by=shop["owner"], filters={}, rows_total=0,
        expires=timezone.now() + exports.KEEP,
    )  # fmt: skip
    assert exports.write_rows(job) == 3 * len(TRICKY)
    assert exports.path_of(job).read_bytes() == expected
    job.refresh_from_db()
    assert (job.state, job.rows_done, job.rows_total) == (Export.READY, 3 * len(TRICKY), 3 * len(TRICKY))


def _job(shop) -> Export:
    return Export.objects.create(
        workspace=shop["ws"], created_by=shop["owner"], filters={}, rows_total=0, expires=timezone.now() + exports.KEEP
    )


def test_a_stopping_worker_drops_the_half_written_file_and_queues_the_export_again(shop, monkeypatch) -> None:
    job = _job(shop)
    monkeypatch.setattr(exports, "CHUNK", 10)
    monkeypatch.setattr(exports, "stop_requested", lambda: True)  # a deploy, seen after the first chunk
    with pytest.raises(Retry):
        exports.write_rows(job)
    job.refresh_from_db()
    assert (job.state, job.rows_done) == (Export.QUEUED, 0)
    assert not exports.path_of(job).exists() and not exports.path_of(job).with_suffix(".part").exists()
    # The connection is ready again (on PostgreSQL the COPY was cancelled), and the next run builds it all.
    monkeypatch.setattr(exports, "stop_requested", lambda: False)
    assert exports.write_rows(job) == 3 * len(TRICKY)


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_the_progress_is_written_while_the_copy_holds_the_connection(shop, monkeypatch) -> None:
    """Outside a transaction (as the worker runs it), rows_done grows during the COPY, written by a
    second connection; a third one (another page's poll) sees it."""
    job = _job(shop)
    monkeypatch.setattr(exports, "CHUNK", 10)
    monkeypatch.setattr(exports, "PROGRESS_EVERY", 20)
    seen: list[int] = []
    poll = connections.create_connection("default")

    def watching() -> bool:
        with poll.cursor() as cursor:
            cursor.execute("SELECT rows_done FROM forwarding_export WHERE id = %s", [job.pk])
            seen.append(cursor.fetchone()[0])
        return False

    monkeypatch.setattr(exports, "stop_requested", watching)
    try:
        assert exports.write_rows(job) == 3 * len(TRICKY)
    finally:
        poll.close()
    assert seen[0] == 0 and 0 < max(seen) < 3 * len(TRICKY), seen
    assert seen == sorted(seen)


@on_postgresql
def test_a_zone_postgresql_does_not_know_falls_back_to_the_python_rows(shop) -> None:
    """Python's tz database can be newer than the server's: the export is then written by Python."""
    before = _zone()
    files = [Path(root, "Asia", "Kolkata") for root in zoneinfo.TZPATH if Path(root, "Asia", "Kolkata").exists()]
    if not files:
        pytest.skip("no system time zone files")
    with files[0].open("rb") as source:
        invented = zoneinfo.ZoneInfo.from_file(source, key="Nowhere/Invented")  # India's rules, a new name
    f = activity.parse(shop["ws"], QueryDict())
    with timezone.override(invented):
        qs = activity.export_orders(shop["ws"], None, f)
        expected = _python(qs)
        got, _rows = _chunks(qs)
    assert got == expected and b"+05:30" in got
    assert _zone() == before
