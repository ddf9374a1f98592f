"""What the home page shows: the set-up checklist (owners, until complete) and the dashboard."""

from __future__ import annotations

from typing import Any

from panelrelay.accounts.models import Membership, Workspace
from panelrelay.forwarding.checklist import checklist
from panelrelay.forwarding.dashboard import MIN_ORDERS_FOR_SHARE, dashboard


def home_context(workspace: Workspace, membership: Membership) -> dict[str, Any]:
    steps = checklist(workspace) if membership.is_owner else None
    board = dashboard(workspace.id)
    return {
        "checklist": steps if steps is not None and not steps.complete else None,
        "board": board,
        "charts": [("Requests per day", board.requests, "requests"), ("Orders per day", board.orders, "orders")],
        "min_orders": MIN_ORDERS_FOR_SHARE,
        "can_forward": membership.has("forward"),
    }
