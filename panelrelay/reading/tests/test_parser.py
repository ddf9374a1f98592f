"""The request parser on the forms customers and panels actually write, in several languages."""

from __future__ import annotations

import re

import pytest

from panelrelay.reading.parser import DEFAULT_KEYWORDS, MAX_IDS, MAX_TEXT, customer_text, parse

# --- the usual English forms -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "command", "ids"),
    [
        ("refill 123 456", "refill", ["123", "456"]),
        ("123,456 speed up", "speed_up", ["123", "456"]),
        ("Urgent Refill: 123", "refill", ["123"]),
        ("#123 refill pls", "refill", ["123"]),
        ("order id: 123 / 124 cancel", "cancel", ["123", "124"]),
        ("Urgent Speed up: 7416281, 7416282", "speed_up", ["7416281", "7416282"]),
        ("REFILL\n7416281\n7416282\n7416283", "refill", ["7416281", "7416282", "7416283"]),
        ("7416281 7416282 canceled", "cancel", ["7416281", "7416282"]),
        ("Please set partial 98765", "partial", ["98765"]),
        ("98765 partial refund", "partial", ["98765"]),
        ("Order 98765 shows Partial, refill please", "refill", ["98765"]),
        ("ID: 7645607. Refill", "refill", ["7645607"]),
        ("please refund the order 7463677", "cancel", ["7463677"]),
        ("speed-up 555666", "speed_up", ["555666"]),
        ("speed_up 555666", "speed_up", ["555666"]),
        ("SpeedUp 555666", "speed_up", ["555666"]),
        ("my order 555666 is too slow!!", "speed_up", ["555666"]),
        ("refil 123456 asap", "refill", ["123456"]),
        ("cancle 123456", "cancel", ["123456"]),
        ("123456;123457|123458 refill", "refill", ["123456", "123457", "123458"]),
    ],
)
def test_it_reads_the_usual_forms(text: str, command: str, ids: list[str]) -> None:
    parsed = parse(text)
    assert (parsed.command, parsed.ids) == (command, ids), parsed.reason


def test_it_reads_the_refund_partial_cancel_form_as_one_cancel() -> None:
    parsed = parse("Urgent Refund (Partial/Cancel): 555666, 555667")
    assert parsed.command == "cancel"
    assert parsed.ids == ["555666", "555667"]
    assert "ambiguous" not in parsed.reason
    assert "Urgent Refund (Partial/Cancel" in parsed.reason


@pytest.mark.parametrize("subject", ["Orders - Refill", "Order: Refill", "Order - Refill request", "refill"])
def test_it_takes_the_request_type_from_the_subject_and_the_ids_from_the_message(subject: str) -> None:
    parsed = parse("Order ID: 4815162342\nthe followers dropped", subject=subject)
    assert parsed.command == "refill"
    assert parsed.ids == ["4815162342"]
    assert "in the subject" in parsed.reason


def test_it_reads_ids_from_the_subject_only_when_the_message_has_none() -> None:
    assert parse("please check", subject="Urgent Refill: 123456").ids == ["123456"]
    assert "from the subject" in parse("please check", subject="Urgent Refill: 123456").reason
    assert parse("it is 777888", subject="Urgent Refill: 123456").ids == ["777888"]


def test_it_leaves_a_ticket_without_ids_or_without_a_command_alone() -> None:
    no_ids = parse("please refill my order, it dropped")
    assert no_ids.command == "refill" and no_ids.ids == []
    assert "no order id found" in no_ids.reason
    no_command = parse("what about 123456?")
    assert no_command.command is None and no_command.ids == ["123456"]
    assert "no command word found" in no_command.reason
    nothing = parse("")
    assert (nothing.command, nothing.ids) == (None, [])


# --- ambiguity -----------------------------------------------------------------------------------


def test_it_refuses_to_guess_between_two_commands() -> None:
    parsed = parse("refill 123456 or cancel 123457")
    assert parsed.command is None
    assert parsed.ids == ["123456", "123457"]
    assert parsed.reason.startswith("ambiguous: refill and cancel")


def test_it_calls_a_subject_and_message_that_disagree_ambiguous() -> None:
    parsed = parse("please cancel 123456", subject="Orders - Refill")
    assert parsed.command is None
    assert parsed.reason.startswith("ambiguous: refill and cancel")
    assert "in the subject" in parsed.reason and "in the message" in parsed.reason


def test_it_accepts_the_same_command_said_twice_in_different_words() -> None:
    parsed = parse("Urgent Refill: 123456\nrefill please, refil!!", subject="Orders - Refill")
    assert parsed.command == "refill"


def test_it_prefers_the_longest_phrase() -> None:
    assert parse("speed up 123456").command == "speed_up"  # not "speed" + "up"
    assert parse("partial refund 123456").command == "partial"  # not partial + refund (cancel)


# --- ids: what is and is not an order id ---------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "ignored_as"),
    [
        ("refill 123456 placed on 2025-05-15", "in a date"),
        ("refill 123456 placed on 15/05/2025", "in a date"),
        ("refill 123456 placed on 15.05.2025", "in a date"),
        ("refill 123456 placed on May 15, 2025", "in a date"),
        ("refill 123456 placed on 15 May 2025", "in a date"),
        ("refill 123456 I paid $125.50", "in an amount of money"),
        ("refill 123456 I paid 500 rs", "in an amount of money"),
        ("refill 123456 I paid Rs.500", "in an amount of money"),
        ("refill 123456 I paid 250 TL", "in an amount of money"),
        ("refill 123456 I paid ₹999", "in an amount of money"),
        ("refill 123456 got 1234.56 of it", "in a decimal number"),
        ("refill 123456 only 100% dropped", "in a percentage"),
        ("refill 123456 ordered 10,500 followers", "in a number with thousands separators"),
        ("refill 123456 abc123x", "glued to letters"),
        ("refill 123456 999abc", "glued to letters"),
        ("refill 123456 https://instagram.com/p/987654321", "in a link"),
        ("refill 123456 instagram.com/p/987654321", "in a link"),
        ("refill 123456 www.example.com/987654321", "in a link"),
        ("refill 123456 mail me at user.987654@gmail.com", "in an e-mail address"),
        ("refill 123456 call +92 300 1234567", "in a phone number"),
        ("refill 123456 call +923001234567", "in a phone number"),
        ("refill 123456 call +1 (555) 123-4567", "in a phone number"),
        ("refill 123456 my whatsapp 03001234567", "with a leading zero"),
        ("refill 123456 phone: 923001234567", "in a phone number"),
        ("refill 123456 it has 5000 followers", "a quantity"),
        ("refill 123456 dropped 2000 likes in 365 days", "a quantity"),
        ("refill 123456 quantity: 5000 start count: 1200", "a quantity"),
        ("refill 123456 speed 5000/day", "a quantity"),
        ("refill 123456 only 800 out of 1000 came", "a quantity"),
        ("refill 123456 " + "1" * 21, "longer than 20 digits"),
    ],
)
def test_it_ignores_numbers_that_are_clearly_not_order_ids(text: str, ignored_as: str) -> None:
    parsed = parse(text)
    assert parsed.ids == ["123456"], parsed.reason
    assert ignored_as in parsed.reason


def test_it_ignores_times_even_with_short_ids_allowed() -> None:
    parsed = parse("refill 123456 at 12:30:45", min_id_length=1)
    assert parsed.ids == ["123456"]
    assert "3 in a time" in parsed.reason


def test_it_skips_short_numbers_and_makes_the_minimum_configurable() -> None:
    assert parse("refill 12 and 123, it's been 2 days").ids == ["123"]
    assert parse("refill 12 and 123", min_id_length=2).ids == ["12", "123"]
    assert parse("refill 12 and 1234", min_id_length=4).ids == ["1234"]


def test_it_keeps_ids_marked_as_orders_even_next_to_a_quantity_word() -> None:
    assert parse("order 12345 likes not delivered, refill").ids == ["12345"]
    assert parse("refill #1000 followers").ids == ["1000"]
    assert parse("refill ID123456 and order98765").ids == ["123456", "98765"]


def test_it_keeps_a_comma_list_of_ids_whose_first_id_is_long_enough() -> None:
    assert parse("refill 123,456,789").ids == ["123", "456", "789"]


def test_it_returns_ids_in_order_without_duplicates() -> None:
    assert parse("refill 300 100 300 200 100").ids == ["300", "100", "200"]


def test_it_keeps_at_most_100_ids_and_says_so() -> None:
    text = "refill " + " ".join(str(1000 + n) for n in range(130))
    parsed = parse(text)
    assert len(parsed.ids) == MAX_IDS
    assert parsed.ids[0] == "1000" and parsed.ids[-1] == "1099"
    assert "130 order ids found; only the first 100 are used" in parsed.reason


def test_it_never_reads_digits_of_other_scripts_as_ids() -> None:
    # Arabic-Indic and Devanagari digits are not re-written into 0-9: an id is always literal.
    assert parse("refill ١٢٣٤٥٦ १२३४५६").ids == []
    assert parse("refill ١٢٣456").ids == []  # glued to other digits: not a whole run


def test_it_never_cuts_a_long_digit_run_into_two_ids() -> None:
    parsed = parse("refill 9999999999999999999910001 please")
    assert parsed.ids == [] and "1 longer than 20 digits" in parsed.reason
    # A zero-width space or a direction mark inside: one number to the eye, not two ids.
    for mark in ("\u200b", "\u2060", "\u200f", "\ufeff"):
        parsed = parse(f"refill 1234567890{mark}1234567890123 and 45323")
        assert parsed.ids == ["45323"], mark
        assert "2 split by an invisible character" in parsed.reason
    assert parse("refill \u200f45323\u200f").ids == ["45323"]  # marks around a number in RTL text


def test_it_ignores_keywords_inside_links() -> None:
    assert parse("see https://panel.example/refill-policy 123456").command is None


def test_it_reads_only_the_first_characters_of_a_huge_message() -> None:
    text = "refill 123456 " + "x " * MAX_TEXT + "654321"
    parsed = parse(text)
    assert parsed.ids == ["123456"]
    assert "characters were read" in parsed.reason


# --- owner keywords in other languages ----------------------------------------------------------


def test_it_reads_russian_keywords_with_a_stem() -> None:
    keywords = {"refill": ["рефилл", "докрут*"], "cancel": ["отмена", "отменить"]}
    assert parse("Сделайте докрутку 123456", keywords).command == "refill"
    assert parse("ДОКРУТКА 123456", keywords).command == "refill"
    assert parse("рефилл 123456", keywords).command == "refill"
    assert parse("Отмена: 123456", keywords).command == "cancel"
    assert parse("заказ 123456, нужны докрутки", keywords).command == "refill"


def test_it_treats_yo_as_ye_in_russian() -> None:
    assert parse("ещё 123456", {"speed_up": ["еще"]}).command == "speed_up"


def test_it_matches_hindi_words_where_regex_word_boundaries_fail() -> None:
    # \bकरो\b never matches (ो is not \w) and \bफिल\b matches inside रिफिल: words are compared whole.
    assert re.search(r"\bकरो\b", "रिफिल करो 123456") is None
    assert re.search(r"\bफिल\b", "रिफिल") is not None
    keywords = {"refill": ["रिफिल", "रीफिल"], "speed_up": ["जल्दी करो"], "cancel": ["फिल"]}
    assert parse("कृपया 123456 रिफिल करें", keywords).command == "refill"
    assert parse("ऑर्डर 123456 जल्दी करो।", keywords).command == "speed_up"
    assert parse("रिफिल 123456", {"cancel": ["फिल"]}).command is None  # फिल is not a word of रिफिल


def test_it_reads_urdu_and_persian_keywords_in_arabic_script() -> None:
    keywords = {"refill": ["ری فل", "ریفل"], "cancel": ["منسوخ", "لغو"], "speed_up": ["سریع‌تر"]}
    assert parse("آرڈر 123456 ری فل کریں", keywords).command == "refill"
    assert parse("123456 منسوخ کر دیں", keywords).command == "cancel"
    assert parse("لطفا سفارش 123456 را لغو کنید", keywords).command == "cancel"
    # Persian typed with and without the zero-width non-joiner, and with Arabic-keyboard yeh.
    assert parse("123456 سریعتر", keywords).command == "speed_up"
    assert parse("123456 سريع‌تر", keywords).command == "speed_up"


def test_it_ignores_arabic_vowel_marks() -> None:
    assert parse("123456 لَغو", {"cancel": ["لغو"]}).command == "cancel"


def test_it_folds_turkish_dotted_and_dotless_i() -> None:
    keywords = {"cancel": ["iptal"], "speed_up": ["hızlandır*"]}
    for word in ["İptal", "İPTAL", "iptal", "IPTAL", "ıptal"]:
        assert parse(f"{word} 123456", keywords).command == "cancel", word
    assert parse("123456 hizlandirin", keywords).command == "speed_up"
    assert parse("123456 HIZLANDIRIN", keywords).command == "speed_up"


def test_it_reads_indonesian_phrases() -> None:
    keywords = {"refill": ["isi ulang"], "cancel": ["batal*"], "speed_up": ["percepat"]}
    assert parse("Tolong isi ulang 123456", keywords).command == "refill"
    assert parse("Isi-ulang 123456", keywords).command == "refill"
    assert parse("123456 dibatalkan", keywords).command is None  # a stem matches from the start only
    assert parse("batalkan 123456", keywords).command == "cancel"
    assert parse("isi saldo 123456", keywords).command is None  # "isi" alone is not the phrase


def test_it_does_not_join_phrase_words_across_lines() -> None:
    assert parse("speed\nup 123456").command == "speed_up"  # "speed" alone is a keyword
    assert parse("isi\nulang 123456", {"refill": ["isi ulang"]}, use_defaults=False).command is None


# --- the keyword map ------------------------------------------------------------------------------


def test_it_adds_owner_keywords_to_the_defaults() -> None:
    keywords = {"refill": ["докрутка"]}
    assert parse("refill 123456", keywords).command == "refill"
    assert parse("докрутка 123456", keywords).command == "refill"


def test_it_uses_only_the_owner_keywords_when_asked() -> None:
    keywords = {"refill": ["докрутка"]}
    assert parse("refill 123456", keywords, use_defaults=False).command is None
    assert parse("докрутка 123456", keywords, use_defaults=False).command == "refill"


def test_it_lets_the_owner_add_a_command_and_move_a_keyword() -> None:
    keywords = {"fake_complete": ["fake complete", "fake completed"], "partial": ["refund"]}
    assert parse("123456 is a Fake-Complete").command is None
    assert parse("123456 is a Fake-Complete", keywords).command == "fake_complete"
    assert parse("refund 123456", keywords).command == "partial"  # "refund" moved away from cancel


@pytest.mark.parametrize("bad", ["", "   ", "\n", "123", "12 34", "#!"])
def test_it_ignores_empty_and_digit_only_keywords(bad: str) -> None:
    parsed = parse("refill 123456 12 34", {"cancel": [bad]})
    assert parsed.command == "refill"


def test_it_tolerates_a_malformed_keyword_map() -> None:
    keywords = {"refill": "refill", "cancel": [None, 5, "cancel"], "": ["go"], " ": ["go"], 7: ["go"]}
    assert parse("cancel 123456", keywords).command == "cancel"  # type: ignore[dict-item]
    assert parse("go 123456", keywords).command is None  # type: ignore[arg-type]


def test_the_defaults_cover_the_four_built_in_commands() -> None:
    assert set(DEFAULT_KEYWORDS) == {"refill", "cancel", "speed_up", "partial"}
    for phrases in DEFAULT_KEYWORDS.values():
        assert all(p == p.strip() and p for p in phrases)


# --- customer_text ---------------------------------------------------------------------------------


def test_it_keeps_the_customer_messages_after_the_last_staff_reply() -> None:
    messages = [
        {"sender_name": "alice_buyer", "message": "refill 111111"},
        {"sender_name": "support", "message": "Done, refill 111111 sent"},
        {"sender_name": "alice_buyer", "message": "now 222222"},
        {"sender_name": "alice_buyer", "message": "speed up please"},
    ]
    assert customer_text(messages) == "now 222222\nspeed up please"
    assert parse(customer_text(messages)).ids == ["222222"]


def test_it_returns_nothing_when_staff_spoke_last() -> None:
    messages = [{"sender_name": "bob", "message": "refill 111111"}, {"sender_name": "Support ", "message": "ok"}]
    assert customer_text(messages) == ""


def test_it_recognises_named_staff() -> None:
    messages = [{"sender_name": "Mike", "message": "refilled"}, {"sender_name": "bob", "message": "cancel 333333"}]
    assert customer_text(messages, staff_names=("support", "mike")) == "cancel 333333"
    assert customer_text(messages) == "refilled\ncancel 333333"


def test_it_tolerates_odd_ticket_messages() -> None:
    messages = [
        "not a dict",
        {"message": None},
        {"sender_name": None, "message": 5},
        {"sender_name": "bob", "message": "refill<br>123456 &amp; <b>654321</b>"},
        {"sender_name": "bob"},
    ]
    assert customer_text(messages) == "refill\n123456 & 654321"  # type: ignore[list-item]
    assert customer_text([]) == ""
    assert customer_text(None) == ""  # type: ignore[arg-type]
