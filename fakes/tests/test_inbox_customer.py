"""The inbox page's "write as a customer" form: a private message the product receives (pushed by
webhook when one is set, else kept for polling), and the conversation shown with the answers."""

from __future__ import annotations

import httpx

from fakes.telegram import FakeTelegram
from fakes.waha import FakeWAHA


def test_the_waha_inbox_writes_as_a_customer_and_shows_the_conversation() -> None:
    with FakeWAHA() as fake:
        page = httpx.get(f"{fake.url}/_fake/inbox").text
        assert "Write as a customer" in page and "15550001234@c.us" in page
        sent = httpx.post(f"{fake.url}/_fake/inbox/send",
                          data={"chat": "15550001234@c.us", "name": "Ann", "text": "refill 10001 <b>"})  # fmt: skip
        assert sent.status_code == 303 and sent.headers["location"] == "/_fake/inbox"
        [entry] = fake.inbound
        assert (entry["chat_id"], entry["sender"], entry["text"]) == ("15550001234@c.us", "15550001234@c.us",
                                                                     "refill 10001 <b>")  # fmt: skip
        event = fake.webhook_event(entry)  # what a webhook would carry: WAHA's "message" event
        assert event["event"] == "message" and event["payload"]["from"] == "15550001234@c.us"
        page = httpx.get(f"{fake.url}/_fake/inbox").text
        assert "refill 10001 &lt;b&gt;" in page and "Ann" in page
        assert httpx.post(f"{fake.url}/_fake/inbox/send", data={"chat": "", "text": "x"}).status_code == 303
        assert len(fake.inbound) == 1  # nothing to send without a chat


def test_the_telegram_inbox_writes_a_private_message_to_the_bot() -> None:
    with FakeTelegram() as fake:
        fake.add_bot("123456:DEMO", id=123456, username="demo_bot")
        assert "700000555" in httpx.get(f"{fake.url}/_fake/inbox").text
        httpx.post(f"{fake.url}/_fake/inbox/send", data={"chat": "700000555", "text": "help"})
        token = fake.default_token or "123456:DEMO"
        updates = httpx.get(f"{fake.url}/bot{token}/getUpdates").json()["result"]
        assert updates[-1]["message"]["text"] == "help" and updates[-1]["message"]["chat"]["type"] == "private"
        assert httpx.post(f"{fake.url}/_fake/inbox/send", data={"chat": "abc", "text": "x"}).status_code == 400
