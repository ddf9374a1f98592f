"""The outbound wrapper against a real loopback server."""

from __future__ import annotations

import ipaddress

import pytest

from fakes.base import FakeServer, Reply, json_reply, route
from panelrelay.core import http


class Echo(FakeServer):
    @route("GET", "/ok")
    def ok(self, req):
        return json_reply({"ok": True})

    @route("GET", "/redirect")
    def redirect(self, req):
        return Reply(302, "", {"Location": "http://169.254.169.254/latest/meta-data"})


@pytest.fixture
def server():
    with Echo() as srv:
        yield srv


def test_it_returns_status_body_and_timing(server) -> None:
    result = http.get(server.url + "/ok")
    assert result.status == 200
    assert result.json() == {"ok": True}
    assert result.elapsed_ms >= 0


def test_a_slow_server_is_a_timeout(server) -> None:
    server.inject("timeout", seconds=2)
    with pytest.raises(http.OutboundError) as err:
        http.get(server.url + "/ok", timeout=0.3)
    assert err.value.kind == "timeout"
    assert "0.3 s" in str(err.value)


def test_a_dropped_connection_is_a_protocol_error(server) -> None:
    server.inject("drop")
    with pytest.raises(http.OutboundError) as err:
        http.get(server.url + "/ok")
    assert err.value.kind == "protocol"


def test_a_closed_port_is_a_connect_error() -> None:
    with Echo() as srv:
        url = srv.url
    with pytest.raises(http.OutboundError) as err:
        http.get(url + "/ok", timeout=2)
    assert err.value.kind == "connect"


def test_redirects_are_not_followed(server) -> None:
    result = http.get(server.url + "/redirect")
    assert result.status == 302


@pytest.mark.parametrize("url", ["ftp://example.com/x", "file:///etc/passwd", "javascript:alert(1)", "http://"])
def test_only_http_and_https_are_allowed(url: str) -> None:
    with pytest.raises(http.OutboundError) as err:
        http.get(url)
    assert err.value.kind == "invalid_url"


@pytest.mark.parametrize("host", ["127.0.0.1", "10.1.2.3", "192.168.0.10", "169.254.169.254", "[::1]", "localhost"])
def test_private_addresses_are_refused_unless_allowed(settings, host: str) -> None:
    settings.OUTBOUND_ALLOW_PRIVATE = False
    with pytest.raises(http.OutboundError) as err:
        http.get(f"http://{host}:9/x")
    assert err.value.kind == "blocked"


def test_loopback_is_allowed_by_the_setting(settings, server) -> None:
    settings.OUTBOUND_ALLOW_PRIVATE = True
    assert http.get(server.url + "/ok").status == 200


def _embed(form: str, ipv4: str) -> str:
    """The IPv6 address of `form` that leads to `ipv4`."""
    v4 = int(ipaddress.IPv4Address(ipv4))
    prefix = {
        "nat64": 0x0064FF9B << 96,  # 64:ff9b::/96, RFC 6052
        "nat64-local": (0x0064FF9B0001 << 80),  # 64:ff9b:1::/48, RFC 8215
        "mapped": 0xFFFF << 32,  # ::ffff:a.b.c.d
        "compatible": 0,  # ::a.b.c.d
    }
    if form == "6to4":
        return str(ipaddress.IPv6Address((0x2002 << 112) | (v4 << 80) | 1))
    if form in ("teredo-server", "teredo-client"):
        # 2001:0::/32, then the server, flags and port, then the client's address inverted.
        server, client = (v4, int(ipaddress.IPv4Address("8.8.8.8")))
        if form == "teredo-client":
            server, client = client, v4
        return str(ipaddress.IPv6Address((0x20010000 << 96) | (server << 64) | (~client & 0xFFFFFFFF)))
    return str(ipaddress.IPv6Address(prefix[form] | v4))


FORMS = ["nat64", "nat64-local", "mapped", "compatible", "6to4", "teredo-server", "teredo-client"]


def test_the_nat64_form_of_the_metadata_address_is_refused(settings) -> None:
    settings.OUTBOUND_ALLOW_PRIVATE = False
    with pytest.raises(http.OutboundError) as err:
        http.check_url("http://[64:ff9b::a9fe:a9fe]/")
    assert err.value.kind == "blocked"


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("ipv4", ["169.254.169.254", "127.0.0.1", "10.0.0.1"])
def test_ipv6_forms_that_embed_a_private_ipv4_address_are_refused(settings, form: str, ipv4: str) -> None:
    settings.OUTBOUND_ALLOW_PRIVATE = False
    with pytest.raises(http.OutboundError) as err:
        http.check_url(f"http://[{_embed(form, ipv4)}]/")
    assert err.value.kind == "blocked"


@pytest.mark.parametrize("form", ["nat64", "mapped", "compatible", "6to4"])
def test_ipv6_forms_that_embed_a_public_ipv4_address_are_allowed(settings, form: str) -> None:
    settings.OUTBOUND_ALLOW_PRIVATE = False
    http.check_url(f"http://[{_embed(form, '93.184.215.14')}]/")


def test_a_host_name_is_judged_by_every_address_it_resolves_to(settings, monkeypatch) -> None:
    # No test DNS server is at hand, so the resolver answers as a hostile zone would: one
    # public address and one NAT64 form of the metadata address.
    answers = ["93.184.215.14", "64:ff9b::a9fe:a9fe"]
    monkeypatch.setattr(
        http.socket,
        "getaddrinfo",
        lambda host, port, **kw: [(None, None, None, "", (a, port)) for a in answers],
    )
    settings.OUTBOUND_ALLOW_PRIVATE = False
    with pytest.raises(http.OutboundError) as err:
        http.check_url("https://panel.example.com/api/v2")
    assert err.value.kind == "blocked"
    answers.pop()
    http.check_url("https://panel.example.com/api/v2")
