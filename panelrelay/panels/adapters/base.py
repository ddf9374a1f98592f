"""The contract every panel adapter fulfils.

An adapter talks to one panel's admin API and returns `PanelOrder`s in one normalised shape,
whatever the panel's envelope, status encoding or number types. It raises `PanelError` for
everything that went wrong, with a message that names the panel and never a provider domain.

`PanelOrder.provider_domain` is the only place a provider domain exists in clear outside the
vault. It is consumed by `panels.providers.match()` (which turns it into a `Provider` with an
alias) and must not be stored, logged, rendered or passed further.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

# Normalised order statuses. Adapters map whatever the panel sends onto these.
PENDING = "pending"
IN_PROGRESS = "in_progress"
PROCESSING = "processing"
COMPLETED = "completed"
PARTIAL = "partial"
CANCELED = "canceled"
FAILED = "failed"
REFUNDED = "refunded"
UNKNOWN = "unknown"
STATUS_LABELS = {
    PENDING: "Pending",
    IN_PROGRESS: "In progress",
    PROCESSING: "Processing",
    COMPLETED: "Completed",
    PARTIAL: "Partial",
    CANCELED: "Canceled",
    FAILED: "Fail",
    REFUNDED: "Refunded",
    UNKNOWN: "Unknown",
}

AUTO = "auto"
MANUAL = "manual"


@dataclass(frozen=True)
class PanelOrder:
    id: str  # the panel's order id, as text
    external_id: str | None  # the provider's order id; None when the panel has none
    provider_domain: str | None = field(repr=False)  # raw, from the API; None/"" for manual orders
    service_id: str | None
    service_name: str
    status: str  # one of the normalised statuses above
    mode: str  # AUTO or MANUAL (manual = mode Manual OR no provider)
    quantity: int | None = None
    created: datetime | None = None
    user: str | None = None  # the panel customer's username (ownership checks)
    link: str = ""
    remains: int | None = None  # what is left to deliver, as the panel counts it (watching sent orders)

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)


@dataclass(frozen=True)
class TicketMessage:
    id: str  # the panel's message id, or "" when it sends none
    sender: str  # the customer's username, or a staff name ("support")
    text: str
    created: datetime | None = None


@dataclass(frozen=True)
class PanelTicket:
    id: str
    user: str  # the customer's username: orders in the ticket must be theirs
    subject: str
    status: str  # as the panel says it ("Pending", "Answered", "Closed", …)
    messages: list[TicketMessage] = field(default_factory=list)  # oldest first; [] from list_tickets


@dataclass
class Capability:
    name: str  # e.g. "Order by id", "Many orders at once", "Tickets"
    ok: bool
    detail: str = ""
    offered: bool = True  # False: the panel does not have it at all (an optional feature, not a fault)


@dataclass
class ConnectionReport:
    reachable: bool
    key_accepted: bool | None  # None: the panel answered before the key was judged (not checked)
    capabilities: list[Capability]
    round_trip_ms: int | None
    message: str  # one plain sentence for the owner
    # Why the check failed, as a PanelError kind ("" when it worked): unreachable, timeout, auth,
    # no_api (HTTP 404: nothing at the API path), web_page (HTML instead of API data), …
    problem: str = ""


class PanelError(Exception):
    """A panel call failed. `temporary` says whether trying later may help."""

    def __init__(self, message: str, *, kind: str, temporary: bool, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.kind = (
            kind  # unreachable | timeout | rate_limited | auth | bad_response | no_api (HTTP 404) | web_page
            # | api_error | not_found | unsupported
        )
        self.temporary = temporary
        self.retry_after = retry_after


class PanelAdapter:
    """Base class of the adapters in panels/adapters/<kind>/."""

    kind: str = ""
    label: str = ""
    batch_size: int = 100

    def __init__(self, *, name: str, base_url: str, api_key: str, rate_key: str) -> None:
        self.name = name  # used in error messages: "Panel “Main”: …"
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.rate_key = rate_key  # identifies the panel for the shared 5 requests/s limiter

    def get_orders(self, ids: list[str]) -> dict[str, PanelOrder]:
        """Orders by panel id, fetched in batches of ≤ batch_size. Unknown ids are absent."""
        raise NotImplementedError

    def get_order(self, order_id: str) -> PanelOrder | None:
        raise NotImplementedError

    def recent_orders(self, limit: int = 1000) -> list[PanelOrder]:
        """The newest orders, for provider discovery (Sync providers). [] if the API cannot list."""
        raise NotImplementedError

    def provider_domains(self) -> list[str]:
        """Provider domains the panel lists itself (v1 `getProviders`); [] when the API has no list.

        Like `PanelOrder.provider_domain`, the result goes straight to `panels.providers`.
        """
        return []

    def list_tickets(self, limit: int = 100) -> list[PanelTicket]:
        """Tickets waiting for staff (the customer wrote last), newest first, without messages."""
        raise self._no_tickets()

    def get_ticket(self, ticket_id: str) -> PanelTicket | None:
        """One ticket with its messages, or None when the panel does not know it."""
        raise self._no_tickets()

    def reply_ticket(self, ticket_id: str, text: str) -> None:
        """Post a staff reply on the ticket."""
        raise self._no_tickets()

    def _no_tickets(self) -> PanelError:
        return PanelError(
            f"Panel “{self.name}”: tickets are not supported by this API kind", kind="unsupported", temporary=False
        )

    def test_connection(self) -> ConnectionReport:
        raise NotImplementedError
