"""Telegram user account (Telethon): sign-in through the pages, send() errors, pacing, secrecy.

There is no offline MTProto server to run against, so a stub client replaces client_factory(); it
behaves like Telethon's client (async methods, session.save(), Telethon's own error classes).
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from telethon import errors

from panelrelay.core.testing import BaseTestCase
from panelrelay.transports import services
from panelrelay.transports.base import TransportError
from panelrelay.transports.integrations.telegram_user import transport as tgu
from panelrelay.transports.integrations.telegram_user.transport import TelegramUserTransport, secrets_of, set_secrets
from panelrelay.transports.models import Connection, Destination
from panelrelay.transports.tests.helpers import NO_PACING

API_HASH = "0123456789abcdef0123456789abcdef"
LOGIN = "/settings/connections/telegram-user/"


class StubClient:
    """What one scenario makes the account answer; `calls` records what was asked."""

    def __init__(self, connection: Connection, scenario: dict[str, Any]) -> None:
        self.scenario, self.calls = scenario, scenario.setdefault("calls", [])
        session = secrets_of(connection)["session"]
        self.session = SimpleNamespace(save=lambda: (session or "") + "+s")
        scenario.setdefault("seen_api_ids", []).append(connection.config.get("api_id"))

    def _maybe_fail(self, name: str) -> None:
        error = self.scenario.get(f"{name}_error")
        if error is not None:
            raise error

    async def connect(self) -> None:
        self._maybe_fail("connect")

    async def disconnect(self) -> None:
        self.calls.append("disconnect")

    async def is_user_authorized(self) -> bool:
        return self.scenario.get("authorized", True)

    async def send_code_request(self, phone: str) -> Any:
        self.calls.append(("send_code", phone))
        self._maybe_fail("send_code")
        return SimpleNamespace(phone_code_hash="hash-1")

    async def sign_in(self, phone: str = "", code: str = "", *, password: str = "", phone_code_hash: str = "") -> Any:
        self.calls.append(("sign_in", phone, bool(code), bool(password), phone_code_hash))
        self._maybe_fail("password" if password else "code")
        if code and self.scenario.get("two_step"):
            raise errors.SessionPasswordNeededError(request=None)
        return SimpleNamespace(id=777, username="alice_sends")

    async def send_message(self, target: str, text: str, link_preview: bool = True) -> Any:
        self.calls.append(("send", target, text))
        self._maybe_fail("send")
        return SimpleNamespace(id=4242)

    async def get_messages(self, target: str, limit: int = 20, min_id: int = 0) -> Any:
        self.calls.append(("get_messages", target, limit, min_id))
        self._maybe_fail("get_messages")
        history = self.scenario.get("history", [])
        if isinstance(history, dict):
            history = history.get(target, [])
        newest_first = sorted((m for m in history if m.id > min_id), key=lambda m: -m.id)
        return newest_first[:limit]

    async def get_me(self) -> Any:
        self._maybe_fail("get_me")
        return SimpleNamespace(id=777, username="alice_sends")


class StubTestCase(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.scenario: dict[str, Any] = {}
        original = tgu.client_factory
        tgu.client_factory = lambda connection: StubClient(connection, self.scenario)
        self.addCleanup(setattr, tgu, "client_factory", original)

    def account(self, workspace: Any = None) -> Connection:
        found = Connection(workspace=workspace or self.workspace, kind="telegram_user", name="Office TG",
                           config={"api_id": 12345, "username": "alice_sends"})  # fmt: skip
        set_secrets(found, API_HASH, "SESSION-SECRET")
        found.save()
        return found


class LoginTestCase(StubTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.login(self.alice)

    def start(self, **data: Any) -> Any:
        base = {"name": "Office TG", "api_id": "12345", "api_hash": API_HASH, "phone": "+44 7700 900123"}
        return self.client.post(LOGIN, {**base, **data}, follow=True)

    def test_it_signs_in_with_code_and_two_step_password_and_keeps_the_session_encrypted(self) -> None:
        self.scenario["two_step"] = True
        r = self.start()
        self.assertContains(r, "Telegram sent a login code")
        self.assertIn(("send_code", "+447700900123"), self.scenario["calls"])
        r = self.client.post(LOGIN, {"code": "12 345"}, follow=True)
        self.assertContains(r, "two-step verification")
        self.assertIn(("sign_in", "+447700900123", True, False, "hash-1"), self.scenario["calls"])
        r = self.client.post(LOGIN, {"password": "hunter2-secret"}, follow=True)
        self.assertContains(r, "Office TG works: signed in as @alice_sends.")
        account = Connection.objects.get(workspace=self.workspace, kind="telegram_user")
        self.assertEqual((account.status, account.config), ("working", {"api_id": 12345, "username": "alice_sends"}))
        self.assertEqual(secrets_of(account), {"api_hash": API_HASH, "session": "+s+s+s"})
        self.assertNotIn(API_HASH, account.secret_enc)
        self.assertNotIn(self.client.session.session_key and "telegram_user_login", self.client.session.keys())
        for page in (
            r,
            self.client.get("/settings/connections/"),
            self.client.get(f"/settings/connections/{account.code}/"),
        ):
            for secret in (API_HASH, "+s+s+s", "hunter2-secret", "hash-1"):
                self.assertNotContains(page, secret)
        self.assertContains(self.client.get("/settings/connections/"), "@alice_sends")
        self.assertEqual(self.scenario["calls"].count("disconnect"), 3)

    def test_it_keeps_the_half_done_login_encrypted_in_the_session(self) -> None:
        self.start()
        stored = self.client.session["telegram_user_login"]
        for secret in (API_HASH, "hash-1", "+447700900123"):
            self.assertNotIn(secret, stored)
        self.assertNotContains(self.client.get(LOGIN), API_HASH)

    def test_it_signs_in_without_two_step_verification(self) -> None:
        self.start()
        r = self.client.post(LOGIN, {"code": "12345"}, follow=True)
        self.assertContains(r, "works: signed in as @alice_sends")

    def test_it_says_what_went_wrong_in_plain_words(self) -> None:
        cases = [
            ("send_code_error", errors.PhoneNumberInvalidError(request=None), "does not know this phone number"),
            ("send_code_error", errors.FloodWaitError(request=None, capture=130), "try again in 3 min"),
            ("send_code_error", errors.ApiIdInvalidError(request=None), "refused this api_id and api_hash"),
            ("connect_error", ConnectionRefusedError(), "Telegram unreachable"),
        ]
        for key, error, text in cases:
            with self.subTest(text):
                self.scenario.clear()
                self.scenario[key] = error
                self.assertContains(self.start(), text)
                self.assertNotIn("telegram_user_login", self.client.session.keys())

    def test_it_asks_again_after_a_wrong_code_or_password_and_restarts_after_an_expired_code(self) -> None:
        self.scenario["two_step"] = True
        self.start()
        self.scenario["code_error"] = errors.PhoneCodeInvalidError(request=None)
        self.assertContains(self.client.post(LOGIN, {"code": "11111"}, follow=True), "That code is not right")
        self.scenario.pop("code_error")
        self.client.post(LOGIN, {"code": "12345"})
        self.scenario["password_error"] = errors.PasswordHashInvalidError(request=None)
        r = self.client.post(LOGIN, {"password": "wrong"}, follow=True)
        self.assertContains(r, "That is not the account")
        self.assertContains(r, "step 3 of 3")
        self.client.post(LOGIN, {"restart": "1"})
        self.start()
        self.scenario["code_error"] = errors.PhoneCodeExpiredError(request=None)
        r = self.client.post(LOGIN, {"code": "12345"}, follow=True)
        self.assertContains(r, "expired")
        self.assertContains(r, "step 1 of 3")
        self.assertFalse(Connection.objects.filter(kind="telegram_user").exists())

    def test_it_refuses_bad_input_and_people_without_routing(self) -> None:
        r = self.start(api_hash="nothex", phone="12")
        self.assertContains(r, "32 hexadecimal characters")
        self.assertContains(r, "country code")
        self.assertEqual(self.scenario.get("calls", []), [])
        self.assertRedirects(self.client.get("/settings/connections/add/telegram_user/"), LOGIN)
        self.login(self.bob)
        self.assertEqual(self.client.get(LOGIN).status_code, 403)

    def test_it_does_not_carry_a_half_done_login_into_another_workspace(self) -> None:
        self.start()
        self.login(self.charlie)
        r = self.client.get(LOGIN)
        self.assertContains(r, "step 1 of 3")
        self.assertNotContains(r, "+447700900123")


@NO_PACING
class SendTestCase(StubTestCase):
    def test_it_sends_and_returns_the_message_id(self) -> None:
        destination = Destination.objects.create(workspace=self.workspace, name="P", kind="tg_user",
                                                 target="@provider", connection=self.account())  # fmt: skip
        self.assertEqual(services.deliver(destination, "REFILL: 1"), "4242")
        self.assertIn(("send", "@provider", "REFILL: 1"), self.scenario["calls"])

    def test_it_maps_each_telethon_error_to_a_transport_error_kind(self) -> None:
        transport = TelegramUserTransport(self.account())
        cases = [
            (errors.FloodWaitError(request=None, capture=37), "rate_limited"),
            (errors.PeerFloodError(request=None), "quota"),
            (errors.UserPrivacyRestrictedError(request=None), "target_gone"),
            (errors.UsernameNotOccupiedError(request=None), "target_gone"),
            (errors.UsernameInvalidError(request=None), "target_gone"),
            (ValueError('Cannot find any entity corresponding to "@x"'), "target_gone"),
            (errors.ChatWriteForbiddenError(request=None), "target_gone"),
            (errors.AuthKeyUnregisteredError(request=None), "auth_failed"),
            (errors.SessionRevokedError(request=None), "auth_failed"),
            (errors.UserDeactivatedBanError(request=None), "auth_failed"),
            (ConnectionResetError(), "unavailable"),
            (TimeoutError(), "unavailable"),
            (errors.MessageEmptyError(request=None), "bad_request"),
        ]
        for error, kind in cases:
            with self.subTest(type(error).__name__):
                self.scenario["send_error"] = error
                with self.assertRaises(TransportError) as caught:
                    transport.send("@provider", "hi")
                self.assertEqual(caught.exception.kind, kind)
        self.scenario["send_error"] = errors.FloodWaitError(request=None, capture=37)
        with self.assertRaises(TransportError) as caught:
            transport.send("@provider", "hi")
        self.assertEqual(caught.exception.retry_after, 37.0)

    def test_it_reports_a_signed_out_session_as_auth_failed(self) -> None:
        self.scenario["authorized"] = False
        with self.assertRaises(TransportError) as caught:
            TelegramUserTransport(self.account()).send("@provider", "hi")
        self.assertEqual(caught.exception.kind, "auth_failed")

    def test_it_paces_the_whole_account_slowly_with_jitter(self) -> None:
        account = self.account()
        keys, jitter = TelegramUserTransport(account).pacing("@provider")
        self.assertEqual(list(keys), [f"tgu:{account.code}"])
        self.assertEqual(TelegramUserTransport(account).pacing("+447700900123")[0], keys)
        self.assertGreater(jitter, 0)

    def test_it_checks_the_account_with_get_me(self) -> None:
        account = self.account()
        self.assertEqual(services.refresh_status(account).message, "signed in as @alice_sends")
        self.scenario["get_me_error"] = errors.SessionRevokedError(request=None)
        status = services.refresh_status(account)
        self.assertEqual(status.state, "broken")
        self.assertIn("sign in again", status.message)


class FindSentTestCase(StubTestCase):
    """After an interrupted send the account reads the chat back (Telethon's get_messages)."""

    def test_it_finds_our_own_copy_sent_since_the_cut_and_nothing_else(self) -> None:
        from datetime import UTC, datetime, timedelta

        cut = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
        text = "REFILL\n9000001\n9000002"
        history = [
            SimpleNamespace(id=11, out=False, date=cut + timedelta(minutes=1), message=text),  # the provider quoting it
            SimpleNamespace(id=12, out=True, date=cut - timedelta(hours=1), message=text),  # an older identical one
            SimpleNamespace(id=13, out=True, date=cut + timedelta(seconds=5), message=text + "  \r\n"),
        ]
        transport = tgu.TelegramUserTransport(self.account())
        self.scenario["history"] = history
        self.assertEqual(transport.find_sent("@provider_bob", text, cut), "13")
        self.scenario["history"] = history[:2]
        self.assertIsNone(transport.find_sent("@provider_bob", text, cut))
        self.scenario["get_messages_error"] = errors.FloodWaitError(request=None, capture=30)
        with self.assertRaises(TransportError) as caught:
            transport.find_sent("@provider_bob", text, cut)
        self.assertEqual(caught.exception.kind, "rate_limited")


class ReceiveTestCase(StubTestCase):
    """The account reads what providers write in the chats it sends to (the front door's polling)."""

    def test_it_polls_new_messages_by_id_skipping_its_own_and_old_history(self) -> None:
        from datetime import UTC, datetime

        from panelrelay.transports import incoming
        from panelrelay.transports.services import poll_chats

        got: list[Any] = []
        incoming.subscribe("test.tgu", lambda item: got.append(item) or True, priority=1)
        self.addCleanup(incoming.unsubscribe, "test.tgu")
        account = self.account()
        Connection.objects.filter(pk=account.pk).update(receive="poll")
        account.refresh_from_db()
        Destination.objects.create(workspace=self.workspace, connection=account, name="Bob", kind="tg_user",
                                   target="@provider_bob")  # fmt: skip
        at = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
        old = SimpleNamespace(id=40, out=False, date=at, message="old news", sender_id=9, sender=None, reply_to=None)
        self.scenario["history"] = {"@provider_bob": [old]}
        self.assertEqual(poll_chats(account), 0)  # the first look notes the newest id only
        account.refresh_from_db()
        self.assertEqual(account.poll_state, {"@provider_bob": 40})
        bob = SimpleNamespace(first_name="Bob", last_name="", username="provider_bob")
        self.scenario["history"]["@provider_bob"] += [
            SimpleNamespace(id=41, out=True, date=at, message="REFILL\n9000001", sender_id=777, sender=None,
                            reply_to=None),
            SimpleNamespace(id=42, out=False, date=at, message="done", sender_id=9, sender=bob,
                            reply_to=SimpleNamespace(reply_to_msg_id=41)),
        ]  # fmt: skip
        self.assertEqual(poll_chats(account), 1)
        [item] = got
        self.assertEqual((item.chat_id, item.text, item.reply_to, item.sender_id, item.sender_name, item.message_id),
                         ("@provider_bob", "done", "41", "9", "Bob", "@provider_bob:42"))  # fmt: skip
        account.refresh_from_db()
        self.assertEqual(poll_chats(account), 0)
        self.assertIn(("get_messages", "@provider_bob", 50, 42), self.scenario["calls"])


class DestinationTargetTestCase(StubTestCase):
    def add(self, account: Connection, kind: str, target: str) -> Any:
        name = f"d {kind} {target.rsplit('/', 1)[-1]}"  # a name with a web address in it is refused
        return self.client.post("/destinations/add/", {"name": name, "connection": str(account.code),
                                                      "kind": kind, "target": target}, follow=True)  # fmt: skip

    def test_it_takes_usernames_phones_and_links_and_refuses_bare_ids(self) -> None:
        self.login(self.alice)
        account = self.account()
        accepted = [("tg_user", "@provider_bob", "@provider_bob"), ("tg_user", "+44 7700 900123", "+447700900123"),
                    ("tg_group", "https://t.me/provider_group", "@provider_group"),
                    ("tg_group", "t.me/+AbCdEfGh12345", "https://t.me/+AbCdEfGh12345")]  # fmt: skip
        for kind, typed, stored in accepted:
            with self.subTest(typed):
                self.add(account, kind, typed)
                self.assertTrue(Destination.objects.filter(connection=account, kind=kind, target=stored).exists())
        r = self.add(account, "tg_user", "500000001")
        self.assertContains(r, "cannot write to a bare numeric id")
        self.assertContains(
            self.add(account, "wa_number", "+447700900123"), "sends to a Telegram group or Telegram user"
        )

    def test_it_does_not_let_another_workspace_use_the_account(self) -> None:
        self.login(self.charlie)
        r = self.add(self.account(), "tg_user", "@provider_bob")
        self.assertContains(r, "Choose the connection that sends to this destination.")
        self.assertFalse(Destination.objects.exists())


class ClientFactoryTestCase(BaseTestCase):
    def test_it_builds_a_real_client_that_never_sleeps_on_flood_waits(self) -> None:
        import asyncio

        account = Connection(workspace=self.workspace, kind="telegram_user", config={"api_id": 12345})
        set_secrets(account, API_HASH, "")

        async def build() -> Any:
            client = tgu.client_factory(account)  # built, never connected: no network in tests
            return client.flood_sleep_threshold, client.api_id, client.api_hash

        self.assertEqual(asyncio.run(build()), (0, 12345, API_HASH))
