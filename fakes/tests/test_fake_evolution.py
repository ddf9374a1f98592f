"""FakeEvolution over real HTTP: guards, sendText, createJid, connection states, groups, steering."""

from __future__ import annotations

import ssl
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from fakes.evolution import FakeEvolution, create_jid

GLOBAL_KEY, TOKEN = "evo-key", "relay-token"
NUMBER, JID = "5511988887777", "5511988887777@s.whatsapp.net"
GROUP = "120363050000000001@g.us"
# Loopback is plain HTTP, but httpx builds a TLS context per Client (~60 ms): share one.
TLS = ssl.create_default_context()


def http(base_url: str, **headers: str) -> httpx.Client:
    return httpx.Client(base_url=base_url, headers=headers, trust_env=False, verify=TLS, timeout=5)


@pytest.fixture
def evo() -> Iterator[FakeEvolution]:
    fake = FakeEvolution(api_key=GLOBAL_KEY)
    fake.add_number(NUMBER)
    fake.add_group(GROUP, "Provider D", size=4)
    with fake:
        yield fake


@pytest.fixture
def api(evo: FakeEvolution) -> Iterator[httpx.Client]:
    with http(evo.url, apikey=TOKEN) as client:
        yield client


def send(
    api: httpx.Client,
    number: Any = NUMBER,
    text: str = "REFILL: 987654",
    instance: str = "relay",
    **extra: Any,
) -> httpx.Response:
    return api.post(f"/message/sendText/{instance}", json={"number": number, "text": text, **extra})


def evolution_error(response: httpx.Response, status: int, error: str) -> Any:
    body = response.json()
    assert response.status_code == status, body
    assert body["status"] == status and body["error"] == error
    return body["response"]["message"]


# ----- createJid -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("number", "jid"),
    [
        ("5511988887777", "5511988887777@s.whatsapp.net"),
        ("+55 (11) 98888-7777", "5511988887777@s.whatsapp.net"),
        ("5531988887777", "553188887777@s.whatsapp.net"),  # BR: ninth digit dropped (DDD ≥ 31)
        ("5511788887777", "5511788887777@s.whatsapp.net"),  # BR: DDD < 31 keeps it
        ("5215512345678", "525512345678@s.whatsapp.net"),  # MX: 13 digits lose the mobile 1
        ("79001234567", "79001234567@s.whatsapp.net"),
        ("120363050000000001", "120363050000000001@g.us"),  # ≥ 18 digits → group
        ("7900123456789-1600000000", "7900123456789-1600000000@g.us"),  # '-' and ≥ 24 chars
        ("79001234567-1600000000", "790012345671600000000@g.us"),  # shorter: digits only, ≥ 18
        ("120363050000000001@g.us", "120363050000000001@g.us"),
        ("5511988887777@s.whatsapp.net", "5511988887777@s.whatsapp.net"),
        ("123456789@lid", "123456789@lid"),
        ("5511988887777:12@s.whatsapp.net", "5511988887777@s.whatsapp.net"),  # device suffix
        ("status@broadcast", "status@broadcast"),
    ],
)
def test_create_jid(number: str, jid: str) -> None:
    assert create_jid(number) == jid


# ----- guards ------------------------------------------------------------------------------
def test_unknown_instance_is_404_even_with_a_bad_key(evo: FakeEvolution) -> None:
    for key in (GLOBAL_KEY, "wrong"):
        message = evolution_error(send(http(evo.url, apikey=key), instance="ghost"), 404, "Not Found")
        assert message == ['The "ghost" instance does not exist']


def test_bad_or_missing_key_is_401(evo: FakeEvolution) -> None:
    for client in (http(evo.url), http(evo.url, apikey="wrong")):
        response = send(client)
        assert response.status_code == 401
        assert response.json() == {
            "status": 401,
            "error": "Unauthorized",
            "response": {"message": "Unauthorized"},
        }
    assert evo.sent == []


def test_global_key_and_instance_tokens(evo: FakeEvolution) -> None:
    evo.add_instance("second", token="second-token")
    evo.add_number(NUMBER)
    assert send(http(evo.url, apikey=GLOBAL_KEY), instance="second").status_code == 201
    assert send(http(evo.url, apikey="second-token"), instance="second").status_code == 201
    assert send(http(evo.url, apikey=TOKEN), instance="second").status_code == 401  # another instance's token


# ----- sendText ------------------------------------------------------------------------------
def test_send_text_returns_201_baileys_message(evo: FakeEvolution, api: httpx.Client) -> None:
    response = send(api)
    assert response.status_code == 201
    body = response.json()
    assert body["key"]["remoteJid"] == JID and body["key"]["fromMe"] is True and body["key"]["id"]
    assert body["message"] == {"conversation": "REFILL: 987654"}
    assert body["status"] == "PENDING" and isinstance(body["messageTimestamp"], int)
    [entry] = evo.messages_to("+55 11 98888-7777")
    assert entry["chat_id"] == JID and entry["message_id"] == body["key"]["id"] and entry["instance"] == "relay"


def test_send_to_group(evo: FakeEvolution, api: httpx.Client) -> None:
    assert send(api, GROUP).json()["key"]["remoteJid"] == GROUP
    assert send(api, "120363050000000001").json()["key"]["remoteJid"] == GROUP  # createJid makes it a group
    assert len(evo.messages_to(GROUP)) == 2


def test_number_not_on_whatsapp(evo: FakeEvolution, api: httpx.Client) -> None:
    message = evolution_error(send(api, "5511900000000"), 400, "Bad Request")
    assert message == [{"exists": False, "jid": "5511900000000@s.whatsapp.net", "number": "5511900000000"}]
    assert evo.sent == []


def test_unknown_group(api: httpx.Client) -> None:
    message = evolution_error(send(api, "120363059999999999@g.us"), 400, "Bad Request")
    assert message == [{"exists": False, "jid": "120363059999999999@g.us", "number": "120363059999999999@g.us"}]


def test_all_numbers_exist_flag(evo: FakeEvolution, api: httpx.Client) -> None:
    evo.all_numbers_exist = True
    assert send(api, "5511900000000").status_code == 201


def test_validation_errors_are_nested_lists(api: httpx.Client) -> None:
    message = evolution_error(api.post("/message/sendText/relay", json={}), 400, "Bad Request")
    assert message == [['instance requires property "number"', 'instance requires property "text"']]
    assert evolution_error(send(api, text=""), 400, "Bad Request") == [['The "text" cannot be empty']]
    assert evolution_error(send(api, 5511988887777), 400, "Bad Request") == [
        ["instance.number is not of a type(s) string"]
    ]


def test_body_not_an_object(api: httpx.Client) -> None:
    response = api.post("/message/sendText/relay", content=b"[]", headers={"Content-Type": "application/json"})
    assert evolution_error(response, 400, "Bad Request") == [["instance is not of a type(s) object"]]


def test_delay_is_honoured_but_capped(evo: FakeEvolution, api: httpx.Client) -> None:
    evo.delay_cap = 0.15
    started = time.monotonic()
    assert send(api, delay=100).status_code == 201
    assert send(api, delay=60_000).status_code == 201
    assert 0.24 < time.monotonic() - started < 2  # 0.1 s + the 0.15 s cap


# ----- connection states ------------------------------------------------------------------
def test_connection_state(evo: FakeEvolution, api: httpx.Client) -> None:
    assert api.get("/instance/connectionState/relay").json() == {"instance": {"instanceName": "relay", "state": "open"}}
    evo.set_state("relay", "close")
    assert api.get("/instance/connectionState/relay").json()["instance"]["state"] == "close"


def test_closed_instance_refuses_to_send(evo: FakeEvolution, api: httpx.Client) -> None:
    evo.set_state("relay", "close")
    assert evolution_error(send(api), 400, "Bad Request") == ["Error: Connection Closed"]
    evo.set_state("relay", "connecting")
    assert evolution_error(send(api), 500, "Internal Server Error") == ["Error: Connection Closed"]
    evo.set_state("relay", "open")
    assert send(api).status_code == 201
    assert len(evo.sent) == 1


def test_groups_need_an_open_connection(evo: FakeEvolution, api: httpx.Client) -> None:
    evo.set_state("relay", "close")
    response = api.get("/group/fetchAllGroups/relay", params={"getParticipants": "false"})
    assert evolution_error(response, 400, "Bad Request") == ["Error: Connection Closed"]


def test_unknown_state_is_refused(evo: FakeEvolution) -> None:
    with pytest.raises(ValueError):
        evo.set_state("relay", "sleeping")


# ----- groups, numbers, instances -----------------------------------------------------------
def test_fetch_all_groups_requires_get_participants(api: httpx.Client) -> None:
    message = evolution_error(api.get("/group/fetchAllGroups/relay"), 400, "Bad Request")
    assert message == ["The getParticipants needs to be informed in the query"]


def test_fetch_all_groups(api: httpx.Client) -> None:
    [group] = api.get("/group/fetchAllGroups/relay", params={"getParticipants": "false"}).json()
    assert (group["id"], group["subject"], group["size"]) == (GROUP, "Provider D", 4)
    assert "participants" not in group and group["announce"] is False
    [group] = api.get("/group/fetchAllGroups/relay", params={"getParticipants": "true"}).json()
    assert len(group["participants"]) == 4 and group["participants"][0]["admin"] == "superadmin"


def test_whatsapp_numbers(api: httpx.Client) -> None:
    body = api.post("/chat/whatsappNumbers/relay", json={"numbers": [NUMBER, "5511900000000", GROUP]}).json()
    assert body == [
        {"exists": True, "jid": JID, "number": NUMBER},
        {"exists": False, "jid": "5511900000000@s.whatsapp.net", "number": "5511900000000"},
        {"exists": True, "jid": GROUP, "number": GROUP, "name": "Provider D"},
    ]
    assert api.post("/chat/whatsappNumbers/relay", json={}).status_code == 400


def test_fetch_instances(evo: FakeEvolution) -> None:
    evo.add_instance("second", token="second-token", state="close")
    everything = http(evo.url, apikey=GLOBAL_KEY).get("/instance/fetchInstances").json()
    assert [(i["name"], i["connectionStatus"]) for i in everything] == [
        ("relay", "open"),
        ("second", "close"),
    ]
    assert [i["name"] for i in http(evo.url, apikey="second-token").get("/instance/fetchInstances").json()] == [
        "second"
    ]
    assert http(evo.url, apikey="nope").get("/instance/fetchInstances").status_code == 401


def test_welcome_and_unknown_route(evo: FakeEvolution) -> None:
    client = http(evo.url)
    assert client.get("/").json()["message"] == "Welcome to the Evolution API, it is working!"
    assert evolution_error(client.get("/nothing"), 404, "Not Found") == ["Cannot GET /nothing"]


# ----- steering, inbox, state ---------------------------------------------------------------
def test_control_endpoints(evo: FakeEvolution, api: httpx.Client) -> None:
    control = http(f"{evo.url}/_fake")
    assert control.post("/connection-state", json={"instance": "relay", "state": "close"}).json()["ok"]
    assert send(api).status_code == 400
    control.post("/connection-state", json={"state": "open"})
    assert control.post("/number", json={"number": "5511955554444"}).json()["result"] == [
        "5511955554444@s.whatsapp.net"
    ]
    assert send(api, "5511955554444").status_code == 201
    assert control.post("/group", json={"jid": "120363058888888888@g.us", "subject": "Via HTTP"}).json()["ok"]
    assert send(api, "120363058888888888@g.us").status_code == 201
    assert control.post("/instance", json={"name": "third", "token": "t3"}).json()["result"]["name"] == "third"
    assert control.post("/connection-state", json={"state": "weird"}).status_code == 400


def test_inbox_page(evo: FakeEvolution, api: httpx.Client) -> None:
    send(api, GROUP, "first <i>one</i>")
    send(api, NUMBER, "second & last")
    page = http(evo.url).get("/_fake/inbox").text
    assert "first &lt;i&gt;one&lt;/i&gt;" in page and f"Provider D ({GROUP})" in page
    assert page.index("second &amp; last") < page.index("first &lt;i&gt;")


def test_state_and_reset(evo: FakeEvolution, api: httpx.Client) -> None:
    send(api)
    state = http(evo.url).get("/_fake/state").json()
    assert [m["chat_id"] for m in state["sent"]] == [JID]
    assert state["instances"][0]["name"] == "relay" and JID in state["numbers"]
    evo.reset()
    assert evo.sent == [] and send(api).status_code == 201


def test_seed_demo() -> None:
    with FakeEvolution() as fake:
        fake.seed_demo()
        api = http(fake.url, apikey=TOKEN)
        assert len(api.get("/group/fetchAllGroups/relay", params={"getParticipants": "false"}).json()) == 2
        assert send(api, "5511988887777").status_code == 201
