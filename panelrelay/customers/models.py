"""What the customers app remembers: which connections take customers' messages, who a chat
identity is on the panel, what was said, what the bot answers with, and the chats staff took over."""

from __future__ import annotations

import secrets
from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone

from panelrelay.accounts.models import Workspace, WorkspaceOwned

# The answers a customer can get, by kind; {ids}, {command}, {reason}, {code}, {hours}, {username}
# are filled in. Templates per language override these (ReplyTemplate); none names a provider.
KINDS = {
    "received": "Got it: your {command} request for order(s) {ids} has been forwarded. We will tell you when there is news.",
    "cooldown": "A {command} for order(s) {ids} was already requested recently; please wait for it.",
    "not_eligible": "Order(s) {ids} cannot get a {command} right now: {reason}.",
    "not_found": "We could not find order(s) {ids} on your account. Please check the numbers.",
    "team": "Order(s) {ids}: our team will look at your {command} request.",
    "link": (
        "To ask about your orders here, link this chat to your panel account first: sign in to the panel, "
        "open a new support ticket and write this code in it: {code}\n"
        "The code works for {hours} hours. We will write here once it is linked."
    ),
    "link_private": "To ask about your orders, first link your panel account: write to me in a private chat.",
    "linked": 'This chat is now linked to your panel account {username}. Send e.g. "refill 12345" to ask for a refill.',
    "help": 'Send a command and your order numbers, e.g. "refill 12345 12346" (also cancel, speed up).',
    "too_many": "That is a lot at once: please send at most {limit} order numbers a minute, and wait a minute before sending more.",
    "outcome_done": "Good news: your {command} for order(s) {ids} is done.",
    "outcome_refused": "Your {command} for order(s) {ids} was not possible: {reason}",
}
KIND_LABELS = {
    "received": "Received and forwarded",
    "cooldown": "Already requested (cooldown)",
    "not_eligible": "Not eligible (with the reason)",
    "not_found": "Not found / not the customer's order",
    "team": "Our team will look at it",
    "link": "Please link your account (the steps)",
    "link_private": "Please link, asked in a group (no code there)",
    "linked": "Account linked",
    "help": "Help (for “help” or “menu” only)",
    "too_many": "Too many messages or ids (rate limit)",
    "outcome_done": "Later: the provider's outcome, done",
    "outcome_refused": "Later: the provider's outcome, refused",
}
# The plain reason a customer reads for "not eligible", by the outcome code (never its sentence).
PLAIN_REASONS = {
    "status_not_allowed": "the order's status does not allow it",
    "guarantee_ended": "the refill period has ended",
    "no_refill": "this service has no refill",
}
HELP_WORDS = ("help", "menu", "/help", "/menu", "/start", "?")


class CustomerSettings(models.Model):
    """How the customer chats work in a workspace (one row each; the owner edits it)."""

    workspace = models.OneToOneField(Workspace, models.CASCADE, related_name="customer_settings")
    messages_per_minute = models.PositiveIntegerField(default=20)
    ids_per_minute = models.PositiveIntegerField(default=100)
    code_valid_hours = models.PositiveIntegerField(default=24)
    pause_hours = models.PositiveIntegerField(default=12)  # a staff takeover lasts this long unless resumed

    def __str__(self) -> str:
        return f"customer settings of {self.workspace}"

    @classmethod
    def of(cls, workspace: Workspace) -> CustomerSettings:
        return cls.objects.get_or_create(workspace=workspace)[0]


class CustomerChannel(WorkspaceOwned):
    """A connection marked "customer support": its private chats (and the listed groups) are customers'."""

    connection = models.OneToOneField("transports.Connection", models.CASCADE, related_name="customer_channel")
    enabled = models.BooleanField(default=True)
    groups = models.JSONField(default=list, blank=True)  # the owner's customer groups (chat ids)
    created = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"customer support on {self.connection_id}"


class ReplyTemplate(WorkspaceOwned):
    """The owner's own text for one kind of answer in one language ("" = the default language)."""

    language = models.CharField(max_length=10, blank=True)
    kind = models.CharField(max_length=20, choices=list(KIND_LABELS.items()))
    text = models.TextField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "language", "kind"], name="one_customer_template_per_kind")
        ]


class Customer(WorkspaceOwned):
    """A chat identity: a WhatsApp number or a Telegram user, once per workspace."""

    WHATSAPP, TELEGRAM = "whatsapp", "telegram"
    NETWORKS = [(WHATSAPP, "WhatsApp"), (TELEGRAM, "Telegram")]

    network = models.CharField(max_length=10, choices=NETWORKS)
    identity = models.CharField(max_length=100)  # digits of the number, or the Telegram user id
    name = models.CharField(max_length=200, blank=True)
    language = models.CharField(max_length=10, blank=True)
    blocked = models.BooleanField(default=False)
    created = models.DateTimeField(default=timezone.now)
    last_seen = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "network", "identity"], name="one_customer_per_identity")
        ]

    def __str__(self) -> str:
        return f"{self.get_network_display()} {self.identity}"

    @property
    def label(self) -> str:
        shown = f"+{self.identity}" if self.network == self.WHATSAPP else f"Telegram {self.identity}"
        return f"{self.name} ({shown})" if self.name else shown


class CustomerLink(WorkspaceOwned):
    """The panel username a customer speaks for; their orders are acted on only if the panel says so."""

    STAFF, TICKET = "staff", "ticket"
    HOW = [(STAFF, "Linked by staff"), (TICKET, "Proved by a ticket code")]

    customer = models.ForeignKey(Customer, models.CASCADE, related_name="links")
    panel = models.ForeignKey("panels.Panel", models.CASCADE, related_name="+")
    username = models.CharField(max_length=150)
    how = models.CharField(max_length=10, choices=HOW)
    linked_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+")
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["customer", "panel", "username"], name="one_link_per_username")]


def _code() -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: it is typed by hand
    return "LINK-" + "".join(secrets.choice(alphabet) for _ in range(8))


class LinkCode(WorkspaceOwned):
    """A one-time code the customer writes in a panel ticket from their own account."""

    customer = models.ForeignKey(Customer, models.CASCADE, related_name="codes")
    connection = models.ForeignKey("transports.Connection", models.CASCADE, related_name="+")
    chat_id = models.CharField(max_length=200)  # where to say "linked" once the ticket is seen
    value = models.CharField(max_length=20, unique=True, default=_code)
    created = models.DateTimeField(default=timezone.now)
    expires = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    used_by = models.CharField(max_length=150, blank=True)  # the ticket's username

    def usable(self, now: datetime | None = None) -> bool:
        return self.used_at is None and (now or timezone.now()) < self.expires


class ChatState(WorkspaceOwned):
    """One chat on one connection: a staff takeover, and when the rate limit last refused."""

    connection = models.ForeignKey("transports.Connection", models.CASCADE, related_name="+")
    chat_id = models.CharField(max_length=200)
    paused_until = models.DateTimeField(null=True, blank=True)
    paused_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+")
    refused_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["connection", "chat_id"], name="one_state_per_chat")]

    def paused(self, now: datetime | None = None) -> bool:
        return self.paused_until is not None and (now or timezone.now()) < self.paused_until


class ChatEntry(WorkspaceOwned):
    """One message in a customer conversation: what they sent, or what the bot answered."""

    IN, OUT = "in", "out"
    customer = models.ForeignKey(Customer, models.CASCADE, related_name="entries")
    connection = models.ForeignKey("transports.Connection", models.SET_NULL, null=True, related_name="+")
    chat_id = models.CharField(max_length=200)
    direction = models.CharField(max_length=3, choices=[(IN, "Customer"), (OUT, "Bot")])
    text = models.TextField()
    kind = models.CharField(max_length=20, blank=True)  # an answer's template kind; "paused", "blocked", …
    ids = models.PositiveIntegerField(default=0)  # order ids in an incoming message (the rate limit)
    at = models.DateTimeField(default=timezone.now, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)  # an answer: when the gateway took it
    request = models.ForeignKey("forwarding.ForwardRequest", models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        indexes = [models.Index(fields=["customer", "at"]), models.Index(fields=["connection", "chat_id", "at"])]


class CustomerAsk(WorkspaceOwned):
    """A customer's message that became requests (one per linked username), answered once decided."""

    customer = models.ForeignKey(Customer, models.CASCADE, related_name="asks")
    connection = models.ForeignKey("transports.Connection", models.CASCADE, related_name="+")
    chat_id = models.CharField(max_length=200)
    language = models.CharField(max_length=10, blank=True)
    requests = models.ManyToManyField("forwarding.ForwardRequest", related_name="+")
    created = models.DateTimeField(default=timezone.now)
    answered_at = models.DateTimeField(null=True, blank=True)
    told = models.JSONField(default=list, blank=True)  # outcome kinds already told ("done", "refused")
