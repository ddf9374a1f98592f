"""Saving a panel tests it and syncs its providers at once, and says plainly what came of it.

An owner who adds a panel must not have to press Test connection to learn that the URL is not a
panel: `verify()` runs Test connection and, when the key works, Sync providers, and returns one
verdict with a headline per kind of failure (a 404 at the panel URL is "no panel API at this
address", never "API key not accepted"). Both results stay on the panel's row (check_ok,
sync_ok), so a failed sync is never shown as a success.
"""

from __future__ import annotations

from dataclasses import dataclass

from panelrelay.core import faults
from panelrelay.panels import services
from panelrelay.panels.adapters.base import ConnectionReport, PanelError
from panelrelay.panels.models import Panel

# What went wrong, by the PanelError kind of the call that judged the key.
HEADLINES = {
    "auth": "API key not accepted",
    "unreachable": "Cannot reach this address",
    "timeout": "The panel did not answer in time",
    "no_api": "No panel API at this address",
    "web_page": "A web page answered, not a panel API",
    "rate_limited": "The panel is limiting our requests",
    "unsupported": "This API kind is not offered here",
}
HINTS = {
    "auth": "Copy the admin API key again from your panel (Settings → API) and save it under Edit.",
    "unreachable": "Check the address for typos and that the panel is online, then press Test connection.",
    "timeout": "The panel may be busy; press Test connection in a minute.",
    "no_api": "Use your panel's own address (e.g. https://yourpanel.com) and check the API kind under Edit.",
    "web_page": "Use your panel's own address, not a shop page or a proxy's error page, then press Test connection.",
    "unsupported": "Choose the other API kind under Edit.",
}


@dataclass(frozen=True)
class Verification:
    report: ConnectionReport
    sync: services.SyncResult | None = None
    sync_error: str = ""

    @property
    def working(self) -> bool:
        return bool(self.report.reachable and self.report.key_accepted)

    @property
    def synced(self) -> bool:
        return self.sync is not None

    @property
    def headline(self) -> str:
        if not self.working:
            return HEADLINES.get(self.report.problem, "The panel's answer could not be used")
        if self.sync_error:
            return "Connected, but Sync providers failed"
        return "Connected and synced"

    @property
    def hint(self) -> str:
        if not self.working:
            return HINTS.get(
                self.report.problem, "Check the URL and the API kind under Edit, then press Test connection."
            )
        if self.sync_error:
            return "Press Sync providers to try again; forwarding still learns providers as orders go out."
        return ""

    @property
    def detail(self) -> str:
        """The adapter's own sentence(s): what was called and what came back."""
        if not self.working:
            return _sentence(self.report.message)
        if self.sync_error:
            return _sentence(self.sync_error)
        return f"{self.report.message} {self.sync.message if self.sync else ''}".strip()


def _sentence(message: str) -> str:
    """ "Panel “Main”: the panel cannot be reached: …" → "The panel cannot be reached: …." (the name is said already)."""
    text = message.split("”: ", 1)[1] if message.startswith("Panel “") and "”: " in message else message
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def verify(panel: Panel) -> Verification:
    """Test connection, then (only when the key works) Sync providers; both are recorded on the row."""
    report = services.check_connection(panel)
    if not (report.reachable and report.key_accepted):
        return Verification(report)
    faults.point("panels.verify.before_sync")  # tests: the panel fails between the test and the sync
    try:
        return Verification(report, sync=services.sync_providers(panel))
    except PanelError as exc:
        return Verification(report, sync_error=str(exc))
