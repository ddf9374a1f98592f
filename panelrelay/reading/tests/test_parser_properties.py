"""Properties: whatever the text, the parser never crashes and never invents an order id."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from panelrelay.reading.guarantee import refill_allowed, refill_period
from panelrelay.reading.parser import MAX_IDS, customer_text, parse, parse_bot_command

MODEST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Pieces that steer random text into the parser's corners: keywords and their fragments, digits
# next to every kind of separator, other scripts' letters, digits and marks, links, amounts.
FRAGMENTS = [
    "refill", "ref", "ill", "cancel", "speed", " up", "speed up", "partial", "refund", "Urgent Refill:",
    "(Partial/Cancel)", "Orders - ", "#", "id", "ID", "order", "/", "/refill", "@bot", "+", "$", "Rs", "TL",
    "%", ".", ",", ":", "-", "_", "\n", " ", "\t", "http://", "www.", ".com/", "@", "2025-05-15", "12:30",
    "followers", "days", "qty:", "İ", "ı", "ё", "ि", "ो", "\u200c", "ـ", "َ", "١٢٣", "१२३", "١", "७",
    "♻️", "R30", "Lifetime", "No Refill", "30 Days", "0", "00", "000123", "9" * 25, "докрут", "iptal",
]  # fmt: skip
DIGITS = st.integers(min_value=0, max_value=10**22).map(str)
PIECES = st.one_of(st.sampled_from(FRAGMENTS), DIGITS, st.text(max_size=6))
STEERED = st.lists(PIECES, max_size=40).map("".join)
ANY_TEXT = st.one_of(st.text(max_size=300), STEERED)


def assert_honest_ids(ids: list[str], *sources: str) -> None:
    assert len(ids) <= MAX_IDS
    assert len(ids) == len(set(ids))
    for order_id in ids:
        assert re.fullmatch(r"[0-9]{1,20}", order_id)
        whole_run = re.compile(rf"(?<![0-9]){order_id}(?![0-9])")
        assert any(whole_run.search(source) for source in sources), order_id


@MODEST
@given(ANY_TEXT, ANY_TEXT)
def test_it_never_crashes_and_never_invents_ids(text: str, subject: str) -> None:
    parsed = parse(text, subject=subject)
    assert isinstance(parsed.reason, str) and parsed.reason
    assert_honest_ids(parsed.ids, text, subject)
    if parsed.command is not None:
        assert isinstance(parsed.command, str)


@MODEST
@given(ANY_TEXT, st.integers(min_value=-5, max_value=30))
def test_it_keeps_ids_in_order_of_appearance(text: str, min_length: int) -> None:
    ids = parse(text, min_id_length=min_length).ids
    assert_honest_ids(ids, text)
    # Each id occurs after the previous one (an earlier occurrence may have been ignored, e.g. "1@x.com 1").
    position = 0
    for order_id in ids:
        found = re.compile(rf"(?<![0-9]){order_id}(?![0-9])").search(text, position)
        assert found is not None, order_id
        position = found.end()


@MODEST
@given(ANY_TEXT)
def test_bot_commands_never_crash_and_never_invent_ids(text: str) -> None:
    for candidate in (text, "/" + text, "/refill " + text):
        parsed = parse_bot_command(candidate, bot_username="relay_bot")
        assert parsed.reason
        assert_honest_ids(parsed.ids, candidate)


KEYWORD_MAPS = st.dictionaries(
    st.text(max_size=12), st.lists(st.one_of(st.text(max_size=15), st.sampled_from(FRAGMENTS)), max_size=5), max_size=4
)


@MODEST
@given(ANY_TEXT, KEYWORD_MAPS, st.booleans())
def test_any_keyword_map_works(text: str, keywords: dict[str, list[str]], use_defaults: bool) -> None:
    parsed = parse(text, keywords, use_defaults=use_defaults)
    assert_honest_ids(parsed.ids, text)
    assert parsed.command is None or parsed.command in keywords or parsed.command in {
        "refill", "cancel", "speed_up", "partial"
    }  # fmt: skip


@MODEST
@given(ANY_TEXT, st.datetimes(), st.datetimes())
def test_guarantees_never_crash(name: str, created: datetime, now: datetime) -> None:
    guarantee = refill_period(name)
    if guarantee is not None:
        assert guarantee.text and guarantee.text in name
        assert guarantee.lifetime == (guarantee.days is None)
    allowed, reason = refill_allowed(name, created, now.replace(tzinfo=UTC))
    assert isinstance(allowed, bool) and reason


@MODEST
@given(st.lists(st.fixed_dictionaries({"sender_name": ANY_TEXT, "message": ANY_TEXT}), max_size=6))
def test_customer_text_never_crashes(messages: list[dict]) -> None:
    assert isinstance(customer_text(messages), str)


# --- a valid request keeps its meaning whatever is said around it ---------------------------------

COMMANDS = {"refill": "refill", "Urgent Refill:": "refill", "cancel": "cancel", "speed up": "speed_up"}
IDS = st.lists(st.integers(min_value=100, max_value=10**15).map(str), min_size=1, max_size=8, unique=True)
FILLER = st.lists(
    st.sampled_from(["hello", "please", "thanks", "sir", "bro", "kindly", "asap", "my", "the", "it", "is",
                     "not", "working", "dear", "team", "ok", "hi", "?", "!!", ":)", "🙏", "ملک", "дорогой"]),
    max_size=6,
).map(" ".join)  # fmt: skip
SPACE = st.sampled_from([" ", "\n", "  ", " \n "])


@st.composite
def requests(draw: st.DrawFn) -> tuple[str, str, list[str]]:
    phrase = draw(st.sampled_from(sorted(COMMANDS)))
    ids = draw(IDS)
    layout = draw(st.sampled_from(["{c} {ids}", "{ids} {c}", "#{first} {c} pls", "order id: {ids} {c}"]))
    separator = draw(st.sampled_from([" ", ",", ", ", " / ", "\n", ";"]))
    shown = ids[:1] if layout.startswith("#") else ids
    text = layout.format(c=phrase, ids=separator.join(ids), first=ids[0])
    return text, COMMANDS[phrase], shown


@MODEST
@given(requests(), FILLER, FILLER, SPACE, SPACE)
def test_unrelated_words_around_a_request_change_nothing(
    request: tuple[str, str, list[str]], before: str, after: str, gap1: str, gap2: str
) -> None:
    text, command, ids = request
    plain = parse(text)
    assert (plain.command, plain.ids) == (command, ids), plain.reason
    padded = parse(before + gap1 + text + gap2 + after)
    assert (padded.command, padded.ids) == (command, ids), padded.reason
