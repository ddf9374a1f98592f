"""What a provider's answer says: done, refused, working, or something else.

Providers answer in a few words, in many languages, often with an emoji: "done", "refilled ✅",
"can't cancel, already completed", "ho gaya", "sedang diproses", "готово". The answer is read
with the same word machinery as customer tickets (`words.KeywordTable`: whole words after folding
case, accents and script variants; the longest phrase wins). The owner's words per kind are added
to the defaults below. When an answer says several things, refused beats working beats done:
"can't cancel, already completed" is a refusal, "started, will be done in 2 h" is work going on.
"""

from __future__ import annotations

from dataclasses import dataclass

from panelrelay.reading.words import KeywordTable

DONE, REFUSED, WORKING, OTHER = "done", "refused", "working", "other"
KINDS = (DONE, REFUSED, WORKING, OTHER)
PRECEDENCE = (REFUSED, WORKING, DONE)

DEFAULT_WORDS: dict[str, list[str]] = {
    DONE: [
        "done", "done now", "completed", "complete", "refilled", "refill done", "refill added", "ok", "okay", "okey",
        "cancelled", "canceled", "cancel done", "sped up", "speed up done", "speed added", "added", "fixed",
        "finished", "success", "successful", "restarted",
        # Hindi/Urdu (Latin script), Indonesian, Turkish, Russian, Arabic, Portuguese
        "ho gaya", "hogaya", "ho gya", "kar diya", "sudah", "selesai", "beres", "tamam", "tamamlandı", "yapıldı",
        "готово", "сделано", "выполнено", "تم", "تمت", "feito", "concluído", "pronto",
    ],
    REFUSED: [
        "not possible", "impossible", "can't", "cant", "cannot", "can not", "unable", "invalid", "not allowed",
        "rejected", "refused", "denied", "already", "no refill", "not eligible", "not available", "wrong id",
        "not found", "drop", "nahi ho sakta", "nahi hoga", "possible nahi", "tidak bisa", "gagal", "yapılamaz",
        "olmaz", "невозможно", "нельзя", "не можем", "отказ", "غير ممكن", "لا يمكن", "não é possível",
        "impossível",
    ],
    WORKING: [
        "processing", "in progress", "started", "start", "working", "working on it", "pending", "will do",
        "wait", "please wait", "checking", "check", "queued", "on it", "soon", "not yet", "not done yet", "later",
        "kar rahe", "ho raha", "sedang diproses", "proses", "diproses", "işleniyor", "bekleyin", "в процессе",
        "в работе", "жди", "ждите", "جاري", "em andamento", "processando", "aguarde",
    ],
}  # fmt: skip

EMOJI = {
    DONE: ("✅", "👍", "✔", "☑", "👌", "🆗", "💯"),
    REFUSED: ("❌", "🚫", "⛔", "✖", "👎"),
    WORKING: ("⏳", "⌛", "🔄", "🕐", "🕑", "🕒", "⏱"),
}


@dataclass(frozen=True)
class Answer:
    kind: str  # done | refused | working | other
    words: tuple[str, ...]  # the phrases (or emoji) that decided it, as written in the table


def classify(text: str, owner_words: dict[str, list[str]] | None = None) -> Answer:
    """Read one answer. `owner_words` ({"done": ["ho gaya", …], …}) come before the defaults."""
    table = KeywordTable({k: v for k, v in (owner_words or {}).items() if k in PRECEDENCE}, DEFAULT_WORDS)
    found: dict[str, list[str]] = {}
    for hit in table.find(text or ""):
        found.setdefault(hit.slug, []).append(hit.written)
    for kind, marks in EMOJI.items():
        for mark in marks:
            if mark in (text or ""):
                found.setdefault(kind, []).append(mark)
    for kind in PRECEDENCE:
        if kind in found:
            return Answer(kind, tuple(dict.fromkeys(found[kind])))
    return Answer(OTHER, ())
