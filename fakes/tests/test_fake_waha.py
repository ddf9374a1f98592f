"""FakeWAHA over real HTTP: auth, sendText, session statuses, QR, groups, steering, inbox."""

from __future__ import annotations

import base64
import hashlib
import ssl
import struct
import zlib
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from fakes.waha import FakeWAHA

KEY = "waha-key"
GROUP_A, GROUP_B = "120363040000000001@g.us", "120363040000000002@g.us"
NOT_EXPECTED = "Session status is not as expected. Try again later or restart the session"
# Loopback is plain HTTP, but httpx builds a TLS context per Client (~60 ms): share one.
TLS = ssl.create_default_context()


def http(base_url: str, **headers: str) -> httpx.Client:
    return httpx.Client(base_url=base_url, headers=headers, trust_env=False, verify=TLS, timeout=5)


@pytest.fixture
def waha() -> Iterator[FakeWAHA]:
    fake = FakeWAHA(api_key=KEY)
    fake.add_group(GROUP_A, "Provider A")
    fake.add_group(GROUP_B, "Bravo supplies", participants=5)
    with fake:
        yield fake


@pytest.fixture
def api(waha: FakeWAHA) -> Iterator[httpx.Client]:
    with http(waha.url, **{"X-Api-Key": KEY}) as client:
        yield client


def send(
    api: httpx.Client, chat_id: str = "79001234567@c.us", text: str = "REFILL: 987654", **extra: Any
) -> httpx.Response:
    return api.post("/api/sendText", json={"session": "default", "chatId": chat_id, "text": text, **extra})


def not_expected(session: str, status: str, expected: str = "WORKING") -> dict[str, Any]:
    return {"error": NOT_EXPECTED, "session": session, "status": status, "expected": [expected]}


# ----- auth --------------------------------------------------------------------------
def test_missing_or_wrong_key_is_401(waha: FakeWAHA) -> None:
    for headers in ({}, {"X-Api-Key": "wrong"}):
        with http(waha.url, **headers) as client:
            for response in (
                send(client),
                client.get("/api/sessions/default"),
                client.get("/api/default/groups"),
            ):
                assert response.status_code == 401
                assert response.json() == {"message": "Unauthorized", "statusCode": 401}


def test_sha512_api_key_form() -> None:
    hashed = "sha512:" + hashlib.sha512(b"plain-secret").hexdigest()
    with FakeWAHA(api_key=hashed) as fake:
        assert send(http(fake.url, **{"X-Api-Key": "plain-secret"})).status_code == 201
        assert send(http(fake.url, **{"X-Api-Key": hashed})).status_code == 401


def test_no_key_configured_means_open() -> None:
    with FakeWAHA(api_key=None) as fake:
        assert send(http(fake.url)).status_code == 201


def test_ping_needs_no_key(waha: FakeWAHA) -> None:
    assert http(waha.url).get("/ping").json() == {"message": "pong"}


# ----- sendText ------------------------------------------------------------------------
def test_send_text_returns_201_wamessage(waha: FakeWAHA, api: httpx.Client) -> None:
    response = send(api)
    assert response.status_code == 201
    message = response.json()
    assert message["to"] == "79001234567@c.us" and message["body"] == "REFILL: 987654"
    assert message["fromMe"] is True and message["from"] == "79990000000@c.us"
    assert message["id"].startswith("true_79001234567@c.us_") and isinstance(message["timestamp"], int)
    assert message["ack"] == 1
    [entry] = waha.messages_to("79001234567@c.us")
    assert entry["text"] == "REFILL: 987654" and entry["message_id"] == message["id"] and entry["session"] == "default"


@pytest.mark.parametrize("chat_id", [GROUP_A, "123456789012345678@lid", "79001234567-1600000000@g.us"])
def test_send_to_groups_and_other_ids(api: httpx.Client, chat_id: str) -> None:
    assert send(api, chat_id).status_code == 201


def test_missing_fields_are_a_validation_400(api: httpx.Client) -> None:
    response = api.post("/api/sendText", json={"session": "default"})
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "Bad Request" and body["statusCode"] == 400
    assert "chatId should not be empty" in body["message"] and "text should not be empty" in body["message"]
    assert not any(m.startswith("session") for m in body["message"])


def test_blank_and_mistyped_fields(api: httpx.Client) -> None:
    assert "text should not be empty" in send(api, text="").json()["message"]
    body = api.post("/api/sendText", json={"session": "default", "chatId": 79001234567, "text": "x"}).json()
    assert body["message"] == ["chatId must be a string"]


def test_body_must_be_json_object(api: httpx.Client) -> None:
    assert api.post("/api/sendText", content=b"[1, 2]", headers={"Content-Type": "application/json"}).status_code == 400
    assert api.post("/api/sendText", content=b"{oops", headers={"Content-Type": "application/json"}).status_code == 400


@pytest.mark.parametrize("chat_id", ["79001234567@s.whatsapp.net", "79001234567", "+79001234567@c.us", "x@c.us"])
def test_bad_chat_ids_are_refused(waha: FakeWAHA, api: httpx.Client, chat_id: str) -> None:
    response = send(api, chat_id)
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "Bad Request" and body["message"].startswith(f"Invalid chatId '{chat_id}'")
    assert waha.sent == []


def test_s_whatsapp_net_hint(api: httpx.Client) -> None:
    assert "not @s.whatsapp.net" in send(api, "79001234567@s.whatsapp.net").json()["message"]


# ----- session statuses ---------------------------------------------------------------------
@pytest.mark.parametrize("status", ["STARTING", "SCAN_QR_CODE", "FAILED"])
def test_session_not_working_is_422(waha: FakeWAHA, api: httpx.Client, status: str) -> None:
    waha.set_status("default", status)
    response = send(api)
    assert response.status_code == 422
    assert response.json() == not_expected("default", status)
    assert api.get("/api/default/groups").json() == not_expected("default", status)
    assert waha.sent == []


def test_exact_422_body_from_the_waha_source(waha: FakeWAHA, api: httpx.Client) -> None:
    waha.set_status("default", "SCAN_QR_CODE")
    assert send(api).json() == {
        "error": "Session status is not as expected. Try again later or restart the session",
        "session": "default",
        "status": "SCAN_QR_CODE",
        "expected": ["WORKING"],
    }


def test_stopped_and_unknown_sessions_are_404(waha: FakeWAHA, api: httpx.Client) -> None:
    waha.set_status("default", "STOPPED")
    response = send(api)
    assert response.status_code == 404
    assert response.json() == {
        "message": "We didn't find a session with name 'default'.\n"
        "Please start it first by using POST /api/sessions/default/start request",
        "error": "Not Found",
        "statusCode": 404,
    }
    response = api.post("/api/sendText", json={"session": "other", "chatId": "79001234567@c.us", "text": "x"})
    assert response.status_code == 404 and "'other'" in response.json()["message"]


def test_back_to_working(waha: FakeWAHA, api: httpx.Client) -> None:
    waha.set_status("default", "FAILED")
    assert send(api).status_code == 422
    waha.set_status("default", "WORKING")
    assert send(api).status_code == 201


def test_get_session(waha: FakeWAHA, api: httpx.Client) -> None:
    info = api.get("/api/sessions/default").json()
    assert info["name"] == "default" and info["status"] == "WORKING"
    assert info["me"] == {"id": "79990000000@c.us", "pushName": "PanelRelay"}
    assert info["engine"] == {"engine": "WEBJS"}
    waha.set_status("default", "SCAN_QR_CODE")
    info = api.get("/api/sessions/default").json()
    assert info["status"] == "SCAN_QR_CODE" and info["me"] is None
    waha.set_status("default", "STOPPED")
    assert api.get("/api/sessions/default").json()["status"] == "STOPPED"  # stopped still shows here
    assert api.get("/api/sessions/nope").status_code == 404


def test_list_sessions(waha: FakeWAHA, api: httpx.Client) -> None:
    waha.add_session("second", status="STOPPED")
    assert [s["name"] for s in api.get("/api/sessions").json()] == ["default"]
    assert [s["name"] for s in api.get("/api/sessions", params={"all": "true"}).json()] == [
        "default",
        "second",
    ]


def test_core_allows_only_default() -> None:
    with FakeWAHA(api_key=None, core=True) as fake:
        response = http(fake.url).get("/api/sessions/sales")
        assert response.status_code == 422
        body = response.json()
        assert body["error"] == "Unprocessable Entity"
        assert body["message"].startswith("WAHA Core support only 'default' session. You tried to access 'sales'")


def test_unknown_status_is_refused(waha: FakeWAHA) -> None:
    with pytest.raises(ValueError):
        waha.set_status("default", "SLEEPING")


# ----- QR -------------------------------------------------------------------------------------
def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR" and length == 13
    assert zlib.crc32(data[12 : 16 + length]) & 0xFFFFFFFF == struct.unpack(">I", data[16 + length : 20 + length])[0]
    return struct.unpack(">II", data[16:24])


def test_qr_image_only_while_scanning(waha: FakeWAHA, api: httpx.Client) -> None:
    response = api.get("/api/default/auth/qr", params={"format": "image"})
    assert response.status_code == 422
    assert response.json() == not_expected("default", "WORKING", expected="SCAN_QR_CODE")
    waha.set_status("default", "SCAN_QR_CODE")
    response = api.get("/api/default/auth/qr", params={"format": "image"})
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    assert png_size(response.content) == (100, 100)


def test_qr_as_json_and_raw(waha: FakeWAHA, api: httpx.Client) -> None:
    waha.set_status("default", "SCAN_QR_CODE")
    body = api.get("/api/default/auth/qr", headers={"Accept": "application/json"}).json()
    assert body["mimetype"] == "image/png"
    assert png_size(base64.b64decode(body["data"])) == (100, 100)
    assert api.get("/api/default/auth/qr", params={"format": "raw"}).json()["value"].startswith("2@")


def test_qr_for_stopped_session_is_404(waha: FakeWAHA, api: httpx.Client) -> None:
    waha.set_status("default", "STOPPED")
    assert api.get("/api/default/auth/qr").status_code == 404


# ----- groups ---------------------------------------------------------------------------------
def test_groups_list(api: httpx.Client) -> None:
    groups = api.get("/api/default/groups").json()
    assert [(g["id"], g["subject"]) for g in groups] == [(GROUP_A, "Provider A"), (GROUP_B, "Bravo supplies")]
    assert len(groups[1]["participants"]) == 5


def test_groups_exclude_sort_and_page(api: httpx.Client) -> None:
    groups = api.get("/api/default/groups", params={"exclude": "participants", "sortBy": "subject"}).json()
    assert [g["subject"] for g in groups] == ["Bravo supplies", "Provider A"]
    assert all("participants" not in g for g in groups)
    page = api.get("/api/default/groups", params={"sortBy": "id", "sortOrder": "desc", "limit": 1}).json()
    assert [g["id"] for g in page] == [GROUP_B]
    assert [g["id"] for g in api.get("/api/default/groups", params={"offset": 1}).json()] == [GROUP_B]


def test_groups_dict_shape(waha: FakeWAHA, api: httpx.Client) -> None:
    waha.groups_shape = "dict"
    groups = api.get("/api/default/groups").json()
    assert isinstance(groups, dict) and set(groups) == {GROUP_A, GROUP_B}
    assert groups[GROUP_A]["subject"] == "Provider A"


def test_groups_count(waha: FakeWAHA, api: httpx.Client) -> None:
    assert api.get("/api/default/groups/count").json() == {"count": 2}
    waha.remove_group(GROUP_B)
    assert api.get("/api/default/groups/count").json() == {"count": 1}


def test_groups_of_a_stopped_session(waha: FakeWAHA, api: httpx.Client) -> None:
    waha.set_status("default", "STOPPED")
    assert api.get("/api/default/groups/count").status_code == 404


def test_unknown_route(api: httpx.Client) -> None:
    response = api.get("/api/default/nothing")
    assert response.status_code == 404 and response.json()["statusCode"] == 404


# ----- steering, inbox, state ------------------------------------------------------------------
def test_control_endpoints(waha: FakeWAHA, api: httpx.Client) -> None:
    control = http(f"{waha.url}/_fake")
    assert control.post("/session-status", json={"session": "default", "status": "SCAN_QR_CODE"}).json()["ok"]
    assert send(api).status_code == 422
    assert control.post("/session-status", json={"status": "WORKING"}).json()["result"]["status"] == "WORKING"
    created = control.post("/group", json={"id": "120363049999999999@g.us", "subject": "New"}).json()
    assert created["result"]["subject"] == "New"
    assert api.get("/api/default/groups/count").json() == {"count": 3}
    assert control.post("/remove-group", json={"id": "120363049999999999@g.us"}).status_code == 200
    assert control.post("/session-status", json={"status": "BOGUS"}).status_code == 400
    assert control.post("/group", json={"id": "not-a-group", "subject": "x"}).status_code == 400


def test_inbox_page(waha: FakeWAHA, api: httpx.Client) -> None:
    send(api, GROUP_A, "older <b>message</b>")
    send(api, "79001234567@c.us", "newer & shinier")
    page = http(waha.url).get("/_fake/inbox").text
    assert "older &lt;b&gt;message&lt;/b&gt;" in page and "Provider A (120363040000000001@g.us)" in page
    assert page.index("newer &amp; shinier") < page.index("older")


def test_state_and_reset(waha: FakeWAHA, api: httpx.Client) -> None:
    send(api)
    state = http(waha.url).get("/_fake/state").json()
    assert [m["text"] for m in state["sent"]] == ["REFILL: 987654"]
    assert state["sessions"][0]["status"] == "WORKING" and len(state["sessions"][0]["groups"]) == 2
    waha.reset()
    assert waha.sent == [] and api.get("/api/default/groups/count").json() == {"count": 2}


def test_seed_demo() -> None:
    with FakeWAHA() as fake:
        fake.seed_demo()
        api = http(fake.url, **{"X-Api-Key": KEY})
        assert api.get("/api/sessions/default").json()["status"] == "WORKING"
        assert api.get("/api/default/groups/count").json() == {"count": 2}
