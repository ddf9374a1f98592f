"""The Forward page picks the member's last-used panel or a working one, and warns about a failed one."""

from __future__ import annotations

from panelrelay.core.testing import BaseTestCase
from panelrelay.demo import scenario
from panelrelay.forwarding.models import Command
from panelrelay.forwarding.submit import create_request
from panelrelay.panels.models import Panel


def selected(html: str) -> str:
    start = html.index('id="id_panel"')
    end = html.index("</select>", start)
    for option in html[start:end].split("<option")[1:]:
        if " selected" in option.split(">")[0]:
            return option.split(">")[1].split("<")[0].split(" (")[0]
    return ""


class ForwardPageTests(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.down = scenario.panel(self.workspace, "http://127.0.0.1:9", name="Down")
        self.main = scenario.panel(self.workspace, "http://127.0.0.1:9", name="Main")
        Panel.objects.filter(pk=self.down.pk).update(check_ok=False, check_message="Panel “Down”: cannot reach")
        Panel.objects.filter(pk=self.main.pk).update(check_ok=True)

    def test_a_working_panel_comes_before_the_alphabetically_first_failed_one(self) -> None:
        self.login(self.alice)
        page = self.client.get("/forward/").content.decode()
        self.assertEqual(selected(page), "Main")
        self.assertIn('id="panel-warning" role="status" hidden', page)
        self.assertIn('data-warning="The last check of “Down” failed: Cannot reach.', page)
        self.assertIn(">Down (check failed)</option>", page)

    def test_an_untested_panel_comes_before_a_failed_one(self) -> None:
        Panel.objects.filter(pk=self.main.pk).update(check_ok=None)
        self.login(self.alice)
        self.assertEqual(selected(self.client.get("/forward/").content.decode()), "Main")

    def test_the_members_last_used_panel_is_picked_and_its_failure_shown_inline(self) -> None:
        create_request(self.workspace, self.down, Command.for_workspace(self.workspace)[0], ["1"], user=self.alice)
        self.login(self.alice)
        page = self.client.get("/forward/").content.decode()
        self.assertEqual(selected(page), "Down")
        self.assertIn("The last check of “Down” failed: Cannot reach. Orders may wait", page)
        self.assertNotIn('id="panel-warning" role="status" hidden', page)
        # another member's last use does not count for Alice's colleague
        self.login(self.bob)
        self.assertEqual(selected(self.client.get("/forward/").content.decode()), "Main")

    def test_the_empty_page_links_to_the_add_form_and_the_placeholder_has_no_ids(self) -> None:
        Panel.objects.filter(workspace=self.workspace).delete()
        self.login(self.alice)
        page = self.client.get("/forward/").content.decode()
        self.assertIn('href="/panels/add/"', page)
        self.assertEqual(self.client.get("/panels/add/").status_code, 200)
        self.main = scenario.panel(self.workspace, "http://127.0.0.1:9", name="Main")
        page = self.client.get("/forward/").content.decode()
        placeholder = page.split('placeholder="Paste')[1].split('"')[0]
        self.assertFalse(any(ch.isdigit() for ch in placeholder))
        self.assertIn("/static/forwarding/forward.js", page)
        self.assertNotIn("<script>", page)  # the CSP allows no inline script
