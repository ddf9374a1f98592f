"""core.params: each reader returns a clean value or a 400 that names the parameter."""

from __future__ import annotations

import datetime
import uuid

from django.test import SimpleTestCase

from panelrelay.core import params
from panelrelay.core.params import BadParameter


class ParamsTestCase(SimpleTestCase):
    def assertRefused(self, read, name: str, words: str) -> None:  # noqa: N802
        with self.assertRaises(BadParameter) as caught:
            read()
        self.assertEqual(caught.exception.name, name)
        self.assertIn(f"`{name}`", str(caught.exception))
        self.assertIn(words, str(caught.exception))

    def test_text_refuses_what_a_database_cannot_store(self) -> None:
        self.assertEqual(params.text({"q": "  45323 "}, "q"), "45323")
        self.assertEqual(params.text({}, "q"), "")
        self.assertRefused(lambda: params.text({"q": "a\x00b"}, "q"), "q", "NUL")
        self.assertRefused(lambda: params.text({"note": "\ud800"}, "note"), "note", "lone surrogate")
        self.assertRefused(lambda: params.text({"q": "x" * 1001}, "q"), "q", "at most 1,000")

    def test_code_is_a_uuid_or_nothing(self) -> None:
        code = uuid.uuid4()
        self.assertEqual(params.code({"panel": str(code)}, "panel"), code)
        self.assertIsNone(params.code({"panel": ""}, "panel"))
        for bad in ("notauuid", "a\x00b", "-1", "x" * 10_000):
            self.assertRefused(lambda bad=bad: params.code({"panel": bad}, "panel"), "panel", "UUID")

    def test_integer_is_ascii_digits_within_the_range(self) -> None:
        read = lambda value: params.integer({"offset": value}, "offset", 0, minimum=0, maximum=2**31 - 1)  # noqa: E731
        self.assertEqual((read(""), read("1000"), read(" 7 ")), (0, 1000, 7))
        for bad in ("99999999999999999999", "-1", "²", "١٢", "1_000", "1e3", "2.5", "x"):
            self.assertRefused(lambda bad=bad: read(bad), "offset", "from 0 to 2147483647")

    def test_day_is_written_yyyy_mm_dd(self) -> None:
        self.assertEqual(params.day({"date": "2026-05-15"}, "date"), datetime.date(2026, 5, 15))
        self.assertIsNone(params.day({}, "date"))
        for bad in ("garbage", "2026-13-45", "20260515", "2026-05-15T10:00", "a\x00b"):
            self.assertRefused(lambda bad=bad: params.day({"date": bad}, "date"), "date", "YYYY-MM-DD")

    def test_digits_are_ascii_digits(self) -> None:
        self.assertTrue(params.is_digits("12345"))
        for bad in ("²", "١٢٣", "", "-5", "1 2", "1" * 21):
            self.assertFalse(params.is_digits(bad), bad)
        self.assertTrue(params.is_digits("1" * 40, max_length=40))
