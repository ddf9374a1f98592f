"""Order ids typed by staff (the Forward page, the REST API, Find order): whole tokens or nothing.

A list of ids is split at whitespace, commas and semicolons only, and every token must be an
order id as a panel writes it: 1-20 ASCII digits without a leading zero. Anything else is refused
and named, never trimmed or cut into ids: "9999999999999999999910001" is not 99999999999999999999
and 10001, "-5" is not 5, "1e5" is not 1 and 5, "0045" is not 45. A wrong refill or cancel costs
the owner money, so a list with one doubtful token is sent back whole for the person to fix.

Free text (customers' tickets) is read by `panelrelay.reading.ids`, which leaves doubtful runs out.
"""

from __future__ import annotations

import re

MAX_LENGTH = 20
SHOWN_BAD = 5  # tokens named in a refusal; the rest are counted
_SEPARATORS = re.compile(r"[\s,;]+")
_ID = re.compile(rf"[1-9][0-9]{{0,{MAX_LENGTH - 1}}}")


class NotOrderIds(ValueError):
    """Tokens that are not order ids; the message names the first few."""

    def __init__(self, bad: list[str]) -> None:
        self.bad = bad
        shown = ", ".join(shorten(token) for token in bad[:SHOWN_BAD])
        more = f" (and {len(bad) - SHOWN_BAD:,} more)" if len(bad) > SHOWN_BAD else ""
        super().__init__(
            f"Not an order id: {shown}{more}. An order id is a whole number of 1 to {MAX_LENGTH} digits; "
            "separate ids with spaces, commas, semicolons or new lines."
        )


def is_order_id(token: str) -> bool:
    return isinstance(token, str) and _ID.fullmatch(token) is not None


def split_ids(text: str) -> list[str]:
    """The ids of a typed list, deduplicated in order of appearance; NotOrderIds if any token is not one."""
    seen: dict[str, None] = {}
    bad: dict[str, None] = {}
    for token in _SEPARATORS.split(text or ""):
        if token:
            (seen if is_order_id(token) else bad).setdefault(token, None)
    if bad:
        raise NotOrderIds(list(bad))
    return list(seen)


def shorten(token: str) -> str:
    """`9999999999999999999910001` → `9999…10001`: enough to find it in the list, short in a message."""
    return token if len(token) <= 12 else f"{token[:4]}…{token[-5:]}"
