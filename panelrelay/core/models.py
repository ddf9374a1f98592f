"""Shared state every process must see: rate-limit slots."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class RateSlot(models.Model):
    """The earliest moment the next event under `key` may happen (panel calls, messages)."""

    key = models.CharField(max_length=200, unique=True)
    next_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.key} free at {self.next_at:%H:%M:%S.%f}"
