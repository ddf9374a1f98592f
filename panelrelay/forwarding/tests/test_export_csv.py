"""The Activity CSV: text from a panel or typed by an owner never reaches a spreadsheet as a formula."""

from __future__ import annotations

import csv
import io
from collections.abc import Generator

import pytest
from django.db import connection
from django.http import QueryDict

from panelrelay.accounts.models import Membership, Workspace
from panelrelay.core.testing import make_user
from panelrelay.demo import scenario
from panelrelay.forwarding import activity
from panelrelay.forwarding.engine import process_request
from panelrelay.forwarding.models import Command
from panelrelay.forwarding.submit import create_request

pytestmark = pytest.mark.django_db

HYPERLINK = '=HYPERLINK("http://evil.test","x")'


def test_formula_cells_from_the_panel_and_the_owner_are_neutralised(client, fake_panel) -> None:
    owner = make_user("owner@example.org")
    ws = Workspace.objects.create(name="Exporters")
    Membership.objects.create(user=owner, workspace=ws, role=Membership.OWNER)
    panel = scenario.panel(ws, fake_panel.url, name="+SUM(1,2)")
    scenario.provider(ws, "evil-supply.example", "@SUM(A1:A9)")
    fake_panel.add_order(id=70001, provider="evil-supply.example", external_id="-5", service_name=HYPERLINK)
    fake_panel.add_order(id=70002, provider="evil-supply.example", service_name="-2+3+cmd|' /C calc'!A0")
    fake_panel.add_order(id=70003, provider="evil-supply.example", service_name="IG Likes - 30D")
    process_request(create_request(ws, panel, Command.for_workspace(ws)[0], ["70001", "70002", "70003"]))

    client.force_login(owner)
    body = b"".join(client.get("/activity/export.csv").streaming_content).decode()
    rows = {row["panel_order_id"]: row for row in csv.DictReader(io.StringIO(body))}
    assert rows["70001"]["service"] == "'" + HYPERLINK
    assert rows["70001"]["external_id"] == "'-5"
    assert rows["70001"]["panel"] == "'+SUM(1,2)"
    assert rows["70001"]["provider"] == "'@SUM(A1:A9)"
    assert rows["70002"]["service"] == "'-2+3+cmd|' /C calc'!A0"
    assert rows["70003"]["service"] == "IG Likes - 30D", "a harmless cell is left as it was"
    assert not any(line.startswith("=") for line in body.splitlines())


def _cursor_tuple_fraction() -> str | None:
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SHOW cursor_tuple_fraction")
        return str(cursor.fetchone()[0])


def test_the_export_is_planned_for_every_row_and_the_session_is_left_as_it_was(fake_panel) -> None:
    """PostgreSQL plans the export's cursor for reading all its rows (not the first 10 %: a walk of every
    order), and the connection's setting is back to what it was when the export ends or is abandoned."""
    ws = Workspace.objects.create(name="Planned")
    panel = scenario.panel(ws, fake_panel.url, name="Main")
    scenario.provider(ws, "supply.example", "Supply")
    for order_id in (71001, 71002, 71003):
        fake_panel.add_order(id=order_id, provider="supply.example", service_name="IG Likes")
    process_request(create_request(ws, panel, Command.for_workspace(ws)[0], ["71001", "71002", "71003"]))
    before = _cursor_tuple_fraction()
    f = activity.parse(ws, QueryDict())

    rows = activity.export_rows(activity.export_orders(ws, None, f))
    assert next(rows) == activity.HEADER
    first = next(rows)
    if connection.vendor == "postgresql":
        assert _cursor_tuple_fraction() == "1", "while the export reads, its cursor is planned for every row"
    assert sorted([first[4], *(row[4] for row in rows)]) == ["71001", "71002", "71003"]
    assert _cursor_tuple_fraction() == before

    abandoned = activity.export_rows(activity.export_orders(ws, None, f))
    next(abandoned), next(abandoned)
    assert isinstance(abandoned, Generator)
    abandoned.close()  # a client that hung up half-way
    assert _cursor_tuple_fraction() == before
