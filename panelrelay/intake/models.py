"""What intake remembers: ticket messages already handled, reply texts, team-bot links."""

from __future__ import annotations

import secrets

from django.db import models
from django.utils import timezone

from panelrelay.accounts.models import Membership, Workspace, WorkspaceOwned

DEFAULT_REPLIES = {
    "forwarded": "Your {command} request for order(s) {ids} has been sent to our provider.",
    "already": "A {command} for order(s) {ids} was already requested recently; please wait for it.",
    "not_eligible": "Order(s) {ids} cannot get a {command} right now: {reason}.",
    "not_yours": "Order(s) {ids} are not on your account, so we cannot request a {command} for them.",
    "outcome_done": "The provider confirmed your {command} for order(s) {ids}.",
    "outcome_refused": "The provider says a {command} is not possible for order(s) {ids}: {reason}",
}


class TicketSettings(models.Model):
    """How PanelRelay answers a ticket once its request is decided (one per workspace)."""

    workspace = models.OneToOneField(Workspace, models.CASCADE, related_name="ticket_settings")
    replies_enabled = models.BooleanField(default=True)
    reply_forwarded = models.TextField(default=DEFAULT_REPLIES["forwarded"])
    reply_already = models.TextField(default=DEFAULT_REPLIES["already"])
    reply_not_eligible = models.TextField(default=DEFAULT_REPLIES["not_eligible"])
    reply_not_yours = models.TextField(default=DEFAULT_REPLIES["not_yours"])
    # The second reply, once the provider's outcome is known (done / refused), without naming it.
    reply_outcome_done = models.TextField(default=DEFAULT_REPLIES["outcome_done"])
    reply_outcome_refused = models.TextField(default=DEFAULT_REPLIES["outcome_refused"])

    def __str__(self) -> str:
        return f"ticket settings of {self.workspace}"

    @classmethod
    def of(cls, workspace: Workspace) -> TicketSettings:
        return cls.objects.get_or_create(workspace=workspace)[0]


class TicketIntake(WorkspaceOwned):
    """A customer's ticket message that became a request. The unique key makes it happen once.

    It is claimed (inserted) in the same transaction that creates the request: a second poll,
    another worker or a restarted one hits the constraint and leaves the message alone.
    """

    panel = models.ForeignKey("panels.Panel", models.CASCADE, related_name="+")
    ticket_id = models.CharField(max_length=40)
    message_key = models.CharField(max_length=64)  # the panel's message id, or a digest of its text
    user = models.CharField(max_length=150, blank=True)
    reason = models.CharField(max_length=300, blank=True)  # how the parser read it
    request = models.ForeignKey("forwarding.ForwardRequest", models.SET_NULL, null=True, blank=True, related_name="+")
    created = models.DateTimeField(default=timezone.now)
    reply_started = models.DateTimeField(null=True, blank=True)  # claimed before the reply is posted
    replied_at = models.DateTimeField(null=True, blank=True)
    reply_text = models.TextField(blank=True)
    reply_error = models.CharField(max_length=300, blank=True)
    # Set when a reply (first or outcome) was posted on the ticket: the panel now shows it answered and
    # lists it no more, though the customer may have written before our reply landed. The next poll
    # reads the ticket whole and clears this (if the reply was posted before that read began).
    reread_after = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["panel", "ticket_id", "message_key"], name="ticket_message_once"),
        ]

    def __str__(self) -> str:
        return f"ticket #{self.ticket_id} message {self.message_key}"


class TicketOutcomeReply(models.Model):
    """The second reply on a ticket: what the provider's outcome was, posted once per kind.

    The unique key makes "once" hold whoever runs the job and however often the outcome is
    reported (an answer, then the panel's confirmation, are both *done*). The reply fields are
    TicketIntake's, so both replies are posted by one helper with the same safety.
    """

    DONE, REFUSED = "done", "refused"
    KINDS = [(DONE, "Done"), (REFUSED, "Refused")]

    claim = models.ForeignKey(TicketIntake, models.CASCADE, related_name="outcome_replies")
    kind = models.CharField(max_length=10, choices=KINDS)
    created = models.DateTimeField(default=timezone.now)
    reply_started = models.DateTimeField(null=True, blank=True)  # claimed before the reply is posted
    replied_at = models.DateTimeField(null=True, blank=True)
    reply_text = models.TextField(blank=True)
    reply_error = models.CharField(max_length=300, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["claim", "kind"], name="ticket_outcome_reply_once")]

    def __str__(self) -> str:
        return f"{self.kind} reply on {self.claim}"


def _link_token() -> str:
    return secrets.token_urlsafe(18)


class TelegramLink(models.Model):
    """A staff member's Telegram account, for the team bot. A start token is used once."""

    membership = models.OneToOneField(Membership, models.CASCADE, related_name="telegram_link")
    token = models.CharField(max_length=40, default=_link_token, unique=True)
    token_created = models.DateTimeField(default=timezone.now)
    token_used = models.BooleanField(default=False)
    telegram_user_id = models.CharField(max_length=40, blank=True, db_index=True)
    telegram_name = models.CharField(max_length=200, blank=True)
    linked_at = models.DateTimeField(null=True, blank=True)
    # The panel this member's bot commands go to (/panel, or the profile page); none: the first.
    panel = models.ForeignKey("panels.Panel", models.SET_NULL, null=True, blank=True, related_name="+")

    def __str__(self) -> str:
        return f"telegram link of {self.membership}"

    @property
    def linked(self) -> bool:
        return bool(self.telegram_user_id)

    def new_token(self) -> None:
        self.token, self.token_created, self.token_used = _link_token(), timezone.now(), False


class BotMessage(models.Model):
    """A team-bot command already acted on: an update read twice (two pollers) acts once."""

    connection = models.ForeignKey("transports.Connection", models.CASCADE, related_name="+")
    telegram_user_id = models.CharField(max_length=40)
    message_id = models.CharField(max_length=40)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["connection", "telegram_user_id", "message_id"], name="bot_message_once"),
        ]

    def __str__(self) -> str:
        return f"bot message {self.message_id} from {self.telegram_user_id}"


class TicketPoll(models.Model):
    """Where a panel's adaptive ticket polling stands (intake/polling.py): its bank of polls,
    the last activity seen, the tickets seen last time (to notice a new message), the next poll."""

    panel = models.OneToOneField("panels.Panel", models.CASCADE, related_name="+")
    credits = models.FloatField()
    polled_at = models.DateTimeField(null=True, blank=True)
    active_at = models.DateTimeField(null=True, blank=True)  # the last poll that saw a new ticket or message
    quiet = models.PositiveIntegerField(default=0)  # polls since then
    seen = models.JSONField(default=list, blank=True)  # "ticket:message" of the waiting tickets last read
    next_at = models.DateTimeField(null=True, blank=True)
    seq = models.PositiveBigIntegerField(default=0)  # the poll job chain's number: one next poll per poll

    def __str__(self) -> str:
        return f"ticket polling of panel {self.panel_id}"
