"""Privacy canary: no provider domain reaches an owner, their staff, a log line or a plain DB column.

The fake panel serves orders whose providers are canary domains. The owner connects it and uses
every panels feature (including failures whose error text names a canary); then the owner, a
staff member with every toggle, a staff member with none, and an anonymous visitor crawl every
same-site link (`href`, `hx-get`, GET forms) reachable from the navigation. No response body or
header, no cookie, no log record written during the test (through the production ScrubFilter),
and no database column may contain a canary: plain, in any case, URL-encoded or base64.

Other apps extend the crawl: add paths to START_PATHS, or functions to EXTRA_PATHS (they receive
the Scenario and return paths) and to ACTIONS (they receive the Scenario and the owner's client,
and do something whose responses are checked). The master area is the one place domains may
appear; the test checks that it does (so the checker is known to work), apart from the crawl.
"""

from __future__ import annotations

import base64
import io
import logging
import re
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from html import unescape
from urllib.parse import quote, quote_plus, urljoin, urlsplit

import pytest
from django.db import connection
from django.test import Client

from fakes.panel import FakePanel
from panelrelay.accounts.models import Membership, Workspace
from panelrelay.core.logscrub import ScrubFilter
from panelrelay.core.testing import PASSWORD, make_user
from panelrelay.panels.adapters import client as panel_client
from panelrelay.panels.models import Panel, Provider

CANARIES = ("canary-prov-7f3a.example", "canary-prov-b41c.example", "canary-hand-9c1d.example")
API_KEY = "canary-key-5e8b1f0a2d7c"  # the panel's admin API key: never in clear either
HX = {"HTTP_HX_REQUEST": "true"}
MAX_PAGES = 400


@dataclass
class Scenario:
    fake: FakePanel
    workspace: Workspace
    panel: Panel | None = None
    order_ids: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)  # what was looked at, for the failure message


START_PATHS: list[str] = [
    "/", "/forward/", "/activity/", "/panels/", "/providers/", "/routing/", "/team/", "/destinations/",
    "/settings/connections/", "/settings/tickets/", "/profile/",
]  # fmt: skip
EXTRA_PATHS: list[Callable[[Scenario], Iterable[str]]] = []
ACTIONS: list[Callable[[Scenario, Client], None]] = []


# ----- what counts as a leak ---------------------------------------------------------


def _base64_forms(text: str) -> set[str]:
    """The domain's base64 at each of the three byte alignments, minus the unstable edge chars."""
    forms = set()
    for pad in range(3):
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            encoded = encode(b"\0" * pad + text.encode()).decode().rstrip("=")
            start = (pad * 4 + 2) // 3 + 1  # skip characters mixed with the padding bytes
            forms.add(encoded[start:-2])
    return {f for f in forms if len(f) >= 12}


def leak_forms(secret: str) -> tuple[set[str], set[str]]:
    """(forms matched case-insensitively, base64 forms matched exactly)."""
    plain = {
        secret,
        quote(secret, safe=""),
        quote_plus(secret),
        secret.replace(".", "%2E"),
        secret.replace(".", "&#46;"),
    }
    return {p.lower() for p in plain}, _base64_forms(secret) | _base64_forms(secret.upper())


FORMS = {secret: leak_forms(secret) for secret in CANARIES}
KEY_FORMS = {API_KEY: leak_forms(API_KEY)}


def find_leaks(text: str, secrets: dict[str, tuple[set[str], set[str]]] = FORMS) -> list[str]:
    lowered = text.lower()
    hits = []
    for secret, (plain, b64) in secrets.items():
        hits += [f"{secret} as {form!r}" for form in plain if form in lowered]
        hits += [f"{secret} as base64 {form!r}" for form in b64 if form in text]
    return hits


def assert_clean(where: str, text: str, secrets: dict = FORMS) -> None:
    leaks = find_leaks(text, secrets)
    assert not leaks, f"{where} leaks {leaks}"


def response_text(response) -> str:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    headers = "\n".join(f"{k}: {v}" for k, v in response.headers.items())
    return headers + "\n\n" + body.decode("utf-8", "replace")


# ----- the crawl ---------------------------------------------------------------------

LINK = re.compile(r"""(?:href|hx-get)\s*=\s*["']([^"'#]+)""")
GET_FORM = re.compile(r"""<form\b[^>]*>""", re.I)


def links_in(html: str, base: str) -> set[str]:
    found = {unescape(m) for m in LINK.findall(html)}
    for tag in GET_FORM.findall(html):
        method = re.search(r"""method\s*=\s*["'](\w+)""", tag)
        action = re.search(r"""(?:action|hx-get)\s*=\s*["']([^"']*)""", tag)
        if action and (not method or method.group(1).lower() == "get"):
            found.add(unescape(action.group(1)) or base)
    paths = set()
    for link in found:
        parts = urlsplit(urljoin(base, link))
        local = parts.scheme in ("", "http") and parts.netloc in ("", "testserver")
        if local and parts.path.startswith("/") and not parts.path.startswith("/static/"):
            paths.add(parts.path + (f"?{parts.query}" if parts.query else ""))
    return paths


def crawl(client: Client, scenario: Scenario, who: str, extra: Iterable[str] = ()) -> int:
    queue, seen = deque([*START_PATHS, *extra]), set()
    while queue and len(seen) < MAX_PAGES:
        path = queue.popleft()
        if path in seen:
            continue
        seen.add(path)
        for headers in ({}, HX):  # the full page and the htmx fragment of the same URL
            response = client.get(path, **headers)
            text = response_text(response)
            assert_clean(f"{who} GET {path} ({response.status_code})", text)
            assert_clean(f"{who} GET {path}", text, KEY_FORMS)
            scenario.checked.append(f"{who} {path} {response.status_code}")
            if response.status_code in (301, 302) and response.get("Location"):
                queue.append(urljoin(path, response["Location"]))
            if "html" in response.get("Content-Type", ""):
                queue.extend(sorted(links_in(text, path) - seen))
    for name, value in client.cookies.items():
        assert_clean(f"{who} cookie {name}", value.value)
    return len(seen)


# ----- the scenario ------------------------------------------------------------------


def seed(fake: FakePanel) -> list[str]:
    fake.seed_orders(40, providers=CANARIES[:2], manual_every=8, start_id=10001)
    fake.add_order(20001, provider="HTTPS://WWW.CANARY-PROV-7F3A.EXAMPLE/api/v2", external_id="777001")
    fake.add_order(20002, provider=CANARIES[1], external_id=None, status="Pending")
    fake.add_ticket("alice", "Refill", f"Urgent Refill: 10001, 10002 ({CANARIES[0]} is slow)")
    return ["10001", "10008", "20001", "20002", "99999"]  # provider, manual, odd spelling, no external id, unknown


def owner_actions(scenario: Scenario, owner: Client) -> None:
    """Everything an owner does with panels and providers, the unhappy paths included."""
    fake = scenario.fake
    data = {"name": "Main", "url": fake.url, "kind": "pp_v2", "api_key": API_KEY}
    assert owner.post("/panels/add/", data).status_code == 302
    scenario.panel = panel = Panel.objects.get(workspace=scenario.workspace, name="Main")
    v1 = {"name": "Rental", "url": fake.url + "/adminapi/v1", "kind": "pp_v1", "api_key": API_KEY}
    assert owner.post("/panels/add/", v1).status_code == 302
    rental = Panel.objects.get(workspace=scenario.workspace, name="Rental")
    posts = [
        (f"/panels/{panel.code}/test/", {}),
        (f"/panels/{panel.code}/sync/", {}),
        (f"/panels/{rental.code}/sync/", {}),
        (f"/panels/{rental.code}/test/", {}),
        ("/providers/sync/", {}),
        ("/providers/add/", {"domain": f"https://www.{CANARIES[2]}/", "alias": "Hand"}),
        ("/providers/add/", {"domain": CANARIES[2]}),  # again: "already in your list"
        ("/providers/add/", {"domain": f"{CANARIES[2]} is my provider"}),  # invalid
        ("/providers/add/", {"domain": "fresh.example", "alias": CANARIES[0]}),
    ]
    for path, body in posts:
        for headers in ({}, HX):
            response = owner.post(path, body, **headers)
            assert_clean(f"owner POST {path}", response_text(response))
    first = Provider.objects.filter(workspace=scenario.workspace).order_by("alias").first()
    for alias in ("FastLikes_A", CANARIES[1], CANARIES[1].upper(), f"https://{CANARIES[0]}"):
        response = owner.post(f"/providers/{first.code}/alias/", {"alias": alias}, **HX)
        assert_clean(f"owner renames to {alias}", response_text(response))


def failing_panel_actions(scenario: Scenario, owner: Client) -> None:
    """The panel's own error text names a canary: what the owner sees must not."""
    fake, panel = scenario.fake, scenario.panel
    for message in (f"Provider {CANARIES[0]} rejected the request", f"Upstream https://{CANARIES[1]}/api down"):
        for path in (f"/panels/{panel.code}/test/", f"/panels/{panel.code}/sync/"):
            fake.fail_next(message=message)
            assert_clean(f"failing POST {path}", response_text(owner.post(path, **HX)))
        fake.fail_next(message=message)
        assert_clean("failing find", response_text(owner.get("/providers/find/", {"order": "10001"}, **HX)))
    fake.inject("status", status=400, body=f"bad request for {CANARIES[0]}")
    assert_clean("failing find (text)", response_text(owner.get("/providers/find/", {"order": "10001"})))
    fake.inject("status", status=502, body=f"<html><h1>{CANARIES[1]} is down</h1></html>")
    assert_clean("failing find (html)", response_text(owner.get("/providers/find/", {"order": "10001"})))


def find_paths(scenario: Scenario) -> list[str]:
    return [f"/providers/find/?order={oid}" for oid in scenario.order_ids] + [
        f"/providers/find/?order={scenario.order_ids[0]}&panel={scenario.panel.code}"
    ]


def error_paths(scenario: Scenario) -> list[str]:
    other = Provider.objects.exclude(workspace=scenario.workspace).first()
    paths = ["/no-such-page/", "/panels/00000000-0000-0000-0000-000000000000/edit/", "/master/vault/"]
    return paths + ([f"/providers/{other.code}/alias/"] if other else [])


def transport_actions(scenario: Scenario, owner: Client) -> None:
    """Provider groups are often titled after the provider's site: the picker must show the alias."""
    from fakes.telegram import FakeTelegram
    from fakes.waha import FakeWAHA
    from panelrelay.transports.models import Connection, Destination, DiscoveredChat

    token = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
    with FakeTelegram(tokens={token: {"id": 123456789}}, strict_limits=False) as tg, FakeWAHA() as waha:
        owner.post("/settings/connections/add/telegram/", {"name": "Bot", "secret": token, "api_url": tg.url})
        add_waha = {"name": "WA", "base_url": waha.url, "session": "default", "secret": "waha-key", "pace_seconds": "1"}
        owner.post("/settings/connections/add/waha/", add_waha)
        tg.bot_added(-1001000000042, title=f"{CANARIES[0]} · refills")
        tg.bot_added(-1001000000043, title=f"Support of HTTPS://WWW.{CANARIES[1].upper()}/api")
        waha.add_group("120363040000000042@g.us", f"{CANARIES[2]} team")
        for connection_ in Connection.objects.filter(workspace=scenario.workspace):
            picker = owner.get("/destinations/chats/", {"connection": str(connection_.code)}, **HX)
            assert_clean(f"the picker of {connection_}", response_text(picker))
        for chat in DiscoveredChat.objects.filter(workspace=scenario.workspace):
            body = {"connection": str(chat.connection.code), "pick": str(chat.code)}
            assert_clean("add a picked destination", response_text(owner.post("/destinations/add/", body, follow=True)))
        assert Destination.objects.filter(workspace=scenario.workspace).count() == 3
        for destination in Destination.objects.filter(workspace=scenario.workspace):
            time.sleep(0.1)  # the bot's pacing slot (30 messages/s) is free again
            response = owner.post(f"/destinations/{destination.code}/test/", follow=True)
            assert_clean(f"test of {destination}", response_text(response))
        assert len(tg.sent) == 2 and len(waha.sent) == 1, "the tests went out"


def forwarding_actions(scenario: Scenario, owner: Client) -> None:
    """Forward canary orders through the Forward page and the API: the messages that go out, the
    request pages, Activity, its CSV export and every API answer carry aliases only."""
    import json

    from fakes.telegram import FakeTelegram
    from panelrelay.api.models import ApiToken
    from panelrelay.demo import scenario as wiring
    from panelrelay.forwarding.models import ForwardRequest

    with FakeTelegram(strict_limits=False) as tg:
        tg.add_bot("123456:DEMO", id=123456, username="relay_bot")
        for chat in (-1009001, -1009002):
            tg.add_chat(chat, type="supergroup", title="provider group")
        conn = wiring.telegram(scenario.workspace, tg.url, name="Forwarding bot")
        main = wiring.destination(conn, "Main group", "tg_group", "-1009001")
        fallback = wiring.destination(conn, "Fallback group", "tg_group", "-1009002")
        for provider in Provider.objects.filter(workspace=scenario.workspace):
            wiring.route(provider, main)
        wiring.defaults(scenario.workspace, manual=fallback, fallback=fallback)
        ids = "10001 10002 10003 10008 20001 20002 99999"
        response = owner.post("/forward/", {"panel": str(scenario.panel.code), "ids": ids, "command_button": "refill"})
        assert response.status_code == 302, response_text(response)[:2000]
        _, token = ApiToken.issue(scenario.workspace, "canary")
        auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
        body = json.dumps({"command": "cancel", "ids": "10004 10005 20002", "panel": "Main"})
        created = owner.post("/api/v1/requests", body, content_type="application/json", **auth)
        assert created.status_code == 201, created.content
        wiring.drain(timeout=60)
        for text in [m["text"] for m in tg.sent]:
            assert_clean("an outgoing message", text)
        assert len(tg.sent) >= 1, "something was forwarded"
        for req in ForwardRequest.objects.filter(workspace=scenario.workspace):
            assert_clean("API request detail", response_text(owner.get(f"/api/v1/requests/{req.code}", **auth)))
        for oid in ("10001", "10008", "20001", "99999"):
            answer = owner.get("/api/v1/route-check", {"order": oid, "panel": "Main"}, **auth)
            assert_clean(f"API route check {oid}", response_text(answer))
        for path in ("/api/v1/panels", "/api/v1/commands", "/activity/export.csv"):
            assert_clean(path, response_text(owner.get(path, **auth)))


def forwarding_paths(scenario: Scenario) -> list[str]:
    return [f"/routing/check/?order={oid}" for oid in scenario.order_ids] + ["/activity/?q=777001"]


def ticket_actions(scenario: Scenario, owner: Client) -> None:
    """A customer's ticket about canary orders: read, requested, answered (the reply's text too)."""
    from panelrelay.intake import tickets
    from panelrelay.worker.runner import Worker

    first = scenario.fake.get_order(int(scenario.order_ids[0]))
    ticket = scenario.fake.add_ticket(first["user"], "Refill", "refill " + " ".join(scenario.order_ids[:3]))
    assert tickets.poll_panel(scenario.panel), "the ticket became a request"
    Worker(worker_id="canary", idle_sleep=0).run(burst=True, max_seconds=20)
    replies = scenario.fake.tickets_replies(ticket["id"])
    assert replies, "the ticket was answered"
    for reply in replies:
        assert_clean("the reply on a ticket", reply["message"])


def team_bot_actions(scenario: Scenario, owner: Client) -> None:
    """The team bot's answers about canary orders (/panel, /refill's per-order summary)."""
    from fakes.telegram import FakeTelegram
    from panelrelay.demo import scenario as wiring
    from panelrelay.intake.models import TelegramLink
    from panelrelay.transports.integrations.telegram.updates import poll
    from panelrelay.worker.runner import Worker

    staff_tg = 5550001
    with FakeTelegram(strict_limits=False) as tg:
        token = "123456:DEMO"
        tg.add_bot(token, id=123456, username="relay_team_bot")
        bot = wiring.telegram(scenario.workspace, tg.url, token=token, name="Team bot")
        membership = Membership.objects.get(workspace=scenario.workspace, role=Membership.OWNER)
        link, _ = TelegramLink.objects.get_or_create(membership=membership)
        tg.user_starts_bot(staff_tg, link.token, token=token)
        tg.user_sends(staff_tg, "/panel", token=token)
        tg.user_sends(staff_tg, "/refill " + " ".join(scenario.order_ids[:4]) + " 99999", token=token)
        poll(bot)
        worker, deadline = Worker(worker_id="canary-bot", idle_sleep=0), time.monotonic() + 30
        while len(tg.messages_to(staff_tg)) < 3 and time.monotonic() < deadline:  # answers are paced
            if not worker.run_once():
                time.sleep(0.05)
        answers = [m["text"] for m in tg.messages_to(staff_tg)]
        assert len(answers) == 3, answers  # linked, the panels, the per-order summary
        for text in answers:
            assert_clean("a team-bot answer", text)


def typed_text_actions(scenario: Scenario, owner: Client) -> None:
    """Staff and the owner type a canary into every text others read: each one is refused, none is kept."""
    import json

    from panelrelay.api.models import ApiToken
    from panelrelay.forwarding.models import Command
    from panelrelay.transports.models import Connection

    staff = sign_in("bob@example.org")  # every toggle: panels, forward, routing
    provider = Provider.objects.filter(workspace=scenario.workspace).order_by("alias").first()
    refill = Command.for_workspace(scenario.workspace)[0]
    bot = Connection.objects.filter(workspace=scenario.workspace, kind="telegram").first()
    _, token = ApiToken.issue(scenario.workspace, "typed text")
    for canary in (CANARIES[0], f"https://www.{CANARIES[1].upper()}/api", CANARIES[2]):
        posts = [
            (f"/providers/{provider.code}/alias/", {"alias": f"Alpha ({canary})"}),
            ("/forward/", {"panel": str(scenario.panel.code), "ids": "10001", "note": f"provider is {canary}",
                           "command_button": "refill"}),
            ("/destinations/add/", {"connection": str(bot.code), "kind": "tg_group", "target": "-1009003",
                                    "name": f"{canary} group"}),
            ("/settings/forwarding/templates/", {"text": f"{{command}} via {canary}\n{{ids}}"}),
            ("/settings/forwarding/commands/", {"label": "Boost", "word": f"BOOST {canary}", "keywords": "boost"}),
            (f"/settings/forwarding/commands/{refill.code}/", {"label": "Refill", "word": "REFILL",
                                                               "keywords": f"refill, {canary}"}),
            ("/settings/tickets/", {"replies_enabled": "on", "reply_forwarded": f"Sent to {canary}: {{ids}}",
                                    "reply_already": "a", "reply_not_eligible": "b", "reply_not_yours": "c"}),
        ]  # fmt: skip
        for path, body in posts:
            for client, who in ((staff, "staff"), (owner, "owner")):
                response = client.post(path, body, follow=True, **HX)
                assert_clean(f"{who} types a canary into {path}", response_text(response))
        note = json.dumps({"command": "refill", "ids": ["10001"], "panel": "Main", "note": f"provider is {canary}"})
        answer = owner.post("/api/v1/requests", note, content_type="application/json",
                            HTTP_AUTHORIZATION=f"Bearer {token}")  # fmt: skip
        assert answer.status_code == 400, answer.content
        assert_clean("the API's answer to a canary note", response_text(answer))


def provider_answer_actions(scenario: Scenario, owner: Client) -> None:
    """Providers answer in their groups with their own domain in the words (a reply that is done, a
    quote that refuses): what is stored, shown on the request pages and alerted carries the alias."""
    from fakes.telegram import FakeTelegram
    from panelrelay.demo import scenario as wiring
    from panelrelay.forwarding.models import Command, RequestOrder
    from panelrelay.forwarding.submit import create_request
    from panelrelay.transports.integrations.telegram.updates import poll
    from panelrelay.worker.runner import Worker

    commands = {c.slug: c for c in Command.for_workspace(scenario.workspace)}
    with FakeTelegram(strict_limits=False) as tg:
        tg.add_bot("123456:DEMO", id=123456, username="relay_bot")
        tg.add_chat(-1009201, type="supergroup", title="answering provider")
        conn = wiring.telegram(scenario.workspace, tg.url, name="Answers bot")
        group = wiring.destination(conn, "Answering group", "tg_group", "-1009201")
        for provider in Provider.objects.filter(workspace=scenario.workspace):
            wiring.route(provider, group)
        tg.behave(-1009201, "reply", text="refilled ✅", domain=f"www.{CANARIES[0]}")
        create_request(scenario.workspace, scenario.panel, commands["refill"], ["10006", "10007", "10009"])
        wiring.drain(timeout=60)
        poll(conn)
        tg.behave(-1009201, "quote", text=f"can't cancel, already completed on {CANARIES[1].upper()}")
        create_request(scenario.workspace, scenario.panel, commands["cancel"], ["10010", "10011", "10012"])
        wiring.drain(timeout=60)
        poll(conn)
        Worker(worker_id="canary-answers", idle_sleep=0).run(burst=True, max_seconds=20)  # the refusal's alert
    answered = RequestOrder.objects.filter(workspace=scenario.workspace, progress="answered")
    assert {o.answer_kind for o in answered} == {"done", "refused"}, "the providers' answers were read"


def customer_actions(scenario: Scenario, owner: Client) -> None:
    """Customers ask on a support number about canary orders (their own, another user's, unknown,
    unlinked, help, too many); a provider refuses with its domain in the words: every answer a
    customer reads, now and later, and the Customers pages are checked (the crawl starts there)."""
    from fakes.telegram import FakeTelegram
    from fakes.waha import FakeWAHA
    from panelrelay.customers.models import ChatEntry, Customer, CustomerChannel, CustomerLink
    from panelrelay.demo import scenario as wiring
    from panelrelay.transports.incoming import Incoming, receive
    from panelrelay.transports.integrations.telegram.updates import poll
    from panelrelay.worker.runner import Worker

    ws, fake = scenario.workspace, scenario.fake
    mine = [str(n) for n in range(10013, 10025) if n % 8 and fake.get_order(n)["user"] == fake.get_order(10013)["user"]]
    others = [str(n) for n in range(10013, 10041) if fake.get_order(n)["user"] != fake.get_order(10013)["user"]]
    with FakeTelegram(strict_limits=False) as tg, FakeWAHA() as wa:
        tg.add_bot("123456:DEMO", id=123456, username="relay_bot")
        tg.add_chat(-1009301, type="supergroup", title="customers' provider")
        group = wiring.destination(wiring.telegram(ws, tg.url, name="Customers' provider bot"), "Cust group",
                                   "tg_group", "-1009301")  # fmt: skip
        for provider in Provider.objects.filter(workspace=ws):
            wiring.route(provider, group)
        tg.behave(-1009301, "quote", text=f"no refill possible, see www.{CANARIES[0]} / {CANARIES[2]}")
        support = wiring.waha(ws, wa.url, pace=0, name="Support number")
        CustomerChannel.objects.create(workspace=ws, connection=support)
        ann = Customer.objects.create(workspace=ws, network="whatsapp", identity="15550009999", name="Ann")
        CustomerLink.objects.create(workspace=ws, customer=ann, panel=scenario.panel, how="staff",
                                    username=fake.get_order(10013)["user"])  # fmt: skip
        texts = [f"refill {' '.join(mine[:3] + others[:2])} 99999", f"refill {mine[0]}", "help",
                 f"cancel {' '.join(str(100000 + n) for n in range(150))}"]  # fmt: skip
        for n, text in enumerate(texts):
            receive(Incoming(connection=support, chat_id="15550009999@c.us", private=True, sender_id="15550009999@c.us",
                             sender_name="Ann", text=text, message_id=f"canary-{n}"))  # fmt: skip
            wiring.drain(timeout=60)
        receive(Incoming(connection=support, chat_id="15550008888@c.us", private=True, sender_id="15550008888@c.us",
                         sender_name="Unlinked", text=f"refill {mine[0]}", message_id="canary-unlinked"))  # fmt: skip
        wiring.drain(timeout=60)
        poll(group.connection)
        Worker(worker_id="canary-customers", idle_sleep=0).run(burst=True, max_seconds=20)
        read = [m["text"] for m in wa.sent]
    kinds = set(ChatEntry.objects.filter(workspace=ws, direction="out").values_list("kind", flat=True))
    assert {"answer", "help", "link", "too_many", "outcome_refused"} <= kinds, kinds
    assert len(read) >= 6, read
    for text in read:
        assert_clean("an answer a customer reads", text)


START_PATHS += ["/customers/", "/settings/customers/"]
EXTRA_PATHS += [find_paths, error_paths, forwarding_paths]
ACTIONS += [owner_actions, failing_panel_actions, transport_actions, ticket_actions, forwarding_actions,
            team_bot_actions, typed_text_actions, provider_answer_actions, customer_actions]  # fmt: skip


def sign_in(email: str) -> Client:
    client = Client()
    response = client.post("/accounts/login/", {"email": email, "password": PASSWORD})
    assert response.status_code == 302, response.content[:500]
    return client


def dump_database() -> Iterable[tuple[str, str]]:
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608 - our own table names
            for row in cursor.fetchall():
                yield table, " | ".join("" if v is None else str(v) for v in row)


@pytest.fixture
def captured_logs():
    """A root handler with the production ScrubFilter, as settings.LOGGING attaches it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(ScrubFilter())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield stream
    root.removeHandler(handler)
    root.setLevel(old_level)


@pytest.mark.django_db
def test_no_canary_domain_reaches_owners_staff_logs_or_plain_columns(captured_logs, monkeypatch) -> None:
    # This test is about what is shown, not about pacing (panels/tests/test_rate_limit.py is): the
    # ~100 panel calls it makes would otherwise spend 15 s waiting for the 5 requests/s slots.
    monkeypatch.setattr(panel_client.PanelClient, "_take_slot", lambda self: None)
    alice = make_user("alice@example.org")
    workspace = Workspace.objects.create(name="Canary SMM")
    Membership.objects.create(user=alice, workspace=workspace, role=Membership.OWNER)
    toggles = {"can_forward": True, "can_routing": True, "can_panels": True, "can_activity": True}
    for email, perms in (("bob@example.org", toggles), ("eve@example.org", dict.fromkeys(toggles, False))):
        Membership.objects.create(user=make_user(email), workspace=workspace, role=Membership.STAFF, **perms)
    root = make_user("root@platform.example", is_superuser=True, is_staff=True)
    outsider = Workspace.objects.create(name="Elsewhere")
    Provider.objects.create(workspace=outsider, alias="Theirs", domain_enc="x", domain_hmac="y")

    with FakePanel(api_key=API_KEY, rps=0) as fake:
        scenario = Scenario(fake=fake, workspace=workspace, order_ids=seed(fake))
        owner = sign_in("alice@example.org")
        for action in ACTIONS:
            action(scenario, owner)
        extra = [path for make in EXTRA_PATHS for path in make(scenario)]
        pages = crawl(owner, scenario, "owner", extra)
        crawl(sign_in("bob@example.org"), scenario, "staff (all toggles)", extra)
        crawl(sign_in("eve@example.org"), scenario, "staff (no toggles)", extra)
        crawl(Client(), scenario, "anonymous", extra)

    # The crawl really went through the product, and the data really holds the canaries.
    assert pages >= 15, scenario.checked
    assert Provider.objects.filter(workspace=workspace).count() == 3
    assert any("/providers/" in c and c.endswith(" 200") for c in scenario.checked)
    assert any("/providers/find/?order=10001 200" in c for c in scenario.checked)
    assert any(c.startswith("owner /requests/") and c.endswith(" 200") for c in scenario.checked)
    assert any(c.startswith("owner /activity/export.csv") for c in scenario.checked)
    assert any(c.startswith("owner /routing/check/?order=10001 200") for c in scenario.checked)
    master = Client()
    master.force_login(root)
    export = response_text(master.post("/master/vault/export.csv"))
    assert all(domain in export for domain in CANARIES), "the vault should hold every canary"

    logs = captured_logs.getvalue()
    assert "sync" in logs and "find order failed" in logs, "the panels code logged nothing to check"
    assert_clean("the logs", logs)
    assert_clean("the logs", logs, KEY_FORMS)
    for table, row in dump_database():
        assert_clean(f"table {table}", row)
        assert_clean(f"table {table}", row, KEY_FORMS)


def test_the_checker_catches_every_encoding() -> None:
    domain = CANARIES[0]
    for text in (
        f"x {domain.upper()} y",
        quote(f"https://{domain}/", safe=""),
        f"a {base64.b64encode(('provider=' + domain).encode()).decode()} b",
        base64.urlsafe_b64encode(f"zz{domain}".encode()).decode(),
        f"{domain}".replace(".", "%2e"),
    ):
        assert find_leaks(text), text
    assert not find_leaks("canary-prov-7f3a and example, apart")
