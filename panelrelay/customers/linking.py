"""Who a chat identity is on the panel: linked by staff, or proved with a one-time ticket code.

The panel offers one proof that someone owns a panel account: a support ticket opened from it.
So an unlinked customer gets a code (LINK-XXXXXXXX, valid `code_valid_hours`), writes it in a
new ticket from their own account, and intake's ticket poller hands every ticket it reads to
`on_ticket` (tickets.TICKET_READERS): a usable code in the text of the ticket's author links the
customer to that ticket's username on that panel. One identity, one proved username: a new proof
replaces an earlier proved one; more usernames are linked only by staff on the Customers page.
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from panelrelay.customers import answers
from panelrelay.customers.models import ChatEntry, Customer, CustomerLink, CustomerSettings, LinkCode
from panelrelay.panels.adapters.base import PanelTicket
from panelrelay.panels.models import Panel
from panelrelay.transports.models import Connection

log = logging.getLogger("panelrelay.customers")
CODE = re.compile(r"\bLINK-[A-HJ-NP-Z2-9]{8}\b", re.IGNORECASE)
STAFF_NAMES = ("support", "admin", "staff")


def code_for(customer: Customer, connection: Connection, chat_id: str) -> LinkCode:
    """The customer's usable code (the same one while it lasts), or a new one."""
    now = timezone.now()
    current = customer.codes.filter(used_at=None, expires__gt=now).order_by("-created").first()
    if current is not None:
        return current
    hours = CustomerSettings.of(customer.workspace).code_valid_hours
    return LinkCode.objects.create(workspace_id=customer.workspace_id, customer=customer, connection=connection,
                                   chat_id=chat_id, expires=now + timedelta(hours=hours))  # fmt: skip


def send_steps(customer: Customer, connection: Connection, chat_id: str) -> None:
    code = code_for(customer, connection, chat_id)
    hours = max(1, round((code.expires - code.created).total_seconds() / 3600))
    text = answers.fill(answers.template(customer.workspace, customer.language, "link"), code=code.value,
                        hours=str(hours))  # fmt: skip
    answers.say(customer, connection, chat_id, "link", text)


def on_ticket(panel: Panel, ticket: PanelTicket) -> None:
    """tickets.TICKET_READERS: a usable link code written by the ticket's author links them."""
    if not ticket.user.strip():
        return
    written = " ".join(m.text for m in ticket.messages if m.sender.strip().casefold() not in STAFF_NAMES)
    for value in dict.fromkeys(found.upper() for found in CODE.findall(f"{ticket.subject} {written}")):
        prove(panel, value, ticket.user.strip())


def prove(panel: Panel, value: str, username: str) -> CustomerLink | None:
    now = timezone.now()
    with transaction.atomic():
        won = LinkCode.objects.filter(workspace_id=panel.workspace_id, value=value, used_at=None,
                                      expires__gt=now).update(used_at=now, used_by=username[:150])  # fmt: skip
        if not won:
            return None  # unknown, expired, another workspace's, or used by an earlier poll
        code = LinkCode.objects.select_related("customer__workspace", "connection").get(value=value)
        customer = code.customer
        customer.links.filter(how=CustomerLink.TICKET).exclude(panel=panel, username=username).delete()
        link, _ = CustomerLink.objects.get_or_create(customer=customer, panel=panel, username=username[:150],
                                                     defaults={"workspace_id": customer.workspace_id,
                                                               "how": CustomerLink.TICKET})  # fmt: skip
        log.info("customer %s linked by ticket code on panel %s", customer.pk, panel.pk)
        text = answers.fill(answers.template(customer.workspace, customer.language, "linked"), username=username)
        answers.say(customer, code.connection, code.chat_id, "linked", text)
    return link


def link_by_staff(customer: Customer, panel: Panel, username: str, user: User) -> CustomerLink:
    link, _ = CustomerLink.objects.get_or_create(customer=customer, panel=panel, username=username[:150],
                                                 defaults={"workspace_id": customer.workspace_id,
                                                           "how": CustomerLink.STAFF, "linked_by": user})  # fmt: skip
    return link


def last_chat(customer: Customer) -> ChatEntry | None:
    return customer.entries.filter(direction=ChatEntry.IN, connection__isnull=False).order_by("-at", "-id").first()
