"""Provider behaviours over real HTTP: a fake answers what is sent to a chat, on a simulated clock."""

from __future__ import annotations

import ssl
from typing import Any

import httpx
import pytest

from fakes.behaviours import Behaviour, quoted_ids
from fakes.evolution import FakeEvolution
from fakes.greenapi import FakeGreenAPI
from fakes.telegram import FakeTelegram
from fakes.waha import FakeWAHA

TLS = ssl.create_default_context()
GROUP = "120363000000000077@g.us"
TOKEN = "123:ABC"


def post(url: str, path: str, body: dict[str, Any], **headers: str) -> Any:
    with httpx.Client(base_url=url, trust_env=False, verify=TLS, timeout=5) as client:
        answer = client.post(path, json=body, headers=headers)
        assert answer.status_code < 300, answer.text
        return answer.json()


def waha_send(fake: FakeWAHA, text: str, chat: str = GROUP) -> str:
    body = {"session": "default", "chatId": chat, "text": text}
    return post(fake.url, "/api/sendText", body, **{"X-Api-Key": "waha-key"})["id"]


def waha_history(fake: FakeWAHA, chat: str = GROUP) -> list[dict[str, Any]]:
    with httpx.Client(base_url=fake.url, trust_env=False, verify=TLS, timeout=5) as client:
        answer = client.get(f"/api/default/chats/{chat}/messages", params={"filter.fromMe": "false"},
                            headers={"X-Api-Key": "waha-key"})  # fmt: skip
        return answer.json()


def test_it_parses_the_ids_a_provider_would_copy() -> None:
    text = "REFILL\n9876543\n9876544 (order 45323)\n45324 (panel order)\nnote: 3 days"
    assert quoted_ids(text) == ["9876543", "9876544"]


def test_it_refuses_an_unknown_kind_or_language() -> None:
    with pytest.raises(ValueError):
        Behaviour(kind="shout")
    with pytest.raises(ValueError):
        Behaviour(language="xx")
    assert Behaviour(language="xx", text="oké").words() == "oké"


def test_a_reply_answers_our_message_by_its_bare_id_on_the_next_request() -> None:
    with FakeWAHA() as fake:
        fake.behave(GROUP, "reply", language="hi")
        ours = waha_send(fake, "REFILL\n9876543")
        assert fake.inbound == []  # not yet: nothing was asked since the send
        [answer] = waha_history(fake)
        assert answer["body"] == "ho gaya" and answer["replyTo"]["id"] == ours.split("_")[-1]
        assert answer["participant"] == "447700900555@c.us"


def test_a_delayed_answer_waits_for_the_fake_clock_not_the_wall_clock() -> None:
    with FakeWAHA() as fake:
        fake.behave(GROUP, "quote", says="working", delay=3600)
        waha_send(fake, "CANCEL\n111222\n333444")
        assert waha_history(fake) == [] and len(fake.pending) == 1
        assert fake.advance(1800) == []
        [written] = fake.advance(1800)
        assert written["text"] == "111222 333444 processing" and not written["reply_to"]


def test_silent_and_times_limit_who_answers() -> None:
    with FakeWAHA() as fake:
        fake.behave(GROUP, "silent")
        waha_send(fake, "REFILL\n1001")
        fake.behave("120363000000000078@g.us", "reply", times=1, domain="prov-own.example")
        waha_send(fake, "REFILL\n1002", chat="120363000000000078@g.us")
        waha_send(fake, "REMINDER\n1002", chat="120363000000000078@g.us")
        fake.release()
        assert [a["written"]["text"] for a in fake.answers] == ["done, see https://prov-own.example/orders"]


def test_a_waha_reaction_is_a_message_reaction_event() -> None:
    with FakeWAHA() as fake:
        fake.behave(GROUP, "react")
        ours = waha_send(fake, "REFILL\n1001")
        [written] = fake.release()
        event = fake.webhook_event(written)
        assert event["event"] == "message.reaction"
        assert event["payload"]["reaction"] == {"text": "👍", "messageId": ours}
        assert waha_history(fake) == []  # a reaction is not a message of the chat


def test_an_evolution_reaction_is_a_baileys_reaction_message() -> None:
    with FakeEvolution() as fake:
        fake.add_group(GROUP, "Provider D")
        fake.behave(GROUP, "react", says="refused")
        sent = post(fake.url, "/message/sendText/relay", {"number": GROUP, "text": "REFILL\n1"}, apikey="evo-key")
        [written] = fake.release()
        record = fake.webhook_event(written)["data"]
        assert record["messageType"] == "reactionMessage"
        assert record["message"]["reactionMessage"]["text"] == "👎"
        assert record["message"]["reactionMessage"]["key"]["id"] == sent["key"]["id"]


def test_a_green_api_reaction_quotes_the_message_it_reacts_to() -> None:
    with FakeGreenAPI() as fake:
        fake.behave(GROUP, "react")
        sent = post(fake.url, "/waInstance1101000001/sendMessage/green-token", {"chatId": GROUP, "message": "X\n1"})
        with httpx.Client(base_url=fake.url, trust_env=False, verify=TLS, timeout=5) as client:
            note = client.get("/waInstance1101000001/receiveNotification/green-token").json()
        data = note["body"]["messageData"]
        assert data["typeMessage"] == "reactionMessage" and data["extendedTextMessageData"]["text"] == "👍"
        assert data["quotedMessage"]["stanzaId"] == sent["idMessage"]


def test_telegram_answers_come_as_updates_of_the_bot_that_sent() -> None:
    with FakeTelegram(strict_limits=False) as fake:
        fake.add_bot("555:OTHER", id=555)
        fake.add_chat(-1007, "supergroup", "Provider group")
        fake.behave(-1007, "reply", says="refused")
        fake.behave("-1007", "reply", says="refused")  # the chat named as the product names it
        sent = post(fake.url, "/bot555:OTHER/sendMessage", {"chat_id": "-1007", "text": "REFILL\n9"})
        fake.release()
        [update] = fake.pending_updates("555:OTHER")
        message = update["message"]
        assert message["text"] == "not possible, already completed"
        assert message["reply_to_message"]["message_id"] == sent["result"]["message_id"]
        assert fake.pending_updates(TOKEN) == []


def test_a_telegram_reaction_is_a_message_reaction_update_asked_for_by_name() -> None:
    with FakeTelegram(strict_limits=False) as fake:
        fake.add_chat(-1007, "supergroup", "Provider group")
        fake.behave(-1007, "react")
        sent = post(fake.url, f"/bot{TOKEN}/sendMessage", {"chat_id": -1007, "text": "REFILL\n9"})
        default = post(fake.url, f"/bot{TOKEN}/getUpdates", {})
        assert default["result"] == []  # not in the default allowed_updates: dropped, as Telegram does
        fake.behave(-1007, "react")
        post(fake.url, f"/bot{TOKEN}/sendMessage", {"chat_id": -1007, "text": "REFILL\n10"})
        asked = post(fake.url, f"/bot{TOKEN}/getUpdates", {"allowed_updates": ["message", "message_reaction"]})
        [update] = asked["result"]
        reaction = update["message_reaction"]
        assert reaction["new_reaction"] == [{"type": "emoji", "emoji": "👍"}]
        assert reaction["message_id"] == sent["result"]["message_id"] + 1


def test_behaviours_are_steered_over_http_for_the_demo() -> None:
    with FakeWAHA() as fake:
        post(fake.url, "/_fake/behave", {"chat": GROUP, "kind": "reply", "says": "working", "delay": 60})
        waha_send(fake, "REFILL\n1")
        assert waha_history(fake) == []
        post(fake.url, "/_fake/advance", {"seconds": 60})
        assert [m["body"] for m in waha_history(fake)] == ["processing"]
