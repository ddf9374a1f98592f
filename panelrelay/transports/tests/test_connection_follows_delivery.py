"""A connection's status follows its latest delivery: an outage shows on Connections at once, not
"working" until the next check while its destinations say Failed (issue 13)."""

from __future__ import annotations

import pytest

from panelrelay.transports.base import TransportError
from panelrelay.transports.models import Connection
from panelrelay.transports.services import deliver, refresh_status
from panelrelay.transports.tests.helpers import GROUP, FakeTestCase, destination


class ConnectionFollowsDeliveryTests(FakeTestCase):
    kind = "telegram"

    def setUp(self) -> None:
        super().setUp()
        self.group = destination(self.connection, GROUP, name="FastLikes grp")
        refresh_status(self.connection)
        self.assertEqual(self.connection.status, Connection.WORKING)

    def status(self) -> tuple[str, str]:
        self.connection.refresh_from_db()
        return self.connection.status, self.connection.status_message

    def test_an_outage_shows_as_failing_and_the_next_delivery_heals_it(self) -> None:
        self.fake.inject("status", path="sendMessage", status=502, times=1)
        with pytest.raises(TransportError) as caught:
            deliver(self.group, "REFILL\n1")
        self.assertEqual(caught.value.kind, "unavailable")
        state, message = self.status()
        self.assertEqual(state, Connection.FAILING)
        self.assertTrue(message.startswith("the last delivery failed: "), message)
        self.group.refresh_from_db()
        self.assertIs(self.group.last_delivery_ok, False)

        # The periodic check gets through (getMe works) while sending still fails: still failing.
        refresh_status(self.connection)
        state, message = self.status()
        self.assertEqual(state, Connection.FAILING)
        self.assertIn("answers, but the last delivery failed", message)

        deliver(self.group, "REFILL\n1")
        self.assertEqual(self.status(), (Connection.WORKING, "the last delivery went through"))
        refresh_status(self.connection)
        self.assertEqual(self.status()[0], Connection.WORKING)  # and the check agrees

    def test_a_failure_of_one_chat_leaves_the_connection_working(self) -> None:
        self.fake.inject("status", path="sendMessage", status=400,
                         body={"ok": False, "error_code": 400, "description": "Bad Request: message is too long"})  # fmt: skip
        with pytest.raises(TransportError) as caught:
            deliver(self.group, "REFILL\n1")
        self.assertEqual(caught.value.kind, "bad_request")
        self.assertEqual(self.status()[0], Connection.WORKING)
        refresh_status(self.connection)
        self.assertEqual(self.status()[0], Connection.WORKING)

    def test_the_connections_page_shows_it(self) -> None:
        self.fake.inject("status", path="sendMessage", status=502, times=1)
        with pytest.raises(TransportError):
            deliver(self.group, "REFILL\n1")
        self.login(self.alice)
        page = self.client.get("/settings/connections/").content.decode()
        self.assertIn('<span class="pill pill-bad">failing</span>', page)
        self.assertIn("the last delivery failed", page)
