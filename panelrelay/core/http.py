"""The one wrapper every outbound HTTP call goes through.

It fixes timeouts, allows only http/https, never follows redirects (a redirect could lead a
user-supplied URL to an internal address), refuses private and loopback addresses unless
OUTBOUND_ALLOW_PRIVATE is on, and turns every transport failure into OutboundError with a
sentence a panel owner can read.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
from django.conf import settings

USER_AGENT = "PanelRelay/1.0"
_client: httpx.Client | None = None


class OutboundError(Exception):
    """An outbound call that did not produce an HTTP response."""

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.kind = kind  # invalid_url | blocked | timeout | connect | protocol


@dataclass
class Result:
    status: int
    text: str
    headers: httpx.Headers
    elapsed_ms: int
    content: bytes

    def json(self) -> Any:
        import json

        return json.loads(self.text)


def client() -> httpx.Client:
    global _client
    if _client is None:
        _client = httpx.Client(
            follow_redirects=False,
            headers={"User-Agent": USER_AGENT},
            limits=httpx.Limits(max_connections=50, max_keepalive_connections=20),
        )
    return _client


def check_url(url: str, allow_private: bool | None = None) -> None:
    """Raise OutboundError(kind=invalid_url|blocked) for a URL we must not call."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise OutboundError("the address must start with http:// or https:// and name a host", "invalid_url")
    allow = settings.OUTBOUND_ALLOW_PRIVATE if allow_private is None else allow_private
    if allow:
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        raise OutboundError("the host name does not resolve", "connect") from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            raise OutboundError("the address points into a private network, which is not allowed", "blocked")


def request(
    method: str,
    url: str,
    *,
    timeout: float | None = None,
    allow_private: bool | None = None,
    **kwargs: Any,
) -> Result:
    check_url(url, allow_private)
    limit = timeout if timeout is not None else settings.OUTBOUND_TIMEOUT
    started = time.monotonic()
    try:
        response = client().request(method, url, timeout=httpx.Timeout(limit, connect=min(limit, 5.0)), **kwargs)
    except httpx.TimeoutException:
        raise OutboundError(f"no answer within {limit:g} s", "timeout") from None
    except httpx.ConnectError:
        raise OutboundError("could not connect (refused or unreachable)", "connect") from None
    except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError):
        raise OutboundError("the connection was closed before a complete answer", "protocol") from None
    except httpx.HTTPError as exc:
        raise OutboundError(f"HTTP error: {type(exc).__name__}", "protocol") from None
    elapsed = int((time.monotonic() - started) * 1000)
    return Result(response.status_code, response.text, response.headers, elapsed, response.content)


def get(url: str, **kwargs: Any) -> Result:
    return request("GET", url, **kwargs)


def post(url: str, **kwargs: Any) -> Result:
    return request("POST", url, **kwargs)
