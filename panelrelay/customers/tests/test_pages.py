"""The Customers page and Settings → Customers: who may see and do what, and what they change."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from panelrelay.accounts.models import Membership, Workspace
from panelrelay.core.testing import make_user
from panelrelay.customers.models import (
    ChatEntry,
    ChatState,
    Customer,
    CustomerChannel,
    CustomerLink,
    ReplyTemplate,
)
from panelrelay.demo import scenario
from panelrelay.panels.providers import add_by_domain
from panelrelay.transports.models import Connection

pytestmark = pytest.mark.django_db


@pytest.fixture
def ws():
    workspace = Workspace.objects.create(name="Pages")
    owner = make_user("owner@example.org")
    Membership.objects.create(user=owner, workspace=workspace, role=Membership.OWNER)
    panel = scenario.panel(workspace, "http://127.0.0.1:9/")
    conn = Connection.objects.create(workspace=workspace, kind="waha", name="Support WA",
                                     config={"base_url": "http://127.0.0.1:9"})  # fmt: skip
    ann = Customer.objects.create(workspace=workspace, network=Customer.WHATSAPP, identity="15550001111", name="Ann")
    ChatEntry.objects.create(workspace=workspace, customer=ann, connection=conn, chat_id="15550001111@c.us",
                             direction="in", text="refill 45323")  # fmt: skip
    ChatEntry.objects.create(workspace=workspace, customer=ann, connection=conn, chat_id="15550001111@c.us",
                             direction="out", text="Got it: forwarded", kind="answer")  # fmt: skip
    return workspace, owner, panel, conn, ann


def member(workspace, email: str, **toggles) -> object:
    user = make_user(email)
    Membership.objects.create(user=user, workspace=workspace, role=Membership.STAFF, **toggles)
    return user


def test_the_owner_sees_the_conversation_links_and_takes_over(client, ws) -> None:
    workspace, owner, panel, conn, ann = ws
    client.force_login(owner)
    listing = client.get(reverse("customers:customers")).content.decode()
    assert "Ann (+15550001111)" in listing and "not linked" in listing
    page = client.get(reverse("customers:customer", args=[ann.code])).content.decode()
    assert "refill 45323" in page and "Got it: forwarded" in page and "Take over" in page
    client.post(reverse("customers:link", args=[ann.code]), {"panel": str(panel.code), "username": "ann"})
    assert CustomerLink.objects.get().username == "ann"
    client.post(reverse("customers:pause", args=[ann.code]),
                {"connection": str(conn.code), "chat": "15550001111@c.us", "hours": "3"})  # fmt: skip
    state = ChatState.objects.get()
    assert state.paused() and state.paused_until > timezone.now()
    assert "Resume the bot" in client.get(reverse("customers:customer", args=[ann.code])).content.decode()
    client.post(reverse("customers:pause", args=[ann.code]),
                {"connection": str(conn.code), "chat": "15550001111@c.us", "hours": "0"})  # fmt: skip
    assert not ChatState.objects.get().paused()
    client.post(reverse("customers:block", args=[ann.code]), {"value": "on"})
    assert Customer.objects.get().blocked


def test_staff_see_customers_with_see_all_activity_and_act_with_forward(client, ws) -> None:
    workspace, _, panel, _, ann = ws
    client.force_login(member(workspace, "plain@example.org", can_forward=True))
    assert client.get(reverse("customers:customers")).status_code == 403
    assert 'href="/customers/"' not in client.get(reverse("forwarding:activity")).content.decode()
    client.force_login(member(workspace, "viewer@example.org", can_forward=False, can_activity=True))
    assert client.get(reverse("customers:customer", args=[ann.code])).status_code == 200
    denied = client.post(reverse("customers:link", args=[ann.code]), {"panel": str(panel.code), "username": "x"})
    assert denied.status_code == 403 and not CustomerLink.objects.exists()
    assert client.get(reverse("customers:settings")).status_code == 403


def test_a_chat_of_someone_else_cannot_be_paused_through_a_customer(client, ws) -> None:
    workspace, owner, _, conn, ann = ws
    client.force_login(owner)
    client.post(reverse("customers:pause", args=[ann.code]), {"connection": str(conn.code), "chat": "999@c.us"})
    assert not ChatState.objects.exists()
    assert client.post(reverse("customers:pause", args=[ann.code]), {"connection": "nope"}).status_code == 400


def test_settings_mark_a_connection_and_save_templates_without_a_provider(client, ws) -> None:
    workspace, owner, _, conn, _ = ws
    add_by_domain(workspace, "secret-provider.example", "FastLikes")
    client.force_login(owner)
    url = reverse("customers:settings")
    client.post(url, {"form": "channel", "connection": str(conn.code), "enabled": "on", "groups": "1203@g.us"})
    channel = CustomerChannel.objects.get()
    assert channel.enabled and channel.groups == ["1203@g.us"]
    client.post(url, {"form": "templates", "language": "ru", "t_received": "Принято: {ids}"})
    assert ReplyTemplate.objects.get().text == "Принято: {ids}"
    for bad in ("Sent to FastLikes: {ids}", "see secret-provider.example"):
        page = client.post(url, {"form": "templates", "language": "", "t_received": bad}, follow=True)
        assert "secret-provider.example" not in page.content.decode()
    assert ReplyTemplate.objects.count() == 1
    assert client.post(url, {"form": "templates", "language": "../x"}, follow=True).status_code == 200
    assert client.get(url + "?language=ru").status_code == 200
