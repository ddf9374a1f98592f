"""Reading providers' answers: done, refused, working or other, in the languages providers write."""

from __future__ import annotations

import pytest

from panelrelay.reading.answers import DONE, OTHER, REFUSED, WORKING, classify


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("done", DONE),
        ("Done ✅", DONE),
        ("refilled", DONE),
        ("✅", DONE),
        ("👍", DONE),
        ("ok", DONE),
        ("ho gaya bhai", DONE),
        ("sudah selesai", DONE),
        ("tamamlandı", DONE),
        ("Готово", DONE),
        ("تم", DONE),
        ("feito", DONE),
        ("can't cancel, already completed", REFUSED),
        ("not possible", REFUSED),
        ("invalid id", REFUSED),
        ("❌", REFUSED),
        ("nahi ho sakta", REFUSED),
        ("tidak bisa", REFUSED),
        ("невозможно", REFUSED),
        ("processing", WORKING),
        ("started, will be done in 2 hours", WORKING),
        ("in progress ⏳", WORKING),
        ("ok will check", WORKING),
        ("sedang diproses", WORKING),
        ("в работе", WORKING),
        ("send link", OTHER),
        ("9876543", OTHER),
        ("", OTHER),
        ("doneness of the steak", OTHER),  # whole words only
    ],
)
def test_answers_are_read_by_kind(text: str, kind: str) -> None:
    assert classify(text).kind == kind


def test_the_owners_words_are_added_and_win_over_the_defaults() -> None:
    assert classify("mission accomplished").kind == OTHER
    owner = {DONE: ["mission accomplished"], REFUSED: ["ok"]}  # "ok" from this provider means "noted, no"
    assert classify("mission accomplished", owner).kind == DONE
    assert classify("ok", owner).kind == REFUSED
    assert classify("done", owner).words == ("done",)


def test_the_words_that_decided_are_kept_for_the_owner() -> None:
    answer = classify("can't refill ❌ already refilled")
    assert answer.kind == REFUSED and set(answer.words) == {"can't", "already", "❌"}
