"""Settings → Forwarding → message templates: what the owner saves is checked before it is stored."""

from __future__ import annotations

from panelrelay.core.testing import BaseTestCase
from panelrelay.forwarding.models import MessageTemplate

URL = "/settings/forwarding/templates/"


class TemplateFormTestCase(BaseTestCase):
    def test_a_format_spec_is_refused_at_save_time_and_nothing_is_stored(self) -> None:
        self.login(self.alice)
        r = self.client.post(URL, {"text": "{command:>1000000000}\n{ids}"}, follow=True)
        self.assertContains(r, "formatting after “:” or “!” is not allowed; write {command}.")
        r = self.client.post(URL, {"text": "{command}\n{ids[0]}"}, follow=True)
        self.assertContains(r, "“{ids[0]}” is not a placeholder we know")
        r = self.client.post(URL, {"text": "{command}\n" + "x" * 3000}, follow=True)
        self.assertContains(r, "Keep the template under 2001 characters")
        self.assertFalse(MessageTemplate.objects.exists())

    def test_a_plain_template_is_saved(self) -> None:
        self.login(self.alice)
        r = self.client.post(URL, {"text": "{command} ({count})\n{ids}"}, follow=True)
        self.assertContains(r, "Template saved.")
        self.assertEqual(MessageTemplate.objects.get(workspace=self.workspace).text, "{command} ({count})\n{ids}")
