"""Settings → Connections: add, edit, check and delete; secrets encrypted and write-only."""

from __future__ import annotations

from django.test import override_settings

from panelrelay.core import crypto
from panelrelay.transports.models import Connection
from panelrelay.transports.tests.helpers import TOKEN, FakeTestCase, connection, destination

URL = "/settings/connections/"


class TelegramConnectionTestCase(FakeTestCase):
    kind = "telegram"

    def setUp(self) -> None:
        super().setUp()
        self.connection.delete()
        self.login(self.alice)

    def add(self, **data: str):
        return self.client.post(URL + "add/telegram/", {"name": "Main bot", "secret": TOKEN, "api_url": self.fake.url,
                                                        **data}, follow=True)  # fmt: skip

    def test_it_adds_a_bot_checks_it_and_never_shows_the_token_again(self) -> None:
        r = self.add()
        self.assertContains(r, "Main bot works: @relay_bot.")
        bot = Connection.objects.get(workspace=self.workspace)
        self.assertEqual((bot.kind, bot.status, bot.config["username"]), ("telegram", "working", "relay_bot"))
        self.assertNotIn(TOKEN, bot.secret_enc)
        self.assertEqual(crypto.decrypt(bot.secret_enc), TOKEN)
        page = self.client.get(URL)
        self.assertContains(page, "••••Dsaw")  # the last four characters only
        self.assertNotContains(page, TOKEN)
        self.assertNotContains(page, TOKEN.split(":")[1])
        self.assertNotContains(self.client.get(URL + f"{bot.code}/"), TOKEN.split(":")[1])

    def test_it_saves_a_bot_that_does_not_work_and_says_why(self) -> None:
        self.fake.stop()
        r = self.add()
        self.assertContains(r, "it does not work yet: Telegram unreachable")
        self.assertEqual(Connection.objects.get().status, "broken")

    def test_it_refuses_a_malformed_token_and_a_bad_address(self) -> None:
        r = self.add(secret="not a token")
        self.assertContains(r, "A bot token looks like")
        r = self.add(api_url="ftp://example.org")
        self.assertContains(r, "This address cannot be used: the address must start with http")
        self.assertFalse(Connection.objects.exists())

    @override_settings(OUTBOUND_ALLOW_PRIVATE=False)
    def test_it_refuses_a_private_address_when_the_operator_forbids_it(self) -> None:
        r = self.add(api_url="http://127.0.0.1:8081")
        self.assertContains(r, "This address cannot be used")
        self.assertFalse(Connection.objects.exists())

    def test_editing_without_a_token_keeps_the_saved_one(self) -> None:
        self.add()
        bot = Connection.objects.get()
        r = self.client.post(
            URL + f"{bot.code}/", {"name": "Renamed", "secret": "", "api_url": self.fake.url}, follow=True
        )
        self.assertContains(r, "Renamed works")
        bot.refresh_from_db()
        self.assertEqual((bot.name, bot.secret()), ("Renamed", TOKEN))

    def test_another_bots_token_forgets_the_old_bots_chats_and_offset(self) -> None:
        self.add()
        bot = Connection.objects.get()
        self.fake.bot_added(-1009876543210, title="Provider C")
        self.client.get("/destinations/chats/", {"connection": str(bot.code)})
        self.fake.add_bot("987654321:" + "B" * 35, username="other_bot")
        data = {"name": "Main bot", "secret": "987654321:" + "B" * 35, "api_url": self.fake.url}
        self.assertContains(self.client.post(URL + f"{bot.code}/", data, follow=True), "works: @other_bot")
        bot.refresh_from_db()
        self.assertEqual((bot.updates_offset, bot.config["username"]), (0, "other_bot"))
        self.assertFalse(bot.discovered.filter(active=True).exists())

    def test_a_connection_with_destinations_cannot_be_deleted(self) -> None:
        self.add()
        bot = Connection.objects.get()
        group = destination(bot, -1001234567890)
        r = self.client.post(URL + f"{bot.code}/delete/", follow=True)
        self.assertContains(r, "still sends to 1 destination")
        group.delete()
        r = self.client.post(URL + f"{bot.code}/delete/", follow=True)
        self.assertContains(r, "deleted")
        self.assertFalse(Connection.objects.exists())

    def test_staff_without_routing_and_outsiders_cannot_touch_connections(self) -> None:
        self.add()
        bot = Connection.objects.get()
        self.login(self.bob)
        self.assertEqual(self.client.get(URL).status_code, 403)
        self.assertEqual(self.client.post(URL + "add/telegram/", {}).status_code, 403)
        self.login(self.charlie)
        self.assertEqual(self.client.post(URL + f"{bot.code}/check/").status_code, 404)
        self.assertEqual(self.client.post(URL + f"{bot.code}/delete/").status_code, 404)
        self.assertNotContains(self.client.get(URL), "Main bot")
        self.assertEqual(self.client.get(URL + "add/nonsense/").status_code, 404)


class WhatsAppConnectionTestCase(FakeTestCase):
    kind = "waha"

    def setUp(self) -> None:
        super().setUp()
        self.login(self.alice)

    def test_it_adds_each_gateway_kind(self) -> None:
        cases = {
            "waha": {"base_url": self.fake.url, "session": "default", "secret": "waha-key"},
            "evolution": {"base_url": "http://127.0.0.1:9", "instance": "relay", "secret": "evo-key-1234567"},
            "greenapi": {"api_url": "http://127.0.0.1:9", "id_instance": "1101000001", "secret": "green-token-1234"},
        }
        for kind, data in cases.items():
            r = self.client.post(URL + f"add/{kind}/", {"name": f"My {kind}", "pace_seconds": "5", **data}, follow=True)
            self.assertEqual(r.status_code, 200)
            found = Connection.objects.get(name=f"My {kind}")
            self.assertEqual((found.kind, found.pace_seconds, found.secret()), (kind, 5.0, data["secret"]))
        self.assertEqual(Connection.objects.get(name="My waha").status, "working")
        self.assertEqual(Connection.objects.get(name="My evolution").status, "broken")

    def test_it_keeps_the_whatsapp_pace_slow(self) -> None:
        data = {"name": "Fast", "base_url": self.fake.url, "session": "default", "pace_seconds": "0.1"}
        r = self.client.post(URL + "add/waha/", data)
        self.assertContains(r, "greater than or equal to 1")

    def test_a_session_waiting_for_pairing_shows_its_qr_code_until_it_works(self) -> None:
        self.fake.set_status("default", "SCAN_QR_CODE")
        self.client.post(URL + f"{self.connection.code}/check/")
        self.assertContains(self.client.get(URL), f"{self.connection.code}/qr/")
        r = self.client.get(URL + f"{self.connection.code}/qr/")
        self.assertContains(r, 'src="data:image/png;base64,')
        self.assertContains(r, 'hx-trigger="every 5s"')
        self.fake.set_status("default", "WORKING")
        r = self.client.get(URL + f"{self.connection.code}/qr/")
        self.assertContains(r, "is paired and working")
        self.assertNotContains(r, "hx-trigger")
        self.login(self.charlie)
        self.assertEqual(self.client.get(URL + f"{self.connection.code}/qr/").status_code, 404)

    def test_a_pending_session_after_working_alerts_the_owner(self) -> None:
        from panelrelay.transports.models import Incident
        from panelrelay.transports.services import refresh_status

        refresh_status(self.connection)
        self.fake.set_status("default", "SCAN_QR_CODE")
        refresh_status(self.connection)
        refresh_status(self.connection)
        [incident] = Incident.objects.all()
        self.assertIn("needs attention: waiting for the QR code", incident.text)

    def test_other_kinds_are_checked_without_a_key_only_where_allowed(self) -> None:
        from panelrelay.transports.services import refresh_status

        evo = connection(self.workspace, "evolution", self.fake)
        evo.secret_enc = ""
        self.assertEqual(refresh_status(evo).message, "no token or API key saved")
