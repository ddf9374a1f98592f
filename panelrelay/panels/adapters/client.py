"""One rate-limited call to a panel, with readable errors: what every panel adapter sends through.

Every call to a panel goes through `PanelClient.call()`: it takes a slot of the panel's
5 requests/s from the database-backed limiter (so every web and worker process shares it),
sends through `core.http`, backs off on HTTP 429, and turns every failure into a `PanelError`
whose message names the panel and never carries a provider domain. `api_error()` does the same
for an error the panel reports inside an HTTP 200 body.
"""

from __future__ import annotations

import html
import re
import time
from typing import Any

from panelrelay.core import http, ratelimit
from panelrelay.panels.adapters import base
from panelrelay.panels.adapters.base import PanelError

# The limit is 5 requests/s per panel (Perfect Panel admin API v2 OpenAPI spec, as public clients
# quote it). We book calls with core.ratelimit.reserve(): at most PANEL_RATE calls in any
# PANEL_WINDOW seconds, shared by every process through the database (docs/DECISIONS.md). The
# window is the panel's second plus PANEL_MARGIN: a call reaches the panel a little after its
# booked moment and that delay varies (waking up, a busy process, the panel's own accept), so
# a strict "5 in any one second" count on the panel's side holds as long as that delay varies
# by less than the margin. Any 5 calls may go at once after a quiet spell; the steady pace is
# 5 per 1.05 s (4.76/s). A 429 pushes the whole window back by its Retry-After.
PANEL_RATE = 5
PANEL_MARGIN = 0.05
PANEL_WINDOW = 1.0 + PANEL_MARGIN
LATE_REBOOK = 0.005  # a call this much later than its booked moment moves its booking
MAX_429_RETRIES = 3  # then give up with a temporary rate_limited error; the caller retries later
DEFAULT_RETRY_AFTER = 1.0  # a 429 without a usable Retry-After
MAX_RETRY_AFTER = 120.0  # never park a panel for longer on one header
SLOT_MAX_WAIT = 30.0  # seconds a caller queues for the panel before giving up

# Anything shaped like a host name, URL or email in a panel's own error text is masked: such
# text may name the provider an order went to, and it ends up on pages staff can read.
_HOSTLIKE = re.compile(
    r"(?i)\b(?:[a-z][a-z0-9+.-]*://)?(?:[^\s@/]+@)?(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{1,62}\b\S*"
)
_TAGS = re.compile(r"<[^>]*>")


def safe_text(text: object, limit: int = 160) -> str:
    """A panel's own error text, fit to show: no markup, no host names, one short line."""
    plain = html.unescape(_TAGS.sub(" ", str(text or "")))
    plain = _HOSTLIKE.sub("[address hidden]", plain)
    plain = " ".join(plain.split())
    return plain if len(plain) <= limit else plain[: limit - 1] + "…"


def retry_after(headers: Any) -> float:
    """Seconds from a Retry-After header (delta-seconds only; dates are rare on APIs)."""
    raw = (headers.get("Retry-After") or "").strip()
    try:
        seconds = float(raw)
    except ValueError:
        return DEFAULT_RETRY_AFTER
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


class PanelClient:
    """HTTP for one adapter: limiter slot → request → status checks → parsed JSON."""

    def __init__(self, adapter: base.PanelAdapter) -> None:
        self.adapter = adapter
        http.client()  # built now, not between taking a slot and sending (it loads the CA bundle)

    def error(self, sentence: str, *, kind: str, temporary: bool, retry_after: float | None = None) -> PanelError:
        return PanelError(
            f"Panel “{self.adapter.name}”: {sentence}", kind=kind, temporary=temporary, retry_after=retry_after
        )

    def call(self, method: str, url: str, **kwargs: Any) -> tuple[Any, int]:
        """The parsed JSON answer and the round-trip time in ms. Raises PanelError."""
        for attempt in range(MAX_429_RETRIES + 1):
            self._take_slot()
            try:
                result = http.request(method, url, **kwargs)
            except http.OutboundError as exc:
                raise self._outbound_error(exc) from None
            if result.status != 429:
                return self._parse(result), result.elapsed_ms
            wait = retry_after(result.headers)
            # Everyone calling this panel waits, not only this caller: that is what the panel asked.
            ratelimit.push_back(self.adapter.rate_key, wait, count=PANEL_RATE)
            if attempt == MAX_429_RETRIES:
                raise self.error(
                    "the panel is limiting our requests (HTTP 429); we will try again shortly",
                    kind="rate_limited",
                    temporary=True,
                    retry_after=wait or DEFAULT_RETRY_AFTER,
                )
        raise AssertionError("unreachable")  # pragma: no cover

    def _take_slot(self) -> None:
        key = self.adapter.rate_key
        booking = ratelimit.book(key, PANEL_RATE, PANEL_WINDOW, max_wait=SLOT_MAX_WAIT)
        if booking is None:
            raise self.error(
                "too many requests are waiting for this panel; try again in a minute",
                kind="rate_limited",
                temporary=True,
                retry_after=SLOT_MAX_WAIT,
            )
        if booking.wait > 0:
            time.sleep(booking.wait)
        # Woken late (a busy machine): the call goes later than booked, so it must leave the
        # window later too, or the fifth call after it could reach the panel within its second.
        late = time.monotonic() - booking.due
        if late > LATE_REBOOK:
            ratelimit.rebook(PANEL_WINDOW, booking, late)

    def _outbound_error(self, exc: http.OutboundError) -> PanelError:
        if exc.kind == "timeout":
            return self.error(f"the panel did not answer in time ({exc})", kind="timeout", temporary=True)
        if exc.kind in ("blocked", "invalid_url"):
            return self.error(f"we cannot call this address: {exc}", kind="unreachable", temporary=False)
        return self.error(f"the panel cannot be reached: {exc}", kind="unreachable", temporary=True)

    def _parse(self, result: http.Result) -> Any:
        text = result.text.strip()
        status = result.status
        if status in (401, 403):
            return self._raise(f"the API key was not accepted (HTTP {status})", "auth", False)
        looks_html = "html" in result.headers.get("Content-Type", "").lower() or text[:1] == "<"
        if looks_html:
            return self._raise(
                f"the panel answered with a web page instead of API data (HTTP {status}); "
                "the panel or its proxy may be down, or the URL is not the panel's address",
                "web_page",
                True,
            )
        if status == 404:
            return self._raise(
                "there is no panel API at this address (HTTP 404); check the panel URL and the API kind",
                "no_api",
                False,
            )
        if status >= 500:
            return self._raise(f"the panel had a server error (HTTP {status})", "bad_response", True)
        if not text:
            return self._raise(f"the panel sent an empty answer (HTTP {status})", "bad_response", True)
        try:
            body = result.json()
        except ValueError:
            return self._raise("the panel's answer is not valid JSON (cut off or garbled)", "bad_response", True)
        if status >= 400 and not isinstance(body, dict):
            return self._raise(f"the panel refused the request (HTTP {status})", "api_error", False)
        return body

    def _raise(self, sentence: str, kind: str, temporary: bool) -> Any:
        raise self.error(sentence, kind=kind, temporary=temporary)


# ----- error text from an API body -----------------------------------------------------

_AUTH_WORDS = re.compile(r"(?i)\b(api[ _-]?key|key|auth\w*|token|unauthori[sz]ed|forbidden|bad_auth)\b")
_NOT_FOUND_WORDS = re.compile(r"(?i)not[ _-]?found|incorrect order|no such")


def api_error(client: PanelClient, message: object, code: object = None) -> PanelError:
    """A PanelError for an error the panel reported in its body (HTTP 200 with an error)."""
    text = safe_text(message) or "no reason given"
    suffix = f" (error code {safe_text(code, 12)})" if code not in (None, "") else ""
    if str(code) == "1" or _AUTH_WORDS.search(text):
        return client.error(f"the API key was not accepted: “{text}”{suffix}", kind="auth", temporary=False)
    if str(code) == "2" or _NOT_FOUND_WORDS.search(text):
        return client.error(f"not found: “{text}”{suffix}", kind="not_found", temporary=False)
    return client.error(f"the panel reported an error: “{text}”{suffix}", kind="api_error", temporary=True)
