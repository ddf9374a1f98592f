"""The Telegram transport against FakeTelegram: every error of the contract, and long texts."""

from __future__ import annotations

import pytest
from django.test import override_settings

from panelrelay.transports.base import TransportError
from panelrelay.transports.integrations.telegram.transport import TelegramTransport
from panelrelay.transports.models import Connection, Incident
from panelrelay.transports.services import deliver, max_length
from panelrelay.transports.tests.helpers import BASIC, GROUP, USER, FakeTestCase, connection, destination


class TelegramContractTestCase(FakeTestCase):
    kind = "telegram"

    def failure(self, target, text: str = "REFILL\n9876543") -> TransportError:
        with pytest.raises(TransportError) as caught:
            deliver(destination(self.connection, target), text)
        return caught.value

    def test_it_sends_and_returns_the_message_id(self) -> None:
        group = destination(self.connection, GROUP)
        remote_id = deliver(group, "REFILL\n9876543")
        [sent] = self.fake.messages_to(GROUP)
        self.assertEqual(
            (remote_id, sent["text"], sent["parse_mode"]), (str(sent["message_id"]), "REFILL\n9876543", None)
        )
        group.refresh_from_db()
        self.assertEqual((group.last_delivery_ok, group.last_delivery_message), (True, "Delivered"))

    def test_it_sends_to_a_supergroup_by_its_name_and_to_a_user(self) -> None:
        deliver(destination(self.connection, "@provider_a"), "CANCEL\n1")
        deliver(destination(self.connection, USER), "CANCEL\n2")
        self.assertEqual([m["text"] for m in self.fake.messages_to(GROUP)], ["CANCEL\n1"])
        self.assertEqual([m["text"] for m in self.fake.messages_to(USER)], ["CANCEL\n2"])

    def test_it_reports_a_rejected_token_as_auth_failed(self) -> None:
        self.connection.set_secret("999:not-a-bot-token-at-all-xxxxxxxxxxxx")
        self.connection.save()
        error = self.failure(GROUP)
        self.assertEqual((error.kind, error.permanent), ("auth_failed", True))
        self.connection.refresh_from_db()
        self.assertEqual(self.connection.status, Connection.BROKEN)
        self.assertNotIn("not-a-bot-token", error.args[0])

    def test_it_reports_a_kicked_bot_as_target_gone(self) -> None:
        self.fake.kick(GROUP, notify=False)
        error = self.failure(GROUP)
        self.assertEqual((error.kind, str(error)), ("target_gone", "bot was kicked from the supergroup chat"))
        self.assertTrue(error.permanent)

    def test_it_reports_unknown_deleted_and_unreachable_chats_as_target_gone(self) -> None:
        self.fake.add_user(777000111, first_name="Never started")
        self.fake.add_chat(-100555, "supergroup", "Deleted")
        self.fake.delete_chat(-100555)
        cases = {-100999: "chat not found", -100555: "the group chat was deleted",
                 777000111: "bot can't initiate conversation with a user"}  # fmt: skip
        for target, reason in cases.items():
            error = self.failure(target)
            self.assertEqual((error.kind, str(error)), ("target_gone", reason))

    def test_it_reports_a_blocked_bot_as_target_gone(self) -> None:
        self.fake.block(USER, notify=False)
        self.assertEqual(str(self.failure(USER)), "bot was blocked by the user")

    def test_it_follows_a_group_upgraded_to_a_supergroup_and_resends(self) -> None:
        new_id = self.fake.migrate(BASIC)
        group = destination(self.connection, BASIC)
        deliver(group, "REFILL\n1")
        group.refresh_from_db()
        self.assertEqual(group.target, str(new_id))
        self.assertEqual([m["text"] for m in self.fake.messages_to(new_id)], ["REFILL\n1"])
        self.assertTrue(group.last_delivery_ok)

    def test_it_passes_on_retry_after_and_blocks_the_chat_for_that_long(self) -> None:
        self.fake.force_429(times=1, retry_after=7)
        group = destination(self.connection, GROUP)
        with pytest.raises(TransportError) as caught:
            deliver(group, "x")
        self.assertEqual((caught.value.kind, caught.value.retry_after, caught.value.local), ("rate_limited", 7, False))
        with pytest.raises(TransportError) as again:
            deliver(group, "x")  # our own slot now says wait: nothing goes out
        self.assertTrue(again.value.local)
        self.assertGreater(again.value.retry_after, 6)
        self.assertEqual(len(self.fake.requests_to("sendMessage")), 1)

    def test_it_treats_gateway_trouble_as_temporary(self) -> None:
        self.fake.inject("html", path="sendMessage")
        self.fake.inject("malformed", path="sendMessage")
        self.fake.inject("empty", path="sendMessage")
        self.fake.inject("drop", path="sendMessage")
        for expected in ("answered 502 with an HTML page", "not JSON", "not JSON", "unreachable"):
            error = self.failure(GROUP)
            self.assertEqual(error.kind, "unavailable")
            self.assertIn(expected, str(error))
            self.assertFalse(error.permanent)

    @override_settings(OUTBOUND_TIMEOUT=1)
    def test_it_treats_a_timeout_as_temporary(self) -> None:
        self.fake.inject("timeout", path="sendMessage", seconds=1.5)
        error = self.failure(GROUP)
        self.assertEqual((error.kind, str(error)), ("unavailable", "Telegram unreachable: no answer within 1 s"))

    def test_it_treats_a_stopped_server_as_temporary(self) -> None:
        self.fake.stop()
        self.assertEqual(self.failure(GROUP).kind, "unavailable")

    def test_it_reads_an_error_inside_a_200_answer(self) -> None:
        body = {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}
        self.fake.inject("status", path="sendMessage", status=200, body=body)
        self.assertEqual(self.failure(USER).kind, "target_gone")

    def test_it_reports_other_400s_as_bad_request(self) -> None:
        body = {"ok": False, "error_code": 400, "description": "Bad Request: message text is empty"}
        self.fake.inject("status", path="sendMessage", status=400, body=body)
        error = self.failure(GROUP)
        self.assertEqual((error.kind, str(error), error.permanent), ("bad_request", "message text is empty", True))

    def test_it_splits_a_long_text_at_line_boundaries(self) -> None:
        lines = [f"98765{n:05d}" for n in range(900)]  # 900 × 11 chars ≈ 9.9 k: three messages
        deliver(destination(self.connection, GROUP), "REFILL\n" + "\n".join(lines))
        parts = [m["text"] for m in self.fake.messages_to(GROUP)]
        self.assertEqual(len(parts), 3)
        self.assertTrue(all(len(p) <= 4096 for p in parts))
        self.assertEqual("\n".join(parts).split("\n"), ["REFILL", *lines])
        self.assertEqual(max_length(destination(self.connection, GROUP, name="other")), 4096)

    def test_it_checks_the_token_with_get_me(self) -> None:
        status = TelegramTransport(self.connection).check()
        self.assertEqual(
            (status.state, status.message, status.details["username"]), ("working", "@relay_bot", "relay_bot")
        )
        bad = connection(self.other_workspace, "telegram", self.fake, secret="1:nope")
        self.assertEqual(TelegramTransport(bad).check().state, "broken")
        self.assertFalse(Incident.objects.exists())  # a check alone alerts nobody; set_status does
