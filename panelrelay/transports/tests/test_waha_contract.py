"""The WAHA transport against FakeWAHA: sends, session states, errors, groups, the QR code."""

from __future__ import annotations

import pytest
from django.test import override_settings

from panelrelay.transports.base import TransportError
from panelrelay.transports.integrations.waha.transport import WahaTransport
from panelrelay.transports.models import Connection
from panelrelay.transports.services import deliver
from panelrelay.transports.tests.helpers import WA_GROUP, WA_NUMBER, FakeTestCase, destination


class WahaContractTestCase(FakeTestCase):
    kind = "waha"

    def failure(self, target: str = WA_NUMBER, text: str = "REFILL\n1") -> TransportError:
        with pytest.raises(TransportError) as caught:
            deliver(destination(self.connection, target), text)
        return caught.value

    def test_it_sends_to_numbers_and_groups_with_the_api_key(self) -> None:
        remote_id = deliver(destination(self.connection, WA_NUMBER), "REFILL\n1")
        deliver(destination(self.connection, WA_GROUP), "CANCEL\n2")
        [sent] = self.fake.messages_to(WA_NUMBER)
        self.assertEqual((sent["message_id"], sent["text"], sent["session"]), (remote_id, "REFILL\n1", "default"))
        self.assertTrue(remote_id.startswith("true_447700900123@c.us_"))
        self.assertEqual(self.fake.messages_to(WA_GROUP)[0]["text"], "CANCEL\n2")
        self.assertEqual(self.fake.requests_to("sendText")[0].headers["x-api-key"], "waha-key")

    def test_it_reports_a_wrong_api_key_as_auth_failed(self) -> None:
        self.connection.set_secret("wrong-key-wrong-key")
        self.connection.save()
        error = self.failure()
        self.assertEqual((error.kind, error.permanent), ("auth_failed", True))
        self.connection.refresh_from_db()
        self.assertEqual(self.connection.status, Connection.BROKEN)

    def test_it_reports_a_session_that_is_not_working_as_unavailable(self) -> None:
        self.fake.set_status("default", "SCAN_QR_CODE")
        error = self.failure()
        self.assertEqual((error.kind, str(error)), ("unavailable", "the WhatsApp session is SCAN_QR_CODE, not WORKING"))
        self.fake.set_status("default", "STOPPED")  # WAHA answers 404 for a stopped session
        self.assertEqual(self.failure().kind, "unavailable")

    def test_it_reports_gateway_trouble_as_temporary(self) -> None:
        for fault in ("html", "malformed", "drop"):
            self.fake.inject(fault, path="sendText")
            self.assertEqual(self.failure().kind, "unavailable", fault)
        self.fake.inject("status", path="sendText", status=429, body={"message": "Too Many Requests"})
        error = self.failure()
        self.assertEqual((error.kind, error.retry_after), ("rate_limited", 30.0))

    @override_settings(OUTBOUND_TIMEOUT=1)
    def test_it_treats_a_timeout_as_temporary(self) -> None:
        self.fake.inject("timeout", path="sendText", seconds=1.5)
        self.assertEqual(self.failure().kind, "unavailable")

    def test_it_reports_a_refused_chat_id_as_bad_request(self) -> None:
        error = self.failure(target="447700900123@s.whatsapp.net")
        self.assertEqual(error.kind, "bad_request")
        self.assertIn("Invalid chatId", str(error))

    def test_it_splits_a_long_text(self) -> None:
        lines = [f"{n:010d}" for n in range(1000)]
        deliver(destination(self.connection, WA_GROUP), "\n".join(lines))
        parts = [m["text"] for m in self.fake.messages_to(WA_GROUP)]
        self.assertEqual(len(parts), 3)
        self.assertEqual("\n".join(parts).split("\n"), lines)

    def test_it_reads_the_session_status_and_the_qr_code(self) -> None:
        transport = WahaTransport(self.connection)
        self.assertEqual(transport.check().state, "working")
        self.assertIsNone(transport.qr_png())
        self.fake.set_status("default", "SCAN_QR_CODE")
        self.assertEqual(transport.check().message, "waiting for the QR code to be scanned")
        self.assertTrue(transport.qr_png().startswith(b"\x89PNG"))
        self.fake.set_status("default", "FAILED")
        self.assertEqual(transport.check().state, "broken")
        self.connection.config["session"] = "nope"
        self.assertIn("didn't find a session", transport.check().message)

    def test_it_lists_groups_in_both_shapes(self) -> None:
        self.fake.add_group(WA_GROUP, "Provider A · refills")
        for shape in ("list", "dict"):
            self.fake.groups_shape = shape
            [chat] = WahaTransport(self.connection).list_chats()
            self.assertEqual((chat.kind, chat.chat_id, chat.title), ("wa_group", WA_GROUP, "Provider A · refills"))
