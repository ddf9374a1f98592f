"""Worker jobs of the forwarding engine."""

from __future__ import annotations

from panelrelay.core.logscrub import scrub
from panelrelay.forwarding import exports, state_tally
from panelrelay.forwarding.assembly import assemble_batch, assemble_messages
from panelrelay.forwarding.delivery import deliver_message
from panelrelay.forwarding.engine import process_request
from panelrelay.forwarding.followup import run_follow_ups
from panelrelay.forwarding.models import Export, ForwardRequest, Message, Outcome, RequestOrder
from panelrelay.forwarding.panel_incidents import reconcile as reconcile_panel_incidents
from panelrelay.forwarding.progress import finish_requests
from panelrelay.forwarding.watch import watch_due
from panelrelay.worker.models import Job
from panelrelay.worker.queue import enqueue, renew
from panelrelay.worker.registry import Retry, handler, periodic


@handler("forwarding.process")
def process(job: Job) -> None:
    request = (
        ForwardRequest.objects.select_related("panel", "command", "workspace").filter(pk=job.payload["request"]).first()
    )
    if request is None:  # deleted with its workspace: nothing left to do
        return
    try:
        process_request(request)
    except Retry:
        raise
    except Exception as exc:
        if job.attempts >= job.max_attempts:  # the last try: no order may stay open without a reason
            reason = scrub(f"failed: internal error while processing ({type(exc).__name__})")
            request.orders.exclude(state__in=RequestOrder.FINAL).update(
                state=RequestOrder.FAILED, outcome=Outcome.INTERNAL_ERROR, reason=reason
            )
            finish_requests([request.id])
        raise


@handler("forwarding.assemble")
def assemble(job: Job) -> None:
    """A request's rest that waited MERGE_WINDOW for another request's orders goes out now."""
    request = ForwardRequest.objects.select_related("workspace").filter(pk=job.payload["request"]).first()
    if request is not None:
        assemble_messages(request, merge=False)
        finish_requests([request.id])


@handler("forwarding.assemble_batch")
def assemble_batch_job(job: Job) -> None:
    if job.workspace_id is not None:
        assemble_batch(job.workspace_id, job.payload["batch"])


@handler("forwarding.deliver", express=True)
def deliver(job: Job) -> None:
    message = Message.objects.select_related("destination", "workspace").filter(pk=job.payload["message"]).first()
    if message is None:
        return
    # Claimed by a worker: send only while its lease holds. Run directly (tests): no lease to check.
    deliver_message(message, still_ours=(lambda: renew(job.pk, job.locked_by)) if job.locked_by else None)


@periodic("forwarding.watch", every=60)
def watch(job: Job) -> None:
    """Look at due sent orders on their panels: one batch per panel, then make way for other jobs."""
    if watch_due().more:
        # The rest goes in a job of its own, behind whatever forwarding queued meanwhile.
        enqueue("forwarding.watch", key=f"forwarding.watch:more:{job.pk}", max_attempts=1)


@periodic("forwarding.follow_up", every=60)
def follow_up(job: Job) -> None:
    """Remind, escalate and give up on unanswered sent orders (forwarding/followup.py)."""
    run_follow_ups()


@handler("forwarding.export")
def export_csv(job: Job) -> None:
    """Build a large Activity export into its file (forwarding/exports.py)."""
    found = Export.objects.select_related("workspace").filter(pk=job.payload["export"]).first()
    if found is None or found.state in (Export.READY, Export.FAILED):
        return
    try:
        exports.write_rows(found)
    except Retry:
        raise
    except Exception as exc:
        if job.attempts >= job.max_attempts:
            error = scrub(f"internal error while building the file ({type(exc).__name__})")
            Export.objects.filter(pk=found.pk).update(state=Export.FAILED, error=error)
        raise


@periodic("forwarding.exports_prune", every=3600)
def prune_exports(job: Job) -> None:
    exports.prune()


@periodic("forwarding.panel_incidents", every=60)
def panel_incidents(job: Job) -> None:
    """Open an incident for each panel that keeps failing; close those of panels that work again."""
    reconcile_panel_incidents()


@periodic("forwarding.fold_state_tally", every=60)
def fold_state_tally(job: Job) -> None:
    """Merge the order-state deltas the database's triggers wrote (forwarding/state_tally.py)."""
    state_tally.fold()
