"""A customer's message, from the front door to an answer (or, mostly, to silence).

`receiver` is subscribed to transports.incoming before the team bot. It takes a message when its
connection is marked customer support (CustomerChannel) and the chat is a customer's: a private
chat that is no provider destination of that connection, or one of the owner's customer groups.
Then, in the front door's transaction (so a gateway's retry is dropped with everything it did):

1. the customer is found or created by identity (WhatsApp number, Telegram user id) and the
   message is logged (ChatEntry) — in groups only messages addressed to the bot are;
2. a blocked customer, or a chat staff took over (ChatState.paused_until), gets silence;
3. over the rate limits (messages per customer and per chat, ids per customer, a minute) one
   polite refusal per minute, then silence;
4. the reader (`reading.parser.parse`, the owner's keywords) finds ids and a command: without
   both, silence — only "help"/"menu" get the help text, "link" the link steps;
5. an unlinked customer gets the link steps (a one-time code for a panel ticket, linking.py);
   a linked one gets a request per linked panel username (`ticket_user`: the engine forwards
   only orders the panel says are that user's), answered once decided (jobs.answer).
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta

from django.db.models import Max, Sum
from django.utils import timezone

from panelrelay.customers import answers, linking
from panelrelay.customers.models import (
    HELP_WORDS,
    ChatEntry,
    ChatState,
    Customer,
    CustomerAsk,
    CustomerChannel,
    CustomerSettings,
)
from panelrelay.forwarding.models import Command, ForwardRequest
from panelrelay.forwarding.submit import MAX_IDS, SubmitError, create_request
from panelrelay.intake.models import TelegramLink
from panelrelay.intake.tickets import keywords
from panelrelay.reading.ids import find_ids
from panelrelay.reading.parser import parse
from panelrelay.transports.incoming import Incoming
from panelrelay.transports.models import Connection, Destination

log = logging.getLogger("panelrelay.customers")
WINDOW = timedelta(minutes=1)
GROUP_FACTOR = 3  # a customer group may carry this many times one customer's messages a minute
LINK_WORDS = ("link", "/link")
_START_TOKEN = re.compile(r"\s*/start\s+\S")


def receiver(incoming: Incoming) -> bool:
    """The front door's receiver: True when the message was a customer's (answered or not)."""
    connection = incoming.connection
    channel = CustomerChannel.objects.filter(connection_id=connection.pk, enabled=True).first()
    if channel is None or not incoming.sender_id or not incoming.text.strip():
        return False
    if not _customers_chat(channel, incoming):
        return False
    if connection.is_telegram and _staffs(connection, incoming):
        return False  # the team bot's (a staff member's account or a /start token)
    if not incoming.private and not _addressed(connection, incoming):
        return True  # customers talking among themselves in the group: not ours to log or answer
    handle(incoming)
    return True


POLLED_PRIVATE = 50  # known customers' private chats a per-chat poller (WAHA, Evolution) reads
POLLED_SINCE = timedelta(days=30)


def customer_groups(connection: Connection) -> list[str]:
    """transports.incoming.CHAT_SOURCES: a polled gateway reads the owner's customer groups too, and
    the private chats of customers who wrote there lately (a new customer's chat: new_private_chats)."""
    channel = CustomerChannel.objects.filter(connection_id=connection.pk, enabled=True).first()
    if channel is None:
        return []
    recent = (
        ChatEntry.objects.filter(connection=connection, direction=ChatEntry.IN, at__gte=timezone.now() - POLLED_SINCE)
        .exclude(chat_id__endswith="@g.us")
        .values("chat_id")
        .annotate(last=Max("at"))
        .order_by("-last")
        .values_list("chat_id", flat=True)[:POLLED_PRIVATE]
    )
    return [str(g) for g in channel.groups or []] + list(recent)


NEW_CHATS = 20  # most recently active chats of the gateway's chat list looked at per poll
NEW_SINCE = timedelta(minutes=10)  # a chat never polled before is read from this long ago


def new_private_chats(connection: Connection) -> list[str]:
    """transports.incoming.CHAT_SOURCES: a customer who never wrote before, on a polled WAHA or
    Evolution connection marked customer support. The gateway's chat list (newest first, private
    chats only) gives the chats active in the last NEW_SINCE that are no provider destination; one
    never polled starts NEW_SINCE ago instead of now (its first message is read; ReceivedMessage
    drops what a second read finds again)."""
    from panelrelay.transports.base import TransportError
    from panelrelay.transports.integrations import transport_for
    from panelrelay.transports.integrations.whatsapp import WhatsAppTransport

    if connection.receive != Connection.RECEIVE_POLL:
        return []
    if not CustomerChannel.objects.filter(connection_id=connection.pk, enabled=True).exists():
        return []
    transport = transport_for(connection)
    if not isinstance(transport, WhatsAppTransport):
        return []
    try:
        recent = transport.recent_chats(NEW_CHATS)
    except TransportError as exc:  # the destinations and known chats are still read
        log.info("chat list of connection %s not read: %s", connection.pk, exc)
        return []
    now = timezone.now().timestamp()
    since = now - NEW_SINCE.total_seconds()
    wanted = [chat for chat, at in recent if at >= since]
    providers = set(
        Destination.objects.filter(connection_id=connection.pk, target__in=wanted).values_list("target", flat=True)
    )
    chats = [chat for chat in wanted if chat not in providers]
    state = dict(connection.poll_state or {})
    for chat in chats:
        state.setdefault(chat, float(int(since)))
    connection.poll_state = state  # poll_chats starts from these positions and saves what it read
    return chats


def _customers_chat(channel: CustomerChannel, incoming: Incoming) -> bool:
    if not incoming.private:
        return incoming.chat_id in {str(g) for g in channel.groups or []}
    # A provider's own number can be a destination of the same connection: its words are answers.
    return not Destination.objects.filter(connection_id=channel.connection_id, target=incoming.chat_id).exists()


def _staffs(connection: Connection, incoming: Incoming) -> bool:
    if incoming.private and _START_TOKEN.match(incoming.text):
        return True
    return TelegramLink.objects.filter(
        telegram_user_id=incoming.sender_id, membership__workspace_id=connection.workspace_id
    ).exists()


def _addressed(connection: Connection, incoming: Incoming) -> bool:
    """In a group: a request (ids and a command) or a mention of the bot."""
    parsed = parse(incoming.text)
    return bool(parsed.ids and parsed.command) or mentioned(connection, incoming.text)


def mentioned(connection: Connection, text: str) -> bool:
    name = str(connection.config.get("username") or "").lstrip("@")
    number = str(connection.config.get("number") or "").lstrip("+")
    handles = [f"@{h}".casefold() for h in (name, number) if h]
    return any(h in text.casefold() for h in handles)


def identity_of(incoming: Incoming) -> tuple[str, str]:
    if incoming.connection.is_telegram:
        return Customer.TELEGRAM, incoming.sender_id
    number = incoming.sender_id.split("@", 1)[0]
    return Customer.WHATSAPP, number.lstrip("+")


def handle(incoming: Incoming) -> None:
    connection, at = incoming.connection, min(incoming.at, timezone.now())
    network, identity = identity_of(incoming)
    customer, _ = Customer.objects.get_or_create(
        workspace_id=connection.workspace_id, network=network, identity=identity[:100],
        defaults={"name": incoming.sender_name[:200]},
    )  # fmt: skip
    language = str((incoming.raw.get("from") or {}).get("language_code") or "")[:10] if network == "telegram" else ""
    Customer.objects.filter(pk=customer.pk).update(
        last_seen=at, **({"language": language} if language and not customer.language else {})
    )
    if language and not customer.language:
        customer.language = language
    counted = len(find_ids(incoming.text).ids)
    entry = ChatEntry.objects.create(workspace_id=connection.workspace_id, customer=customer, connection=connection,
                                     chat_id=incoming.chat_id, direction=ChatEntry.IN, text=incoming.text[:4000],
                                     ids=counted, at=at)  # fmt: skip
    state, _ = ChatState.objects.get_or_create(workspace_id=connection.workspace_id, connection=connection,
                                               chat_id=incoming.chat_id)  # fmt: skip
    if customer.blocked:
        _mark(entry, "blocked")
        return
    if state.paused(at):
        _mark(entry, "paused")
        return
    options = CustomerSettings.of(connection.workspace)
    if _over_limits(customer, incoming, options, at):
        _mark(entry, "limited")
        if state.refused_at is None or state.refused_at <= at - WINDOW:
            ChatState.objects.filter(pk=state.pk).update(refused_at=at)
            limit = min(options.ids_per_minute, MAX_IDS)
            answers.say(customer, connection, incoming.chat_id, "too_many", answers.fill(
                answers.template(customer.workspace, customer.language, "too_many"), limit=str(limit)))  # fmt: skip
        return
    commands = {c.slug: c for c in Command.for_workspace(connection.workspace) if c.enabled}
    parsed = parse(incoming.text, keywords(list(commands.values())))
    command = commands.get(parsed.command or "")
    if command is None or not parsed.ids:
        _chatter(customer, connection, incoming, entry)
        return
    links = list(customer.links.select_related("panel").filter(panel__enabled=True).order_by("id"))
    if not links:
        if incoming.private:
            linking.send_steps(customer, connection, incoming.chat_id)
        else:  # a code read by the whole group could be written in someone else's ticket
            answers.say(customer, connection, incoming.chat_id, "link_private",
                        answers.template(customer.workspace, customer.language, "link_private"))  # fmt: skip
        return
    ask = CustomerAsk.objects.create(workspace_id=connection.workspace_id, customer=customer, connection=connection,
                                     chat_id=incoming.chat_id, language=customer.language)  # fmt: skip
    for link in links:
        try:
            request = create_request(connection.workspace, link.panel, command, parsed.ids,
                                     source=ForwardRequest.CUSTOMER, source_ref=f"{network}:{identity}"[:100],
                                     ticket_user=link.username)  # fmt: skip
        except SubmitError as exc:
            log.info("customer %s: not submitted: %s", customer.pk, exc)
            continue
        ask.requests.add(request)
        if entry.request_id is None:
            ChatEntry.objects.filter(pk=entry.pk).update(request=request)
            entry.request = request
    _mark(entry, "request")
    answers.schedule(ask)


def _chatter(customer: Customer, connection: Connection, incoming: Incoming, entry: ChatEntry) -> None:
    words = " ".join(incoming.text.split()).casefold()
    if incoming.private and words in LINK_WORDS and not customer.links.exists():
        linking.send_steps(customer, connection, incoming.chat_id)
    elif words in HELP_WORDS or (not incoming.private and mentioned(connection, incoming.text)):
        answers.say(customer, connection, incoming.chat_id, "help",
                    answers.template(customer.workspace, customer.language, "help"))  # fmt: skip
    else:
        _mark(entry, "silent")


def _over_limits(customer: Customer, incoming: Incoming, options: CustomerSettings, at: datetime) -> bool:
    since = at - WINDOW
    mine = ChatEntry.objects.filter(customer=customer, direction=ChatEntry.IN, at__gt=since)
    if mine.count() > options.messages_per_minute:
        return True
    if (mine.aggregate(n=Sum("ids"))["n"] or 0) > options.ids_per_minute:
        return True
    if incoming.private:
        return False
    chat = ChatEntry.objects.filter(connection=incoming.connection, chat_id=incoming.chat_id,
                                    direction=ChatEntry.IN, at__gt=since)  # fmt: skip
    return chat.count() > options.messages_per_minute * GROUP_FACTOR


def _mark(entry: ChatEntry, kind: str) -> None:
    ChatEntry.objects.filter(pk=entry.pk).update(kind=kind)
