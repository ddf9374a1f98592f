"""FakeGreenAPI over real HTTP: id/token auth, validation, states, 466 quotas, 429, contacts."""

from __future__ import annotations

import ssl
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from fakes.greenapi import FakeGreenAPI

ID, TOKEN = 1101000001, "green-token"
CHAT, GROUP = "79001112233@c.us", "79001112233-1600000000@g.us"
UPGRADE = "Please go to your personal account and change the tariff to business https://console.green-api.com"
# Loopback is plain HTTP, but httpx builds a TLS context per Client (~60 ms): share one.
TLS = ssl.create_default_context()


@pytest.fixture
def green() -> Iterator[FakeGreenAPI]:
    fake = FakeGreenAPI()
    fake.add_contact(CHAT, "Provider F", contact_name="Fiona")
    fake.add_group(GROUP, "Provider F refills")
    with fake:
        yield fake


@pytest.fixture
def api(green: FakeGreenAPI) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=green.url, trust_env=False, verify=TLS, timeout=5) as client:
        yield client


def path(method: str, id_instance: Any = ID, token: str = TOKEN) -> str:
    return f"/waInstance{id_instance}/{method}/{token}"


def send(api: httpx.Client, chat_id: Any = CHAT, message: Any = "REFILL: 987654", **kw: Any) -> httpx.Response:
    return api.post(path("sendMessage", **kw), json={"chatId": chat_id, "message": message})


def green_error(response: httpx.Response, status: int, message: str) -> dict[str, Any]:
    body = response.json()
    assert response.status_code == status, body
    assert body["statusCode"] == status and body["message"] == message
    assert body["path"] == response.request.url.path and body["timestamp"].endswith("Z")
    return body


# ----- sendMessage success -----------------------------------------------------------------
def test_send_message(green: FakeGreenAPI, api: httpx.Client) -> None:
    response = send(api)
    assert response.status_code == 200
    id_message = response.json()["idMessage"]
    assert len(id_message) == 16 and id_message == id_message.upper()
    assert list(response.json()) == ["idMessage"]
    [entry] = green.messages_to(CHAT)
    assert entry["text"] == "REFILL: 987654" and entry["message_id"] == id_message
    assert entry["status"] == "sent" and entry["instance"] == ID


def test_send_to_group(green: FakeGreenAPI, api: httpx.Client) -> None:
    assert send(api, GROUP).status_code == 200
    assert send(api, "120363060000000001@g.us").status_code == 200


def test_method_names_are_case_insensitive(api: httpx.Client) -> None:
    assert api.post(path("SendMessage"), json={"chatId": CHAT, "message": "x"}).status_code == 200


# ----- auth ------------------------------------------------------------------------------------
def test_unknown_instance_is_403(api: httpx.Client) -> None:
    green_error(send(api, id_instance=999), 403, "Forbidden")
    green_error(send(api, id_instance="abc"), 403, "Forbidden")


def test_bad_token_is_401_and_echoed_in_path(api: httpx.Client) -> None:
    body = green_error(send(api, token="leaked-token"), 401, "Unauthorized")
    assert body["path"].endswith("/leaked-token")  # why adapters must redact Green-API error bodies


def test_unknown_method_and_wrong_verb_are_404(api: httpx.Client) -> None:
    green_error(api.post(path("sendTelepathy"), json={}), 404, "Not Found")
    green_error(api.get(path("sendMessage")), 404, "Not Found")
    green_error(api.post(path("getStateInstance")), 404, "Not Found")
    assert api.get("/elsewhere").status_code == 404


# ----- validation --------------------------------------------------------------------------------
def test_required_fields(api: httpx.Client) -> None:
    green_error(
        api.post(path("sendMessage"), json={"message": "x"}),
        400,
        "Validation failed. Details: 'chatId' is required",
    )
    green_error(
        api.post(path("sendMessage"), json={"chatId": CHAT}),
        400,
        "Validation failed. Details: 'message' is required",
    )
    green_error(send(api, CHAT, ""), 400, "Validation failed. Details: 'message' is required")


@pytest.mark.parametrize("chat_id", ["79001112233", "79001112233@s.whatsapp.net", "+79001112233@c.us", "x@g.us"])
def test_chat_id_format(green: FakeGreenAPI, api: httpx.Client, chat_id: str) -> None:
    green_error(
        send(api, chat_id),
        400,
        "Validation failed. Details: 'chatId' must be one of the next formats: 'phone_number@c.us' or 'group_id@g.us'",
    )
    assert green.sent == []


def test_message_length_limit(green: FakeGreenAPI, api: httpx.Client) -> None:
    assert send(api, message="x" * 20000).status_code == 200
    green_error(
        send(api, message="x" * 20001),
        400,
        "Validation failed. Details: 'message' length must be less than or equal to 20000 characters long",
    )
    green.max_message_length = 4000  # the v3 docs' figure
    assert send(api, message="x" * 4001).status_code == 400


def test_message_must_be_a_string(api: httpx.Client) -> None:
    green_error(send(api, message=42), 400, "Validation failed. Details: 'message' must be a string")


def test_broken_json(api: httpx.Client) -> None:
    response = api.post(path("sendMessage"), content=b'{"chatId": ', headers={"Content-Type": "application/json"})
    green_error(response, 400, "Unexpected token in JSON at position 11")
    response = api.post(path("sendMessage"), content=b"[]", headers={"Content-Type": "application/json"})
    green_error(response, 400, "bad request data")


# ----- instance states -----------------------------------------------------------------------------
@pytest.mark.parametrize("state", ["authorized", "notAuthorized", "blocked", "sleepMode", "starting", "yellowCard"])
def test_get_state_instance(green: FakeGreenAPI, api: httpx.Client, state: str) -> None:
    green.set_state(ID, state)
    assert api.get(path("getStateInstance")).json() == {"stateInstance": state}


@pytest.mark.parametrize("state", ["notAuthorized", "blocked"])
def test_not_authorized_refuses(green: FakeGreenAPI, api: httpx.Client, state: str) -> None:
    green.set_state(ID, state)
    green_error(send(api), 400, "instance account not authorized")
    assert green.sent == []


def test_starting_refuses(green: FakeGreenAPI, api: httpx.Client) -> None:
    green.set_state(ID, "starting")
    green_error(send(api), 400, "instance in starting process try later")


@pytest.mark.parametrize("state", ["sleepMode", "yellowCard"])
def test_queued_states_accept(green: FakeGreenAPI, api: httpx.Client, state: str) -> None:
    green.set_state(ID, state)
    assert send(api).status_code == 200
    assert green.sent[0]["status"] == "queued"


def test_unknown_state_is_refused(green: FakeGreenAPI) -> None:
    with pytest.raises(ValueError):
        green.set_state(ID, "asleep")


# ----- quotas (466) -----------------------------------------------------------------------------------
def test_correspondents_quota(green: FakeGreenAPI, api: httpx.Client) -> None:
    green.set_quota(ID, correspondents=2)
    assert send(api, CHAT).status_code == 200
    assert send(api, GROUP).status_code == 200
    assert send(api, CHAT).status_code == 200  # known chats stay allowed
    response = send(api, "79005556677@c.us")
    assert response.status_code == 466
    assert response.json() == {
        "invokeStatus": {"method": "sendmessage", "used": 3, "total": 0, "status": "QUOTE_ALLOWED"},
        "correspondentsStatus": {
            "method": "correspondents",
            "used": 2,
            "total": 2,
            "status": "CORRESPONDENTS_QUOTE_EXCEEDED",
            "description": "Monthly quota has been exceeded. You can only send or receive messages from these "
            f"numbers: {CHAT},{GROUP}. {UPGRADE}",
        },
    }
    assert len(green.sent) == 3


def test_method_calls_quota(green: FakeGreenAPI, api: httpx.Client) -> None:
    green.set_quota(ID, correspondents=None, method_calls=2)
    assert [send(api).status_code for _ in range(2)] == [200, 200]
    response = send(api)
    assert response.status_code == 466
    assert response.json() == {
        "invokeStatus": {
            "method": "sendmessage",
            "used": 2,
            "total": 2,
            "status": "QUOTE_EXCEEDED",
            "description": f"Monthly quota has been exceeded. {UPGRADE}",
        }
    }


def test_reset_clears_quota_usage(green: FakeGreenAPI, api: httpx.Client) -> None:
    green.set_quota(ID, correspondents=1)
    send(api, CHAT)
    assert send(api, GROUP).status_code == 466
    green.reset()
    assert send(api, GROUP).status_code == 200


# ----- rate limit (429) --------------------------------------------------------------------------------
def test_rate_limit_then_success_after_waiting(green: FakeGreenAPI, api: httpx.Client) -> None:
    green.rate_per_second = 3
    assert [send(api).status_code for _ in range(3)] == [200, 200, 200]
    green_error(send(api), 429, "Too Many Requests")
    green_error(api.get(path("getStateInstance")), 429, "Too Many Requests")
    time.sleep(1.05)
    assert send(api).status_code == 200
    assert len(green.sent) == 4


def test_rate_configurable_over_http(green: FakeGreenAPI, api: httpx.Client) -> None:
    control = httpx.Client(base_url=f"{green.url}/_fake", trust_env=False, verify=TLS)
    assert control.post("/config", json={"rate_per_second": 1}).status_code == 200
    assert green.rate_per_second == 1
    assert send(api).status_code == 200
    assert send(api).status_code == 429
    control.post("/config", json={"rate_per_second": 0})
    assert {send(api).status_code for _ in range(20)} == {200}


# ----- contacts and chats -------------------------------------------------------------------------------
def test_get_contacts(green: FakeGreenAPI, api: httpx.Client) -> None:
    assert api.get(path("getContacts")).json() == [
        {"id": CHAT, "name": "Provider F", "contactName": "Fiona", "type": "user"},
        {"id": GROUP, "name": "Provider F refills", "contactName": "", "type": "group"},
    ]
    green.contacts_include_groups = False  # the forum-reported quirk
    assert [c["type"] for c in api.get(path("getContacts")).json()] == ["user"]
    assert [c["id"] for c in api.get(path("getChats")).json()] == [CHAT, GROUP]
    assert api.post(path("getChats")).status_code == 200


# ----- steering, inbox, state ------------------------------------------------------------------------------
def test_control_endpoints(green: FakeGreenAPI, api: httpx.Client) -> None:
    control = httpx.Client(base_url=f"{green.url}/_fake", trust_env=False, verify=TLS)
    assert control.post("/instance-state", json={"id_instance": ID, "state": "notAuthorized"}).json()["ok"]
    assert send(api).status_code == 400
    control.post("/instance-state", json={"state": "authorized"})
    assert control.post("/quota", json={"id_instance": ID, "correspondents": 1}).json()["ok"]
    assert send(api, CHAT).status_code == 200 and send(api, GROUP).status_code == 466
    contact = control.post("/contact", json={"chat_id": "79009998877@c.us", "name": "New"}).json()["result"]
    assert contact == {"id": "79009998877@c.us", "name": "New", "contactName": "", "type": "user"}
    assert control.post("/instance-state", json={"state": "nope"}).status_code == 400


def test_inbox_page(green: FakeGreenAPI, api: httpx.Client) -> None:
    send(api, GROUP, "older <u>one</u>")
    send(api, CHAT, "newer & final")
    page = httpx.get(f"{green.url}/_fake/inbox", trust_env=False, verify=TLS).text
    assert "older &lt;u&gt;one&lt;/u&gt;" in page and f"Provider F refills ({GROUP})" in page
    assert page.index("newer &amp; final") < page.index("older")


def test_state_snapshot(green: FakeGreenAPI, api: httpx.Client) -> None:
    send(api)
    state = httpx.get(f"{green.url}/_fake/state", trust_env=False, verify=TLS).json()
    assert [m["chat_id"] for m in state["sent"]] == [CHAT]
    assert state["instances"][0]["correspondents"] == [CHAT]


def test_seed_demo() -> None:
    with FakeGreenAPI() as fake:
        fake.seed_demo()
        client = httpx.Client(base_url=fake.url, trust_env=False, verify=TLS)
        assert client.get(path("getStateInstance")).json() == {"stateInstance": "authorized"}
        assert len(client.get(path("getContacts")).json()) == 3
