"""The Destinations page: add by picking or typing, toggle, Test through deliver(), delete."""

from __future__ import annotations

from panelrelay.panels.providers import add_by_domain
from panelrelay.transports.integrations.telegram.updates import poll
from panelrelay.transports.models import Destination, DiscoveredChat
from panelrelay.transports.tests.helpers import GROUP, USER, FakeTestCase, connection, destination

URL = "/destinations/"


class DestinationsPageTestCase(FakeTestCase):
    kind = "telegram"

    def setUp(self) -> None:
        super().setUp()
        self.login(self.alice)

    def add(self, **data: str):
        return self.client.post(URL + "add/", {"connection": str(self.connection.code), **data}, follow=True)

    def test_it_adds_a_picked_group_named_after_its_title(self) -> None:
        self.fake.bot_added(-1009876543210, title="Provider C · refills")
        poll(self.connection)
        chat = DiscoveredChat.objects.get()
        r = self.add(pick=str(chat.code))
        self.assertContains(r, "Destination TG · Provider C · refills added")
        found = Destination.objects.get()
        self.assertEqual((found.kind, found.target, found.connection), ("tg_group", "-1009876543210", self.connection))

    def test_a_telegram_sender_is_offered_only_telegram_kinds(self) -> None:
        r = self.client.get(URL + "add/")
        self.assertContains(r, '<option value="tg_group">Telegram group</option>', html=True)
        self.assertContains(r, '<option value="wa_number" hidden disabled>WhatsApp number</option>', html=True)
        self.assertContains(r, '<option value="wa_group" hidden disabled>WhatsApp group</option>', html=True)
        self.assertContains(r, "How to add a provider's chat")
        self.assertNotContains(r, "No ids to copy</h2>")
        wa = connection(self.workspace, "waha", self.fake)
        r = self.client.post(URL + "add/", {"connection": str(wa.code), "kind": "tg_group", "target": "-1001"})
        self.assertContains(r, '<option value="wa_number">WhatsApp number</option>', html=True)
        self.assertContains(r, '<option value="tg_user" hidden disabled>Telegram user</option>', html=True)

    def test_it_adds_a_typed_target_after_checking_it(self) -> None:
        r = self.add(kind="tg_user", target="@alice", name="Alice")
        self.assertContains(r, "Bots cannot write to a person by @username")
        r = self.add(kind="wa_number", target="+44 7700 900123", name="Alice")
        self.assertContains(r, "sends to a Telegram group or Telegram user")
        r = self.add(kind="tg_group", target=" -1001234567890 ", name="Provider A")
        self.assertContains(r, "Destination TG · Provider A added")
        self.assertEqual(Destination.objects.get().target, "-1001234567890")
        r = self.add(kind="tg_group", target="@provider_a", name="Provider A")
        self.assertContains(r, "A destination called “Provider A” exists already")

    def test_it_refuses_another_workspaces_connection_or_chat(self) -> None:
        theirs = connection(self.other_workspace, "telegram", self.fake)
        r = self.client.post(
            URL + "add/", {"connection": str(theirs.code), "kind": "tg_group", "target": "-1001", "name": "x"}
        )
        self.assertContains(r, "Choose the connection that sends to this destination")
        their_chat = DiscoveredChat.objects.create(workspace=self.other_workspace, connection=theirs, kind="tg_group",
                                                   chat_id="-100777", title="Theirs")  # fmt: skip
        r = self.add(pick=str(their_chat.code))
        self.assertContains(r, "not one this connection knows")
        self.assertFalse(Destination.objects.exists())

    def test_the_test_button_sends_through_deliver_and_the_row_says_delivered(self) -> None:
        group = destination(self.connection, GROUP, name="Provider A")
        r = self.client.post(URL + f"{group.code}/test/", follow=True)
        self.assertContains(r, "Test message delivered to TG · Provider A")
        [sent] = self.fake.messages_to(GROUP)
        self.assertIn("Test message from Alice SMM", sent["text"])
        self.assertContains(r, "Delivered")

    def test_a_failed_test_shows_the_reason_on_the_row(self) -> None:
        group = destination(self.connection, GROUP, name="Provider A")
        self.fake.kick(GROUP, notify=False)
        r = self.client.post(URL + f"{group.code}/test/", follow=True)
        self.assertContains(r, "Test to TG · Provider A failed: bot was kicked from the supergroup chat.")
        self.assertContains(r, "Broken")
        self.assertContains(self.client.get(URL + "?show=broken"), "Provider A")
        self.assertNotContains(self.client.get(URL + "?show=off"), "TG · Provider A")

    def test_the_toggle_turns_a_destination_off_in_place(self) -> None:
        group = destination(self.connection, GROUP)
        r = self.client.post(URL + f"{group.code}/toggle/", {"value": "off"})
        self.assertContains(r, 'role="switch"')
        group.refresh_from_db()
        self.assertFalse(group.enabled)

    def test_editing_to_a_new_target_clears_the_old_breakage(self) -> None:
        group = destination(self.connection, GROUP, name="Provider A")
        Destination.objects.filter(pk=group.pk).update(broken=True, broken_reason="bot was kicked")
        r = self.client.post(URL + f"{group.code}/", {"connection": str(self.connection.code), "kind": "tg_user",
                                                      "target": str(USER), "name": "Provider A"}, follow=True)  # fmt: skip
        self.assertContains(r, "saved")
        group.refresh_from_db()
        self.assertEqual((group.kind, group.target, group.broken), ("tg_user", str(USER), False))

    def test_a_typed_name_with_any_web_address_is_refused_alike_and_shown_masked(self) -> None:
        add_by_domain(self.workspace, "smmrush.example", "FastLikes_A")
        for host in ("smmrush.example", "SMMRUSH.EXAMPLE", "unrelated-guess.example"):
            r = self.add(kind="tg_group", target="-1001234567890", name=f"{host} group")
            self.assertContains(r, "A destination name cannot contain a web address")
            self.assertContains(r, 'value="[web address] group"')
            self.assertNotIn(host.lower(), r.content.decode().lower())
        self.assertFalse(Destination.objects.exists())

    def test_delete_and_the_empty_state(self) -> None:
        group = destination(self.connection, GROUP, name="Provider A")
        r = self.client.post(URL + f"{group.code}/delete/", follow=True)
        self.assertContains(r, "Destination TG · Provider A deleted")
        self.assertContains(r, "No destinations yet")

    def test_outsiders_and_staff_without_routing_are_kept_out(self) -> None:
        group = destination(self.connection, GROUP)
        self.login(self.charlie)
        for path in ("test/", "toggle/", "delete/", ""):
            self.assertEqual(self.client.post(URL + f"{group.code}/{path}").status_code, 404, path)
        self.assertNotContains(self.client.get(URL), "dest ")
        self.login(self.bob)
        self.assertEqual(self.client.get(URL).status_code, 403)
        self.assertEqual(self.client.post(URL + f"{group.code}/test/").status_code, 403)
        self.assertEqual(self.fake.sent, [])
