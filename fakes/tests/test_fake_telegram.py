"""FakeTelegram over real HTTP: every success, every documented error, limits, updates, webhooks."""

from __future__ import annotations

import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from fakes.base import FakeRequest, FakeServer, Reply, json_reply, route
from fakes.telegram import DEMO_TOKEN, FakeTelegram

TOKEN = "123:ABC"
GROUP, BASIC, CHANNEL, USER = -1001234567890, -4001234567, -1009876543210, 777000111


# Loopback is plain HTTP, but httpx builds a TLS context per Client (~60 ms): share one.
TLS = ssl.create_default_context()


def http(base_url: str = "") -> httpx.Client:
    return httpx.Client(base_url=base_url, trust_env=False, verify=TLS, timeout=5)


@pytest.fixture
def tg() -> Iterator[FakeTelegram]:
    fake = FakeTelegram(strict_limits=False, long_poll_cap=0.3, webhook_retry_delay=0.05)
    fake.add_chat(GROUP, "supergroup", "Provider A", username="provider_a")
    fake.add_chat(BASIC, "group", "Provider B")
    fake.add_chat(CHANNEL, "channel", "Provider news", username="provider_news")
    fake.add_user(USER, username="alice", first_name="Alice")
    with fake:
        yield fake


@pytest.fixture
def api(tg: FakeTelegram) -> Iterator[httpx.Client]:
    with http(f"{tg.url}/bot{TOKEN}") as client:
        yield client


@pytest.fixture
def control(tg: FakeTelegram) -> Iterator[httpx.Client]:
    with http(f"{tg.url}/_fake") as client:
        yield client


def send(api: httpx.Client, chat_id: Any, text: str = "REFILL: 987654", **extra: Any) -> httpx.Response:
    return api.post("/sendMessage", json={"chat_id": chat_id, "text": text, **extra})


def assert_error(response: httpx.Response, code: int, description: str) -> dict[str, Any]:
    body = response.json()
    assert response.status_code == code, body
    assert body["ok"] is False and body["error_code"] == code
    assert body["description"] == description
    return body


# ----- auth, envelope, getMe --------------------------------------------------
def test_get_me_over_get_and_post(api: httpx.Client) -> None:
    for response in (api.get("/getMe"), api.post("/getMe")):
        assert response.status_code == 200
        body = response.json()
        assert body["ok"] is True
        assert body["result"]["id"] == 123 and body["result"]["is_bot"] is True
        assert body["result"]["username"] == "relay_bot"


def test_unknown_token_is_401(tg: FakeTelegram) -> None:
    response = http().get(f"{tg.url}/bot999:NOPE/getMe")
    assert response.status_code == 401
    assert response.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}


def test_unknown_method_and_path_are_404(tg: FakeTelegram, api: httpx.Client) -> None:
    assert_error(api.get("/getEverything"), 404, "Not Found")
    assert_error(http().get(f"{tg.url}/nothing-here"), 404, "Not Found")


def test_method_names_are_case_insensitive(api: httpx.Client) -> None:
    assert api.get("/getme").json()["ok"] is True


def test_configurable_tokens() -> None:
    with FakeTelegram(tokens={"42:XYZ": {"id": 42, "username": "other_bot", "first_name": "Other"}}) as fake:
        assert http().get(f"{fake.url}/bot42:XYZ/getMe").json()["result"]["username"] == "other_bot"
        assert http().get(f"{fake.url}/bot{TOKEN}/getMe").status_code == 401


# ----- sendMessage success ----------------------------------------------------
def test_send_message_to_supergroup_by_id(tg: FakeTelegram, api: httpx.Client) -> None:
    response = send(api, GROUP)
    assert response.status_code == 200
    result = response.json()["result"]
    assert result["message_id"] == 1
    assert result["chat"] == {
        "id": GROUP,
        "title": "Provider A",
        "type": "supergroup",
        "username": "provider_a",
    }
    assert result["text"] == "REFILL: 987654"
    assert result["from"]["id"] == 123
    [entry] = tg.messages_to(GROUP)
    assert entry["text"] == "REFILL: 987654" and entry["message_id"] == 1 and entry["parse_mode"] is None
    assert entry["at"] == pytest.approx(time.time(), abs=5)


def test_message_ids_increase_per_chat(api: httpx.Client) -> None:
    assert [send(api, GROUP).json()["result"]["message_id"] for _ in range(3)] == [1, 2, 3]
    assert send(api, BASIC).json()["result"]["message_id"] == 1


def test_send_by_username_resolves_supergroups_and_channels_only(tg: FakeTelegram, api: httpx.Client) -> None:
    assert send(api, "@provider_a").json()["result"]["chat"]["id"] == GROUP
    assert send(api, "@Provider_News").json()["result"]["chat"]["id"] == CHANNEL
    tg.users[USER].started = True
    assert_error(send(api, "@alice"), 400, "Bad Request: chat not found")  # a user's @username
    assert len(tg.messages_to("@provider_a")) == 1


def test_form_and_multipart_bodies_and_query_string(tg: FakeTelegram, api: httpx.Client) -> None:
    assert api.post("/sendMessage", data={"chat_id": str(GROUP), "text": "form"}).json()["ok"]
    files = {"chat_id": (None, str(GROUP)), "text": (None, "multipart")}
    assert api.post("/sendMessage", files=files).json()["ok"]
    assert api.get("/sendMessage", params={"chat_id": GROUP, "text": "query"}).json()["ok"]
    assert [m["text"] for m in tg.messages_to(GROUP)] == ["form", "multipart", "query"]


def test_json_null_parse_mode_means_none(api: httpx.Client) -> None:
    assert send(api, GROUP, "a < b", parse_mode=None).json()["ok"] is True


def test_private_chat_after_start(tg: FakeTelegram, api: httpx.Client) -> None:
    tg.user_starts_bot(USER, "join-42")
    result = send(api, USER, "hello").json()["result"]
    assert result["chat"] == {"id": USER, "first_name": "Alice", "type": "private", "username": "alice"}


# ----- sendMessage validation ---------------------------------------------------
def test_chat_id_and_text_required(api: httpx.Client) -> None:
    assert_error(api.post("/sendMessage", json={"text": "x"}), 400, "Bad Request: chat_id is empty")
    assert_error(api.post("/sendMessage", json={"chat_id": GROUP}), 400, "Bad Request: message text is empty")
    assert_error(send(api, GROUP, "   \n "), 400, "Bad Request: message text is empty")


def test_text_length_limit_is_4096(tg: FakeTelegram, api: httpx.Client) -> None:
    assert send(api, GROUP, "x" * 4096).status_code == 200
    assert_error(send(api, GROUP, "x" * 4097), 400, "Bad Request: message is too long")
    assert len(tg.messages_to(GROUP)) == 1


def test_length_counts_after_html_parsing(api: httpx.Client) -> None:
    assert send(api, GROUP, "<b>" + "x" * 4096 + "</b>", parse_mode="HTML").status_code == 200
    assert send(api, GROUP, "&lt;" * 4096, parse_mode="HTML").status_code == 200
    assert send(api, GROUP, "&lt;" * 4097, parse_mode="HTML").status_code == 400


def test_bad_json_body(api: httpx.Client) -> None:
    response = api.post("/sendMessage", content=b"{nope", headers={"Content-Type": "application/json"})
    assert_error(response, 400, "Bad Request: can't parse JSON object")


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        ("REFILL < 5", 'Unsupported start tag "" at byte offset 7'),
        ("5<6", "Unclosed start tag at byte offset 1"),
        ("<blink>x</blink>", 'Unsupported start tag "blink" at byte offset 0'),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<b>never closed", 'Can\'t find end tag corresponding to start tag "b"'),
        ("ü <x>", 'Unsupported start tag "x" at byte offset 3'),
        ("<span>s</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
    ],
)
def test_html_markup_errors(api: httpx.Client, text: str, detail: str) -> None:
    assert_error(send(api, GROUP, text, parse_mode="HTML"), 400, f"Bad Request: can't parse entities: {detail}")


def test_valid_html_is_sent_as_plain_text(tg: FakeTelegram, api: httpx.Client) -> None:
    text = '<b>Refill</b> <a href="https://x.test/?a=1&amp;b=2">#12</a> &lt;ok&gt; &amp; &#65;&#x42; &copy;'
    result = send(api, GROUP, text, parse_mode="HTML").json()["result"]
    assert result["text"] == "Refill #12 <ok> & AB &copy;"
    assert tg.messages_to(GROUP)[0] | {"at": 0} == {
        "chat_id": GROUP,
        "text": text,
        "message_id": 1,
        "at": 0,
        "parse_mode": "HTML",
        "bot_id": 123,
    }


def test_markdown_accepted_and_unknown_parse_mode_refused(api: httpx.Client) -> None:
    assert send(api, GROUP, "*bold*", parse_mode="MarkdownV2").status_code == 200
    assert_error(send(api, GROUP, "x", parse_mode="BBCode"), 400, "Bad Request: unsupported parse_mode")


# ----- chat conditions ------------------------------------------------------------
def test_unknown_and_malformed_chats(api: httpx.Client) -> None:
    assert_error(send(api, -100555), 400, "Bad Request: chat not found")
    assert_error(send(api, "not-a-chat"), 400, "Bad Request: chat not found")
    assert_error(send(api, "@nobody_here"), 400, "Bad Request: chat not found")


@pytest.mark.parametrize(("chat_id", "kind"), [(GROUP, "supergroup"), (BASIC, "group"), (CHANNEL, "channel")])
def test_kicked_from_each_chat_type(tg: FakeTelegram, api: httpx.Client, chat_id: int, kind: str) -> None:
    tg.kick(chat_id)
    assert_error(send(api, chat_id), 403, f"Forbidden: bot was kicked from the {kind} chat")


def test_not_a_member(tg: FakeTelegram, api: httpx.Client) -> None:
    tg.add_chat(-1003, "supergroup", "Elsewhere", member=False)
    assert_error(send(api, -1003), 403, "Forbidden: bot is not a member of the supergroup chat")


def test_deleted_group(tg: FakeTelegram, api: httpx.Client) -> None:
    tg.delete_chat(BASIC)
    assert_error(send(api, BASIC), 403, "Forbidden: the group chat was deleted")


def test_user_who_never_started_the_bot(api: httpx.Client) -> None:
    assert_error(send(api, USER), 403, "Forbidden: bot can't initiate conversation with a user")


def test_blocked_and_unblocked(tg: FakeTelegram, api: httpx.Client) -> None:
    tg.user_starts_bot(USER)
    tg.block(USER)
    assert_error(send(api, USER), 403, "Forbidden: bot was blocked by the user")
    tg.unblock(USER)
    assert send(api, USER).status_code == 200


def test_deactivated_user(tg: FakeTelegram, api: httpx.Client) -> None:
    tg.user_starts_bot(USER)
    tg.deactivate(USER)
    assert_error(send(api, USER), 403, "Forbidden: user is deactivated")


def test_migrated_group_points_to_the_supergroup(tg: FakeTelegram, api: httpx.Client) -> None:
    new_id = tg.migrate(BASIC, -1007001)
    body = assert_error(send(api, BASIC), 400, "Bad Request: group chat was upgraded to a supergroup chat")
    assert body["parameters"] == {"migrate_to_chat_id": -1007001} and new_id == -1007001
    assert send(api, new_id).json()["result"]["chat"]["type"] == "supergroup"
    updates = api.get("/getUpdates").json()["result"]
    assert updates[0]["message"]["migrate_to_chat_id"] == -1007001
    assert updates[1]["message"]["migrate_from_chat_id"] == BASIC


def test_migrate_default_id_uses_the_minus_100_form(tg: FakeTelegram) -> None:
    assert tg.migrate(BASIC) == int(f"-100{abs(BASIC)}")


# ----- rate limits ------------------------------------------------------------------
def test_429_body_and_success_after_retry_after(tg: FakeTelegram, api: httpx.Client) -> None:
    tg.strict_limits = True
    assert send(api, GROUP).status_code == 200
    body = assert_error(send(api, GROUP), 429, "Too Many Requests: retry after 1")
    assert body["parameters"] == {"retry_after": 1}
    time.sleep(body["parameters"]["retry_after"])
    assert send(api, GROUP).status_code == 200
    assert len(tg.messages_to(GROUP)) == 2  # the refused one was not recorded


def test_per_chat_limit_does_not_affect_other_chats(tg: FakeTelegram, api: httpx.Client) -> None:
    tg.strict_limits = True
    assert send(api, GROUP).status_code == 200
    assert send(api, BASIC).status_code == 200
    assert send(api, GROUP).status_code == 429


def test_per_group_limit_per_window(tg: FakeTelegram, api: httpx.Client) -> None:
    tg.strict_limits, tg.chat_limit, tg.group_limit, tg.group_window = True, 0, 3, 0.3
    assert [send(api, GROUP).status_code for _ in range(3)] == [200, 200, 200]
    body = assert_error(send(api, GROUP), 429, "Too Many Requests: retry after 1")
    assert body["parameters"]["retry_after"] == 1
    tg.user_starts_bot(USER)
    assert send(api, USER).status_code == 200  # private chats are not groups
    time.sleep(0.35)
    assert send(api, GROUP).status_code == 200


def test_retry_after_reflects_the_group_window(tg: FakeTelegram, api: httpx.Client) -> None:
    tg.strict_limits, tg.chat_limit, tg.group_limit, tg.group_window = True, 0, 1, 60
    send(api, GROUP)
    assert send(api, GROUP).json()["parameters"]["retry_after"] in (59, 60)


def test_per_bot_limit_across_chats(tg: FakeTelegram, api: httpx.Client) -> None:
    tg.strict_limits, tg.bot_limit, tg.bot_window = True, 2, 0.3
    assert send(api, GROUP).status_code == 200
    assert send(api, BASIC).status_code == 200
    assert_error(send(api, CHANNEL), 429, "Too Many Requests: retry after 1")
    time.sleep(0.35)
    assert send(api, CHANNEL).status_code == 200


def test_strict_limits_off_allows_bursts(api: httpx.Client) -> None:
    assert {send(api, GROUP).status_code for _ in range(40)} == {200}


def test_limits_configurable_over_http(tg: FakeTelegram, api: httpx.Client, control: httpx.Client) -> None:
    assert control.post("/config", json={"strict_limits": True, "chat_window": 0.2}).status_code == 200
    send(api, GROUP)
    assert send(api, GROUP).status_code == 429
    time.sleep(0.25)
    assert send(api, GROUP).status_code == 200


def test_force_429(tg: FakeTelegram, api: httpx.Client) -> None:
    tg.force_429(times=2, retry_after=7)
    for _ in range(2):
        body = assert_error(send(api, GROUP), 429, "Too Many Requests: retry after 7")
        assert body["parameters"] == {"retry_after": 7}
    assert send(api, GROUP).status_code == 200


def test_force_429_over_http(api: httpx.Client, control: httpx.Client) -> None:
    assert control.post("/force-429", json={"times": 1, "retry_after": 3}).json()["ok"] is True
    assert send(api, GROUP).json()["parameters"]["retry_after"] == 3
    assert send(api, GROUP).status_code == 200


# ----- updates -----------------------------------------------------------------------
def test_bot_added_to_a_group(tg: FakeTelegram, api: httpx.Client) -> None:
    tg.add_user(555, "carol", "Carol")
    tg.bot_added(-1004242, title="Provider C", by_user_id=555)
    [update] = api.get("/getUpdates").json()["result"]
    change = update["my_chat_member"]
    assert change["chat"] == {"id": -1004242, "title": "Provider C", "type": "supergroup"}
    assert change["from"]["id"] == 555
    assert change["old_chat_member"]["status"] == "left"
    assert change["new_chat_member"]["status"] == "member"
    assert change["new_chat_member"]["user"]["id"] == 123
    assert send(api, -1004242).status_code == 200


def test_bot_added_as_admin_and_re_added_after_kick(tg: FakeTelegram, api: httpx.Client) -> None:
    tg.kick(GROUP, notify=False)
    tg.bot_added(GROUP, as_admin=True)
    [update] = api.get("/getUpdates").json()["result"]
    assert update["my_chat_member"]["old_chat_member"]["status"] == "kicked"
    new = update["my_chat_member"]["new_chat_member"]
    assert new["status"] == "administrator" and new["can_manage_chat"] is True


def test_bot_removed_from_a_group(tg: FakeTelegram, api: httpx.Client) -> None:
    tg.bot_removed(GROUP)
    [update] = api.get("/getUpdates").json()["result"]
    change = update["my_chat_member"]
    assert (change["old_chat_member"]["status"], change["new_chat_member"]["status"]) == ("member", "kicked")
    assert change["new_chat_member"]["until_date"] == 0
    assert send(api, GROUP).status_code == 403


def test_user_blocking_the_bot_is_a_private_my_chat_member(tg: FakeTelegram, api: httpx.Client) -> None:
    tg.user_starts_bot(USER)
    tg.block(USER)
    updates = api.get("/getUpdates").json()["result"]
    change = updates[-1]["my_chat_member"]
    assert change["chat"]["type"] == "private" and change["new_chat_member"]["status"] == "kicked"


def test_start_with_payload(tg: FakeTelegram, api: httpx.Client) -> None:
    tg.user_starts_bot(USER, "link-7f3a")
    [update] = api.get("/getUpdates").json()["result"]
    message = update["message"]
    assert message["text"] == "/start link-7f3a"
    assert message["from"] == {
        "id": USER,
        "is_bot": False,
        "first_name": "Alice",
        "username": "alice",
        "language_code": "en",
    }
    assert message["chat"] == {"id": USER, "first_name": "Alice", "type": "private", "username": "alice"}
    assert message["entities"] == [{"offset": 0, "length": 6, "type": "bot_command"}]


def test_start_creates_unknown_users(tg: FakeTelegram, api: httpx.Client) -> None:
    tg.user_starts_bot(31337)
    assert send(api, 31337).status_code == 200


def test_private_text_makes_user_reachable(tg: FakeTelegram, api: httpx.Client) -> None:
    tg.user_sends(USER, "hi, I am provider A")
    [update] = api.get("/getUpdates").json()["result"]
    assert update["message"]["text"] == "hi, I am provider A" and "entities" not in update["message"]
    assert send(api, USER).status_code == 200


def test_group_message(tg: FakeTelegram, api: httpx.Client) -> None:
    tg.user_sends(USER, "/link abc", chat_id=GROUP)
    [update] = api.get("/getUpdates").json()["result"]
    assert update["message"]["chat"]["id"] == GROUP and update["message"]["entities"][0]["length"] == 5


def test_update_ids_increase_and_offset_confirms(tg: FakeTelegram, api: httpx.Client) -> None:
    for n in range(3):
        tg.user_sends(USER, f"m{n}")
    ids = [u["update_id"] for u in api.get("/getUpdates").json()["result"]]
    assert ids == sorted(ids) and ids[1] == ids[0] + 1 and len(ids) == 3
    assert [u["update_id"] for u in api.get("/getUpdates", params={"offset": ids[1]}).json()["result"]] == ids[1:]
    assert api.get("/getUpdates", params={"offset": ids[2] + 1}).json()["result"] == []
    assert tg.pending_updates() == []


def test_limit_and_negative_offset(tg: FakeTelegram, api: httpx.Client) -> None:
    for n in range(5):
        tg.user_sends(USER, f"m{n}")
    assert len(api.get("/getUpdates", params={"limit": 2}).json()["result"]) == 2
    last = api.get("/getUpdates", params={"offset": -2}).json()["result"]
    assert [u["message"]["text"] for u in last] == ["m3", "m4"]


def test_long_poll_waits_for_an_update(tg: FakeTelegram, api: httpx.Client) -> None:
    tg.long_poll_cap = 3
    threading.Timer(0.2, tg.user_sends, args=(USER, "late")).start()
    started = time.monotonic()
    result = api.get("/getUpdates", params={"timeout": 30}).json()["result"]
    assert [u["message"]["text"] for u in result] == ["late"]
    assert 0.15 < time.monotonic() - started < 2


def test_long_poll_is_capped(api: httpx.Client) -> None:
    started = time.monotonic()
    assert api.get("/getUpdates", params={"timeout": 50}).json()["result"] == []
    assert 0.25 < time.monotonic() - started < 1.5


def test_second_poller_terminates_the_first(tg: FakeTelegram, api: httpx.Client) -> None:
    tg.long_poll_cap = 2
    replies: list[httpx.Response] = []
    first = threading.Thread(target=lambda: replies.append(api.get("/getUpdates", params={"timeout": 10})))
    first.start()
    time.sleep(0.2)
    with http(f"{tg.url}/bot{TOKEN}") as other:
        other.get("/getUpdates")
    first.join(5)
    assert_error(
        replies[0],
        409,
        "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
    )


def test_allowed_updates_filters(tg: FakeTelegram, api: httpx.Client) -> None:
    tg.user_sends(USER, "text")
    tg.bot_added(-1005, "G")
    result = api.get("/getUpdates", params={"allowed_updates": '["my_chat_member"]'}).json()["result"]
    assert [next(k for k in u if k != "update_id") for u in result] == ["my_chat_member"]


def test_updates_are_per_bot(tg: FakeTelegram) -> None:
    tg.add_bot("456:DEF", id=456, username="second_bot")
    tg.user_sends(USER, "to the second bot", token="456:DEF")
    assert http().get(f"{tg.url}/bot{TOKEN}/getUpdates").json()["result"] == []
    assert len(http().get(f"{tg.url}/bot456:DEF/getUpdates").json()["result"]) == 1


# ----- getChat -----------------------------------------------------------------------
def test_get_chat(tg: FakeTelegram, api: httpx.Client) -> None:
    result = api.get("/getChat", params={"chat_id": "@provider_a"}).json()["result"]
    assert result["id"] == GROUP and result["type"] == "supergroup" and result["title"] == "Provider A"
    assert_error(api.get("/getChat", params={"chat_id": USER}), 400, "Bad Request: chat not found")
    tg.user_starts_bot(USER)
    assert api.get("/getChat", params={"chat_id": USER}).json()["result"]["type"] == "private"
    tg.kick(GROUP)
    assert_error(
        api.get("/getChat", params={"chat_id": GROUP}),
        403,
        "Forbidden: bot was kicked from the supergroup chat",
    )
    assert_error(api.get("/getChat"), 400, "Bad Request: chat_id is empty")


# ----- webhooks ----------------------------------------------------------------------
class Receiver(FakeServer):
    """A bot backend: what Telegram POSTs updates to."""

    name = "webhook-receiver"

    @route("POST", r"/hook")
    def hook(self, req: FakeRequest) -> Reply:
        return json_reply({"ok": True})

    def updates(self) -> list[tuple[str | None, dict[str, Any]]]:
        return [(r.headers.get("x-telegram-bot-api-secret-token"), r.json()) for r in self.requests_to("/hook")]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as server:
        yield server


def wait_for(condition: Any, timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def test_webhook_delivers_with_secret_header(tg: FakeTelegram, api: httpx.Client, receiver: Receiver) -> None:
    body = api.post("/setWebhook", json={"url": f"{receiver.url}/hook", "secret_token": "s3cr3t_-X"}).json()
    assert body == {"ok": True, "result": True, "description": "Webhook was set"}
    tg.bot_added(-1006, "Hooked")
    tg.user_starts_bot(USER, "abc")
    wait_for(lambda: len(receiver.updates()) == 2)
    (secret1, first), (secret2, second) = receiver.updates()
    assert secret1 == secret2 == "s3cr3t_-X"
    assert "my_chat_member" in first and second["message"]["text"] == "/start abc"
    assert second["update_id"] == first["update_id"] + 1
    wait_for(lambda: api.get("/getWebhookInfo").json()["result"]["pending_update_count"] == 0)


def test_webhook_blocks_get_updates(api: httpx.Client, receiver: Receiver) -> None:
    api.post("/setWebhook", data={"url": f"{receiver.url}/hook"})
    assert_error(
        api.get("/getUpdates"),
        409,
        "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
    )
    assert (
        api.post("/setWebhook", data={"url": f"{receiver.url}/hook"}).json()["description"] == "Webhook is already set"
    )
    assert api.post("/deleteWebhook").json() == {
        "ok": True,
        "result": True,
        "description": "Webhook was deleted",
    }
    assert api.post("/deleteWebhook").json()["description"] == "Webhook is already deleted"
    assert api.get("/getUpdates").json() == {"ok": True, "result": []}


def test_webhook_info(tg: FakeTelegram, api: httpx.Client) -> None:
    assert api.get("/getWebhookInfo").json()["result"] == {
        "url": "",
        "has_custom_certificate": False,
        "pending_update_count": 0,
    }
    tg.user_sends(USER, "queued")
    assert api.get("/getWebhookInfo").json()["result"]["pending_update_count"] == 1


def test_webhook_failure_is_reported_and_retried(tg: FakeTelegram, api: httpx.Client, receiver: Receiver) -> None:
    receiver.inject("status", path="/hook", times=2, status=500)
    api.post("/setWebhook", json={"url": f"{receiver.url}/hook"})
    tg.user_sends(USER, "eventually")
    wait_for(lambda: any(d["error"] is None for d in tg.webhook_deliveries))
    assert len(receiver.requests_to("/hook")) == 3  # two failures, then delivered
    assert tg.pending_updates() == []
    failures = [d for d in tg.webhook_deliveries if d["error"]]
    assert failures[0]["error"] == "Wrong response from the webhook: 500 Internal Server Error"
    info = api.get("/getWebhookInfo").json()["result"]
    assert info["last_error_message"].startswith("Wrong response from the webhook: 500")
    assert info["url"] == f"{receiver.url}/hook"


def test_webhook_unreachable(tg: FakeTelegram, api: httpx.Client) -> None:
    closed = Receiver()
    url = f"{closed.url}/hook"
    closed.stop()  # nothing listens there any more
    api.post("/setWebhook", json={"url": url})
    tg.user_sends(USER, "lost")
    wait_for(lambda: "last_error_message" in api.get("/getWebhookInfo").json()["result"])
    assert api.get("/getWebhookInfo").json()["result"]["pending_update_count"] == 1


def test_webhook_validation(api: httpx.Client) -> None:
    assert_error(
        api.post("/setWebhook", json={"url": "ftp://example.test/hook"}),
        400,
        "Bad Request: bad webhook: An HTTPS URL must be provided for webhook",
    )
    assert_error(
        api.post("/setWebhook", json={"url": "https://example.test/hook", "secret_token": "no spaces!"}),
        400,
        "Bad Request: secret token contains unallowed characters",
    )


def test_set_webhook_drop_pending_and_empty_url(tg: FakeTelegram, api: httpx.Client, receiver: Receiver) -> None:
    tg.user_sends(USER, "old")
    receiver.inject("status", path="/hook", times=100, status=503)  # hold updates back
    api.post("/setWebhook", json={"url": f"{receiver.url}/hook", "drop_pending_updates": True})
    assert api.post("/setWebhook", json={"url": ""}).json()["description"] == "Webhook was deleted"
    assert api.get("/getUpdates").json()["result"] == []


# ----- steering from another process, inbox, state, reset -----------------------------
def test_control_endpoints(tg: FakeTelegram, api: httpx.Client, control: httpx.Client) -> None:
    added = control.post("/telegram/bot-added", json={"chat_id": -1008, "title": "Via HTTP"}).json()
    assert added["ok"] is True and added["result"]["my_chat_member"]["chat"]["title"] == "Via HTTP"
    assert control.post("/telegram/user-start", json={"user_id": 99, "payload": "p", "username": "dave"}).json()["ok"]
    assert send(api, 99).status_code == 200
    assert control.post("/kick", json={"chat_id": -1008}).status_code == 200
    assert send(api, -1008).status_code == 403
    assert control.post("/block", json={"user_id": 99}).status_code == 200
    assert send(api, 99).status_code == 403
    assert control.post("/migrate", json={"chat_id": BASIC}).json()["result"]["migrate_to_chat_id"] < 0
    assert control.post("/delete-chat", json={"chat_id": GROUP}).status_code == 200
    assert control.post("/telegram/user-message", json={"user_id": USER, "text": "hey"}).json()["ok"]
    assert control.post("/telegram/chat", json={"chat_id": -1010, "type": "group", "title": "T"}).json()["ok"]
    assert len(control.get("/telegram/updates").json()["result"]) >= 4


def test_control_rejects_bad_input(control: httpx.Client) -> None:
    assert control.post("/kick", json={"chat_id": -1}).status_code == 400  # unknown chat
    assert control.post("/kick", json={"nope": 1}).status_code == 400
    assert control.post("/kick", content=b"[1]").status_code == 400


def test_inbox_page_lists_messages_newest_first_escaped(tg: FakeTelegram, api: httpx.Client) -> None:
    send(api, GROUP, "older message")
    send(api, BASIC, "<script>alert(1)</script> & more")
    response = http().get(f"{tg.url}/_fake/inbox")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    page = response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in page and "<script>" not in page
    assert page.index("&amp; more") < page.index("older message")
    assert "Provider A (supergroup" in page
    assert "<link" not in page and "src=" not in page and "@import" not in page  # no external assets


def test_empty_inbox(tg: FakeTelegram) -> None:
    assert "No messages yet." in http().get(f"{tg.url}/_fake/inbox").text


def test_state_includes_sent_and_reset_keeps_the_directory(tg: FakeTelegram, api: httpx.Client) -> None:
    send(api, GROUP, "kept?")
    tg.kick(BASIC, notify=False)
    state = http().get(f"{tg.url}/_fake/state").json()
    assert [m["text"] for m in state["sent"]] == ["kept?"]
    assert {c["id"]: c["bot_status"] for c in state["chats"]}[BASIC] == "kicked"
    assert http().post(f"{tg.url}/_fake/reset").json() == {"ok": True}
    assert tg.sent == [] and tg.received == []
    assert send(api, GROUP).status_code == 200  # chats survive a reset
    assert send(api, BASIC).status_code == 403  # and so do their conditions


def test_faults_from_base_still_apply(tg: FakeTelegram, api: httpx.Client) -> None:
    tg.inject("html", path="sendMessage")
    response = send(api, GROUP)
    assert response.status_code == 502 and "nginx" in response.text
    assert send(api, GROUP).status_code == 200


def test_seed_demo() -> None:
    with FakeTelegram() as fake:
        fake.seed_demo()
        assert DEMO_TOKEN.split(":")[1] and len(DEMO_TOKEN.split(":")[1]) == 35  # a real token's shape
        assert http(f"{fake.url}/bot123:ABC").get("/getMe").status_code == 401  # only the demo bot
        client = http(f"{fake.url}/bot{DEMO_TOKEN}")
        assert client.get("/getMe").json()["result"]["username"] == "panelrelay_demo_bot"
        assert client.post("/sendMessage", json={"chat_id": "@provider_a_refills", "text": "x"}).json()["ok"]
        assert client.post("/sendMessage", json={"chat_id": 500000002, "text": "x"}).status_code == 403
        assert client.post("/sendMessage", json={"chat_id": 500000003, "text": "x"}).json()["ok"]  # the owner
        joined = client.get("/getUpdates").json()["result"]  # the bot was added to its 3 groups
        assert [u["my_chat_member"]["chat"]["title"] for u in joined] == [
            "FastLikes_A · refills",
            "Rush_B · support",
            "Storm_D · orders",
        ]
        fake.bot_added(-1007777, "Demo new group")
        offset = joined[-1]["update_id"] + 1
        assert len(client.get("/getUpdates", params={"offset": offset}).json()["result"]) == 1  # the demo bot's


def test_concurrent_senders_get_unique_message_ids(tg: FakeTelegram) -> None:
    def burst() -> None:
        with http(f"{tg.url}/bot{TOKEN}") as client:
            for _ in range(25):
                assert send(client, GROUP).status_code == 200

    threads = [threading.Thread(target=burst) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert sorted(m["message_id"] for m in tg.messages_to(GROUP)) == list(range(1, 201))


def test_runs_as_a_module_with_demo_data() -> None:
    command = [sys.executable, "-m", "fakes.telegram", "--port", "0", "--seed-demo"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parents[2]) as proc:
        try:
            first_line = proc.stdout.readline() if proc.stdout else ""
            url = first_line.rsplit(" ", 1)[-1].strip()
            assert url.startswith("http://127.0.0.1:"), first_line
            with http(url) as client:
                assert client.get(f"/bot{DEMO_TOKEN}/getMe").json()["result"]["id"] == 123456
                assert "No messages yet." in client.get("/_fake/inbox").text
        finally:
            proc.terminate()
