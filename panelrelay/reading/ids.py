"""Order ids in free text: whole runs of ASCII digits, minus those that are clearly something else.

An id is always a maximal run of the digits 0-9 exactly as written (never re-formatted, never
joined, never taken from other scripts' digits), so the parser cannot invent an order id.
A run is dropped, with a category for the log, when it is:

- shorter than `min_length` (default 3: "2 days") or longer than 20 digits, or split by an invisible
  character (a zero-width space, a direction mark): one number to the eye is never two ids;
- inside a link, an e-mail address or a phone number written with "+";
- part of a date (2025-05-15, 15/05/2025, 15 May 2025) or a time (12:30);
- an amount ($12.50, Rs 500, 100 TL), a decimal (1.5k, 1234.56), a percentage, or the tail of a
  thousands-grouped number whose head is too short to be an id (10,500);
- glued to letters (abc123x; "ID123" and "order123" are allowed) or written with a leading zero
  (panel ids never have one; local phone numbers such as 03001234567 do);
- a quantity: "800 of 1000", followed by followers/likes/days/…, or after "quantity", "start count",
  "price", "phone", … — unless marked as an order ("#1000 followers", "order 12345 likes").
"""

from __future__ import annotations

import bisect
import re
from collections import Counter
from dataclasses import dataclass, field

from panelrelay.reading.words import is_word_char

MAX_ID_LENGTH = 20
_RUN = re.compile(r"[0-9]+")
_CHUNK = re.compile(r"\S+")
_HOST = re.compile(r"(?:[\w-]+\.)+[a-z]{2,}(?::[0-9]+)?", re.IGNORECASE)
_PLUS = re.compile(r"\+[ \t]?(?=\(?[0-9])")
_PHONE_GROUP = re.compile(r"\(?([0-9]+)\)?")
_PHONE_SEPARATOR = re.compile(r"[ .\-]?(?=\(?[0-9])")

_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_ORDINAL = r"[0-9]{1,2}(?:st|nd|rd|th)?"
_YEAR = r"(?:19|20)[0-9]{2}"
_INVISIBLE = "\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff"
_SPANS: list[tuple[str, re.Pattern[str]]] = [
    # One number to the eye, two runs to a regex: "1234567890<ZWSP>1234567890123" is not two ids.
    ("invisible", re.compile(rf"[0-9]+(?:[{_INVISIBLE}]+[0-9]+)+")),
    ("date", re.compile(rf"(?<![0-9]){_YEAR}([-/.])(?:0?[1-9]|1[0-2])\1(?:0?[1-9]|[12][0-9]|3[01])(?![0-9])")),
    ("date", re.compile(r"(?<![0-9])([0-9]{1,2})([-/.])([0-9]{1,2})\2((?:19|20)?[0-9]{2})(?![0-9])")),
    (
        "date",
        re.compile(
            rf"(?<![^\W\d_])(?:{_MONTH}\.?[ \t]+(?:{_ORDINAL},?[ \t]+)?|{_ORDINAL}[ \t]+{_MONTH}\.?,?[ \t]+){_YEAR}(?![0-9])",
            re.IGNORECASE,
        ),
    ),
    ("time", re.compile(r"(?<![0-9])[0-9]{1,2}:[0-5][0-9](?::[0-5][0-9])?(?![0-9])")),
    (
        "amount",
        re.compile(
            r"(?:[$€£₹₽₺¥₩₦₱৳₨]|(?<![^\W\d_])(?:rs|inr|usd|usdt|eur|rp|idr|pkr|rub|aed|sar)\.?)[ \t]?[0-9][0-9,.]*",
            re.IGNORECASE,
        ),
    ),
    (
        "amount",
        re.compile(
            r"(?<![0-9.,])[0-9][0-9,.]*[ \t]?(?:[$€£₹₽₺¥₩₦₱৳₨]|(?:usd|usdt|eur|inr|rs|rupees?|dollars?|bucks"
            r"|pkr|idr|rub|руб(?:лей|ля)?|tl|lira|aed|sar)(?![^\W\d_]))",
            re.IGNORECASE,
        ),
    ),
    ("quantity", re.compile(r"(?<![0-9])[0-9]+[ \t]+(?:of|out[ \t]+of)[ \t]+[0-9]+(?![0-9])", re.IGNORECASE)),
    ("percentage", re.compile(r"(?<![0-9.,])[0-9][0-9.,]*[ \t]?%")),
    ("thousands", re.compile(r"(?<![0-9.,])[0-9]{1,2}(?:,[0-9]{3})+(?![0-9])")),
]
# Only for ids staff type to the team bot: a customer's "-12345" is a list bullet, a staff member's
# "/refill -5" or "/refill 2**70" is not a request for orders 5, 2 and 70.
_TYPED_SPANS: list[tuple[str, re.Pattern[str]]] = [
    ("signed", re.compile(r"(?<![^\s,;(])[-−][0-9]+")),
    ("arithmetic", re.compile(r"[0-9]+(?:[ \t]*(?:\*\*?|\^|×)[ \t]*[0-9]+)+")),
]
_UNIT_AFTER = re.compile(
    r"[ \t]?\+?[ \t]?(?:followers?|likes?|views?|subscribers?|subs|members?|comments?|shares?|plays?"
    r"|impressions?|saves?|votes?|reactions?|days?|hours?|hrs?|minutes?|mins?|weeks?|months?|years?|times)"
    r"(?![^\W\d_])|/(?:day|d|hour|hr|h|week|month)(?![^\W\d_])",
    re.IGNORECASE,
)
_QUANTITY_BEFORE = re.compile(
    r"(?<![^\W\d_])(?:(?P<phone>phone|whatsapp|mobile|tel|wa)|quantity|qty|start[ \t]?count|remains?|remaining"
    r"|count|amount|price|charge|cost|balance|total)[ \t]*[:=-]?[ \t]*$",
    re.IGNORECASE,
)
_ORDER_MARK = re.compile(
    r"(?:#|(?<![^\W\d_])(?:order|orders|id|ids)(?:[ \t]*(?:id|ids|no|number|#))?)[ \t]*[:.#-]?[ \t]*$",
    re.IGNORECASE,
)
_GLUED_PREFIXES = {"id", "ids", "order", "orderid"}


@dataclass
class Found:
    ids: list[str] = field(default_factory=list)  # in order of appearance, deduplicated
    ignored: Counter[str] = field(default_factory=Counter)  # category → runs left out (short runs are not counted)

    def ignored_text(self) -> str:
        """E.g. "ignored 3 numbers that are not order ids: 2 in a phone number, 1 in a date"."""
        total = sum(self.ignored.values())
        if not total:
            return ""
        kinds = ", ".join(f"{n} {_SAID[kind]}" for kind, n in sorted(self.ignored.items(), key=lambda kv: -kv[1]))
        noun = "number that is not an order id" if total == 1 else "numbers that are not order ids"
        return f"ignored {total} {noun}: {kinds}"


_SAID = {
    "link": "in a link",
    "e-mail address": "in an e-mail address",
    "phone number": "in a phone number",
    "date": "in a date",
    "time": "in a time",
    "amount": "in an amount of money",
    "percentage": "in a percentage",
    "thousands": "in a number with thousands separators",
    "decimal": "in a decimal number",
    "glued": "glued to letters",
    "leading zero": "with a leading zero",
    "too long": "longer than 20 digits",
    "invisible": "split by an invisible character",
    "signed": "with a minus sign",
    "arithmetic": "in arithmetic",
    "quantity": "a quantity",
}


def find_ids(text: str, min_length: int = 3, *, typed: bool = False) -> Found:
    """Every digit run of `text` that reads as an order id, with what was left out and why.

    `typed`: staff typed the ids (the team bot), so signed numbers and arithmetic are left out too.
    """
    min_length = max(1, min(min_length, MAX_ID_LENGTH))
    runs = list(_RUN.finditer(text))
    spanned = _spanned_runs(text, runs, _SPANS + _TYPED_SPANS if typed else _SPANS)
    found = Found()
    seen: set[str] = set()
    for index, run in enumerate(runs):
        value = run.group()
        if len(value) < min_length:
            continue
        why = spanned.get(index) or _why_not(text, run)
        if why:
            found.ignored[why] += 1
        elif value not in seen:
            seen.add(value)
            found.ids.append(value)
    return found


def _spanned_runs(text: str, runs: list[re.Match[str]], spans: list[tuple[str, re.Pattern[str]]]) -> dict[int, str]:
    """Index of each run inside a link, phone number, date, time or amount → that category."""
    starts = [run.start() for run in runs]
    category: dict[int, str] = {}

    def mark(start: int, end: int, why: str) -> None:
        for index in range(bisect.bisect_left(starts, start), bisect.bisect_left(starts, end)):
            category.setdefault(index, why)

    for chunk in _CHUNK.finditer(text):
        why = _link_kind(chunk.group())
        if why:
            mark(chunk.start(), chunk.end(), why)
    for start, end in _phone_spans(text):
        mark(start, end, "phone number")
    for why, pattern in spans:
        for match in pattern.finditer(text):
            mark(match.start(), match.end(), why)
    return category


def link_spans(text: str) -> list[tuple[int, int]]:
    """Spans of links and e-mail addresses: keywords inside them are not requests either."""
    return [(c.start(), c.end()) for c in _CHUNK.finditer(text) if _link_kind(c.group())]


def _link_kind(chunk: str) -> str:
    lowered = chunk.lower()
    if "://" in lowered or "www." in lowered:
        return "link"
    if "/" in chunk and _HOST.fullmatch(chunk.split("/", 1)[0].lstrip("([{<\"'")):
        return "link"
    at = chunk.find("@")
    if at > 0 and "." in chunk[at:]:
        return "e-mail address"
    return ""


def _phone_spans(text: str) -> list[tuple[int, int]]:
    """International numbers: "+" then digit groups, up to 15 digits (E.164), stopping at a space after 10."""
    spans = []
    for plus in _PLUS.finditer(text):
        if plus.start() and (text[plus.start() - 1].isalnum()):
            continue  # "1+2" is arithmetic
        end, digits = plus.end(), 0
        while True:
            group = _PHONE_GROUP.match(text, end)
            if group is None or (digits and digits + len(group.group(1)) > 15):
                break
            digits, end = digits + len(group.group(1)), group.end()
            sep = _PHONE_SEPARATOR.match(text, end)
            if sep is None or (digits >= 10 and sep.group() in (" ", "")):
                break
            end = sep.end()
        spans.append((plus.start(), end))
    return spans


def _why_not(text: str, run: re.Match[str]) -> str:
    """The category of a run that is not an id, judged from its neighbours; "" when it is one."""
    value, start, end = run.group(), run.start(), run.end()
    if len(value) > MAX_ID_LENGTH:
        return "too long"
    if value.startswith("0"):
        return "leading zero"
    if _glued(text, start, end):
        return "glued"
    before, after = text[start - 1 : start], text[end : end + 1]
    if "@" in (before, after):
        return "e-mail address"
    if (before == "." and text[start - 2 : start - 1].isdigit()) or (
        after == "." and text[end + 1 : end + 2].isdigit()
    ):
        return "decimal"
    if _ORDER_MARK.search(text, max(0, start - 20), start):
        return ""
    quantity = _QUANTITY_BEFORE.search(text, max(0, start - 20), start)
    if quantity:
        return "phone number" if quantity.group("phone") else "quantity"
    if _UNIT_AFTER.match(text, end):
        return "quantity"
    return ""


def _glued(text: str, start: int, end: int) -> bool:
    if end < len(text) and (is_word_char(text[end]) or text[end] == "_"):
        return True
    if start == 0 or not (is_word_char(text[start - 1]) or text[start - 1] == "_"):
        return False
    # Walk back over the glued word, no further than the longest allowed prefix needs.
    word_start = start
    while (
        word_start and start - word_start <= 8 and (is_word_char(text[word_start - 1]) or text[word_start - 1] == "_")
    ):
        word_start -= 1
    if word_start and (is_word_char(text[word_start - 1]) or text[word_start - 1] == "_"):
        return True
    return text[word_start:start].casefold() not in _GLUED_PREFIXES
