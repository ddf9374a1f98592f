"""The outbound wrapper against a real loopback server."""

from __future__ import annotations

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
