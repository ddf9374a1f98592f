"""Orders with no route wait ("Needs a route") and go out only when the owner sends them, once."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.test import Client

from panelrelay.accounts.models import Membership, Workspace
from panelrelay.core import faults
from panelrelay.core.testing import PASSWORD, make_user
from panelrelay.demo import scenario
from panelrelay.forwarding import waiting
from panelrelay.forwarding.models import Command, ForwardRequest, Message, Outcome, RequestOrder
from panelrelay.forwarding.submit import create_request

pytestmark = pytest.mark.django_db

FAST, SLOW = "fastlikes.example", "slowviews.example"


@pytest.fixture
def wired(fake_panel, fake_telegram):
    ws = Workspace.objects.create(name="Waiting")
    for chat in (-1001, -1002, -1009):
        fake_telegram.add_chat(chat, type="supergroup", title=f"group {chat}")
    panel = scenario.panel(ws, fake_panel.url)
    tg = scenario.telegram(ws, fake_telegram.url)
    fast_dest = scenario.destination(tg, "FastLikes grp", "tg_group", "-1001")
    slow_dest = scenario.destination(tg, "Slow grp", "tg_group", "-1002")
    fast = scenario.provider(ws, FAST, "FastLikes_A")
    slow = scenario.provider(ws, SLOW, "Slow_B")
    scenario.route(fast, fast_dest)
    for n in range(100, 105):
        fake_panel.add_order(id=n, provider=FAST, external_id=str(9000 + n), service_id=1)
    for n in range(200, 212):
        fake_panel.add_order(id=n, provider=SLOW, external_id=str(9000 + n), service_id=2)
    for n in range(300, 303):
        fake_panel.add_order(id=n, provider=None, service_id=4, service_name="Manual comments")
    return ws, panel, {"fast": fast, "slow": slow, "slow_dest": slow_dest, "tg": tg}


def refill(ws, panel, ids, **kw) -> ForwardRequest:
    return create_request(ws, panel, Command.for_workspace(ws)[0], [str(i) for i in ids], **kw)


def states(req: ForwardRequest) -> dict[str, tuple[str, str]]:
    return {o.panel_order_id: (o.state, o.outcome) for o in req.orders.all()}


def test_orders_without_a_route_wait_and_the_request_is_not_done(wired, fake_telegram) -> None:
    ws, panel, _ = wired
    req = refill(ws, panel, [100, 200, 201, 300])
    scenario.drain()
    got = states(req)
    assert got["100"] == (RequestOrder.SENT, Outcome.SENT)
    assert got["200"] == got["201"] == (RequestOrder.WAITING, Outcome.NEEDS_ROUTE)
    assert got["300"] == (RequestOrder.WAITING, Outcome.NEEDS_ROUTE)  # manual service, no manual destination
    order = req.orders.get(panel_order_id="200")
    assert order.reason == "needs a route: provider Slow_B has no destination, and no fallback is set"
    assert order.provider_alias == "Slow_B" and order.external_id == "9200"  # kept for the send later
    req.refresh_from_db()
    assert req.finished is None  # waiting, not done
    assert fake_telegram.messages_to(-1002) == []


def test_send_now_routes_the_waiting_orders_and_sends_them_once(wired, fake_telegram) -> None:
    ws, panel, p = wired
    req = refill(ws, panel, list(range(200, 212)))
    scenario.drain()
    assert waiting.send_waiting(ws, provider=p["slow"]) == waiting.SendResult(sent=0, still_waiting=12, skipped=0)
    assert [(g.label, g.count, g.destination) for g in waiting.groups(ws)] == [("Slow_B", 12, "")]

    scenario.route(p["slow"], p["slow_dest"])  # the owner sets the route: nothing goes out by itself
    assert req.orders.filter(state=RequestOrder.WAITING).count() == 12
    assert [(g.label, g.count, g.destination) for g in waiting.groups(ws)] == [("Slow_B", 12, "TG · Slow grp")]

    result = waiting.send_waiting(ws, provider=p["slow"])
    assert result == waiting.SendResult(sent=12, still_waiting=0, skipped=0)
    assert waiting.send_waiting(ws, provider=p["slow"]).sent == 0  # a second click finds nothing
    scenario.drain()
    sent = fake_telegram.messages_to(-1002)
    assert [m["text"] for m in sent] == ["REFILL\n" + "\n".join(str(9000 + n) for n in range(200, 212))]
    assert set(states(req).values()) == {(RequestOrder.SENT, Outcome.SENT)}
    order = req.orders.get(panel_order_id="200")
    assert order.rule == 2 and order.destination_label == "TG · Slow grp"
    req.refresh_from_db()
    assert req.finished is not None
    assert waiting.groups(ws) == []


def test_a_fallback_still_routes_at_once_and_also_frees_waiting_orders(wired, fake_telegram) -> None:
    ws, panel, p = wired
    req = refill(ws, panel, [200, 300])
    scenario.drain()
    fallback = scenario.destination(p["tg"], "My chat", "tg_group", "-1009")
    scenario.defaults(ws, manual=None, fallback=fallback)
    again = refill(ws, panel, [201])  # a new request with a fallback set: routed by rule 4, no wait
    scenario.drain()
    assert states(again)["201"] == (RequestOrder.SENT, Outcome.SENT)
    assert again.orders.get().rule == 4
    assert waiting.send_waiting(ws, request=req).sent == 2
    scenario.drain()
    assert set(states(req).values()) == {(RequestOrder.SENT, Outcome.SENT)}
    assert len(fake_telegram.messages_to(-1009)) == 2


def test_a_waiting_order_is_not_requested_twice(wired, fake_telegram) -> None:
    ws, panel, p = wired
    refill(ws, panel, [200])
    scenario.drain()
    second = refill(ws, panel, [200])
    scenario.drain()
    order = second.orders.get()
    assert (order.state, order.outcome) == (RequestOrder.SKIPPED, Outcome.IN_PROGRESS)
    scenario.route(p["slow"], p["slow_dest"])
    assert waiting.send_waiting(ws, provider=p["slow"]).sent == 1
    scenario.drain()
    assert len(fake_telegram.messages_to(-1002)) == 1


def test_a_provider_turned_off_meanwhile_is_skipped_and_an_off_destination_keeps_waiting(wired) -> None:
    ws, panel, p = wired
    req = refill(ws, panel, [200, 100])
    scenario.drain()
    p["slow_dest"].enabled = False
    p["slow_dest"].save()
    scenario.route(p["slow"], p["slow_dest"])
    result = waiting.send_waiting(ws, request=req)
    assert result == waiting.SendResult(sent=0, still_waiting=1, skipped=0)
    assert req.orders.get(panel_order_id="200").reason == "needs a route: destination TG · Slow grp is turned off"
    p["slow"].enabled = False
    p["slow"].save()
    assert waiting.send_waiting(ws, request=req).skipped == 1
    order = req.orders.get(panel_order_id="200")
    assert (order.state, order.outcome) == (RequestOrder.SKIPPED, Outcome.PROVIDER_OFF)
    req.refresh_from_db()
    assert req.finished is not None


@pytest.mark.django_db(transaction=True)
def test_two_send_now_at_once_send_each_order_once(wired, fake_telegram) -> None:
    """Two clicks race: the first is held just before its claim while the second runs to the end."""
    if connection.vendor == "sqlite":
        pytest.skip("SQLite serialises writers; the race needs two real connections (PostgreSQL)")
    ws, panel, p = wired
    refill(ws, panel, list(range(200, 212)))
    scenario.drain()
    scenario.route(p["slow"], p["slow_dest"])
    held, go = threading.Event(), threading.Event()
    results = []

    def hold() -> None:
        if threading.current_thread().name == "first":
            held.set()
            go.wait(10)

    def first() -> None:
        try:
            results.append(waiting.send_waiting(ws, provider=p["slow"]))
        finally:
            connection.close()

    with faults.injected("waiting.before_claim", hold):
        t = threading.Thread(target=first, name="first")
        t.start()
        assert held.wait(10)
        results.append(waiting.send_waiting(ws, provider=p["slow"]))
        go.set()
        t.join(10)
    assert sorted(r.sent for r in results) == [0, 12]
    scenario.drain()
    assert len(fake_telegram.messages_to(-1002)) == 1
    assert Message.objects.filter(workspace=ws).count() == 1


def test_the_pages_show_and_send_the_waiting_orders(wired, fake_telegram) -> None:
    ws, panel, p = wired
    owner = make_user("owner@example.com")
    Membership.objects.create(workspace=ws, user=owner, role=Membership.OWNER)
    req = refill(ws, panel, [200, 201, 300], user=owner)
    scenario.drain()
    client = Client()
    client.login(username="owner@example.com", password=PASSWORD)

    page = client.get(f"/requests/{req.code}/").content.decode()
    assert "3 orders need a route" in page and "Needs a route" in page
    assert f'href="/routing/#route-{p["slow"].code}"' in page and "#manual-default" in page
    assert "Send now" not in page  # nothing has a route yet
    assert "hx-trigger" not in page  # settled: no live refresh while only waiting orders are left

    box = client.get("/routing/waiting/").content.decode()
    assert "<strong>2</strong> orders of <strong>Slow_B</strong> need a route" in box and "Manual services" in box

    scenario.route(p["slow"], p["slow_dest"])
    box = client.get("/routing/waiting/").content.decode()
    assert "<strong>2</strong> orders are waiting for <strong>Slow_B</strong> → TG · Slow grp" in box
    assert "Send now" in client.get(f"/requests/{req.code}/").content.decode()

    said = client.post("/routing/waiting/send/", {"group": str(p["slow"].code)}, HTTP_HX_REQUEST="true")
    assert "2 order(s) of Slow_B sent to their route" in said.content.decode()
    assert client.post("/routing/waiting/send/", {"group": "not-a-code"}).status_code == 400
    assert client.post("/routing/waiting/send/", {"group": str(ws.code)}).status_code == 404  # not a provider
    assert client.get("/routing/waiting/send/").status_code == 405
    scenario.drain()
    assert len(fake_telegram.messages_to(-1002)) == 1
    response = client.post(f"/requests/{req.code}/send-waiting/", follow=True)
    assert "1 still need a route" in response.content.decode()


def test_another_workspace_cannot_send_or_see_them(wired) -> None:
    ws, panel, p = wired
    refill(ws, panel, [200])
    scenario.drain()
    scenario.route(p["slow"], p["slow_dest"])
    other = Workspace.objects.create(name="Other")
    stranger = make_user("stranger@example.com")
    Membership.objects.create(workspace=other, user=stranger, role=Membership.OWNER)
    client = Client()
    client.login(username="stranger@example.com", password=PASSWORD)
    assert "Slow_B" not in client.get("/routing/waiting/").content.decode()
    assert client.post("/routing/waiting/send/", {"group": str(p["slow"].code)}).status_code == 404
    req = ForwardRequest.objects.get(workspace=ws)
    assert client.post(f"/requests/{req.code}/send-waiting/").status_code == 404
    assert RequestOrder.objects.get().state == RequestOrder.WAITING
