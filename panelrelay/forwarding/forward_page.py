"""The Forward page's choices: which panel is picked first, and what to warn about a panel."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User
from django.utils import timezone

from panelrelay.forwarding.models import ForwardRequest
from panelrelay.panels.models import Panel


def default_panel(user: User | AnonymousUser, panels: list[Panel]) -> Panel | None:
    """The member's last-used panel (still on); else the first working one; never a failed one first.

    "Working" is the last Test connection having succeeded and no run of failed lookups since. With
    none working, a panel never tested comes before one whose test failed; the name breaks ties.
    """
    if not panels:
        return None
    by_id = {p.id: p for p in panels}
    if user.is_authenticated:
        used = (
            ForwardRequest.objects.filter(created_by=user, panel_id__in=list(by_id))
            .order_by("-created")
            .values_list("panel_id", flat=True)
            .first()
        )
        if used is not None:
            return by_id[used]
    return min(panels, key=lambda p: (_rank(p), p.name.casefold()))


def _rank(panel: Panel) -> int:
    if panel.check_ok and panel.failing_since is None:
        return 0
    return 1 if panel.check_ok is not False else 2  # untested, or tested fine but lookups failing since


def warning(panel: Panel) -> str:
    """Why forwarding through this panel may not work now, or "" (the inline warning's text)."""
    if panel.failing_since is not None:
        since = timezone.localtime(panel.failing_since).strftime("%H:%M")
        return (
            f"Lookups on “{panel.name}” have failed since {since} ({panel.failures} in a row: "
            f"{panel.failure_message or 'no answer'}). Orders may wait “Retrying” until it works again."
        )
    if panel.check_ok is False:
        reason = panel.check_reason or "no answer"
        return f"The last check of “{panel.name}” failed: {reason}. Orders may wait “Retrying” until it works again."
    return ""
