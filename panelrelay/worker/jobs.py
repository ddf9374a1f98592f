"""Housekeeping the worker does: old finished jobs, silent workers and the sign-in throttle's old rows."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from panelrelay.accounts import throttle
from panelrelay.worker.models import Heartbeat, Job
from panelrelay.worker.registry import periodic


@periodic("worker.prune", every=3600)
def prune(job: Job) -> None:
    """Forget finished jobs after a week and workers silent for a day."""
    now = timezone.now()
    Job.objects.filter(state__in=[Job.DONE, Job.FAILED], finished__lt=now - timedelta(days=7)).delete()
    Heartbeat.objects.filter(last_seen__lt=now - timedelta(days=1)).delete()
    throttle.prune()
