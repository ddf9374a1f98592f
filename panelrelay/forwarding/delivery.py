"""Delivery of one message: an attempt row before the send, the result after it.

Temporary failures retry with exponential back-off and jitter, honouring the transport's wait (a
rate limit that names its wait is retried right after it, not backed off);
permanent ones fail at once. A message older than the workspace's maximum age fails with its
last error. The orders in a message always show the message's fate and the reason.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from panelrelay.core import faults
from panelrelay.core.logscrub import scrub
from panelrelay.forwarding.after import first_watch
from panelrelay.forwarding.models import Attempt, ForwardingSettings, Message, Outcome, RequestOrder
from panelrelay.forwarding.progress import finish_requests
from panelrelay.transports.base import TransportError
from panelrelay.transports.models import Destination
from panelrelay.transports.services import deliver, find_sent
from panelrelay.worker.models import Job
from panelrelay.worker.queue import backoff
from panelrelay.worker.registry import Retry

log = logging.getLogger("panelrelay.forwarding")
EARLIER_PART_POLL = 0.05  # seconds after the earlier part's job is due (or while it runs) to look again
# Where a transport cannot tell whether an interrupted send arrived (the Bot API), the resend
# starts with this line, so the provider is never asked twice without being told.
REPEAT_LINE = "⚠️ POSSIBLE REPEAT: a send of this message at {time} UTC was interrupted and may have arrived. If you already have these ids, ignore this one."
NOTE_FOUND = "an interrupted send had arrived: found in the chat, not sent again"
NOTE_NOT_FOUND = "an interrupted send had not arrived: checked the chat, sent once"
NOTE_REPEAT = "an earlier send was interrupted by a worker stop and could not be checked: resent marked as a possible repeat, it may have arrived twice"


def deliver_message(message: Message, still_ours: Callable[[], bool] | None = None) -> None:
    """Send one message, unless its outcome is recorded already.

    `still_ours` is asked right before the send: the worker checks that it still holds the job's
    lease, so a run whose lease ran out (the job is another worker's now) never sends.
    """
    if message.state in (Message.SENT, Message.FAILED):
        return  # a re-run after the outcome was recorded: nothing to do
    # One read of the message's attempts (none, on a first send) answers the three questions below.
    attempts = list(message.attempt_rows.order_by("started"))
    delivered = next((a for a in reversed(attempts) if a.ok), None)
    if delivered is not None:  # a successful attempt is on record (rows from before they were atomic)
        return _sent(message, delivered.remote_id, "")
    if any(a.ok is None for a in attempts):
        _close_interrupted(message)
    options = ForwardingSettings.of(message.workspace)
    destination = message.destination
    if destination is None:
        return _fail(message, "the destination was deleted")
    if timezone.now() - message.created > timedelta(hours=options.max_age_hours):
        return _fail(message, f"gave up after {options.max_age_hours} h; last error: {message.last_error or 'none'}")
    if not destination.enabled:
        return _fail(message, f"destination {destination} was turned off before sending")
    _wait_for_earlier_parts(message, destination)
    if still_ours is not None and not still_ours():
        log.warning("message %s: the job's lease went to another worker; not sending from here", message.pk)
        return
    # The first interrupted attempt (closed just now if it was left open).
    interrupted = next((a for a in attempts if a.ok is None or a.error_kind == "interrupted"), None)
    _send(message, destination, interrupted.started if interrupted else None)


def _wait_for_earlier_parts(message: Message, destination: Destination) -> None:
    """Parts arrive in order: a message waits (Retry) while an earlier one to the same destination
    and command is neither sent nor failed, so part 3 never lands before part 2, even when part
    2's job is waiting for its sending slot or retrying. Reminders and escalations do not queue.

    An earlier message whose job is gone or finished without recording an outcome holds nothing up.
    """
    if message.kind != Message.REQUEST:
        return
    earlier = (
        Message.objects.filter(destination=destination, command_slug=message.command_slug,
                               kind=Message.REQUEST, id__lt=message.id, state__in=(Message.QUEUED, Message.RETRYING))
        .order_by("-id").values_list("id", flat=True).first()
    )  # fmt: skip
    if earlier is None:
        return
    job = Job.objects.filter(key=f"deliver:{earlier}").values_list("state", "run_at").first()
    if job is None or job[0] not in (Job.QUEUED, Job.RUNNING):
        return
    # Due right after the earlier one; a running one is polled shortly.
    due = (job[1] - timezone.now()).total_seconds() if job[0] == Job.QUEUED else 0.0
    raise Retry(max(due, 0.0) + EARLIER_PART_POLL, f"waiting for message {earlier} to go first")


def _send(message: Message, destination: Destination, interrupted_at: datetime | None) -> None:
    text, note = message.text, ""
    if interrupted_at is not None:
        try:
            # A minute of slack: the gateway's clock and ours may disagree a little.
            found = find_sent(destination, message.text, interrupted_at - timedelta(seconds=60))
        except TransportError:
            stamp = interrupted_at.astimezone(UTC).strftime("%H:%M")
            text, note = REPEAT_LINE.format(time=stamp) + "\n" + message.text, NOTE_REPEAT
        else:
            if found is not None:
                with transaction.atomic():
                    Attempt.objects.create(message=message, ok=True, duration_ms=0, remote_id=found[:100],
                                           error_kind="found", error=NOTE_FOUND)  # fmt: skip
                    return _sent(message, found, NOTE_FOUND)
            note = NOTE_NOT_FOUND
    attempt = Attempt.objects.create(message=message)
    started = time.monotonic()
    try:
        remote_id = deliver(destination, text)
        faults.point("forwarding.after_send")  # tests kill the worker here: sent, not recorded
    except TransportError as exc:
        if exc.local:  # our own pacing said "not yet": nothing was sent, nothing to record
            attempt.delete()
            raise Retry(max(exc.retry_after or 1.0, 0.05), "waiting for a free sending slot") from None
        _record(attempt, started, error=exc)
        _failed_attempt(message, exc, str(exc), exc.permanent, exc.retry_after)
    except Exception as exc:  # a bug or an unexpected answer must not leave orders queued forever
        log.exception("delivery of message %s crashed", message.pk)
        reason = scrub(f"{type(exc).__name__}: {exc}")
        _record(attempt, started, kind="crash", message=reason)
        _failed_attempt(message, None, reason, False, None)
    else:
        with transaction.atomic():  # the attempt's success and the message's state, together or not at all
            _record(attempt, started, remote_id=remote_id)
            _sent(message, remote_id, note)


def _record(attempt: Attempt, started: float, error: TransportError | None = None, **fields: str) -> None:
    attempt.duration_ms = int((time.monotonic() - started) * 1000)
    attempt.ok = error is None and "kind" not in fields
    if error is not None:
        attempt.error_kind, attempt.error = error.kind, str(error)[:500]
    else:
        attempt.error_kind = fields.get("kind", "")
        attempt.error = fields.get("message", "")[:500]
        attempt.remote_id = fields.get("remote_id", "")[:100]
    attempt.save()


def _sent(message: Message, remote_id: str, note: str = "") -> None:
    now = timezone.now()
    reason = f"sent to {message.destination_label}" + (f" ({note})" if note else "")
    with transaction.atomic():
        Message.objects.filter(pk=message.pk).update(
            state=Message.SENT, sent_at=now, remote_id=remote_id[:100], attempts=message.attempts + 1, last_error=""
        )
        # A reminder or an escalation re-asks for orders that were sent before: they stay as they are.
        if message.kind == Message.REQUEST:
            message.orders.update(state=RequestOrder.SENT, outcome=Outcome.SENT, sent_at=now, reason=reason[:300],
                                  updated=now, next_watch_at=first_watch(now))  # fmt: skip
    finish_requests(list(message.orders.order_by().values_list("request_id", flat=True).distinct()))


def _failed_attempt(
    message: Message, exc: TransportError | None, reason: str, permanent: bool, retry_after: float | None
) -> None:
    attempts = message.attempts + 1
    if permanent:
        Message.objects.filter(pk=message.pk).update(attempts=attempts)
        return _fail(message, reason)
    if exc is not None and exc.kind == "rate_limited" and retry_after:
        # The service said when (Telegram's 429 retry_after, the slot pushed back for every
        # process): that moment, a little jitter after it, not the back-off of a failure (10 s+).
        wait = retry_after * random.uniform(1.0, 1.2)
    else:
        wait = max(retry_after or 0.0, backoff(attempts, settings.RETRY_BASE_SECONDS))
    next_at = timezone.now() + timedelta(seconds=wait)
    with transaction.atomic():
        Message.objects.filter(pk=message.pk).update(
            state=Message.RETRYING, attempts=attempts, last_error=reason[:500], next_attempt_at=next_at
        )
        local = timezone.localtime(next_at).strftime("%H:%M:%S")
        message.orders.update(state=RequestOrder.RETRYING, outcome=Outcome.SEND_RETRYING,
                              reason=f"retrying at {local}: {reason}"[:300], updated=timezone.now())  # fmt: skip
    raise Retry(wait, reason)


def _fail(message: Message, reason: str) -> None:
    now = timezone.now()
    with transaction.atomic():
        Message.objects.filter(pk=message.pk).update(state=Message.FAILED, last_error=reason[:500])
        message.orders.update(state=RequestOrder.FAILED, outcome=Outcome.DELIVERY_FAILED,
                              reason=f"failed: {reason}"[:300], updated=now)  # fmt: skip
        if message.kind != Message.REQUEST:  # the orders were sent before: they stay sent, the reason says so
            message.covers.update(reason=f"{message.get_kind_display().lower()} failed: {reason}"[:300], updated=now)
    finish_requests(list(message.orders.order_by().values_list("request_id", flat=True).distinct()))


def _close_interrupted(message: Message) -> None:
    """An attempt left open means a worker died during the send: it may have gone out."""
    message.attempt_rows.filter(ok__isnull=True).update(
        ok=False, error_kind="interrupted", error="the worker stopped during this send; it may have been delivered"
    )
