"""The demo data set (`python -m fakes.panel --seed-demo`, `make demo`)."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from fakes.panel.values import DEMO_PROVIDERS, DEMO_USERS

if TYPE_CHECKING:
    from fakes.panel import FakePanel


def seed_demo(panel: FakePanel, orders: int = 300) -> None:
    """A few hundred orders over ten providers, some manual, and tickets that cite them."""
    made = panel.seed_orders(orders, providers=DEMO_PROVIDERS, users=DEMO_USERS, manual_every=15, seed=7)
    ids = [o["id"] for o in made]
    for user in DEMO_USERS:
        panel.add_user(user, balance=round(random.Random(user).uniform(0, 250), 2))
    _demo_tickets(panel, ids)


def _demo_tickets(panel: FakePanel, ids: list[int]) -> None:
    # Tickets cite orders their author really owns, in the phrasings public ticket parsers handle
    # ("Urgent Refill: …", "… refill"; panelrelay/reading/parser.py reads them).
    def own(user: str, count: int) -> str:
        owned = [o["id"] for o in map(panel.get_order, ids) if o and o["user"] == user]
        return ", ".join(str(i) for i in (owned or ids)[-count:])

    panel.add_ticket("alice", "Orders", f"Urgent Refill: {own('alice', 3)}")
    panel.add_ticket("bob", "Cancel", f"Urgent Refund (Partial/Cancel): {own('bob', 1)}")
    panel.add_ticket("carol", "Speed", f"please speed up {own('carol', 2)}")
    done = panel.add_ticket("dave", "Refill", f"{own('dave', 1)} refill")
    panel.add_ticket_message(done["id"], "support", "Refill requested, please allow 24-48 hours.")
    closed = panel.add_ticket("erin", "Payment", "I paid with crypto but the balance is 0")
    panel.add_ticket_message(closed["id"], "support", "Added, thanks for waiting.")
    panel.set_ticket_status(closed["id"], "Closed")
