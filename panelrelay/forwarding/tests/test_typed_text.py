"""What staff type on the Forward page and in Settings → Forwarding carries no web address.

The Forward page once sent the note "provider is <the provider's domain>" to a Telegram group and
onto the request pages verbatim, and an alias "Alpha (<domain>)" was accepted.
"""

from __future__ import annotations

import re

from panelrelay.core.testing import BaseTestCase
from panelrelay.forwarding.models import Command, ForwardRequest, MessageTemplate
from panelrelay.panels.models import Panel
from panelrelay.panels.providers import add_by_domain

PROVIDER = "smmrush.example"
HOSTS = (PROVIDER, "SMMRUSH.EXAMPLE", "unrelated-guess.example")  # a provider's domain, spelt twice, and not


def _without_csrf(body: bytes) -> str:
    return re.sub(r'(csrfmiddlewaretoken" value="|"X-CSRFToken": ")[^"]+"', "", body.decode())


class TypedTextTestCase(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.panel = Panel(workspace=self.workspace, name="Main", url="http://127.0.0.1:9/")
        self.panel.set_api_key("k" * 16)
        self.panel.save()
        add_by_domain(self.workspace, PROVIDER, "FastLikes_A")
        self.staff.can_routing = True
        self.staff.save()
        self.login(self.bob)

    def forward(self, ids: str, note: str = ""):
        body = {"panel": str(self.panel.code), "ids": ids, "note": note, "command_button": "refill"}
        return self.client.post("/forward/", body)

    def test_a_note_with_any_web_address_is_refused_alike_and_not_echoed(self) -> None:
        answers = set()
        for host in HOSTS:
            r = self.forward("45323", note=f"provider is {host}")
            self.assertEqual(r.status_code, 200)
            self.assertNotIn(host.lower(), r.content.decode().lower())
            answers.add(_without_csrf(r.content))
        self.assertEqual(len(answers), 1)
        self.assertIn("A note cannot contain a web address", answers.pop())
        self.assertFalse(ForwardRequest.objects.exists())
        self.assertEqual(self.forward("45323", note="vip, hurry").status_code, 302)

    def test_command_words_refuse_any_web_address_alike(self) -> None:
        refill = Command.for_workspace(self.workspace)[0]
        for host in HOSTS:
            for field in ("label", "word", "keywords"):
                data = {"label": "Boost", "word": "BOOST", "keywords": "more", field: f"x {host}"}
                r = self.client.post("/settings/forwarding/commands/", data, follow=True)
                self.assertContains(r, "cannot contain a web address")
                r = self.client.post(f"/settings/forwarding/commands/{refill.code}/", data, follow=True)
                self.assertContains(r, "cannot contain a web address")
                self.assertNotIn(host.lower(), r.content.decode().lower())
        self.assertFalse(Command.objects.filter(slug="boost").exists())
        refill.refresh_from_db()
        self.assertEqual((refill.label, refill.word, refill.keywords), ("Refill", "REFILL", ""))

    def test_a_template_with_any_web_address_is_refused_alike(self) -> None:
        answers = set()
        for host in HOSTS:
            r = self.client.post("/settings/forwarding/templates/", {"text": f"{{command}} via {host}\n{{ids}}"},
                                 follow=True)  # fmt: skip
            self.assertNotIn(host.lower(), r.content.decode().lower())
            answers.add(re.search(r"A message template cannot[^<]*", r.content.decode()).group())
        self.assertEqual(len(answers), 1)
        self.assertFalse(MessageTemplate.objects.exists())
