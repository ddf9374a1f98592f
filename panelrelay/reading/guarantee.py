"""The refill guarantee a service name states: "30 Days Refill", "R30", "♻️ 30D", "Lifetime", "No Refill".

Panels sell the same followers with different guarantees and write the period into the service
name, in many shapes. A refill asked for after the period is not forwarded (the owner can turn
that rule off; the caller decides). What is read, most trusted first:

1. an explicit "no refill" ("No Refill", "Non-Refill", "Without Refill", "Refill: No") → days 0;
2. a period next to a refill word or ♻ ("30 Days Refill", "Refill: 60D", "♻️ 30D", "365 Days ♻️",
   "30 Days Guarantee") or written as R<days> ("R30"); the first one wins;
3. "Lifetime" (also "Unlimited Refill") → lifetime;
4. a bare period ("3 Months", "1 Year", "30 Days") unless it reads as a start time, speed,
   delivery time, range ("1-2 Days") or account age ("3 months old").

Numbers without a unit ("1000 Followers", "[Max 50K]") and hours are never periods. A month is
30 days, a year 365 and a week 7: panels count the guarantee from the order date, in days.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

_UNIT_DAYS = {"d": 1, "w": 7, "m": 30, "y": 365}
_NUMBER = r"(?<![0-9.,])(?P<n>[0-9]{1,4})(?![0-9]|[.,][0-9])"
_UNIT = r"(?P<unit>days?|dys?|d|weeks?|wks?|w|months?|mons?|mths?|mo|years?|yrs?|y)(?![a-z])"
_PERIOD = rf"{_NUMBER}[ \t]?-?[ \t]?{_UNIT}"
_REFILL = (
    r"(?:(?<![a-z])(?:auto[ \t-]?)?re-?fill?(?:s|ing)?(?![a-z])|[♻🔄🔁]|(?<![a-z])(?:guarantee[ds]?|warranty)(?![a-z]))"
)
_GAP = r"[^a-z0-9♻🔄🔁\n]{0,3}"

_NO_REFILL = [
    re.compile(r"(?<![a-z])(?:no|non|without|w/o|zero)[ \t_-]*(?:re-?fill?(?![a-z])|♻)"),
    re.compile(r"(?<![a-z])re-?fill?[ \t]*[:=-]?[ \t]*(?:no|none|❌|✖|✗)(?![a-z])(?![ \t-]*drop)"),
]
_STRONG = [
    re.compile(rf"{_PERIOD}{_GAP}{_REFILL}"),
    re.compile(rf"{_REFILL}{_GAP}{_PERIOD}"),
    re.compile(r"(?<![a-z0-9])r-?(?P<n>[0-9]{1,4})(?:[ \t]?(?P<unit>d|days?))?(?![a-z0-9])"),
]
_LIFETIME = re.compile(
    r"(?<![a-z])(?:life[ \t-]?time|lifelong)(?![a-z])|(?<![a-z])(?:unlimited|permanent)[ \t-]*(?:re-?fill?|♻)"
)
_WEAK = re.compile(
    rf"{_NUMBER}[ \t]?-?[ \t]?(?P<unit>days?|dys?|d|weeks?|wks?|months?|mons?|mths?|mo|years?|yrs?)(?![a-z])"
)
# Words that make a bare period something else: a start time, a speed, an age, a drip-feed.
_NOT_A_GUARANTEE = re.compile(
    r"(?<![a-z])(?:start\w*|speed|deliver\w*|time|drip\w*|per|within|complet\w*|runs?|interval|expir\w*"
    r"|ages?|aged|old|posts?|after|every|up[ \t]?to|avg|average|duration|active)(?![a-z])"
)
_SEGMENT_END = "[](){}|,;/"


@dataclass(frozen=True)
class Guarantee:
    days: int | None  # 0: the name says there is no refill; None with lifetime
    lifetime: bool
    text: str  # the words of the service name that say so, e.g. "30 Days ♻️"


def refill_period(service_name: str) -> Guarantee | None:
    """The refill guarantee stated in a service name, or None when it states none."""
    if not isinstance(service_name, str) or not service_name.strip():
        return None
    folded, origin = _fold(service_name[:500])

    def said(match: re.Match[str]) -> str:
        end = origin[match.end() - 1] + 1
        while service_name[end : end + 1] in ("\ufe0f", "\ufe0e"):  # keep "♻️" whole when quoting
            end += 1
        return service_name[origin[match.start()] : end].strip()

    for pattern in _NO_REFILL:
        if match := pattern.search(folded):
            return Guarantee(0, False, said(match))
    strong = [m for pattern in _STRONG for m in pattern.finditer(folded)]
    if strong:
        match = min(strong, key=lambda m: m.start())
        return Guarantee(_days(match), False, said(match))
    if match := _LIFETIME.search(folded):
        return Guarantee(None, True, said(match))
    for match in _WEAK.finditer(folded):
        if _reads_as_guarantee(folded, match):
            return Guarantee(_days(match), False, said(match))
    return None


def _fold(name: str) -> tuple[str, list[int]]:
    """Lowercase, compatibility forms (𝟑𝟎 𝐃𝐚𝐲𝐬 → 30 days) and no emoji selectors, char by char.

    `origin[i]` is the index in `name` of folded character i, so that a match can be quoted as written.
    """
    chars: list[str] = []
    origin: list[int] = []
    for index, ch in enumerate(name):
        if ch in "\ufe0f\ufe0e\u200d":
            continue  # "♻️" is ♻ + a variation selector
        folded = unicodedata.normalize("NFKC", ch).lower()
        chars.append(folded if len(folded) == 1 else ch.lower() if len(ch.lower()) == 1 else ch)
        origin.append(index)
    return "".join(chars), origin


def _days(match: re.Match[str]) -> int:
    unit = match.group("unit") or "d"
    factor = _UNIT_DAYS["m" if unit.startswith("m") else unit[0]]
    return int(match.group("n")) * factor


def _reads_as_guarantee(folded: str, match: re.Match[str]) -> bool:
    """A bare "3 months" counts unless its part of the name speaks of start, speed, age or a range."""
    before = folded[: match.start()]
    segment_start = max(before.rfind(ch) for ch in _SEGMENT_END) + 1
    segment = folded[segment_start : match.end()]
    after = folded[match.end() : match.end() + 12]
    if re.search(r"[0-9][ \t]*(?:-|~|to)[ \t]*$", before):
        return False  # "1-2 days", "1 to 3 days"
    return not (_NOT_A_GUARANTEE.search(segment) or _NOT_A_GUARANTEE.match(after.strip()) or after.startswith("/"))


def refill_allowed(service_name: str, created: datetime, now: datetime) -> tuple[bool, str]:
    """Whether a refill of an order of this service, placed at `created`, may be asked for at `now`."""
    guarantee = refill_period(service_name)
    if guarantee is None:
        return True, "no refill period in the service name"
    if guarantee.lifetime:
        return True, f"lifetime refill (“{guarantee.text}” in the service name)"
    if not guarantee.days:
        return False, f"the service has no refill (“{guarantee.text}” in the service name)"
    try:
        ends = _aware(created) + timedelta(days=guarantee.days)
    except OverflowError:  # "9999 Years Refill" ends after the calendar does
        return True, f"within the refill period (“{guarantee.text}” in the service name)"
    period = f"{guarantee.days} day{'s' if guarantee.days != 1 else ''}"
    if _aware(now) > ends:
        return False, f"refill period of {period} ended on {ends.date().isoformat()}"
    return True, f"within the refill period of {period} (until {ends.date().isoformat()})"


def _aware(moment: datetime) -> datetime:
    # Panels report naive times; a naive time is read as UTC so that it compares with an aware one.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
