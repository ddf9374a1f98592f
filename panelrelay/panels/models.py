"""Panels (the owner's SMM panels) and the providers their orders go to, known by alias only."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import models
from django.utils import timezone

from panelrelay.accounts.models import WorkspaceOwned
from panelrelay.core import crypto
from panelrelay.core.logscrub import register_secret
from panelrelay.panels.adapters.base import PanelAdapter, PanelError
from panelrelay.panels.adapters.registry import adapter_class

# A panel "keeps failing" (panels/health.py) when at least this many lookups in a row failed over at
# least this long: one blip, or a retry or two inside a minute, is not an incident; 7 minutes of
# "Retrying" is.
INCIDENT_FAILURES = 3
INCIDENT_AFTER = timedelta(minutes=5)


class Panel(WorkspaceOwned):
    KINDS = [("pp_v2", "Perfect Panel admin API v2"), ("pp_v1", "Perfect Panel admin API v1 (Rental)")]

    name = models.CharField(max_length=100)
    url = models.URLField(max_length=300)
    kind = models.CharField(max_length=20, choices=KINDS, default="pp_v2")
    api_key_enc = models.TextField()  # crypto.encrypt() of the admin API key; write-only in the UI
    api_key_tail = models.CharField(max_length=8, blank=True)  # last 4 chars, to show ••••1234
    enabled = models.BooleanField(default=True)
    created = models.DateTimeField(default=timezone.now)
    # The last Test connection and Sync providers, shown in the panel's row.
    last_checked = models.DateTimeField(null=True, blank=True)
    check_ok = models.BooleanField(null=True, blank=True)
    check_message = models.CharField(max_length=300, blank=True)
    synced_at = models.DateTimeField(null=True, blank=True)
    sync_message = models.CharField(max_length=300, blank=True)
    sync_ok = models.BooleanField(null=True, blank=True)  # the last sync: None never, False failed (synced_at = tried)
    # Support-ticket polling (intake app): new order requests in tickets are forwarded.
    tickets_enabled = models.BooleanField(default=False)
    tickets_interval = models.PositiveIntegerField(default=60, help_text="Seconds between two reads of the tickets")
    tickets_polled_at = models.DateTimeField(null=True, blank=True)
    tickets_message = models.CharField(max_length=300, blank=True)  # the last poll's result, for the row
    # A run of failed lookups (panels/health.py): how many in a row, since when, the last error.
    # A run that lasts opens an incident (forwarding/panel_incidents.py); a success clears it.
    failures = models.PositiveIntegerField(default=0)
    failing_since = models.DateTimeField(null=True, blank=True)
    failure_message = models.CharField(max_length=300, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "name"], name="panel_name_unique_in_workspace")]

    def __str__(self) -> str:
        return self.name

    def set_api_key(self, key: str) -> None:
        self.api_key_enc = crypto.encrypt(key)
        self.api_key_tail = key[-4:] if len(key) >= 12 else ""

    def keeps_failing(self, now: datetime | None = None) -> bool:
        """Lookups have failed long enough in a row for an incident (forwarding/panel_incidents.py)."""
        if self.failing_since is None or self.failures < INCIDENT_FAILURES:
            return False
        return (now or timezone.now()) - self.failing_since >= INCIDENT_AFTER

    @property
    def api_key_masked(self) -> str:
        return "••••" + self.api_key_tail

    @property
    def check_reason(self) -> str:
        """The last check's sentence without "Panel “Name”: " in front: the row names the panel already."""
        prefix = f"Panel “{self.name}”: "
        text = self.check_message.removeprefix(prefix)
        return text[:1].upper() + text[1:]

    @property
    def rate_key(self) -> str:
        """The panel's key in core.ratelimit: its 5 requests/s are shared by every process."""
        return f"panel:{self.code}"

    def adapter(self) -> PanelAdapter:
        """An adapter for this panel's API kind, holding the decrypted key (never logged)."""
        try:
            key = crypto.decrypt(self.api_key_enc)
        except crypto.DecryptionError:
            # FERNET_KEYS lost or changed: say what to do instead of failing with a traceback.
            raise PanelError(
                f"Panel “{self.name}”: the saved API key cannot be read (the encryption keys changed); "
                "enter the key again under Edit",
                kind="auth",
                temporary=False,
            ) from None
        register_secret(key)
        return adapter_class(self.kind)(name=self.name, base_url=self.url, api_key=key, rate_key=self.rate_key)


class Provider(WorkspaceOwned):
    """A provider panel, by alias. Its domain exists only encrypted (and as a keyed digest)."""

    alias = models.CharField(max_length=60)
    domain_enc = models.TextField()  # crypto.encrypt(normalised domain); decrypted only in match and vault
    domain_hmac = models.CharField(max_length=64)  # crypto.index_hmac(normalised domain, "provider")
    enabled = models.BooleanField(default=True)
    first_seen = models.DateTimeField(default=timezone.now)
    last_seen = models.DateTimeField(default=timezone.now)
    orders_seen = models.PositiveIntegerField(default=0)  # distinct panel orders, see SeenOrder
    # This provider's own reminder delay (hours); None: the workspace's (ForwardingSettings.follow_up_hours).
    follow_up_hours = models.PositiveIntegerField(null=True, blank=True)
    # The panels whose orders used this provider. Empty for a provider the owner added by hand.
    panels = models.ManyToManyField(Panel, related_name="providers", blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "domain_hmac"], name="provider_domain_unique_in_workspace"),
            models.UniqueConstraint(fields=["workspace", "alias"], name="provider_alias_unique_in_workspace"),
        ]

    def __str__(self) -> str:
        return self.alias


class ServiceSeen(models.Model):
    """A service of a panel whose orders went to this provider ("services seen" on Providers)."""

    provider = models.ForeignKey(Provider, models.CASCADE, related_name="services")
    panel = models.ForeignKey(Panel, models.CASCADE, related_name="+")
    service_id = models.CharField(max_length=40)
    name = models.CharField(max_length=300, blank=True)
    orders = models.PositiveIntegerField(default=0)
    last_seen = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["provider", "panel", "service_id"], name="service_seen_unique"),
        ]

    def __str__(self) -> str:
        return f"#{self.service_id} {self.name}"


class SeenOrder(models.Model):
    """A panel order already counted, so that looking it up again does not count it twice."""

    panel = models.ForeignKey(Panel, models.CASCADE, related_name="+")
    order_id = models.CharField(max_length=20)
    provider = models.ForeignKey(Provider, models.SET_NULL, null=True, blank=True, related_name="+")
    seen = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["panel", "order_id"], name="seen_order_unique")]

    def __str__(self) -> str:
        return f"{self.panel_id}:{self.order_id}"


class ProviderTally(models.Model):
    """Counts a lookup saw, waiting to be added to Provider and ServiceSeen (providers.flush_counts).

    A lookup only inserts these rows, so lookups running at once never wait on the same provider
    rows; a `panels.count` job adds them up a few seconds later, provider rows in id order.
    `service_id` "" is the provider's own row (last seen, orders seen); others are its services.
    """

    panel = models.ForeignKey(Panel, models.CASCADE, related_name="+")
    provider = models.ForeignKey(Provider, models.CASCADE, related_name="+")
    service_id = models.CharField(max_length=40, blank=True)
    name = models.CharField(max_length=300, blank=True)
    orders = models.PositiveIntegerField(default=0)  # panel orders seen for the first time
    seen = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.provider_id}/{self.service_id or '-'} +{self.orders}"
