"""What the transports share: one way to call a service and to read its answer."""

from __future__ import annotations

from typing import Any

from panelrelay.core import http
from panelrelay.core.http import OutboundError, Result
from panelrelay.transports.base import TransportError

CHECK_TIMEOUT = 8.0  # status checks and pickers run while a person waits


def call(method: str, url: str, *, service: str, timeout: float | None = None, **kwargs: Any) -> Result:
    """http.request() with "could not reach it" turned into a TransportError.

    A refused address (private network, bad scheme) is the connection's fault and will not
    change by waiting, so it counts as auth_failed: the connection is marked broken.
    """
    try:
        return http.request(method, url, timeout=timeout, **kwargs)
    except OutboundError as exc:
        if exc.kind in ("invalid_url", "blocked"):
            raise TransportError(f"{service} address refused: {exc}", kind="auth_failed") from None
        raise TransportError(f"{service} unreachable: {exc}", kind="unavailable") from None


def json_of(result: Result) -> Any:
    """The decoded JSON body, or None when the body is not JSON (an HTML error page, nothing)."""
    try:
        return result.json()
    except ValueError:
        return None


def nested(body: dict[str, Any], key: str) -> dict[str, Any]:
    """body[key] when it is a JSON object, else {}: a service may send null or a string there."""
    value = body.get(key)
    return value if isinstance(value, dict) else {}


def not_json(result: Result, service: str) -> TransportError:
    """A 5xx page from a proxy, an empty body: the service is not answering properly yet."""
    what = "an HTML page" if "html" in result.headers.get("content-type", "") else "something that is not JSON"
    return TransportError(f"{service} answered {result.status} with {what}", kind="unavailable")


def retry_after(result: Result, default: float) -> float:
    """Seconds from a Retry-After header (the delta-seconds form), else `default`."""
    try:
        return max(float(result.headers.get("retry-after", "")), 1.0)
    except ValueError:
        return default


def join(base: str, path: str) -> str:
    return base.rstrip("/") + path
