"""What the four messaging fakes (Telegram, WAHA, Evolution, Green-API) share.

On top of fakes.base.FakeServer this adds:
- `sent`, the log of messages the fake accepted, and `messages_to(chat)`;
- `GET /_fake/inbox`, an HTML page (no external assets, auto-refreshing) listing those
  messages newest first, so a person running the demo sees them arrive;
- `@control("name")` steering endpoints under /_fake/ taking a JSON body, so the demo,
  the benchmarks and crash tests can drive a fake living in another process;
- `SlidingWindow`, a rate limiter that also says how long to wait;
- `serve_main()`, the `python -m fakes.<name> --port N --seed-demo` entry point;
- provider behaviours (fakes/behaviours.py): `behave(chat, "reply")` and the provider in that
  chat answers what the product sends there, on a simulated clock (`advance(seconds)`).
"""

from __future__ import annotations

import argparse
import html
import json
import secrets
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from collections.abc import Callable
from string import Template
from typing import Any
from urllib.parse import parse_qs

from fakes.base import FakeRequest, FakeServer, Reply, json_reply
from fakes.behaviours import ProviderBehaviours

ControlHandler = Callable[[dict[str, Any]], Any]


def control(name: str, method: str = "POST") -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Mark a method as the handler of METHOD /_fake/<name>; it gets the JSON body as a dict."""

    def mark(fn: Callable[..., Any]) -> Callable[..., Any]:
        fn._fake_control = (method.upper(), "/_fake/" + name)  # type: ignore[attr-defined]
        return fn

    return mark


class SlidingWindow:
    """Per-key hit log answering "how long until one more hit fits in `limit` per `window` s?".

    base.RateLimiter only says yes/no for a fixed one-second window. Telegram needs a 60 s
    per-group window and a `retry_after`, so this keeps the timestamps and computes the wait.
    Limits are passed on every call so a fake's settings can change at run time.
    """

    def __init__(self) -> None:
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def wait_time(self, key: str, limit: float, window: float, now: float | None = None) -> float:
        """Seconds until `key` may be hit again (0.0 = now)."""
        if limit <= 0 or window <= 0:
            return 0.0
        now = time.monotonic() if now is None else now
        with self._lock:
            hits = self._hits.get(key)
            while hits and now - hits[0] >= window:
                hits.popleft()
            if not hits or len(hits) < limit:
                return 0.0
            # The hit that must age out is the limit-th newest one.
            return hits[-int(limit)] + window - now

    def hit(self, key: str, now: float | None = None) -> None:
        with self._lock:
            self._hits.setdefault(key, deque()).append(time.monotonic() if now is None else now)

    def clear(self) -> None:
        with self._lock:
            self._hits.clear()


INBOX_PAGE = Template("""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="refresh" content="2">
<title>$title inbox</title>
<style>
body { font-family: system-ui, sans-serif; margin: 1.5rem; color: #1d2430; }
h1 { font-size: 1.3rem; margin: 0 0 .3rem; }
p.meta { color: #5b6575; margin: 0 0 1rem; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: .45rem .6rem; border-bottom: 1px solid #dde2ea; }
th { background: #f3f5f8; font-weight: 600; }
td.text { white-space: pre-wrap; word-break: break-word; font-family: ui-monospace, monospace; }
td.when, td.extra { white-space: nowrap; color: #5b6575; }
td.empty { color: #5b6575; text-align: center; padding: 2rem; }
form.customer { display: flex; gap: .5rem; flex-wrap: wrap; margin: 0 0 .6rem; }
form.customer input { padding: .35rem .5rem; font: inherit; }
form.customer input[name=text] { flex: 1; min-width: 16rem; }
div.chat { max-height: 22rem; overflow-y: auto; border: 1px solid #dde2ea; border-radius: .4rem; padding: .6rem;
           margin-bottom: 1.2rem; background: #f9fafb; }
div.bubble { max-width: 70%; margin: .25rem 0; padding: .4rem .6rem; border-radius: .6rem; white-space: pre-wrap; }
div.in { background: #e8eef7; }
div.out { background: #dcf5dc; margin-left: auto; }
div.bubble small { display: block; color: #5b6575; font-size: .75rem; }
</style></head>
<body>
<h1>$title inbox</h1>
<h2 style="font-size:1.05rem">Write as a customer</h2>
<p class="meta">What you send here reaches the product as a customer's private message (by webhook when one is set,
else it waits for polling); the answers appear below. This page stops refreshing while you type.</p>
<form class="customer" method="post" action="/_fake/inbox/send">
<input name="chat" value="$customer" aria-label="Customer's number or user id" size="18">
<input name="name" value="Customer" aria-label="Customer's name" size="10">
<input name="text" title="e.g. refill 10001 10002" aria-label="Message" autofocus
       onfocus="document.querySelector('meta[http-equiv=refresh]')?.remove()">
<button>Send as the customer</button>
</form>
<div class="chat">$chat</div>
<h2 style="font-size:1.05rem">Everything sent by the product</h2>
<p class="meta">$count message(s) received at $url &middot; newest first &middot; refreshes every 2 s</p>
<table>
<thead><tr><th>Time</th><th>To</th><th>Text</th><th>Details</th></tr></thead>
<tbody>
$rows
</tbody>
</table>
</body></html>
""")


class MessagingFake(ProviderBehaviours, FakeServer):
    """A FakeServer that accepts messages: keeps them, shows them, can be steered remotely."""

    name = "fake-messaging"
    title = "Fake messenger"
    default_port = 0

    def __init__(self, host: str = "127.0.0.1", port: int = 0, latency: float = 0.0) -> None:
        super().__init__(host=host, port=port, latency=latency)
        self.sent: list[dict[str, Any]] = []
        # Messages people wrote to the account (a provider's answer, a customer): served by the
        # gateway's history/polling API and POSTed to `webhook_url` when one is set.
        self.inbound: list[dict[str, Any]] = []
        self.webhook_url = ""
        self.webhook_results: list[int] = []  # the status code of every webhook POST, in order
        self._init_behaviours()
        self._controls = self._collect_controls()

    # ----- what subclasses use or override ---------------------------------
    def record_sent(self, entry: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            self.sent.append(entry)
            self.schedule_answer(entry)  # a provider behaviour of that chat answers it (later)
        return entry

    def dispatch(self, req: FakeRequest) -> Reply | None:
        # Due provider answers go out before the request is handled: the product's next poll
        # (or send) finds them written, and no test has to sleep for them.
        self.release()
        return super().dispatch(req)

    def chat_key(self, chat: Any) -> Any:
        """Normalise how a caller names a chat to how `sent` entries store `chat_id`."""
        return chat

    def chat_label(self, chat_id: Any) -> str:
        """How the inbox page shows a recipient."""
        return str(chat_id)

    def messages_to(self, chat: Any) -> list[dict[str, Any]]:
        key = self.chat_key(chat)
        with self.lock:
            return [dict(m) for m in self.sent if m["chat_id"] == key]

    # ----- incoming messages ---------------------------------------------
    def write(self, chat: str, text: str, *, sender: str = "", name: str = "Provider", reply_to: str = "",
              deliveries: int = 1, **extra: Any) -> dict[str, Any]:  # fmt: skip
        """Someone writes `text` in `chat` (replying to our message `reply_to`, if given): the fake
        keeps it for polling and POSTs the gateway's event to `webhook_url` `deliveries` times
        (more than once: a gateway retrying after a timeout)."""
        entry = {"chat_id": chat, "text": text, "sender": sender or chat, "name": name, "reply_to": reply_to,
                 "message_id": self.new_message_id(), "at": time.time(), **extra}  # fmt: skip
        with self.lock:
            self.inbound.append(entry)
        for _ in range(deliveries if self.webhook_url else 0):
            self.push(self.webhook_event(entry))
        return entry

    @control("write")
    def _c_write(self, args: dict[str, Any]) -> dict[str, Any]:
        return self.write(str(args["chat"]), str(args["text"]), sender=str(args.get("sender", "")),
                          reply_to=str(args.get("reply_to", "")), deliveries=int(args.get("deliveries", 1)))  # fmt: skip

    @control("behave")
    def _c_behave(self, args: dict[str, Any]) -> dict[str, Any]:
        return self.behave(args.pop("chat"), **args)

    @control("advance")
    def _c_advance(self, args: dict[str, Any]) -> list[dict[str, Any]]:
        return self.advance(float(args.get("seconds", 0)))

    @control("webhook")
    def _c_webhook(self, args: dict[str, Any]) -> dict[str, Any]:
        self.webhook_url = str(args.get("url", ""))
        return {"url": self.webhook_url}

    def new_message_id(self) -> str:
        return secrets.token_hex(8).upper()

    def webhook_event(self, entry: dict[str, Any]) -> dict[str, Any]:
        """The gateway's webhook body for one inbound message (each fake builds its own shape)."""
        raise NotImplementedError

    def push(self, body: dict[str, Any]) -> int:
        """POST one event to webhook_url like the gateway does; returns the status (0: unreachable)."""
        request = urllib.request.Request(self.webhook_url, data=json.dumps(body).encode(), method="POST",
                                         headers={"Content-Type": "application/json"})  # fmt: skip
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 (loopback test server)
                status = answer.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        except OSError:
            status = 0
        with self.lock:
            self.webhook_results.append(status)
        return status

    def seed_demo(self) -> None:
        """Fill the fake with the demo's data (used by --seed-demo)."""
        raise NotImplementedError

    def auth_hint(self) -> str:
        """One line telling a person how to authenticate against this fake."""
        return ""

    def reset(self) -> None:
        super().reset()
        with self.lock:
            self.sent.clear()
            self.answers.clear()
            self.pending.clear()  # behaviours stay, like chats and groups

    def snapshot(self) -> dict[str, Any]:
        data = super().snapshot()
        with self.lock:
            data["sent"] = [dict(m) for m in self.sent]
            data["behaviours"] = {str(chat): b.as_dict() for chat, b in self.behaviours.items()}
            data["pending_answers"] = len(self.pending)
        return data

    # ----- inbox page ------------------------------------------------------
    @property
    def demo_customer(self) -> str:
        """The customer the inbox page writes as: a private chat in this fake's spelling of one."""
        return "700000555" if hasattr(self, "user_sends") else "15550001234@c.us"

    def customer_writes(self, chat: str, text: str, name: str) -> None:
        """A customer writes privately to the account (the inbox page's form)."""
        user_sends = getattr(self, "user_sends", None)
        if user_sends is None:
            self.write(chat, text, sender=chat, name=name, from_inbox=True)
            return
        user_sends(int(chat), text)  # the fake Telegram: a private message to its bot, read as an update
        with self.lock:
            self.inbound.append({"chat_id": int(chat), "text": text, "name": name, "at": time.time(),
                                 "from_inbox": True})  # fmt: skip

    def inbox_html(self) -> str:
        with self.lock:
            messages = [dict(m) for m in reversed(self.sent)]
        rows = "\n".join(self._inbox_row(m) for m in messages)
        return INBOX_PAGE.substitute(
            title=html.escape(self.title),
            count=len(messages),
            url=html.escape(self.url),
            rows=rows or '<tr><td colspan="4" class="empty">No messages yet.</td></tr>',
            customer=html.escape(str(self.demo_customer)),
            chat=self._customer_chat(),
        )

    def _customer_chat(self) -> str:
        """The conversations of the chats someone wrote to privately from this page, oldest first."""
        with self.lock:
            chats = {str(m["chat_id"]) for m in self.inbound if m.get("from_inbox")}
            keys = {str(self.chat_key(c)) for c in chats} | chats
            said = [("in", m) for m in self.inbound if str(m["chat_id"]) in chats]
            said += [("out", m) for m in self.sent if str(m["chat_id"]) in keys]
        said.sort(key=lambda item: item[1].get("at", 0))
        bubbles = []
        for direction, m in said[-60:]:
            when = time.strftime("%H:%M:%S", time.localtime(m.get("at", 0)))
            who = html.escape(str(m.get("name") or m["chat_id"])) if direction == "in" else "the product"
            bubbles.append(f'<div class="bubble {direction}">{html.escape(str(m.get("text", "")))}'
                           f"<small>{who} · {when}</small></div>")  # fmt: skip
        return "\n".join(bubbles) or '<p class="meta">No customer message yet: write one above.</p>'

    def _inbox_send(self, req: FakeRequest) -> Reply:
        """The inbox page's form: a customer writes privately (webhook push or polling, as set)."""
        fields = {k: v[-1] for k, v in parse_qs(req.body.decode("utf-8", "replace")).items()}
        chat, text = fields.get("chat", "").strip(), fields.get("text", "").strip()
        if chat and text:
            try:
                self.customer_writes(chat, text, fields.get("name", "").strip() or "Customer")
            except (LookupError, ValueError) as exc:  # e.g. a Telegram user id that is not a number
                return Reply(400, f"not sent: {exc}", {"Content-Type": "text/plain; charset=utf-8"})
        return Reply(303, "", {"Location": "/_fake/inbox"})

    def _inbox_row(self, message: dict[str, Any]) -> str:
        when = time.strftime("%H:%M:%S", time.localtime(message.get("at", 0)))
        extra = {k: v for k, v in message.items() if k not in ("chat_id", "text", "at") and v is not None}
        details = ", ".join(f"{k}={v}" for k, v in extra.items())
        cells = (when, self.chat_label(message["chat_id"]), str(message.get("text", "")), details)
        classes = ("when", "to", "text", "extra")
        return (
            "<tr>"
            + "".join(f'<td class="{c}">{html.escape(v)}</td>' for c, v in zip(classes, cells, strict=True))
            + "</tr>"
        )

    # ----- control plumbing ------------------------------------------------
    def _collect_controls(self) -> dict[tuple[str, str], ControlHandler]:
        found: dict[tuple[str, str], ControlHandler] = {}
        for attr in dir(type(self)):
            mark = getattr(getattr(type(self), attr), "_fake_control", None)
            if mark:
                found[mark] = getattr(self, attr)
        return found

    def _control(self, req: FakeRequest) -> Reply:
        if req.method == "GET" and req.path == "/_fake/inbox":
            return Reply(200, self.inbox_html(), {"Content-Type": "text/html; charset=utf-8"})
        if req.method == "POST" and req.path == "/_fake/inbox/send":
            return self._inbox_send(req)
        handler = self._controls.get((req.method, req.path))
        if handler is None:
            return super()._control(req)
        try:
            args = req.json() if req.body else dict(req.query)
        except ValueError:
            return json_reply({"error": "the body must be a JSON object"}, 400)
        if not isinstance(args, dict):
            return json_reply({"error": "the body must be a JSON object"}, 400)
        try:
            result = handler(args)
        except (LookupError, ValueError, TypeError) as exc:  # bad steering input, not a fake bug
            return json_reply({"error": f"{type(exc).__name__}: {exc}"}, 400)
        return json_reply({"ok": True, "result": result})


def serve_main(cls: type[MessagingFake], argv: list[str] | None = None) -> None:
    """`python -m fakes.<name> [--host H] [--port N] [--seed-demo] [--latency S]`, in the foreground."""
    parser = argparse.ArgumentParser(prog=f"python -m {_module_name(cls)}", description=cls.__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=cls.default_port)
    parser.add_argument("--seed-demo", action="store_true", help="load the demo data")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every reply")
    args = parser.parse_args(argv)
    fake = cls(host=args.host, port=args.port, latency=args.latency)
    if args.seed_demo:
        fake.seed_demo()
    print(banner(fake), flush=True)
    try:
        fake.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()


def _module_name(cls: type) -> str:
    """ "fakes.telegram" even when the module runs as __main__ (python -m fakes.telegram)."""
    if cls.__module__ != "__main__":
        return cls.__module__
    spec = getattr(sys.modules["__main__"], "__spec__", None)
    return spec.name if spec else "fakes"


def banner(fake: MessagingFake) -> str:
    lines = [f"{fake.title} listening on {fake.url}", f"  inbox:   {fake.url}/_fake/inbox"]
    lines.append(f"  state:   {fake.url}/_fake/state")
    if fake.auth_hint():
        lines.append(f"  auth:    {fake.auth_hint()}")
    return "\n".join(lines)
