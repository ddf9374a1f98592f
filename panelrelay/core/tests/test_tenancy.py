"""An outsider gets 404 on every object URL of another workspace.

The test walks every URL pattern that takes an object code, and tries it with the code of
every tenant object of Alice's workspace. It must never answer anything but 404 to Charlie.
So that it cannot pass vacuously, each such URL must also serve Alice with some code (not 404).
Apps add their objects to the workspace through TENANT_FIXTURES as they grow.
"""

from __future__ import annotations

from datetime import timedelta

from django.apps import apps
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from panelrelay.accounts.models import Invite, Membership, WorkspaceOwned
from panelrelay.core.testing import BaseTestCase


def populate(workspace) -> None:
    """One object of every tenant kind, so that each object URL has something to serve."""
    from panelrelay.api.models import ApiToken
    from panelrelay.customers.models import Customer, CustomerLink
    from panelrelay.forwarding.models import Command, Export, MessageTemplate
    from panelrelay.forwarding.submit import create_request
    from panelrelay.panels.models import Panel, Provider
    from panelrelay.routing.models import ServiceOverride
    from panelrelay.transports.models import Connection, Destination

    panel = Panel(workspace=workspace, name="Main", url="http://127.0.0.1:9/")
    panel.set_api_key("test-key-123456")
    panel.save()
    Provider.objects.create(workspace=workspace, alias="Provider 1", domain_enc="x", domain_hmac="h1")
    # A closed loopback port: the Test and Check buttons fail at once instead of calling out.
    connection = Connection.objects.create(
        workspace=workspace, kind="telegram", name="Bot", config={"api_url": "http://127.0.0.1:9"}
    )
    destination = Destination.objects.create(
        workspace=workspace, name="Group", kind="tg_group", target="-1001", connection=connection
    )
    # A WhatsApp gateway too: some URLs (how it receives) are for every kind but a bot.
    Connection.objects.create(workspace=workspace, kind="waha", name="WA", config={"base_url": "http://127.0.0.1:9"})
    ServiceOverride.objects.create(workspace=workspace, service_id="12", destination=destination)
    create_request(workspace, panel, Command.for_workspace(workspace)[0], ["1", "2"])
    ApiToken.issue(workspace, "tool")
    MessageTemplate.objects.create(workspace=workspace, destination=destination, text="{command}\n{ids}")
    customer = Customer.objects.create(workspace=workspace, network=Customer.WHATSAPP, identity="15550001111")
    CustomerLink.objects.create(workspace=workspace, customer=customer, panel=panel, username="ann", how="staff")
    owner = workspace.owner
    if owner is not None:  # an Activity export being built (its pages: progress and download)
        Export.objects.create(workspace=workspace, created_by=owner.user, expires=timezone.now() + timedelta(days=1))


def code_patterns(resolver: URLResolver | None = None, prefix: str = "") -> list[str]:
    resolver = resolver or get_resolver()
    found = []
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            found += code_patterns(entry, route)
        elif isinstance(entry, URLPattern) and "<uuid:code>" in route:
            found.append(route)
    # The master area has its own guard (master/tests); the token API its own tests (api/tests);
    # Telegram's webhook is not a signed-in URL and has its secret token (transports/tests).
    # Deleting routes go last: they would remove the objects that the other routes need; and
    # destinations and connections last of all, since service overrides and templates hang on them.
    found = [r for r in found if not r.startswith(("master/", "api/v1/", "hooks/"))]
    return sorted(found, key=lambda r: ("delete" in r, r.startswith(("destinations/", "settings/connections/"))))


def tenant_codes(workspace) -> list[str]:
    codes = [str(m.code) for m in Membership.objects.filter(workspace=workspace)]
    codes += [str(i.code) for i in Invite.objects.filter(workspace=workspace)]
    for model in apps.get_models():
        if issubclass(model, WorkspaceOwned):
            codes += [str(c) for c in model.objects.filter(workspace=workspace).values_list("code", flat=True)]
    return codes


def fill(route: str, code: str) -> str:
    import re

    path = route.replace("<uuid:code>", code)
    path = re.sub(r"<str:perm>", "forward", path)
    path = re.sub(r"<[^>]+>", "x", path)
    return "/" + path


class TenancyTestCase(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        Invite.objects.create(workspace=self.workspace, invited_by=self.alice)
        populate(self.workspace)

    def test_every_object_url_is_404_for_an_outsider(self) -> None:
        routes = code_patterns()
        self.assertTrue(routes, "no object URLs found: the walk is broken")
        codes = tenant_codes(self.workspace)
        self.client.force_login(self.charlie)
        for route in routes:
            for code in codes:
                for method in ("get", "post"):
                    r = getattr(self.client, method)(fill(route, code))
                    if r.status_code == 405:
                        continue
                    self.assertEqual(r.status_code, 404, f"{method.upper()} {route} with {code} → {r.status_code}")

    def test_every_object_url_serves_its_owner(self) -> None:
        codes = tenant_codes(self.workspace)
        self.client.force_login(self.alice)
        for route in code_patterns():
            answers = set()
            for code in codes:
                for method in ("get", "post"):
                    answers.add(getattr(self.client, method)(fill(route, code)).status_code)
            self.assertTrue(answers - {404, 405}, f"{route}: no object of Alice's workspace reaches it")
