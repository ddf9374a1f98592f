"""Activity names where each request came from and links a ticket to the panel."""

from __future__ import annotations

from django.urls import reverse

from panelrelay.core.testing import BaseTestCase
from panelrelay.forwarding.models import Command, ForwardRequest
from panelrelay.forwarding.submit import create_request
from panelrelay.panels.models import Panel


class ActivitySourceTestCase(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.panel = Panel(workspace=self.workspace, name="Main", url="https://panel.example")
        self.panel.set_api_key("k" * 16)
        self.panel.save()
        refill = Command.for_workspace(self.workspace)[0]
        make = create_request
        self.ticket = make(self.workspace, self.panel, refill, ["1"], source=ForwardRequest.TICKET, source_ref="501")
        make(
            self.workspace, self.panel, refill, ["2"], source=ForwardRequest.BOT, source_ref="tg:5551", user=self.alice
        )
        make(self.workspace, self.panel, refill, ["3"], source=ForwardRequest.API)
        make(self.workspace, self.panel, refill, ["4"], user=self.alice)

    def test_it_shows_every_source_and_links_the_ticket(self) -> None:
        self.login(self.alice)
        page = self.client.get(reverse("forwarding:activity")).content.decode()
        link = '<a href="https://panel.example/admin/tickets/view/501" target="_blank"'
        self.assertIn(link, page)
        for text in ("Ticket #501</a>", "Team bot", "API", "Manual"):
            self.assertIn(text, page)
        self.assertNotIn("tg:5551", page)
        detail = self.client.get(reverse("forwarding:request", args=[self.ticket.code]))
        self.assertContains(detail, "Ticket #501")

    def test_the_source_filter_finds_ticket_requests(self) -> None:
        self.login(self.alice)
        page = self.client.get(reverse("forwarding:activity") + "?source=ticket").content.decode()
        self.assertIn("Ticket #501", page)
        self.assertNotIn("Team bot</td>", page)
