"""`manage.py demo` (what `make demo` runs): the product wired to the loopback fakes.

It starts the fake Perfect Panel (port 8101) and the fake Telegram / WAHA / Evolution /
Green-API servers (8102–8105), seeds a workspace whose panel, connections, destinations and
routes point at them, then runs the web server and a worker. Messages that PanelRelay sends
appear in the fakes' inbox pages, and some demo providers answer by themselves (BEHAVIOURS, the
fakes' provider behaviours): a newcomer sees orders go from Sent to Answered.
"""

from __future__ import annotations

import subprocess
import sys
import time
from typing import Any

import httpx
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from fakes.panel import DEMO_PROVIDERS
from fakes.telegram import DEMO_TOKEN
from panelrelay.accounts.models import Membership, Workspace
from panelrelay.customers.models import Customer, CustomerChannel, CustomerLink
from panelrelay.demo import scenario
from panelrelay.panels.services import sync_providers
from panelrelay.transports import hooks
from panelrelay.transports.models import Connection
from panelrelay.transports.services import refresh_status

PANEL, TELEGRAM, WAHA = "http://127.0.0.1:8101", "http://127.0.0.1:8102", "http://127.0.0.1:8103"
EMAIL, PASSWORD = "demo@panelrelay.local", "demo-relay-2026"
# The customer the fake WAHA's inbox page writes as (fakes/messaging.py), linked to a panel user.
DEMO_CUSTOMER, CUSTOMER_USER = "15550001234", "alice"
# The chats of the fakes' demo data (fakes/telegram seed_demo, fakes/waha.py seed_demo). Each
# destination is named as the chat it lands in: an owner reading "Manual team" on the Routing page
# finds the message in the group called "Manual team" in the fake's inbox.
TG_A, TG_B, TG_D = "-1001000000001", "-1001000000002", "-4000000003"  # FastLikes_A, Rush_B, Storm_D
WA_C, WA_TEAM = "120363040000000001@g.us", "120363040000000002@g.us"  # Peak_C, the owner's manual team
OWNER_CHAT = "500000003"  # the owner's private chat with the demo bot (the owner pressed Start)
# Who answers in the demo (fakes/behaviours.py), a few seconds after each message so the request
# page shows Sent first: FastLikes_A's Telegram group replies "done", Peak_C's WhatsApp group quotes
# the ids and refuses (the owner gets an alert), Rush_B's group never answers. The manual team and
# the owner's own chat are people: they stay quiet.
BEHAVIOURS = [
    (TELEGRAM, {"chat": int(TG_A), "kind": "reply", "says": "done", "delay": 8}),
    (WAHA, {"chat": WA_C, "kind": "quote", "says": "refused", "delay": 20}),
    (TELEGRAM, {"chat": int(TG_B), "kind": "silent"}),
]


class Command(BaseCommand):
    help = "Start PanelRelay with the fake panel and messaging servers and a seeded demo workspace."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--no-serve", action="store_true", help="start the fakes and seed, then exit")

    def handle(self, *args: Any, **opts: Any) -> None:
        fakes = [
            subprocess.Popen([sys.executable, "-m", "fakes.panel", "--port", "8101", "--seed-demo"]),
            subprocess.Popen([sys.executable, "-m", "fakes.run_transports"]),
        ]
        try:
            self._wait_for(PANEL, TELEGRAM, WAHA)
            for url, behaviour in BEHAVIOURS:
                httpx.post(f"{url}/_fake/behave", json=behaviour, timeout=5).raise_for_status()
            call_command("migrate", verbosity=0)
            workspace = self._seed()
            for wa in Connection.objects.filter(workspace=workspace, kind="waha", receive=Connection.RECEIVE_WEBHOOK):
                httpx.post(f"{WAHA}/_fake/webhook", json={"url": hooks.url_for(wa)}, timeout=5).raise_for_status()
            self._banner(workspace)
            if not opts["no_serve"]:
                call_command("serve")
        finally:
            for proc in fakes:
                proc.terminate()
                proc.wait(timeout=10)

    def _wait_for(self, *urls: str) -> None:
        deadline = time.monotonic() + 20
        for url in urls:
            while True:
                try:
                    httpx.get(url + "/_fake/state", timeout=1)
                    break
                except httpx.HTTPError:
                    if time.monotonic() > deadline:
                        raise CommandError(f"the fake at {url} did not start (is the port taken?)") from None
                    time.sleep(0.2)

    def _seed(self, panel_url: str = PANEL, telegram_url: str = TELEGRAM, waha_url: str = WAHA) -> Workspace:
        """The demo workspace, pointing at the fakes (at other addresses in the demo's own test)."""
        existing = Workspace.objects.filter(name="Demo SMM").first()
        if existing:
            return existing
        user = User.objects.filter(username=EMAIL).first() or User.objects.create_user(EMAIL, EMAIL, PASSWORD)
        ws = Workspace.objects.create(name="Demo SMM")
        Membership.objects.create(user=user, workspace=ws, role=Membership.OWNER)
        panel = scenario.panel(ws, panel_url, name="Main panel")
        tg = scenario.telegram(ws, telegram_url, token=DEMO_TOKEN, name="Demo bot")
        refresh_status(tg)  # as "Save and check" does: learns @panelrelay_demo_bot, which the picker's hints name
        wa = scenario.waha(ws, waha_url, pace=2.0, name="WAHA")
        # Pushed by webhook (the fake is told where on every start): providers' answers and customers.
        Connection.objects.filter(pk=wa.pk).update(receive=Connection.RECEIVE_WEBHOOK)
        # The WAHA number is also the customer support number; so is the demo bot (the owner decides).
        for conn in (wa, tg):
            CustomerChannel.objects.create(workspace=ws, connection=conn)
        customer = Customer.objects.create(workspace=ws, network=Customer.WHATSAPP, identity=DEMO_CUSTOMER,
                                           name="Demo customer")  # fmt: skip
        CustomerLink.objects.create(workspace=ws, customer=customer, panel=panel, username=CUSTOMER_USER,
                                    how=CustomerLink.STAFF)  # fmt: skip
        groups = {  # alias → the provider's own group, named as the group is titled in the fake
            "FastLikes_A": scenario.destination(tg, "FastLikes_A · refills", "tg_group", TG_A),
            "Rush_B": scenario.destination(tg, "Rush_B · support", "tg_group", TG_B),
            "Peak_C": scenario.destination(wa, "Peak_C · WhatsApp", "wa_group", WA_C),
            "Storm_D": scenario.destination(tg, "Storm_D · orders", "tg_group", TG_D),
        }
        team = scenario.destination(wa, "Manual team", "wa_group", WA_TEAM)
        own = scenario.destination(tg, "My own chat", "tg_user", OWNER_CHAT)
        aliases = ["FastLikes_A", "Rush_B", "Peak_C", "Storm_D", "Insta_E", "Tok_F", "YT_G", "Cheap_H"]
        for n, domain in enumerate(DEMO_PROVIDERS[: len(aliases)]):  # with no group of their own: fallback
            prov = scenario.provider(ws, domain, aliases[n])
            if aliases[n] in groups:
                scenario.route(prov, groups[aliases[n]])
        scenario.defaults(ws, manual=team, fallback=own)
        sync_providers(panel)
        return ws

    def _banner(self, workspace: Workspace) -> None:
        sample = httpx.get(
            f"{PANEL}/adminapi/v2/orders", params={"limit": 12}, headers={"X-Api-Key": "test-key"}
        ).json()
        ids = ", ".join(str(o["id"]) for o in sample["data"]["list"])
        theirs = httpx.get(f"{PANEL}/adminapi/v2/orders", params={"limit": 4, "user": CUSTOMER_USER},
                           headers={"X-Api-Key": "test-key"}).json()  # fmt: skip
        mine = " ".join(str(o["id"]) for o in theirs["data"]["list"])
        self.stdout.write(
            "\n".join(
                [
                    "",
                    "PanelRelay demo",
                    f"  open      http://127.0.0.1:8000/   sign in as {EMAIL} / {PASSWORD}",
                    f"  forward   some order ids of the fake panel: {ids}",
                    f"  inboxes   {TELEGRAM}/_fake/inbox (Telegram)   {WAHA}/_fake/inbox (WhatsApp/WAHA)",
                    "  answers   FastLikes_A's group answers by itself (done), Peak_C's WhatsApp group refuses,",
                    "            Rush_B's never does: the request page shows Answered within a minute",
                    f"  bot       the demo bot's token (Connections → Telegram bot): {DEMO_TOKEN}",
                    f'  customer  write as a customer on {WAHA}/_fake/inbox: "refill {mine}" (the panel user',
                    f"            {CUSTOMER_USER}'s orders) and see the answer; the conversation is on the Customers page",
                    "",
                ]
            )  # fmt: skip
        )
