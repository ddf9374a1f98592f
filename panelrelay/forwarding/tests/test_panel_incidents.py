"""A panel that keeps failing opens an incident (Alerts, the Panels row, the owner's alert chat) and
closes it when the panel works again. Time is simulated: reconcile() is given the moment to judge."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from panelrelay.accounts.models import Membership, Workspace
from panelrelay.core.testing import PASSWORD, make_user
from panelrelay.demo import scenario
from panelrelay.forwarding import panel_incidents
from panelrelay.forwarding.engine import process_request
from panelrelay.forwarding.models import Command, Outcome, RequestOrder
from panelrelay.forwarding.submit import create_request
from panelrelay.panels.adapters.base import PanelError
from panelrelay.panels.models import Panel
from panelrelay.panels.services import check_connection, resolve_orders
from panelrelay.transports.models import AlertSettings, Incident
from panelrelay.worker.models import Job
from panelrelay.worker.queue import claim, run_job
from panelrelay.worker.registry import Retry

pytestmark = pytest.mark.django_db

ALERT_CHAT = -1009


@pytest.fixture
def wired(fake_panel, fake_telegram):
    ws = Workspace.objects.create(name="Incidents")
    owner = make_user("owner@example.com")
    Membership.objects.create(workspace=ws, user=owner, role=Membership.OWNER)
    fake_telegram.add_chat(ALERT_CHAT, type="supergroup", title="owner alerts")
    tg = scenario.telegram(ws, fake_telegram.url)
    AlertSettings.objects.create(workspace=ws, destination=scenario.destination(tg, "Alerts", "tg_group", "-1009"))
    fake_panel.add_order(id=100, provider="fastlikes.example", external_id="9100")
    panel = scenario.panel(ws, fake_panel.url)
    return ws, panel


def fail_lookups(fake_panel, panel: Panel, times: int) -> None:
    fake_panel.inject("status", status=503, times=times)
    for _ in range(times):
        with pytest.raises(PanelError):
            resolve_orders(panel, ["100"])


def run_alert_jobs() -> None:
    for job in claim("test", limit=10):
        if job.kind == "transports.alert":
            run_job(job, "test")


def test_a_panel_failing_for_minutes_opens_one_incident_and_closes_it_when_it_answers(
    wired, fake_panel, fake_telegram
) -> None:
    ws, panel = wired
    fail_lookups(fake_panel, panel, 3)
    panel.refresh_from_db()
    assert panel.failures == 3 and panel.failing_since is not None
    assert "503" in panel.failure_message
    start = panel.failing_since

    assert panel_incidents.reconcile(start + timedelta(minutes=4)) == (0, 0)  # not long enough yet
    assert not Incident.objects.exists()
    assert panel_incidents.reconcile(start + timedelta(minutes=6)) == (1, 0)
    assert panel_incidents.reconcile(start + timedelta(minutes=7)) == (1, 0)  # still one incident, told once
    [incident] = Incident.objects.filter(workspace=ws)
    assert incident.key == f"panel:{panel.code}" and incident.closed is None
    assert incident.text.startswith("Panel “Main” keeps failing: 3 lookups in a row since ")
    assert Job.objects.filter(kind="transports.alert").count() == 1
    run_alert_jobs()
    [alert] = fake_telegram.messages_to(ALERT_CHAT)
    assert "Panel “Main” keeps failing" in alert["text"]

    client = Client()
    client.login(username="owner@example.com", password=PASSWORD)
    with pytest.MonkeyPatch.context() as mp:  # the Panels row judges "keeps failing" now: 6 minutes on
        mp.setattr(timezone, "now", lambda: start + timedelta(minutes=6))
        row = client.get("/panels/").content.decode()
    assert "Keeps failing" in row and "3 in a row" in row and "incident open" in row
    assert "Panel “Main” keeps failing" in client.get("/settings/alerts/").content.decode()

    resolve_orders(panel, ["100"])  # it answers again
    panel.refresh_from_db()
    assert (panel.failures, panel.failing_since, panel.failure_message) == (0, None, "")
    assert panel_incidents.reconcile() == (0, 1)
    incident.refresh_from_db()
    assert incident.closed is not None
    assert "Keeps failing" not in client.get("/panels/").content.decode()

    fail_lookups(fake_panel, panel, 3)  # the next run is a new incident
    panel.refresh_from_db()
    panel_incidents.reconcile(panel.failing_since + timedelta(minutes=6))
    assert Incident.objects.filter(workspace=ws, closed__isnull=True).count() == 1
    assert Incident.objects.filter(workspace=ws).count() == 2


def test_a_blip_is_not_an_incident_and_a_working_test_ends_the_run(wired, fake_panel) -> None:
    ws, panel = wired
    fail_lookups(fake_panel, panel, 2)
    panel.refresh_from_db()
    assert panel_incidents.reconcile(panel.failing_since + timedelta(hours=1)) == (0, 0)  # 2 in a row only
    fail_lookups(fake_panel, panel, 1)
    panel.refresh_from_db()
    assert panel_incidents.reconcile(panel.failing_since + timedelta(minutes=6)) == (1, 0)
    assert check_connection(panel).reachable  # the owner's Test connection works: the run ends
    panel.refresh_from_db()
    assert panel.failing_since is None
    assert panel_incidents.reconcile() == (0, 1)


def test_a_panel_turned_off_closes_its_incident(wired, fake_panel) -> None:
    ws, panel = wired
    fail_lookups(fake_panel, panel, 3)
    panel.refresh_from_db()
    later = panel.failing_since + timedelta(minutes=6)
    panel_incidents.reconcile(later)
    Panel.objects.filter(pk=panel.pk).update(enabled=False)
    assert panel_incidents.reconcile(later) == (0, 1)


def test_the_engines_lookups_count_and_another_workspaces_panel_is_apart(wired, fake_panel) -> None:
    ws, panel = wired
    other = Workspace.objects.create(name="Other")
    theirs = scenario.panel(other, fake_panel.url, name="Theirs")
    fake_panel.inject("status", status=503, times=1)
    req = create_request(ws, panel, Command.for_workspace(ws)[0], ["100"])
    with pytest.raises(Retry):
        process_request(req)
    order = req.orders.get()
    assert (order.state, order.outcome) == (RequestOrder.RETRYING, Outcome.LOOKUP_RETRYING)
    panel.refresh_from_db()
    theirs.refresh_from_db()
    assert panel.failures == 1 and theirs.failures == 0
    process_request(req)  # the panel answers: the run ends with the lookup that worked
    panel.refresh_from_db()
    assert panel.failures == 0


def test_the_forward_page_warns_about_a_panel_whose_lookups_fail(wired, fake_panel) -> None:
    ws, panel = wired
    fail_lookups(fake_panel, panel, 1)
    client = Client()
    client.login(username="owner@example.com", password=PASSWORD)
    page = client.get("/forward/").content.decode()
    assert "Lookups on “Main” have failed since" in page and "(1 in a row:" in page
