"""Reading a request — order ids and a command — from a support ticket or a team-bot message.

Pure functions: no database, no HTTP. Ticket polling and the team bot call them and decide what
to do with the result; a `Parsed` without ids or without a command means "leave it alone".

Rules (also in docs/ARCHITECTURE.md, "Reading a request from text"):

- **Ids** are whole runs of ASCII digits, 3–20 long by default, as written, deduplicated, in order
  of appearance, at most 100 (the rest are ignored and the reason says so). Runs that are clearly
  something else (links, dates, times, amounts, phone numbers, quantities, …) are left out:
  see `panelrelay.reading.ids`. The ids come from the message; the subject is read for ids only
  when the message has none ("Urgent Refill: 123" as a subject).
- **Commands** are found by keyword phrases, compared word by word after folding case and Latin
  accents, in any script (see `panelrelay.reading.words`). At each word the longest phrase wins, so
  "Refund (Partial/Cancel)" is one cancel request, not three commands, and "speed up" is not
  "speed" + "up". Keywords in links are ignored.
- **Ambiguity:** if the subject and the message together ask for two or more different commands
  ("refill 123, or cancel it"), the command is None and the reason starts with
  "ambiguous: refill and cancel". Guessing would forward a command the customer may not have
  meant, and a cancel costs money; a ticket left alone is seen by a person.
- **Owner keywords** are added to the defaults (slug → more phrases; a new slug adds a command).
  A phrase the owner lists under another command moves there. `use_defaults=False` uses the
  owner's map instead of the defaults. Empty, whitespace-only and digit-only phrases are ignored;
  a word ending in "*" matches any word it starts ("докрут*" for докрутка, докрутку, докрутки).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple

from panelrelay.reading.ids import Found, find_ids, link_spans
from panelrelay.reading.words import Hit, KeywordTable, fold

MAX_IDS = 100
MAX_TEXT = 50_000  # characters read from one message; a ticket longer than this is not a request form

DEFAULT_KEYWORDS: dict[str, list[str]] = {
    "refill": [
        "refill", "refills", "refilled", "refilling", "refill request", "urgent refill", "re fill",
        "refil", "refiil", "refilll", "reffil", "reffill", "refll", "rifill", "rifil", "reefill", "reff", "rf",
    ],
    "cancel": [
        "cancel", "cancels", "canceled", "cancelled", "canceling", "cancelling", "cancellation", "urgent cancel",
        "cancle", "cancell", "cansel", "cancl", "cncl", "cnl", "canel",
        "refund", "refunds", "refunded", "refund request", "urgent refund", "refund partial cancel",
        "urgent refund partial cancel", "money back",
    ],
    "speed_up": [
        "speed up", "speedup", "speed", "speed it up", "urgent speed up", "speed up request",
        "sped up", "spead up", "speeed up", "spped up", "spd up", "speeding up",
        "faster", "hurry up", "slow", "too slow",
    ],
    # Not "partial" alone: it is also an order status customers quote ("it shows Partial, refill").
    "partial": [
        "make partial", "make it partial", "set partial", "set as partial", "mark partial", "mark as partial",
        "partial refund", "refund partial", "make parcial", "partial refunds",
    ],
}  # fmt: skip
DEFAULT_BOT_COMMANDS: dict[str, list[str]] = {
    "refill": ["refill"],
    "cancel": ["cancel"],
    "speed_up": ["speed_up", "speedup"],
    "partial": ["partial"],
}


@dataclass(frozen=True)
class Parsed:
    command: str | None  # a command slug ("refill", "cancel", "speed_up", "partial" or the owner's own)
    ids: list[str]  # order ids in order of appearance, deduplicated, each a whole digit run of the text
    reason: str  # how it was understood, or why nothing was found, in plain English (logs, Activity)


class _Said(NamedTuple):
    hit: Hit
    where: str  # "subject" or "message"
    source: str  # the text the hit's span refers to

    def quote(self) -> str:
        words = " ".join(self.source[self.hit.start : self.hit.end].split())
        return words if len(words) <= 40 else words[:39] + "…"


def parse(
    text: str,
    keywords: dict[str, list[str]] | None = None,
    subject: str = "",
    *,
    use_defaults: bool = True,
    min_id_length: int = 3,
) -> Parsed:
    """The command and order ids of a customer's message (and its ticket subject)."""
    text, clipped = _clip(text)
    subject, _ = _clip(subject)
    table = _table(keywords, use_defaults)
    said = [_Said(hit, "subject", subject) for hit in table.find(subject, link_spans(subject))]
    said += [_Said(hit, "message", text) for hit in table.find(text, link_spans(text))]
    command, how = _choose(said)

    found, where = find_ids(text, min_id_length), "message"
    if not found.ids and subject:
        from_subject = find_ids(subject, min_id_length)
        if from_subject.ids:
            found, where = from_subject, "subject"
    notes = [how, *_ids_notes(found, where)]
    if clipped:
        notes.append(f"only the first {MAX_TEXT:,} characters were read")
    return Parsed(command, found.ids[:MAX_IDS], "; ".join(note for note in notes if note))


def _table(keywords: dict[str, list[str]] | None, use_defaults: bool) -> KeywordTable:
    if not keywords and use_defaults:
        return _default_table()
    return KeywordTable(keywords if isinstance(keywords, dict) else {}, DEFAULT_KEYWORDS if use_defaults else None)


@lru_cache(maxsize=1)
def _default_table() -> KeywordTable:
    return KeywordTable({}, DEFAULT_KEYWORDS)


def _clip(text: Any) -> tuple[str, bool]:
    """At most MAX_TEXT characters, cut at whitespace so that no digit run or word is split."""
    if not isinstance(text, str):
        return "", False
    if len(text) <= MAX_TEXT:
        return text, False
    cut = text[:MAX_TEXT]
    space = max(cut.rfind(" "), cut.rfind("\n"), cut.rfind("\t"))
    return cut[: max(space, 0)], True


def _choose(said: list[_Said]) -> tuple[str | None, str]:
    """One command, or None with the reason: nothing asked, or different commands asked."""
    if not said:
        return None, "no command word found"
    first: dict[str, _Said] = {}
    for one in said:
        first.setdefault(one.hit.slug, one)
    if len(first) > 1:
        slugs = list(first)
        names = ", ".join(slugs[:-1]) + " and " + slugs[-1]
        quoted = ", ".join(f"“{one.quote()}” in the {one.where}" for one in first.values())
        return None, f"ambiguous: {names} ({quoted}); left for a person"
    one = said[0]
    return one.hit.slug, f"{one.hit.slug} (“{one.quote()}” in the {one.where})"


def _ids_notes(found: Found, where: str) -> list[str]:
    count = len(found.ids)
    if not count:
        notes = ["no order id found"]
    elif count > MAX_IDS:
        notes = [f"{count} order ids found; only the first {MAX_IDS} are used"]
    else:
        notes = [f"{count} order id{'s' if count != 1 else ''}" + (" (from the subject)" if where == "subject" else "")]
    return [*notes, found.ignored_text()]


_BOT_COMMAND = re.compile(r"[ \t\r\n]*/([^\s@/,;:.!?]+)(?:@([A-Za-z0-9_]+))?(?=\s|$|[,;:.!?])")


def parse_bot_command(
    text: str,
    commands: dict[str, list[str]] | None = None,
    *,
    use_defaults: bool = True,
    bot_username: str | None = None,
) -> Parsed:
    """A team-bot command: "/refill 123 456", "/speed_up 1", "/cancel@relay_bot 1,2".

    Staff type ids deliberately, so every digit run after the command is an id, however short
    (still whole runs, and not dates, links, amounts, signed numbers or arithmetic: "-5", "2**70"). `commands` adds names per slug to
    DEFAULT_BOT_COMMANDS (each slug is its own name); names compare case-insensitively with
    "-" and " " read as "_". With `bot_username`, a command addressed to another bot is ignored.
    """
    text, _ = _clip(text)
    match = _BOT_COMMAND.match(text)
    if match is None:
        return Parsed(None, [], "not a bot command (a command starts with /, e.g. /refill 123)")
    name, addressed = match.group(1), match.group(2)
    if bot_username and addressed and addressed.casefold() != bot_username.lstrip("@").casefold():
        return Parsed(None, [], f"addressed to @{addressed}, not to this bot")
    found = find_ids(text[match.end() :], min_length=1, typed=True)
    slug = _bot_names(commands or {}, use_defaults).get(_bot_name(name))
    shown = "/" + name[:40]
    if slug is None:
        notes = [f"unknown command {shown}", *_ids_notes(found, "message")]
    elif found.ids:
        notes = [f"{slug} ({shown})", *_ids_notes(found, "message")]
    else:
        notes = [f"{slug} ({shown})", f"no order ids after {shown}", found.ignored_text()]
    return Parsed(slug, found.ids[:MAX_IDS], "; ".join(note for note in notes if note))


def _bot_name(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", fold(name.strip().lstrip("/")))


def _bot_names(commands: dict[str, list[str]], use_defaults: bool) -> dict[str, str]:
    """Folded command name → slug; the owner's names first, so they win over a default."""
    names: dict[str, str] = {}
    for source in (commands, DEFAULT_BOT_COMMANDS if use_defaults else {}):
        for slug, aliases in source.items():
            if not isinstance(slug, str) or not slug.strip():
                continue
            for alias in [slug, *(aliases if isinstance(aliases, list | tuple) else ())]:
                if isinstance(alias, str) and _bot_name(alias):
                    names.setdefault(_bot_name(alias), slug)
    return names


_BREAK = re.compile(r"<br\s*/?>|</p>|</div>", re.IGNORECASE)
_FORMATTING = re.compile(r"</?(?:p|div|span|b|i|u|strong|em|a|font)(?:\s[^<>]{0,300})?/?>", re.IGNORECASE)


def customer_text(messages: list[dict], staff_names: tuple[str, ...] | list[str] = ("support",)) -> str:
    """The customer's words since the last staff reply, oldest first, one message per line.

    `messages` are a Perfect Panel ticket's (`{"sender_name", "message", …}`, oldest first).
    Staff are recognised by `sender_name` (case-insensitive). Messages are read as plain text;
    line breaks and simple formatting tags that some panels store are undone.
    """
    staff = {name.strip().casefold() for name in staff_names if isinstance(name, str) and name.strip()}
    rows = [m for m in messages if isinstance(m, dict)] if isinstance(messages, list) else []
    last_staff = -1
    for index, message in enumerate(rows):
        sender = message.get("sender_name")
        if isinstance(sender, str) and sender.strip().casefold() in staff:
            last_staff = index
    texts = [_plain(message.get("message")) for message in rows[last_staff + 1 :]]
    return "\n".join(text for text in texts if text)


def _plain(value: Any) -> str:
    if not isinstance(value, str):
        return ""
    text = _FORMATTING.sub("", _BREAK.sub("\n", value))
    return html.unescape(text).strip()
