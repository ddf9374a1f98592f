"""Requests, their orders, the messages that carry them, and every delivery attempt.

The story of one order reads across these rows: RequestOrder (what the panel said, which rule
routed it, its state and reason) → Message (the text sent to a destination) → Attempt (each try,
with its duration and the transport's answer).
"""

from __future__ import annotations

from typing import Self

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from panelrelay.accounts.models import Workspace, WorkspaceOwned

# Statuses each built-in command accepts by default (normalised statuses, panels/adapters/base.py).
DEFAULT_COMMANDS = [
    # slug, label, message word, eligible statuses
    ("refill", "Refill", "REFILL", ["completed", "partial"]),
    ("cancel", "Cancel", "CANCEL", ["pending", "in_progress", "processing"]),
    ("speed_up", "Speed up", "SPEED UP", ["pending", "in_progress", "processing"]),
    ("partial", "Partial", "PARTIAL", ["pending", "in_progress", "processing"]),
]


class Command(WorkspaceOwned):
    slug = models.SlugField(max_length=40)
    label = models.CharField(max_length=40)
    word = models.CharField(max_length=60, help_text="The first line of the message, e.g. REFILL")
    statuses = models.JSONField(default=list, help_text="Order statuses this command may be forwarded for")
    builtin = models.BooleanField(default=False)
    enabled = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=0)
    # The owner's own phrases for this command in tickets (comma or newline separated), added to
    # the built-in English ones of reading.parser: "рефил, докрут*, ری فیل".
    keywords = models.TextField(blank=True)

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["workspace", "slug"], name="command_slug_unique_in_workspace")]

    def __str__(self) -> str:
        return self.label

    @property
    def keyword_list(self) -> list[str]:
        return [p.strip() for p in self.keywords.replace("\n", ",").split(",") if p.strip()]

    @classmethod
    def for_workspace(cls, workspace: Workspace) -> list[Self]:
        """The workspace's commands, creating the four built-in ones on first use."""
        commands = list(cls.objects.filter(workspace=workspace))
        if not commands:
            for pos, (slug, label, word, statuses) in enumerate(DEFAULT_COMMANDS):
                cls.objects.get_or_create(
                    workspace=workspace,
                    slug=slug,
                    defaults=dict(label=label, word=word, statuses=statuses, builtin=True, position=pos),
                )
            commands = list(cls.objects.filter(workspace=workspace))
        return commands


class ForwardingSettings(models.Model):
    workspace = models.OneToOneField(Workspace, models.CASCADE, related_name="forwarding_settings")
    cooldown_hours = models.PositiveIntegerField(default=12)
    # After the message: a reminder to the same chat when neither the provider nor the panel said
    # anything for this long (0 = never), then the provider's backup destination and an alert
    # after `escalate_hours` more; the panel's status is watched for `watch_days`.
    follow_up_hours = models.PositiveIntegerField(default=6, help_text="Remind the provider after this long (0: never)")
    escalate_hours = models.PositiveIntegerField(default=12, help_text="Then escalate after this much longer")
    watch_days = models.PositiveIntegerField(default=3, help_text="Watch the panel's status of sent orders this long")
    # The owner's words for reading providers' answers, added to reading.answers.DEFAULT_WORDS.
    answer_done_words = models.TextField(blank=True)
    answer_refused_words = models.TextField(blank=True)
    answer_working_words = models.TextField(blank=True)
    include_panel_ids = models.BooleanField(default=False, help_text="Add the panel order id beside each external id")
    max_age_hours = models.PositiveIntegerField(default=24, help_text="Give up delivering a message after this long")
    refill_guarantee = models.BooleanField(
        default=True, help_text="Skip a refill once the refill period in the service name has ended"
    )

    def __str__(self) -> str:
        return f"forwarding settings of {self.workspace}"

    @classmethod
    def of(cls, workspace: Workspace) -> ForwardingSettings:
        return cls.objects.get_or_create(workspace=workspace)[0]


class MessageTemplate(WorkspaceOwned):
    """Text of the message for a destination and/or command; the most specific one wins."""

    destination = models.ForeignKey("transports.Destination", models.CASCADE, null=True, blank=True, related_name="+")
    command = models.ForeignKey(Command, models.CASCADE, null=True, blank=True, related_name="+")
    text = models.TextField()

    def __str__(self) -> str:
        return f"template for {self.destination or 'any destination'} / {self.command or 'any command'}"


class ForwardRequest(WorkspaceOwned):
    """One request to forward a command for a list of panel orders (from the Forward page, the API,
    a ticket or the team bot); named apart from the HTTP `request` every view also holds."""

    MANUAL, TICKET, API, BOT, CUSTOMER = "manual", "ticket", "api", "bot", "customer"
    SOURCES = [(MANUAL, "Manual"), (TICKET, "Ticket"), (API, "API"), (BOT, "Team bot"), (CUSTOMER, "Customer chat")]

    panel = models.ForeignKey("panels.Panel", models.SET_NULL, null=True, related_name="+")
    panel_name = models.CharField(max_length=100)  # kept when the panel is deleted
    command = models.ForeignKey(Command, models.SET_NULL, null=True, related_name="+")
    command_label = models.CharField(max_length=40)
    note = models.CharField(max_length=500, blank=True)
    force = models.BooleanField(default=False)  # skip the cooldown (owners only)
    source = models.CharField(max_length=10, choices=SOURCES, default=MANUAL)
    source_ref = models.CharField(max_length=100, blank=True)  # e.g. the ticket id
    # A ticket's author: only their own orders are forwarded (engine.Decider). Empty otherwise.
    ticket_user = models.CharField(max_length=150, blank=True)
    # Requests of one ticket poll share a batch: their messages are assembled together, so two
    # tickets to the same destination and command become one message (assembly.assemble_batch).
    batch = models.CharField(max_length=40, blank=True, db_index=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+")
    created = models.DateTimeField(default=timezone.now, db_index=True)
    total = models.PositiveIntegerField(default=0)
    finished = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "forwarding_request"  # the table of its first name, Request
        ordering = ["-created"]
        # Activity's page: a workspace's requests newest first, read from the index (forwarding/activity.py).
        indexes = [models.Index(fields=["workspace", "-created", "-id"], name="fr_ws_created")]

    def __str__(self) -> str:
        return f"{self.command_label} × {self.total} ({self.panel_name})"

    @property
    def source_text(self) -> str:
        """ "Manual", "Ticket #501", "API", "Team bot": how Activity names where it came from."""
        if self.source == self.TICKET and self.source_ref:
            return f"Ticket #{self.source_ref}"
        return self.get_source_display()

    @property
    def ticket_url(self) -> str:
        """The ticket in the panel's admin, for ticket requests. Perfect Panel's admin path is a
        guess from public clients (they link /admin/tickets/view/{id}); the text says the id anyway."""
        if self.source != self.TICKET or not self.source_ref.isdigit() or self.panel is None:
            return ""
        return f"{self.panel.url.rstrip('/')}/admin/tickets/view/{self.source_ref}"


class Progress(models.TextChoices):
    """What happened after an order was sent (RequestOrder.progress); "" while nothing has."""

    NONE = "", "Sent"
    ANSWERED = "answered", "Answered"
    CONFIRMED = "confirmed", "Confirmed by panel"
    FOLLOW_UP = "follow_up", "Follow-up sent"
    ESCALATED = "escalated", "Escalated"
    NO_ANSWER = "no_answer", "No answer"


class AnswerKind(models.TextChoices):
    DONE = "done", "Done"
    REFUSED = "refused", "Refused"
    WORKING = "working", "Working"
    OTHER = "other", "Other"


class Outcome(models.TextChoices):
    """Why an order is where it is, as a code: what ticket replies, filters, the CSV, the API and the
    charts read. The sentence beside it (RequestOrder.reason) is for people and may be reworded."""

    LOOKING_UP = "looking_up", "Being looked up"
    LOOKUP_RETRYING = "lookup_retrying", "Panel lookup failed for now, retrying"
    LOOKUP_FAILED = "lookup_failed", "Panel lookup failed"
    PANEL_UNAVAILABLE = "panel_unavailable", "Panel deleted or turned off"
    NOT_FOUND = "not_found", "Not found in the panel"
    NOT_YOURS = "not_yours", "Not the ticket author's order"
    NO_EXTERNAL_ID = "no_external_id", "No external id from the panel"
    PROVIDER_OFF = "provider_off", "Provider turned off"
    COMMAND_DELETED = "command_deleted", "Command deleted"
    STATUS_NOT_ALLOWED = "status_not_allowed", "Order status does not allow the command"
    NO_REFILL = "no_refill", "The service has no refill"
    GUARANTEE_ENDED = "guarantee_ended", "Refill period ended"
    IN_PROGRESS = "in_progress", "Already being forwarded"
    COOLDOWN = "cooldown", "Already requested (cooldown)"
    NO_ROUTE = "no_route", "No route to a destination"
    # Waiting (RequestOrder.WAITING): nothing routes the order yet; it goes out once the owner sets a
    # route and confirms ("send now"), never silently. Not final: the request waits with it.
    NEEDS_ROUTE = "needs_route", "Needs a route"
    DESTINATION_OFF = "destination_off", "Destination turned off"
    DESTINATION_BROKEN = "destination_broken", "Destination broken"
    ROUTED = "routed", "Routed, waiting for its message"
    IN_MESSAGE = "in_message", "In a message, waiting to be sent"
    SEND_RETRYING = "send_retrying", "Delivery failed for now, retrying"
    SENT = "sent", "Sent"
    DELIVERY_FAILED = "delivery_failed", "Delivery failed"
    INTERNAL_ERROR = "internal_error", "Internal error"
    # After the message (Progress): what the provider answered, what the panel shows, our follow-ups.
    ANSWERED_DONE = "answered_done", "Provider says done"
    ANSWERED_REFUSED = "answered_refused", "Provider refused"
    ANSWERED_WORKING = "answered_working", "Provider is working on it"
    ANSWERED_OTHER = "answered_other", "Provider answered"
    CONFIRMED = "confirmed", "Confirmed by the panel"
    FOLLOW_UP_SENT = "follow_up_sent", "Reminder sent to the provider"
    ESCALATED = "escalated", "Escalated to the backup destination"
    NO_ANSWER = "no_answer", "No answer from the provider"


class RequestOrder(models.Model):
    PENDING, QUEUED, SENT, SKIPPED, FAILED, RETRYING = "pending", "queued", "sent", "skipped", "failed", "retrying"
    WAITING = "waiting"  # no route yet: waits for the owner to set one and press "send now"
    STATES = [
        (PENDING, "Looking up"),
        (QUEUED, "Queued"),
        (RETRYING, "Retrying"),
        (WAITING, "Needs a route"),
        (SENT, "Sent"),
        (SKIPPED, "Skipped"),
        (FAILED, "Failed"),
    ]
    FINAL = (SENT, SKIPPED, FAILED)

    # Foreign keys without an index of their own where a composite index starts with the column
    # (Meta.indexes), or with a partial one (the column is NULL until later): every index is written
    # for each of the 10,000 rows of a request and again at each state change (migration 0014).
    request = models.ForeignKey(ForwardRequest, models.CASCADE, related_name="orders", db_index=False)
    workspace = models.ForeignKey(Workspace, models.CASCADE, related_name="+", db_index=False)
    panel_order_id = models.CharField(max_length=40)
    command_slug = models.CharField(max_length=40)
    state = models.CharField(max_length=10, choices=STATES, default=PENDING)
    outcome = models.CharField(max_length=30, choices=Outcome.choices, default=Outcome.LOOKING_UP)
    reason = models.CharField(max_length=300, blank=True)
    looked_up = models.BooleanField(default=False)
    external_id = models.CharField(max_length=100, blank=True)
    provider = models.ForeignKey(
        "panels.Provider", models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )
    provider_alias = models.CharField(max_length=60, blank=True)
    manual = models.BooleanField(default=False)
    service_id = models.CharField(max_length=40, blank=True)
    service_name = models.CharField(max_length=200, blank=True)
    status_label = models.CharField(max_length=40, blank=True)
    customer = models.CharField(max_length=150, blank=True)
    destination = models.ForeignKey(
        "transports.Destination", models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )
    destination_label = models.CharField(max_length=120, blank=True)
    rule = models.PositiveSmallIntegerField(null=True, blank=True)
    message = models.ForeignKey(
        "Message", models.SET_NULL, null=True, blank=True, related_name="orders", db_index=False
    )
    sent_at = models.DateTimeField(null=True, blank=True)
    updated = models.DateTimeField(default=timezone.now)
    # After the message (issue "close the loop"): the provider's answer (masked), what the panel
    # shows, our reminder and escalation. `progress` says where the order stands now.
    progress = models.CharField(max_length=12, choices=Progress.choices, default=Progress.NONE, blank=True)
    answer_kind = models.CharField(max_length=10, choices=AnswerKind.choices, blank=True)
    answer_text = models.CharField(max_length=500, blank=True)  # masked: no provider domain, ever
    answered_at = models.DateTimeField(null=True, blank=True)
    watched_status = models.CharField(max_length=40, blank=True)  # the panel's status at the last watch
    watched_remains = models.CharField(max_length=20, blank=True)
    watched_at = models.DateTimeField(null=True, blank=True)
    watch_count = models.PositiveSmallIntegerField(default=0)
    next_watch_at = models.DateTimeField(null=True, blank=True)  # None: not (or no longer) watched
    confirmed_at = models.DateTimeField(null=True, blank=True)
    follow_up_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["workspace", "panel_order_id"], name="ro_panel_order"),
            models.Index(fields=["workspace", "external_id"], name="ro_external"),
            models.Index(fields=["request", "state"], name="ro_request_state"),
            models.Index(fields=["workspace", "outcome"], name="ro_outcome"),
            models.Index(fields=["workspace", "progress"], name="ro_progress"),
            # Partial: NULL until the order is sent (or routed, or in a message), and no query looks for
            # the NULLs through them (a comparison or `= id` implies NOT NULL, on both databases).
            models.Index(fields=["next_watch_at"], name="ro_next_watch", condition=Q(next_watch_at__isnull=False)),
            models.Index(fields=["message"], name="ro_message", condition=Q(message__isnull=False)),
            models.Index(fields=["destination"], name="ro_destination", condition=Q(destination__isnull=False)),
            models.Index(fields=["workspace", "updated"], name="ro_ws_updated"),  # the dashboard's tally refresh
            # Activity's tab counts, counted from the index alone (forwarding/activity.py).
            models.Index(fields=["workspace", "state", "progress"], name="ro_ws_state"),
            models.Index(fields=["workspace", "provider", "state", "progress"], name="ro_ws_provider_state"),
            models.Index(fields=["request", "provider"], name="ro_request_provider"),
            # The Providers page's scorecard column: a provider's orders sent in the last days.
            models.Index(fields=["provider", "state", "sent_at"], name="ro_provider_sent"),
        ]

    def __str__(self) -> str:
        return f"order {self.panel_order_id} ({self.state})"

    @property
    def final(self) -> bool:
        return self.state in self.FINAL


class Message(WorkspaceOwned):
    QUEUED, SENT, RETRYING, FAILED = "queued", "sent", "retrying", "failed"
    STATES = [(QUEUED, "Queued"), (SENT, "Sent"), (RETRYING, "Retrying"), (FAILED, "Failed")]

    destination = models.ForeignKey("transports.Destination", models.SET_NULL, null=True, related_name="messages")
    destination_label = models.CharField(max_length=120)
    command_slug = models.CharField(max_length=40)
    text = models.TextField()
    part = models.PositiveSmallIntegerField(default=1)
    parts = models.PositiveSmallIntegerField(default=1)
    state = models.CharField(max_length=10, choices=STATES, default=QUEUED)
    created = models.DateTimeField(default=timezone.now)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    remote_id = models.CharField(max_length=100, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # A reminder or an escalation re-asks for orders that belong to earlier messages: `covers`.
    REQUEST, REMINDER, ESCALATION = "request", "reminder", "escalation"
    KINDS = [(REQUEST, "Request"), (REMINDER, "Reminder"), (ESCALATION, "Escalation")]
    kind = models.CharField(max_length=12, choices=KINDS, default=REQUEST)
    covers = models.ManyToManyField(RequestOrder, related_name="reminders", blank=True)

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.command_slug} to {self.destination_label} ({self.state})"


class Attempt(models.Model):
    """One try to deliver a message: written before the send, completed after it."""

    message = models.ForeignKey(Message, models.CASCADE, related_name="attempt_rows")
    started = models.DateTimeField(default=timezone.now)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    ok = models.BooleanField(null=True)  # None: the worker died during the send
    error_kind = models.CharField(max_length=30, blank=True)
    error = models.CharField(max_length=500, blank=True)
    remote_id = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["started"]

    def __str__(self) -> str:
        return f"attempt at {self.started:%H:%M:%S} ({'ok' if self.ok else self.error_kind or 'open'})"


class Export(WorkspaceOwned):
    """A CSV of Activity's orders too large for one response, built by a worker job into a file the
    member who asked downloads until it expires (forwarding/exports.py)."""

    QUEUED, RUNNING, READY, FAILED = "queued", "running", "ready", "failed"
    STATES = [(QUEUED, "Waiting for a worker"), (RUNNING, "Being built"), (READY, "Ready"), (FAILED, "Failed")]

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="+")
    filters = models.JSONField(default=dict, blank=True)  # Activity's clean query parameters
    state = models.CharField(max_length=10, choices=STATES, default=QUEUED)
    rows_total = models.PositiveIntegerField(default=0)  # an estimate taken when asked
    rows_done = models.PositiveIntegerField(default=0)
    size = models.PositiveBigIntegerField(default=0)
    error = models.CharField(max_length=300, blank=True)
    created = models.DateTimeField(default=timezone.now)
    finished = models.DateTimeField(null=True, blank=True)
    expires = models.DateTimeField()

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"export {self.code} ({self.state})"

    @property
    def percent(self) -> int:
        if self.state == self.READY:
            return 100
        return min(99, int(100 * self.rows_done / self.rows_total)) if self.rows_total else 0


class DailyTally(models.Model):
    """One day of one workspace's orders, counted once (forwarding/tally.py), so the home dashboard
    reads ~100 small rows a day instead of every order: orders and answers by (request's command,
    provider alias, state, outcome), and the durations request → sent and sent → answer as
    histograms ({bucket: count}, tally.bucket()) from which a month's medians are taken."""

    workspace = models.ForeignKey(Workspace, models.CASCADE, related_name="+")
    day = models.DateField()
    command_label = models.CharField(max_length=40)
    provider_alias = models.CharField(max_length=60, blank=True)
    state = models.CharField(max_length=10)
    outcome = models.CharField(max_length=30)
    orders = models.PositiveIntegerField(default=0)
    answered = models.PositiveIntegerField(default=0)
    to_sent = models.JSONField(default=dict, blank=True)
    to_answer = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [models.Index(fields=["workspace", "day"], name="tally_ws_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.command_label}/{self.provider_alias}/{self.state}: {self.orders}"


class TallyDay(models.Model):
    """A day whose DailyTally rows are built; deleted when one of its orders changes afterwards."""

    workspace = models.ForeignKey(Workspace, models.CASCADE, related_name="+")
    day = models.DateField()
    built = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "day"], name="tally_day_unique")]

    def __str__(self) -> str:
        return f"tally {self.workspace_id} {self.day}"


class TallyMark(models.Model):
    """Up to when a workspace's changed orders were looked at (their days' tallies dropped)."""

    workspace = models.OneToOneField(Workspace, models.CASCADE, related_name="+")
    checked_until = models.DateTimeField()

    def __str__(self) -> str:
        return f"tally mark {self.workspace_id} {self.checked_until}"


class StateTally(models.Model):
    """How many orders of a workspace are in each (state, progress): Activity's tab counts without
    counting a million orders per view. Written by database triggers only (migration
    0011_state_tally): each insert, update or delete of orders adds a row of +/- deltas, in the same
    transaction as the change, so a count is exactly as committed as the orders are; rows are only
    ever inserted, so concurrent workers never wait for each other or deadlock on a counter. A worker
    job folds the deltas into one row per key every minute (forwarding/tally_counts.py)."""

    ws = models.BigIntegerField(db_index=True)  # the workspace's id; no foreign key: a trigger writes it
    state = models.CharField(max_length=10)
    progress = models.CharField(max_length=12, blank=True)
    n = models.BigIntegerField()

    def __str__(self) -> str:
        return f"{self.ws}: {self.state}/{self.progress} {self.n:+d}"
