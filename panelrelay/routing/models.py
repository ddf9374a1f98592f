"""Where each order goes: provider routes, service-ID overrides, manual and fallback defaults.

Precedence (shown on the Routing page): 1 service-ID override → 2 provider → 3 manual services
→ 4 fallback. `routing.resolve.Router` applies it.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from panelrelay.accounts.models import Workspace, WorkspaceOwned


class ProviderRoute(WorkspaceOwned):
    provider = models.OneToOneField("panels.Provider", models.CASCADE, related_name="route")
    destination = models.ForeignKey(
        "transports.Destination", models.SET_NULL, null=True, blank=True, related_name="provider_routes"
    )
    enabled = models.BooleanField(default=True)
    # Where an unanswered request goes after the reminder (ForwardingSettings.escalate_hours); off when None.
    backup_destination = models.ForeignKey(
        "transports.Destination", models.SET_NULL, null=True, blank=True, related_name="backup_routes"
    )

    def __str__(self) -> str:
        return f"{self.provider} → {self.destination or '—'}"


class ServiceOverride(WorkspaceOwned):
    service_id = models.CharField(max_length=40)
    service_name = models.CharField(max_length=200, blank=True)
    panel = models.ForeignKey("panels.Panel", models.CASCADE, null=True, blank=True, related_name="+")  # None: all
    destination = models.ForeignKey("transports.Destination", models.CASCADE, related_name="service_overrides")
    enabled = models.BooleanField(default=True)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["service_id"]

    def __str__(self) -> str:
        return f"service {self.service_id} → {self.destination}"


class RoutingDefaults(models.Model):
    workspace = models.OneToOneField(Workspace, models.CASCADE, related_name="routing_defaults")
    manual_destination = models.ForeignKey(
        "transports.Destination", models.SET_NULL, null=True, blank=True, related_name="+"
    )
    fallback_destination = models.ForeignKey(
        "transports.Destination", models.SET_NULL, null=True, blank=True, related_name="+"
    )

    def __str__(self) -> str:
        return f"routing defaults of {self.workspace}"

    @classmethod
    def of(cls, workspace: Workspace) -> RoutingDefaults:
        return cls.objects.get_or_create(workspace=workspace)[0]
