"""Reading what a client sent: query parameters, raw form values and JSON fields.

Each reader returns a clean value or raises BadParameter, a 400 whose message names the
parameter (core/errors.py renders it: a page for the site, {"error": …} under /api/). Views
never try/except a malformed value themselves: a value the database cannot take must not
reach a query, or the owner sees a 500 instead of what was wrong.

Text is refused when it holds a NUL (PostgreSQL refuses it in any text value, SQLite takes
it) or a lone surrogate (it has no UTF-8 form, so no database can store or compare it; only
JSON can carry one, as "\\ud800").
"""

from __future__ import annotations

import datetime
import re
import uuid
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import BadRequest

_DIGITS = re.compile(r"[0-9]+")  # ASCII only: str.isdigit() accepts "²" and "٣", which int() then refuses
_INTEGER = re.compile(r"-?[0-9]{1,19}")


class BadParameter(BadRequest):
    """A parameter the request got wrong; the message names it and says what it must be."""

    def __init__(self, name: str, problem: str) -> None:
        super().__init__(f"`{name}` {problem}")
        self.name = name


def text_problem(value: str) -> str | None:
    """Why `value` cannot be stored or searched, or None when it can."""
    if "\x00" in value:
        return "must not contain a NUL character"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "must be valid Unicode text (it holds a lone surrogate)"
    return None


def check_text(name: str, value: str) -> str:
    problem = text_problem(value)
    if problem:
        raise BadParameter(name, problem + ".")
    return value


def text(params: Mapping[str, Any], name: str, default: str = "", *, max_length: int = 1000) -> str:
    """A text parameter, stripped; "" when absent."""
    value = params.get(name)
    if value is None:
        return default
    value = check_text(name, str(value)).strip()
    if len(value) > max_length:
        raise BadParameter(name, f"must be at most {max_length:,} characters.")
    return value


def is_digits(value: str, max_length: int = 20) -> bool:
    """ASCII digits only, 1 to `max_length` of them (a panel order id or a service id)."""
    return len(value) <= max_length and _DIGITS.fullmatch(value) is not None


def parse_code(value: object) -> uuid.UUID | None:
    """A public object code (UUID), or None when `value` is not one."""
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def code(params: Mapping[str, Any], name: str) -> uuid.UUID | None:
    """An object code parameter; None when absent or empty."""
    value = params.get(name) or ""
    if not value:
        return None
    found = parse_code(value)
    if found is None:
        raise BadParameter(name, "must be the code of one of your objects (a UUID).")
    return found


def integer(params: Mapping[str, Any], name: str, default: int, *, minimum: int, maximum: int) -> int:
    """A whole number in [minimum, maximum]; `default` when absent or empty."""
    value = params.get(name)
    if value in (None, ""):
        return default
    value = str(value).strip()
    if not _INTEGER.fullmatch(value) or not minimum <= int(value) <= maximum:
        raise BadParameter(name, f"must be a whole number from {minimum} to {maximum}.")
    return int(value)


def day(params: Mapping[str, Any], name: str) -> datetime.date | None:
    """A date written YYYY-MM-DD; None when absent or empty."""
    value = str(params.get(name) or "")
    if not value:
        return None
    try:
        if len(value) == 10:  # fromisoformat() also takes 20250515 and week dates; the form sends this one
            return datetime.date.fromisoformat(value)
    except ValueError:
        pass
    raise BadParameter(name, "must be a date written YYYY-MM-DD.")
