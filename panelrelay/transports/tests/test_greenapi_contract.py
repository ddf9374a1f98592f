"""The Green-API transport against FakeGreenAPI, including its 466 quota."""

from __future__ import annotations

import pytest

from panelrelay.transports.base import TransportError
from panelrelay.transports.integrations.greenapi.transport import GreenApiTransport
from panelrelay.transports.models import Incident
from panelrelay.transports.services import deliver, max_length
from panelrelay.transports.tests.helpers import WA_GROUP, WA_NUMBER, FakeTestCase, connection, destination

ID = 1101000001


class GreenApiContractTestCase(FakeTestCase):
    kind = "greenapi"

    def failure(self, target: str = WA_NUMBER, text: str = "REFILL\n1") -> TransportError:
        with pytest.raises(TransportError) as caught:
            deliver(destination(self.connection, target), text)
        return caught.value

    def test_it_sends_and_returns_the_id_message(self) -> None:
        remote_id = deliver(destination(self.connection, WA_NUMBER), "REFILL\n1")
        deliver(destination(self.connection, WA_GROUP), "CANCEL\n2")
        [sent] = self.fake.messages_to(WA_NUMBER)
        self.assertEqual((sent["message_id"], sent["text"]), (remote_id, "REFILL\n1"))
        self.assertEqual(len(self.fake.messages_to(WA_GROUP)), 1)

    def test_it_reports_a_wrong_token_or_instance_as_auth_failed_without_leaking_the_token(self) -> None:
        self.connection.set_secret("wrong-token-123456")
        self.connection.save()
        error = self.failure()
        self.assertEqual(error.kind, "auth_failed")
        self.assertNotIn("wrong-token", str(error))  # Green-API echoes the path, token included
        self.connection.set_secret("green-token")
        self.connection.config["id_instance"] = "999"
        self.connection.save()
        self.assertEqual(str(self.failure()), "Green-API does not know this instance id (403)")

    def test_it_reports_the_quota_once_to_the_owner(self) -> None:
        self.fake.set_quota(ID, correspondents=1)
        deliver(destination(self.connection, WA_NUMBER), "x")
        for _ in range(2):
            error = self.failure(target=WA_GROUP)
            self.assertEqual((error.kind, error.permanent, error.retry_after), ("quota", False, 3600.0))
        self.assertIn("Monthly quota has been exceeded", str(error))
        self.assertEqual(Incident.objects.filter(key=f"quota:{self.connection.code}").count(), 1)

    def test_it_reports_an_unauthorised_instance_as_unavailable(self) -> None:
        for state in ("notAuthorized", "starting"):
            self.fake.set_state(ID, state)
            self.assertEqual(self.failure().kind, "unavailable")

    def test_it_reports_429_and_gateway_trouble_as_temporary(self) -> None:
        for fault in ("html", "malformed", "drop"):
            self.fake.inject(fault, path="sendMessage")
            self.assertEqual(self.failure(target=WA_GROUP).kind, "unavailable", fault)
        self.fake.inject("status", path="sendMessage", status=200, body={})
        self.assertEqual(str(self.failure(target=WA_GROUP)), "Green-API answered without a message id")
        self.fake.inject("status", path="sendMessage", status=429, body={"message": "Too Many Requests"},
                         headers={"Retry-After": "7"})  # fmt: skip
        error = self.failure()
        self.assertEqual((error.kind, error.local, error.retry_after), ("rate_limited", False, 7.0))
        self.fake.inject("status", path="sendMessage", status=429, body={"message": "Too Many Requests"})
        other = connection(self.workspace, "greenapi", self.fake)  # the 429 above holds this pacing key
        with pytest.raises(TransportError) as caught:
            deliver(destination(other, WA_NUMBER, name="other"), "x")
        self.assertEqual((caught.value.kind, caught.value.retry_after), ("rate_limited", 5.0))  # no Retry-After

    def test_it_reports_a_refused_message_as_bad_request(self) -> None:
        self.fake.max_message_length = 5
        error = self.failure(text="REFILL 123456")
        self.assertEqual(error.kind, "bad_request")
        self.assertIn("length must be less than or equal to 5", str(error))

    def test_it_splits_at_its_own_limit(self) -> None:
        lines = [f"{n:010d}" for n in range(400)]  # 4.4 k characters: two parts under 4000
        deliver(destination(self.connection, WA_GROUP), "\n".join(lines))
        parts = [m["text"] for m in self.fake.messages_to(WA_GROUP)]
        self.assertEqual((len(parts), "\n".join(parts).split("\n")), (2, lines))
        self.assertEqual(max_length(destination(self.connection, WA_GROUP)), 4000)

    def test_it_reads_the_state_and_finds_groups_even_when_contacts_miss_them(self) -> None:
        transport = GreenApiTransport(self.connection)
        self.assertEqual(transport.check().state, "working")
        self.fake.set_state(ID, "yellowCard")
        self.assertEqual(transport.check().state, "broken")
        self.fake.set_state(ID, "authorized")
        self.fake.add_group(WA_GROUP, "Provider F · refills")
        self.fake.contacts_include_groups = False
        [chat] = transport.list_chats()
        self.assertEqual((chat.chat_id, chat.title), (WA_GROUP, "Provider F · refills"))

    def test_a_queued_message_does_not_mark_a_suspended_account_working(self) -> None:
        from panelrelay.transports.models import Connection
        from panelrelay.transports.services import refresh_status

        self.fake.set_state(ID, "yellowCard")
        refresh_status(self.connection)
        for _ in range(2):
            deliver(destination(self.connection, WA_NUMBER), "x")  # accepted into Green-API's queue
        self.connection.refresh_from_db()
        self.assertEqual(self.connection.status, Connection.BROKEN)
        self.assertEqual(Incident.objects.filter(closed__isnull=True).count(), 1)
        self.assertEqual(Incident.objects.count(), 1)
