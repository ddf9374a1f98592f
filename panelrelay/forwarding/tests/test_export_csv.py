"""The Activity CSV: text from a panel or typed by an owner never reaches a spreadsheet as a formula."""

from __future__ import annotations

import csv
import io

import pytest

from panelrelay.accounts.models import Membership, Workspace
from panelrelay.core.testing import make_user
from panelrelay.demo import scenario
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
