"""Owner alerts: an open incident becomes one message to the owner's alert destination.

If there is no alert destination, or it is off, broken or failing for good, the owner gets an
email instead: an alert must never disappear because the channel it should use is the broken one.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone

from panelrelay.accounts.models import Workspace
from panelrelay.transports.base import TransportError
from panelrelay.transports.models import AlertSettings, Destination, Incident
from panelrelay.transports.services import deliver
from panelrelay.worker.registry import Retry

log = logging.getLogger("panelrelay.transports")
GIVE_UP_AFTER = timedelta(hours=1)  # then the alert goes by email rather than wait longer


def alert_text(workspace: Workspace, text: str) -> str:
    return f"⚠ {settings.SITE_NAME} · {workspace.name}\n{text}\n{settings.SITE_URL.rstrip('/')}/destinations/"


def send_incident(incident: Incident) -> None:
    """Deliver the alert of one incident; Retry while its destination is only temporarily unable."""
    destination = AlertSettings.of(incident.workspace).destination
    text = alert_text(incident.workspace, incident.text)
    reason = _unusable(destination)
    if destination is not None and not reason:
        try:
            deliver(destination, text)
            return _done(incident, str(destination))
        except TransportError as exc:
            if not exc.permanent and timezone.now() - incident.opened < GIVE_UP_AFTER:
                wait = exc.retry_after or 0.0  # set whenever exc.local: our own pacing names its wait
                raise Retry(wait if exc.local else max(wait, 60.0), str(exc)) from None
            reason = f"{destination} failed: {exc}"
    _done(incident, f"email ({reason})"[:200] if email_owner(incident.workspace, text) else f"nobody ({reason})"[:200])


def _unusable(destination: Destination | None) -> str:
    if destination is None:
        return "no alert destination chosen"
    if not destination.enabled or destination.broken:
        return f"{destination} is {'broken' if destination.broken else 'turned off'}"
    return ""


def email_owner(workspace: Workspace, text: str) -> bool:
    owner = workspace.owner
    if owner is None or not owner.user.email:
        return False
    subject = f"{settings.SITE_NAME}: a destination, connection or panel needs attention"
    send_mail(subject, text, None, [owner.user.email])
    return True


def _done(incident: Incident, via: str) -> None:
    Incident.objects.filter(pk=incident.pk).update(alerted_at=timezone.now(), alerted_via=via)
    log.info("alert for incident %s sent via %s", incident.pk, via)
