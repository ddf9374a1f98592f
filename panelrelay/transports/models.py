"""Connections (a Telegram bot, a WhatsApp gateway), destinations (a group or number), what the
worker discovered through a connection, one-time Telegram start links, and owner alerts."""

from __future__ import annotations

import secrets

from django.db import models
from django.utils import timezone

from panelrelay.accounts.models import Workspace, WorkspaceOwned
from panelrelay.core import crypto

TELEGRAM_KINDS = ("tg_group", "tg_user")
WHATSAPP_KINDS = ("wa_group", "wa_number")


class Connection(WorkspaceOwned):
    KINDS = [
        ("telegram", "Telegram bot"),
        ("telegram_user", "Telegram user account"),
        ("waha", "WAHA"),
        ("evolution", "Evolution API"),
        ("greenapi", "Green-API"),
    ]
    WORKING, PENDING, BROKEN, UNKNOWN = "working", "pending", "broken", "unknown"
    FAILING = "failing"  # the check may pass, but the last delivery failed for the service's sake

    kind = models.CharField(max_length=20, choices=KINDS)
    name = models.CharField(max_length=100)
    config = models.JSONField(default=dict, blank=True)  # non-secret settings: base URL, session, instance…
    secret_enc = models.TextField(blank=True)  # crypto.encrypt() of the token / API key
    secret_tail = models.CharField(max_length=8, blank=True)
    status = models.CharField(max_length=20, default="unknown")  # working | failing | broken | pending | unknown
    status_message = models.CharField(max_length=300, blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(default=timezone.now)
    # WhatsApp gateways only: the least time between two messages through this connection. The
    # unofficial gateways risk a ban when they send like a bot (WAHA docs: "How to avoid blocking"),
    # so the default is slow.
    pace_seconds = models.FloatField(default=4.0)
    # Telegram only: the getUpdates offset (last update_id + 1), so no update is read twice.
    updates_offset = models.BigIntegerField(default=0)
    # Telegram only: the URL Telegram POSTs updates to when the owner chose a webhook; "" = polling.
    webhook_url = models.CharField(max_length=300, blank=True)
    # WhatsApp gateways and the Telegram user account: how messages written to us arrive
    # (transports.incoming). A bot always receives (getUpdates or its webhook).
    RECEIVE_OFF, RECEIVE_WEBHOOK, RECEIVE_POLL = "", "webhook", "poll"
    RECEIVE_CHOICES = [
        (RECEIVE_OFF, "Off"),
        (RECEIVE_WEBHOOK, "Webhook: the gateway posts to this server"),
        (RECEIVE_POLL, "Polling: this server asks every 30 s (works behind NAT)"),
    ]
    receive = models.CharField(max_length=10, choices=RECEIVE_CHOICES, default=RECEIVE_OFF, blank=True)
    # Where polling stopped, per chat (a timestamp or a message id): nothing is read twice.
    poll_state = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.name}"

    @property
    def is_telegram(self) -> bool:
        return self.kind == "telegram"

    @property
    def is_telegram_user(self) -> bool:
        return self.kind == "telegram_user"

    @property
    def destination_kinds(self) -> tuple[str, ...]:
        return TELEGRAM_KINDS if self.kind in ("telegram", "telegram_user") else WHATSAPP_KINDS

    @property
    def address(self) -> str:
        """Where it connects, for the table: never the secret."""
        config = self.config
        if self.is_telegram:
            bot = f"@{config['username']}" if config.get("username") else "bot (username unknown)"
            return f"{bot} via {config['api_url']}" if config.get("api_url") else bot
        if self.is_telegram_user:
            return f"@{config['username']}" if config.get("username") else "user account (not signed in)"
        if self.kind == "waha":
            return f"{config.get('base_url', '')} · session {config.get('session') or 'default'}"
        if self.kind == "evolution":
            return f"{config.get('base_url', '')} · {config.get('instance', '')}"
        return f"{config.get('api_url', '')} · instance {config.get('id_instance', '')}"

    def set_secret(self, value: str) -> None:
        self.secret_enc = crypto.encrypt(value) if value else ""
        self.secret_tail = value[-4:] if len(value) >= 12 else ""

    def secret(self) -> str:
        return crypto.decrypt(self.secret_enc) if self.secret_enc else ""

    @property
    def secret_masked(self) -> str:
        return "••••" + self.secret_tail if self.secret_enc else "—"


class Destination(WorkspaceOwned):
    KINDS = [
        ("tg_group", "Telegram group"),
        ("tg_user", "Telegram user"),
        ("wa_group", "WhatsApp group"),
        ("wa_number", "WhatsApp number"),
    ]
    SHORT = {"tg_group": "TG", "tg_user": "TG", "wa_group": "WA", "wa_number": "WA"}

    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=20, choices=KINDS)
    target = models.CharField(max_length=200)  # chat id / @name / number@c.us / id@g.us
    connection = models.ForeignKey(Connection, models.PROTECT, related_name="destinations")
    enabled = models.BooleanField(default=True)
    broken = models.BooleanField(default=False)
    broken_reason = models.CharField(max_length=300, blank=True)
    last_delivery_at = models.DateTimeField(null=True, blank=True)
    last_delivery_ok = models.BooleanField(null=True)
    last_delivery_message = models.CharField(max_length=300, blank=True)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "name"], name="destination_name_unique_in_workspace")
        ]

    def __str__(self) -> str:
        return f"{self.SHORT.get(self.kind, '')} · {self.name}"


class DiscoveredChat(WorkspaceOwned):
    """A chat a connection can send to, learnt without anyone typing an id: a group the bot was
    added to (my_chat_member), a user who opened a start link, a WhatsApp gateway's group."""

    connection = models.ForeignKey(Connection, models.CASCADE, related_name="discovered")
    kind = models.CharField(max_length=20, choices=Destination.KINDS)
    chat_id = models.CharField(max_length=200)  # in the form Destination.target takes
    title = models.CharField(max_length=200, blank=True)
    username = models.CharField(max_length=100, blank=True)
    # False once the bot was removed from the group or the user blocked it: kept, greyed out.
    active = models.BooleanField(default=True)
    seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["connection", "chat_id"], name="discovered_chat_unique")]

    def __str__(self) -> str:
        return self.title or self.chat_id


def _start_token() -> str:
    # t.me start parameters allow A-Z a-z 0-9 _ - and at most 64 characters.
    return secrets.token_urlsafe(12)


class StartLink(WorkspaceOwned):
    """A one-time `t.me/<bot>?start=<token>` link: whoever presses Start becomes a pickable user."""

    connection = models.ForeignKey(Connection, models.CASCADE, related_name="start_links")
    token = models.CharField(max_length=64, unique=True, default=_start_token)
    created = models.DateTimeField(default=timezone.now)
    used_at = models.DateTimeField(null=True, blank=True)
    user_id = models.CharField(max_length=40, blank=True)
    user_name = models.CharField(max_length=200, blank=True)

    def __str__(self) -> str:
        return f"start link {self.token[:4]}… ({'used' if self.used_at else 'open'})"


class AlertSettings(models.Model):
    """Where the owner wants to hear about broken destinations and connections."""

    workspace = models.OneToOneField(Workspace, models.CASCADE, related_name="alert_settings")
    destination = models.ForeignKey(Destination, models.SET_NULL, null=True, blank=True, related_name="+")

    def __str__(self) -> str:
        return f"alerts of {self.workspace}"

    @classmethod
    def of(cls, workspace: Workspace) -> AlertSettings:
        return cls.objects.get_or_create(workspace=workspace)[0]


class Incident(WorkspaceOwned):
    """One problem from the moment it starts until something proves it gone. The owner is told
    once per incident: a thousand failed messages to a kicked bot make one alert, not a thousand."""

    key = models.CharField(max_length=200)  # destination:<code> | connection:<code> | quota:<code> | …
    text = models.CharField(max_length=500)
    opened = models.DateTimeField(default=timezone.now)
    closed = models.DateTimeField(null=True, blank=True)
    alerted_at = models.DateTimeField(null=True, blank=True)
    alerted_via = models.CharField(max_length=200, blank=True)  # "TG · My chat", "email", or why not

    class Meta:
        constraints = [
            # At most one open incident per key: the database, not a race, decides who alerts.
            models.UniqueConstraint(
                fields=["workspace", "key"], condition=models.Q(closed__isnull=True), name="one_open_incident_per_key"
            )
        ]
        indexes = [models.Index(fields=["workspace", "-opened"], name="incident_recent")]

    def __str__(self) -> str:
        return f"{self.key} ({'closed' if self.closed else 'open'})"


class ReceivedMessage(models.Model):
    """A gateway message already handed to the receivers (transports.incoming): a retry of the same
    message (webhooks are retried, two pollers may overlap) is dropped at the door."""

    connection = models.ForeignKey(Connection, models.CASCADE, related_name="+")
    message_id = models.CharField(max_length=200)
    received = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["connection", "message_id"], name="received_message_once"),
        ]

    def __str__(self) -> str:
        return f"message {self.message_id} on connection {self.connection_id}"
