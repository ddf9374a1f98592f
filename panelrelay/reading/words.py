"""Words of any script: folding, tokenising and finding keyword phrases.

Python's `\\b` and `\\w` do not treat combining marks as part of a word: in Devanagari
`\\bकरो\\b` never matches (the final vowel sign ो is not `\\w`) and `\\bफिल\\b` matches
inside रिफिल. So words here are runs of Unicode letters, marks and numbers (plus the
zero-width joiners Persian writes inside words), and keywords are compared word by word
after folding, never with regular-expression word boundaries.
"""

from __future__ import annotations

import bisect
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

# Letters people type interchangeably, mapped to one form on both sides of a comparison:
# Turkish dotless ı (an English keyboard types i), Russian ё (usually typed е), and the
# Arabic-keyboard forms of Persian/Urdu yeh, kaf and heh. Tatweel and joiners are dropped.
_CHAR_MAP = str.maketrans(
    {
        "ı": "i",
        "ё": "е",
        "ي": "ی",
        "ى": "ی",
        "ك": "ک",
        "ہ": "ه",
        "ە": "ه",
        "\u0640": None,  # tatweel, a stretching stroke
        "\u200c": None,  # zero-width non-joiner (Persian "می‌خواهم")
        "\u200d": None,  # zero-width joiner
    }
)
_ARABIC_HARAKAT = {chr(c) for c in range(0x064B, 0x0660)} | {"\u0670"}
_JOINERS = {"\u200c", "\u200d"}
MAX_GAP = 3  # characters allowed between the words of a phrase: "speed up", "speed-up", "Refund (Partial/Cancel)"


@lru_cache(maxsize=8192)
def is_word_char(ch: str) -> bool:
    return unicodedata.category(ch)[0] in "LMN" or ch in _JOINERS


def fold(text: str) -> str:
    """Case- and accent-insensitive form for comparing words.

    Accents are removed only from Latin letters (Turkish "İptal" → "iptal", "hızlandır" →
    "hizlandir"): in Devanagari or Arabic script the marks are part of the spelling, except
    the optional Arabic vowel marks (harakat), which are dropped.
    """
    decomposed = unicodedata.normalize("NFD", unicodedata.normalize("NFKC", text).casefold())
    out: list[str] = []
    base = ""
    for ch in decomposed:
        if unicodedata.category(ch).startswith("M"):
            if ch in _ARABIC_HARAKAT or ch == "\u0307" or "a" <= base <= "z":
                continue
        else:
            base = ch
        out.append(ch)
    return unicodedata.normalize("NFC", "".join(out)).translate(_CHAR_MAP)


@dataclass(frozen=True)
class Token:
    word: str  # folded
    start: int  # span in the original text
    end: int


def tokenize(text: str) -> list[Token]:
    """Words of `text` with their spans; each is folded, and split again if folding made a separator."""
    tokens: list[Token] = []
    start: int | None = None
    for i, ch in enumerate([*text, " "]):
        if is_word_char(ch):
            if start is None:
                start = i
        elif start is not None:
            tokens.extend(Token(part, start, i) for part in _split_folded(fold(text[start:i])))
            start = None
    return tokens


def _split_folded(word: str) -> list[str]:
    if all(is_word_char(ch) for ch in word):
        return [word] if word else []
    parts, current = [], []
    for ch in word:
        if is_word_char(ch):
            current.append(ch)
        elif current:
            parts.append("".join(current))
            current = []
    return [*parts, "".join(current)] if current else parts


@dataclass(frozen=True)
class Phrase:
    """A keyword phrase of one command. A word ending in "*" matches every word starting with the rest."""

    words: tuple[str, ...]
    slug: str
    written: str  # as the owner (or DEFAULT_KEYWORDS) wrote it

    def matches(self, tokens: list[Token], at: int, text: str) -> bool:
        if at + len(self.words) > len(tokens):
            return False
        for k, pattern in enumerate(self.words):
            token = tokens[at + k]
            if k and not _joined(text, tokens[at + k - 1].end, token.start):
                return False
            if not (token.word.startswith(pattern[:-1]) if pattern.endswith("*") else token.word == pattern):
                return False
        return True


def _joined(text: str, end: int, start: int) -> bool:
    gap = text[end:start]
    return len(gap) <= MAX_GAP and "\n" not in gap


def phrase_words(phrase: str) -> tuple[str, ...]:
    """The folded words of a keyword; () when it has no letter (digits are ids, never keywords)."""
    folded = fold(phrase)
    words: list[str] = []
    for token in tokenize(folded):
        # A trailing "*" makes a prefix; a stem needs two letters to mean anything.
        star = folded[token.end : token.end + 1] == "*" and len(token.word) >= 2
        words.append(token.word + "*" if star else token.word)
    if not any(ch.isalpha() for word in words for ch in word):
        return ()
    return tuple(words)


def _inside(position: int, spans: Sequence[tuple[int, int]]) -> bool:
    """Whether position falls in one of the sorted, non-overlapping spans."""
    index = bisect.bisect_right(spans, (position, float("inf"))) - 1
    return index >= 0 and spans[index][0] <= position < spans[index][1]


@dataclass(frozen=True)
class Hit:
    slug: str
    start: int
    end: int
    written: str


class KeywordTable:
    """Phrases by their first word; at each word the longest phrase wins and consumes its words."""

    def __init__(self, keywords: dict[str, list[str]], defaults: dict[str, list[str]] | None) -> None:
        self.by_first: dict[str, list[Phrase]] = {}
        self.prefixes: list[Phrase] = []  # phrases whose first word is a prefix pattern
        seen: set[tuple[str, ...]] = set()
        # The owner's words go first: a phrase the owner gives to another command leaves its default.
        for source in (keywords, defaults or {}):
            for slug, phrases in source.items():
                if not isinstance(slug, str) or not slug.strip():
                    continue  # a command needs a name
                for written in phrases if isinstance(phrases, list | tuple) else ():
                    words = phrase_words(written) if isinstance(written, str) else ()
                    if words and words not in seen:
                        seen.add(words)
                        self._add(Phrase(words, slug, written.strip()))
        for bucket in [*self.by_first.values(), self.prefixes]:
            bucket.sort(key=lambda p: (-len(p.words), sum(w.endswith("*") for w in p.words)))

    def _add(self, phrase: Phrase) -> None:
        if phrase.words[0].endswith("*"):
            self.prefixes.append(phrase)
        else:
            self.by_first.setdefault(phrase.words[0], []).append(phrase)

    def find(self, text: str, skip: Sequence[tuple[int, int]] = ()) -> list[Hit]:
        """Keyword hits in `text`, in order; words inside the `skip` spans (links) are not read."""
        tokens = [t for t in tokenize(text) if not _inside(t.start, skip)]
        hits: list[Hit] = []
        i = 0
        while i < len(tokens):
            phrase = self._longest(tokens, i, text)
            if phrase is None:
                i += 1
                continue
            last = tokens[i + len(phrase.words) - 1]
            hits.append(Hit(phrase.slug, tokens[i].start, last.end, phrase.written))
            i += len(phrase.words)
        return hits

    def _longest(self, tokens: list[Token], i: int, text: str) -> Phrase | None:
        candidates = [p for p in self.by_first.get(tokens[i].word, []) if p.matches(tokens, i, text)]
        candidates += [p for p in self.prefixes if p.matches(tokens, i, text)]
        if not candidates:
            return None
        return min(candidates, key=lambda p: (-len(p.words), sum(w.endswith("*") for w in p.words)))
