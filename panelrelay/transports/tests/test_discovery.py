"""No raw ids: the bot's updates reveal its groups and linked users; gateways list their groups."""

from __future__ import annotations

from fakes.telegram import DEMO_TOKEN, FakeTelegram
from panelrelay.transports.integrations.telegram.updates import GREETING, poll
from panelrelay.transports.models import DiscoveredChat, Incident, StartLink
from panelrelay.transports.services import refresh_status
from panelrelay.transports.tests.helpers import BASIC, GROUP, WA_GROUP, FakeTestCase, connection, destination
from panelrelay.worker.runner import Worker

NEW_GROUP = -1009876543210


class TelegramUpdatesTestCase(FakeTestCase):
    kind = "telegram"

    def test_it_records_the_groups_the_bot_is_added_to_and_reads_each_update_once(self) -> None:
        self.fake.bot_added(NEW_GROUP, title="Provider C · refills", username="provider_c")
        self.assertEqual(poll(self.connection), 1)
        chat = DiscoveredChat.objects.get(connection=self.connection)
        self.assertEqual((chat.kind, chat.chat_id, chat.title, chat.username, chat.active),
                         ("tg_group", str(NEW_GROUP), "Provider C · refills", "provider_c", True))  # fmt: skip
        self.assertEqual(chat.workspace, self.workspace)
        self.assertEqual(poll(self.connection), 0)  # the offset was stored: nothing twice
        self.connection.refresh_from_db()
        self.assertGreater(self.connection.updates_offset, 0)

    def test_a_removed_bot_breaks_its_destinations_before_any_message_fails(self) -> None:
        group = destination(self.connection, GROUP, name="Provider A")
        self.fake.kick(GROUP)
        poll(self.connection)
        group.refresh_from_db()
        self.assertEqual((group.broken, group.broken_reason), (True, "bot was kicked from the group chat"))
        self.assertFalse(DiscoveredChat.objects.get(chat_id=str(GROUP)).active)
        self.assertEqual(Incident.objects.filter(key=f"destination:{group.code}").count(), 1)
        self.fake.bot_added(GROUP)
        poll(self.connection)
        group.refresh_from_db()
        self.assertFalse(group.broken)
        self.assertIsNotNone(Incident.objects.get().closed)

    def test_destinations_follow_a_group_upgraded_to_a_supergroup(self) -> None:
        basic = destination(self.connection, BASIC, name="Provider B")
        new_id = self.fake.migrate(BASIC)
        poll(self.connection)
        basic.refresh_from_db()
        self.assertEqual(basic.target, str(new_id))
        self.assertTrue(DiscoveredChat.objects.get(chat_id=str(new_id)).active)

    def test_a_start_link_makes_the_person_pickable_once(self) -> None:
        link = StartLink.objects.create(workspace=self.workspace, connection=self.connection)
        self.fake.add_user(700000001, username="fiona", first_name="Fiona")
        self.fake.user_starts_bot(700000001, payload=link.token)
        self.fake.add_user(700000002, first_name="Mallory")
        self.fake.user_starts_bot(700000002, payload=link.token)  # the same link again: ignored
        self.fake.user_starts_bot(700000003)  # a plain /start: nobody is linked
        poll(self.connection)
        [chat] = DiscoveredChat.objects.filter(kind="tg_user")
        self.assertEqual((chat.chat_id, chat.title, chat.username), ("700000001", "Fiona", "fiona"))
        link.refresh_from_db()
        self.assertEqual((link.user_id, link.user_name), ("700000001", "Fiona"))
        # The greeting goes out on the one paced send path, from the worker.
        self.assertEqual(self.fake.messages_to(700000001), [])
        Worker(worker_id="greet", idle_sleep=0).run(burst=True)
        self.assertEqual([m["text"] for m in self.fake.messages_to(700000001)], [GREETING])
        self.assertEqual(self.fake.messages_to(700000002), [])

    def test_a_link_of_another_bot_links_nobody(self) -> None:
        other = connection(self.other_workspace, "telegram", self.fake)
        link = StartLink.objects.create(workspace=self.other_workspace, connection=other)
        self.fake.user_starts_bot(700000001, payload=link.token)
        poll(self.connection)
        self.assertFalse(DiscoveredChat.objects.exists())

    def test_a_user_blocking_the_bot_breaks_their_destination(self) -> None:
        link = StartLink.objects.create(workspace=self.workspace, connection=self.connection)
        self.fake.add_user(700000001, first_name="Fiona")
        self.fake.user_starts_bot(700000001, payload=link.token)
        poll(self.connection)
        person = destination(self.connection, 700000001, name="Fiona")
        self.fake.block(700000001)
        poll(self.connection)
        person.refresh_from_db()
        self.assertEqual((person.broken, person.broken_reason), (True, "the user blocked the bot"))

    def test_the_status_check_learns_the_bots_username_for_start_links(self) -> None:
        refresh_status(self.connection)
        self.connection.refresh_from_db()
        self.assertEqual((self.connection.status, self.connection.config["username"]), ("working", "relay_bot"))


class PickerTestCase(FakeTestCase):
    kind = "telegram"

    def test_the_picker_shows_a_group_the_bot_was_just_added_to(self) -> None:
        self.login(self.alice)
        self.fake.bot_added(NEW_GROUP, title="Provider C · refills")
        r = self.client.get("/destinations/chats/", {"connection": str(self.connection.code)})
        self.assertContains(r, "Provider C · refills")
        self.assertContains(r, str(DiscoveredChat.objects.get().code))

    def test_the_picker_shows_nothing_of_another_workspace(self) -> None:
        self.fake.bot_added(NEW_GROUP, title="Provider C · refills")
        poll(self.connection)
        self.login(self.charlie)
        r = self.client.get("/destinations/chats/", {"connection": str(self.connection.code)})
        self.assertEqual(r.status_code, 200)
        self.assertNotContains(r, "Provider C")
        self.assertContains(r, "Choose a connection")
        self.assertEqual(self.client.get("/destinations/chats/", {"connection": "nonsense"}).status_code, 200)

    def test_a_group_the_bot_joined_long_ago_appears_once_someone_sends_a_command_in_it(self) -> None:
        # GROUP was joined before this connection read updates: the Bot API tells nothing about it.
        refresh_status(self.connection)  # learns the bot's username, which the hint names
        self.login(self.alice)
        r = self.client.get("/destinations/chats/", {"connection": str(self.connection.code)})
        self.assertNotContains(r, "Provider A")
        self.assertContains(r, "/start@relay_bot")  # the hint says how to make it known
        self.fake.user_sends(700000009, "/start@relay_bot", chat_id=GROUP)
        r = self.client.get("/destinations/chats/", {"connection": str(self.connection.code)})
        self.assertContains(r, "Provider A")
        chat = DiscoveredChat.objects.get(chat_id=str(GROUP))
        self.assertEqual((chat.kind, chat.username, chat.active), ("tg_group", "provider_a", True))

    def test_the_demo_bots_three_groups_are_in_the_picker_after_the_first_refresh(self) -> None:
        with FakeTelegram(strict_limits=False) as demo:
            demo.seed_demo()
            bot = connection(self.workspace, "telegram", demo, secret=DEMO_TOKEN)
            self.login(self.alice)
            r = self.client.get("/destinations/chats/", {"connection": str(bot.code)})
        for title in ("FastLikes_A · refills", "Rush_B · support", "Storm_D · orders"):
            self.assertContains(r, title)
        self.assertContains(r, "(3 found)")
        self.assertEqual(DiscoveredChat.objects.filter(connection=bot, kind="tg_group", active=True).count(), 3)

    def test_a_start_link_needs_the_bots_username(self) -> None:
        self.login(self.alice)
        url = f"/settings/connections/{self.connection.code}/start-link/"
        self.assertContains(self.client.post(url), "check the connection")
        refresh_status(self.connection)
        r = self.client.post(url)
        link = StartLink.objects.get()
        self.assertContains(r, f"https://t.me/relay_bot?start={link.token}")
        self.login(self.bob)  # staff without "manage routing"
        self.assertEqual(self.client.post(url).status_code, 403)


class WhatsAppPickerTestCase(FakeTestCase):
    kind = "waha"

    def test_the_picker_lists_the_gateways_groups_and_forgets_groups_we_left(self) -> None:
        self.fake.add_group(WA_GROUP, "Provider A · refills")
        self.login(self.alice)
        r = self.client.get("/destinations/chats/", {"connection": str(self.connection.code)})
        self.assertContains(r, "Provider A · refills")
        self.fake.remove_group(WA_GROUP)
        r = self.client.get("/destinations/chats/", {"connection": str(self.connection.code)})
        self.assertNotContains(r, "Provider A · refills")
        self.assertFalse(DiscoveredChat.objects.get().active)

    def test_the_picker_says_why_the_list_is_empty(self) -> None:
        self.fake.set_status("default", "SCAN_QR_CODE")
        self.login(self.alice)
        r = self.client.get("/destinations/chats/", {"connection": str(self.connection.code)})
        self.assertContains(r, "the WhatsApp session is SCAN_QR_CODE, not WORKING")
