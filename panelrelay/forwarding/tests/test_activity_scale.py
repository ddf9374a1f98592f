"""Activity at scale: a constant number of queries per page, the export streamed, and a large export
built in the background into a file only its member can download, until it expires."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone

from panelrelay.accounts.models import Membership, Workspace
from panelrelay.core.testing import make_user
from panelrelay.forwarding import exports
from panelrelay.forwarding.models import Command, Export, ForwardRequest, RequestOrder
from panelrelay.panels.models import Panel, Provider
from panelrelay.worker.models import Job
from panelrelay.worker.queue import claim, run_job

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    owner = make_user("owner@example.org")
    ws = Workspace.objects.create(name="Shop")
    Membership.objects.create(user=owner, workspace=ws, role=Membership.OWNER)
    staff = make_user("staff@example.org")
    Membership.objects.create(user=staff, workspace=ws, role=Membership.STAFF, can_forward=True)
    panel = Panel(workspace=ws, name="Main", url="http://127.0.0.1:9/")
    panel.set_api_key("k" * 16)
    panel.save()
    provider = Provider.objects.create(workspace=ws, alias="FastLikes_A", domain_enc="x", domain_hmac="x")
    return {"ws": ws, "owner": owner, "staff": staff, "panel": panel, "provider": provider}


def _requests(shop, n: int, per: int, *, by=None, start: int = 0) -> None:
    """n requests of `per` orders each, in bulk (states spread over sent, skipped, failed)."""
    refill = Command.for_workspace(shop["ws"])[0]
    states = [RequestOrder.SENT, RequestOrder.SKIPPED, RequestOrder.FAILED, RequestOrder.RETRYING]
    for i in range(n):
        fwd = ForwardRequest.objects.create(
            workspace=shop["ws"], panel=shop["panel"], panel_name="Main", command=refill, command_label="Refill",
            created_by=by or shop["owner"], total=per, created=timezone.now() - timedelta(minutes=start + i),
        )  # fmt: skip
        RequestOrder.objects.bulk_create(
            RequestOrder(
                request=fwd, workspace=shop["ws"], panel_order_id=str(100000 + (start + i) * per + k),
                command_slug="refill", state=states[k % 4], provider=shop["provider"],
                provider_alias="FastLikes_A", external_id=f"9{(start + i) * per + k}",
                service_name="=HYPERLINK(\"http://evil.test\")" if k == 0 else "IG Likes",
            )
            for k in range(per)
        )  # fmt: skip


def _work() -> bool:
    """What a worker does: claim the queued jobs and run them."""
    jobs = claim("test-worker", limit=10)
    return bool(jobs) and all(run_job(job, "test-worker") for job in jobs)


def _queries_of(client, django_assert_max_num_queries, url: str, limit: int) -> None:
    with django_assert_max_num_queries(limit):
        assert client.get(url).status_code == 200


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?state=failed",
        "?state=open",
        "?provider={provider}",
        "?page=2",
        "?page=3",
        "?q=100005",
        "?progress=awaiting",
    ],
)
def test_activity_makes_the_same_number_of_queries_whatever_the_data(
    client, shop, django_assert_max_num_queries, django_assert_num_queries, query
) -> None:
    client.force_login(shop["owner"])
    url = "/activity/" + query.format(provider=shop["provider"].code)
    _requests(shop, 120, 3)
    client.get(url)  # the first view of the minute also records the workspace's activity (one UPDATE)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    _requests(shop, 120, 30, start=1000)  # ten times the orders, twice the requests
    with django_assert_num_queries(len(small.captured_queries)):
        assert client.get(url).status_code == 200
    _queries_of(client, django_assert_max_num_queries, url, 16)


def test_the_tabs_count_every_order_and_the_page_only_its_requests(client, shop) -> None:
    _requests(shop, 60, 4)
    client.force_login(shop["owner"])
    body = client.get("/activity/").content.decode()
    assert 'data-tab="all" href="?">All <span class="badge text-bg-light">240<' in body
    assert 'data-tab="failed" href="?state=failed">Failed <span class="badge text-bg-light">60<' in body
    assert "Page 1 of 2" in body
    assert body.count("1 sent") == 50  # 50 requests per page, each counted


def test_a_small_export_streams_every_matching_order(client, shop) -> None:
    _requests(shop, 5, 8)
    client.force_login(shop["owner"])
    response = client.get("/activity/export.csv?state=failed")
    assert response.streaming
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == 10
    assert {r["state"] for r in rows} == {"failed"}
    assert Export.objects.count() == 0


def test_a_large_export_is_built_in_the_background_and_downloaded_by_its_member(client, shop, monkeypatch) -> None:
    monkeypatch.setattr(exports, "INLINE_MAX", 20)
    monkeypatch.setattr(exports, "PROGRESS_EVERY", 10)
    _requests(shop, 6, 10)
    client.force_login(shop["owner"])
    response = client.get("/activity/export.csv?provider=" + str(shop["provider"].code))
    export = Export.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/activity/exports/{export.code}/"
    assert export.rows_total == 60 and export.state == Export.QUEUED
    page = client.get(response["Location"]).content.decode()
    assert "a worker is building the file" in page and 'hx-trigger="every 1s"' in page
    assert client.get(f"/activity/exports/{export.code}/download/").status_code == 302  # not ready yet

    assert Job.objects.filter(kind="forwarding.export").count() == 1
    assert _work()
    export.refresh_from_db()
    assert export.state == Export.READY and export.rows_done == 60
    page = client.get(f"/activity/exports/{export.code}/", HTTP_HX_REQUEST="true").content.decode()
    assert "Download CSV" in page and "hx-trigger" not in page  # polling stops
    assert "is ready" in client.get("/activity/").content.decode()

    download = client.get(f"/activity/exports/{export.code}/download/")
    assert download.status_code == 200
    body = b"".join(download.streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(body)))
    assert len(rows) == 60
    assert sum(r["service"].startswith("'=HYPERLINK") for r in rows) == 6  # neutralised in the file too
    assert not any(line.startswith("=") for line in body.splitlines())
    assert str(shop["ws"].code) in str(exports.path_of(export))  # files are per workspace


def test_an_export_is_only_for_its_member_and_expires(client, shop, monkeypatch) -> None:
    monkeypatch.setattr(exports, "INLINE_MAX", 5)
    _requests(shop, 2, 10)
    client.force_login(shop["owner"])
    client.get("/activity/export.csv")
    export = Export.objects.get()
    assert _work()

    client.force_login(shop["staff"])  # same workspace, not theirs
    assert client.get(f"/activity/exports/{export.code}/download/").status_code == 403
    outsider = make_user("other@example.org")
    other = Workspace.objects.create(name="Other")
    Membership.objects.create(user=outsider, workspace=other, role=Membership.OWNER)
    client.force_login(outsider)
    assert client.get(f"/activity/exports/{export.code}/download/").status_code == 404
    assert client.get("/activity/exports/not-a-code/download/").status_code == 404

    client.force_login(shop["owner"])
    Export.objects.filter(pk=export.pk).update(expires=timezone.now() - timedelta(minutes=1))
    assert client.get(f"/activity/exports/{export.code}/download/").status_code == 410
    assert exports.path_of(export).exists()
    assert exports.prune() == 1
    assert not exports.path_of(export).exists() and not Export.objects.exists()


def test_staff_without_see_all_activity_export_only_their_own(client, shop, monkeypatch) -> None:
    monkeypatch.setattr(exports, "INLINE_MAX", 5)
    _requests(shop, 2, 10)
    _requests(shop, 1, 10, by=shop["staff"], start=50)
    client.force_login(shop["staff"])
    client.get("/activity/export.csv")
    export = Export.objects.get()
    assert export.rows_total == 10
    assert _work()
    body = b"".join(client.get(f"/activity/exports/{export.code}/download/").streaming_content).decode()
    assert len(body.strip().splitlines()) == 11


def test_under_an_order_filter_requests_are_counted_only_a_few_pages_ahead(client, shop, monkeypatch) -> None:
    from panelrelay.forwarding import activity, activity_views

    monkeypatch.setattr(activity, "PER_PAGE", 2)
    monkeypatch.setattr(activity_views, "PAGES_AHEAD", 3)
    _requests(shop, 13, 4)  # every request has a failed order (the 3rd of 4)
    client.force_login(shop["owner"])
    body = client.get("/activity/?state=failed").content.decode()
    assert "Page 1 of more than 4" in body  # counted up to (1 + 3) pages of 2
    assert "page=2" in body and "Oldest" not in body
    body = client.get("/activity/?state=failed&page=4").content.decode()
    assert "Page 4 of 7" in body  # 13 requests: (4 + 3) pages would hold 14, so the count is exact
    assert "Oldest" in body and "page=7" in body
    assert "Page 7 of 7" in client.get("/activity/?state=failed&page=99").content.decode()
    for junk in ("x", "0", "-1", "1e9", ""):
        assert "Page 1 of more than 4" in client.get(f"/activity/?state=failed&page={junk}").content.decode()
    # Without an order filter the requests are counted exactly, as before.
    assert "Page 1 of 7" in client.get("/activity/").content.decode()
