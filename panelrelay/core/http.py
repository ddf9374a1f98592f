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
    try:
        parts = urlsplit(url)
        port = parts.port  # a ValueError for :99999 or :x, whether or not private addresses are allowed
    except ValueError:
        port = 0
    if port == 0:
        raise OutboundError("the address must have a valid host and a port from 1 to 65535", "invalid_url")
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
        if not is_public(ipaddress.ip_address(info[4][0])):
            raise OutboundError("the address points into a private network, which is not allowed", "blocked")


# IPv6 ranges that carry an IPv4 address in their last 32 bits: NAT64's well-known prefix
# (RFC 6052) and the deprecated IPv4-compatible form. A NAT64 gateway turns
# 64:ff9b::a9fe:a9fe into 169.254.169.254, so the IPv4 address is what must be public.
_EMBEDS_IPV4_IN_LOW_BITS = (ipaddress.IPv6Network("64:ff9b::/96"), ipaddress.IPv6Network("::/96"))
# RFC 8215 local-use NAT64 prefix: never globally reachable, wherever the IPv4 part sits in
# it (Python before 3.12 wrongly calls it global).
_NAT64_LOCAL_USE = ipaddress.IPv6Network("64:ff9b:1::/48")


def is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Whether `address` and every IPv4 address embedded in it are globally reachable."""
    if not address.is_global:
        return False
    if address.version == 4:
        return True
    return address not in _NAT64_LOCAL_USE and all(inner.is_global for inner in _embedded_ipv4(address))


def _embedded_ipv4(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address leads to: IPv4-mapped, 6to4, Teredo, NAT64, compatible."""
    found = [a for a in (address.ipv4_mapped, address.sixtofour) if a is not None]
    if address.teredo:
        found.extend(address.teredo)  # (server, client): a Teredo relay reaches both
    if any(address in net for net in _EMBEDS_IPV4_IN_LOW_BITS):
        found.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return found


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
