"""The job queue lives in the database: no broker to install or lose."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class Job(models.Model):
    QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
    STATES = [(QUEUED, "Queued"), (RUNNING, "Running"), (DONE, "Done"), (FAILED, "Failed")]

    kind = models.CharField(max_length=60)
    workspace = models.ForeignKey("accounts.Workspace", models.CASCADE, null=True, blank=True, related_name="+")
    payload = models.JSONField(default=dict, blank=True)
    # A unique key makes enqueue idempotent: a periodic task enqueued by two workers for the
    # same time slot, or the same message enqueued twice, exists once.
    key = models.CharField(max_length=200, unique=True, null=True, blank=True)
    state = models.CharField(max_length=10, choices=STATES, default=QUEUED)
    run_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveIntegerField(default=0)
    max_attempts = models.PositiveIntegerField(default=8)
    # A claim is a lease: a worker that dies mid-job leaves locked_until in the past, and
    # the job becomes claimable again. Nothing is lost by a crash.
    locked_by = models.CharField(max_length=100, blank=True)
    locked_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created = models.DateTimeField(default=timezone.now)
    finished = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["state", "run_at"], name="job_due")]

    def __str__(self) -> str:
        return f"{self.kind}#{self.pk} ({self.state})"


class Heartbeat(models.Model):
    worker_id = models.CharField(max_length=100, unique=True)
    hostname = models.CharField(max_length=100)
    pid = models.PositiveIntegerField()
    started = models.DateTimeField(default=timezone.now)
    last_seen = models.DateTimeField(default=timezone.now)
    jobs_done = models.PositiveIntegerField(default=0)
    jobs_failed = models.PositiveIntegerField(default=0)
    stopped = models.BooleanField(default=False)

    def __str__(self) -> str:
        return self.worker_id

    @property
    def alive(self) -> bool:
        return not self.stopped and (timezone.now() - self.last_seen).total_seconds() < 60
