"""Provider behaviours: a fake messenger can play the provider who answers in a chat.

A test (or the demo) switches one on per chat: `fake.behave(chat, "reply")`. From then on every
message the product sends to that chat is answered the way a real provider would:

  reply   a reply to our message ("done")                          reply_to = our message's id
  quote   a new message quoting the external ids ("9876543 done")  no reply_to; the ids from our text
  react   an emoji reaction on our message (👍)                     the gateway's reaction event
  silent  nothing, ever (the provider who ignores the group)

`says` (done | refused | working | other) and `language` pick the words from PROVIDER_WORDS (or
`text` gives them); `domain` writes the provider's own panel domain into the answer, as providers
do; `delay` holds the answer back for that many seconds of *fake* time; `times` answers only the
next N messages.

Time is simulated, never slept: an answer waits in `pending` until the fake's clock reaches it.
The clock is the wall clock plus `advance(seconds)`; due answers go out on `release()`, which
runs before the fake handles each request (so the product's next poll or send finds an answer
of delay 0 already written) and after every `advance()`. A delayed answer's own timestamp is the
wall-clock time it goes out: only when it goes out is simulated.

Each fake says how its platform carries the three shapes (answer_reply / answer_quote /
answer_react); the default writes through MessagingFake.write() (WAHA, Evolution, Green-API).
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from typing import Any

KINDS = ("reply", "quote", "react", "silent")
SAYS = ("done", "refused", "working", "other")
# What providers write back, per language (Hindi/Urdu in Latin script as they type it).
PROVIDER_WORDS: dict[str, dict[str, str]] = {
    "en": {"done": "done", "refused": "not possible, already completed", "working": "processing",
           "other": "send link please"},
    "hi": {"done": "ho gaya", "refused": "nahi ho sakta", "working": "kar rahe hai", "other": "link bhejo"},
    "id": {"done": "sudah selesai", "refused": "tidak bisa", "working": "sedang diproses", "other": "kirim link"},
    "tr": {"done": "tamamlandı", "refused": "yapılamaz", "working": "işleniyor", "other": "linki gönder"},
    "ru": {"done": "готово", "refused": "невозможно", "working": "в работе", "other": "пришлите ссылку"},
    "pt": {"done": "feito", "refused": "não é possível", "working": "em andamento", "other": "manda o link"},
}  # fmt: skip
REACTIONS = {"done": "👍", "refused": "👎", "working": "⏳", "other": "🤔"}
# An id line of our message: "9876543" or "9876543 (order 45323)"; manual orders' "(panel order)" lines are not ids.
_ID_LINE = re.compile(r"^\s*(\d{3,20})(?!\d)(?! \(panel order\))", re.M)


@dataclass
class Behaviour:
    kind: str = "reply"
    says: str = "done"
    text: str = ""
    language: str = "en"
    domain: str = ""
    delay: float = 0.0
    sender: str = ""
    times: int | None = None  # None: every message; n: only the next n

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}")
        if self.says not in SAYS:
            raise ValueError(f"says must be one of {SAYS}")
        if not self.text and self.language not in PROVIDER_WORDS:
            raise ValueError(f"language must be one of {tuple(PROVIDER_WORDS)} (or give the text)")

    def words(self) -> str:
        words = self.text or PROVIDER_WORDS[self.language][self.says]
        return f"{words}, see https://{self.domain}/orders" if self.domain else words

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass
class Pending:
    due: float  # on the fake's clock
    chat: Any
    behaviour: Behaviour
    ours: dict[str, Any]  # the `sent` entry of the message being answered


def quoted_ids(text: str) -> list[str]:
    """The external ids a provider would copy from our message: its id lines, in order."""
    return list(dict.fromkeys(_ID_LINE.findall(text or "")))


class ProviderBehaviours:
    """The behaviour machinery MessagingFake mixes in; the platform hooks are at the bottom."""

    lock: threading.RLock

    def _init_behaviours(self) -> None:
        self.behaviours: dict[Any, Behaviour] = {}
        self.pending: list[Pending] = []
        self.answers: list[dict[str, Any]] = []  # what the provider behaviours wrote, in order
        self.clock_offset = 0.0

    # ----- steering ---------------------------------------------------------
    def behave(self, chat: Any, kind: str = "reply", **options: Any) -> dict[str, Any]:
        """From now on the provider in `chat` answers every message we send there (see the module doc)."""
        behaviour = Behaviour(kind=kind, **options)
        with self.lock:
            self.behaviours[self.chat_key(chat)] = behaviour
        return behaviour.as_dict()

    def forget_behaviours(self) -> None:
        with self.lock:
            self.behaviours.clear()
            self.pending.clear()

    def now(self) -> float:
        return time.time() + self.clock_offset

    def advance(self, seconds: float) -> list[dict[str, Any]]:
        """Move the fake's clock on; the answers that fall due go out. Returns them."""
        with self.lock:
            self.clock_offset += float(seconds)
        return self.release()

    def release(self) -> list[dict[str, Any]]:
        """Write every pending answer that is due (outside the lock: a webhook POST may follow)."""
        with self.lock:
            now = self.now()
            due = [p for p in self.pending if p.due <= now]
            self.pending = [p for p in self.pending if p.due > now]
        return [self._answer(p) for p in sorted(due, key=lambda p: p.due)]

    # ----- called by record_sent ---------------------------------------------
    def schedule_answer(self, entry: dict[str, Any]) -> None:
        with self.lock:
            behaviour = self.behaviours.get(entry["chat_id"])
            if behaviour is None or behaviour.kind == "silent" or behaviour.times == 0:
                return
            if behaviour.times is not None:
                behaviour.times -= 1
            self.pending.append(Pending(self.now() + behaviour.delay, entry["chat_id"], behaviour, dict(entry)))

    def _answer(self, pending: Pending) -> dict[str, Any]:
        b, ours = pending.behaviour, pending.ours
        if b.kind == "reply":
            written = self.answer_reply(pending.chat, b.words(), ours, b.sender)
        elif b.kind == "quote":
            ids = " ".join(quoted_ids(ours.get("text", "")))
            written = self.answer_quote(pending.chat, f"{ids} {b.words()}".strip(), ours, b.sender)
        else:
            written = self.answer_react(pending.chat, b.text or REACTIONS[b.says], ours, b.sender)
        with self.lock:
            self.answers.append({"chat_id": pending.chat, "kind": b.kind, "answers": ours.get("message_id"),
                                 "written": written})  # fmt: skip
        return written

    # ----- how the platform carries an answer (FakeTelegram overrides these) --
    provider_sender = "447700900555@c.us"  # who writes in a WhatsApp group when no sender is given

    def _who(self, chat: Any, sender: str) -> str:
        return sender or (self.provider_sender if str(chat).endswith("@g.us") else str(chat))

    def answer_reply(self, chat: Any, text: str, ours: dict[str, Any], sender: str) -> dict[str, Any]:
        return self.write(chat, text, sender=self._who(chat, sender), reply_to=str(ours["message_id"]))

    def answer_quote(self, chat: Any, text: str, ours: dict[str, Any], sender: str) -> dict[str, Any]:
        return self.write(chat, text, sender=self._who(chat, sender))

    def answer_react(self, chat: Any, emoji: str, ours: dict[str, Any], sender: str) -> dict[str, Any]:
        """`reaction=True` on the written entry: each gateway renders it as its reaction event."""
        return self.write(chat, emoji, sender=self._who(chat, sender), reply_to=str(ours["message_id"]),
                          reaction=True)  # fmt: skip

    # Provided by MessagingFake (declared here so this part reads alone).
    chat_key: Any
    write: Any
