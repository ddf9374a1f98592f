"""The Evolution API transport against FakeEvolution."""

from __future__ import annotations

import pytest

from panelrelay.transports.base import TransportError
from panelrelay.transports.integrations.evolution.transport import EvolutionTransport
from panelrelay.transports.models import Connection
from panelrelay.transports.services import deliver
from panelrelay.transports.tests.helpers import FakeTestCase, destination

NUMBER = "5511988887777@c.us"
GROUP = "120363050000000001@g.us"


class EvolutionContractTestCase(FakeTestCase):
    kind = "evolution"

    def setUp(self) -> None:
        super().setUp()
        self.fake.add_number("5511988887777")
        self.fake.add_group(GROUP, "Provider D · refills")

    def failure(self, target: str = NUMBER, text: str = "REFILL\n1") -> TransportError:
        with pytest.raises(TransportError) as caught:
            deliver(destination(self.connection, target), text)
        return caught.value

    def test_it_sends_to_numbers_and_groups(self) -> None:
        remote_id = deliver(destination(self.connection, NUMBER), "REFILL\n1")
        deliver(destination(self.connection, GROUP), "CANCEL\n2")
        [sent] = self.fake.messages_to("5511988887777")
        self.assertEqual((sent["message_id"], sent["text"]), (remote_id, "REFILL\n1"))
        self.assertEqual(self.fake.messages_to(GROUP)[0]["text"], "CANCEL\n2")
        self.assertEqual(self.fake.requests_to("sendText")[0].headers["apikey"], "evo-key")

    def test_it_reports_a_wrong_key_or_a_missing_instance_as_auth_failed(self) -> None:
        self.connection.set_secret("wrong-key-wrong-key")
        self.connection.save()
        self.assertEqual(self.failure().kind, "auth_failed")
        self.connection.set_secret("evo-key")
        self.connection.config["instance"] = "gone"
        self.connection.save()
        error = self.failure()
        self.assertEqual((error.kind, str(error)), ("auth_failed", 'Evolution API: The "gone" instance does not exist'))
        self.assertEqual(Connection.objects.get(pk=self.connection.pk).status, Connection.BROKEN)

    def test_it_reports_unknown_numbers_and_groups_as_target_gone(self) -> None:
        error = self.failure(target="447700900999@c.us")
        self.assertEqual((error.kind, str(error)), ("target_gone", "this number is not on WhatsApp"))
        error = self.failure(target="120363050000000999@g.us")
        self.assertEqual(str(error), "the instance does not know this WhatsApp group")

    def test_it_reports_a_closed_connection_as_unavailable(self) -> None:
        for state in ("close", "connecting"):  # 400 and 500 "Connection Closed"
            self.fake.set_state("relay", state)
            error = self.failure()
            self.assertEqual((error.kind, str(error)), ("unavailable", "the WhatsApp instance is not connected"))

    def test_it_reports_gateway_trouble_as_temporary_and_bad_input_as_permanent(self) -> None:
        for fault in ("html", "malformed", "drop"):
            self.fake.inject(fault, path="sendText")
            self.assertEqual(self.failure().kind, "unavailable", fault)
        error = self.failure(text="")
        self.assertEqual(
            (error.kind, str(error)), ("bad_request", 'Evolution API refused the message: The "text" cannot be empty')
        )
        self.fake.inject("status", path="sendText", status=429, body={"status": 429, "error": "Too Many Requests"})
        self.assertEqual(self.failure().kind, "rate_limited")

    def test_it_splits_a_long_text(self) -> None:
        lines = [f"{n:010d}" for n in range(700)]
        deliver(destination(self.connection, GROUP), "\n".join(lines))
        parts = [m["text"] for m in self.fake.messages_to(GROUP)]
        self.assertEqual((len(parts), "\n".join(parts).split("\n")), (2, lines))

    def test_it_reads_the_connection_state_and_the_groups(self) -> None:
        transport = EvolutionTransport(self.connection)
        self.assertEqual(transport.check().state, "working")
        self.fake.set_state("relay", "connecting")
        self.assertEqual(transport.check().state, "pending")
        self.fake.set_state("relay", "close")
        self.assertEqual(transport.check().state, "broken")
        self.fake.set_state("relay", "open")
        [chat] = transport.list_chats()
        self.assertEqual((chat.chat_id, chat.title), (GROUP, "Provider D · refills"))
