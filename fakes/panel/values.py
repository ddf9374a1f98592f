"""The fake panel's vocabulary: status and mode codes, error codes, limits, URL prefixes,
settings and demo data, and the helpers that read and write its values."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from fakes.base import FakeRequest

STATUSES = (
    "Pending",
    "In progress",
    "Completed",
    "Canceled",
    "Fail",
    "Partial",
    "Processing",
)
STATUS_CODES = {name: code for code, name in enumerate(STATUSES)}
MODE_CODES = {"Manual": 0, "Auto": 1}

ERR_BAD_KEY = 1
ERR_NOT_FOUND = 2
ERR_BAD_REQUEST = 3
ERR_TOO_MANY_IDS = 4
ERR_INJECTED = 100
ERR_RATE_LIMITED = 429
ERR_NO_ROUTE = 404

MAX_IDS = 100  # "up to 100 IDs" per call (public PP clients send 100 per call)
MAX_LIMIT = 1000  # clients list recent orders with limit=1000; larger values are clamped
DEFAULT_LIMIT = 100
FIRST_ORDER_ID = 10001  # several clients only pick up ids of 4+ digits (\d{4,})
FIRST_TICKET_ID = 501
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"

V2 = r"(?:/admin)?/adminapi/v2"  # one client points at /admin/adminapi/v2
V1 = r"(?:/admin)?/adminapi/v1"
ADMINAPI_RX = re.compile(r"^(?:/admin)?/adminapi(?:/|$)")
V1_RX = re.compile(r"^" + V1 + r"/?$")

CHOICES: dict[str, tuple[Any, ...]] = {
    "status_style": ("status_name", "int", "string"),
    "mode_style": ("int", "name"),
    "envelope": ("full", "data_only"),
    "external_id_type": ("as_given", "str", "int"),
    "quantity_field": ("both", "quantity", "count"),
    "auth_error_status": (200, 401, 403),
}
CONFIG_KEYS = ("api_key", "rps", "latency", "currency", "numbers_as_strings", *CHOICES)
STAT_KINDS = (
    "order_by_id",
    "orders_by_ids",
    "orders_list",
    "tickets_list",
    "ticket_get",
    "ticket_reply",
    "ticket_add",
    "users",
    "v1_orders_by_id",
    "v1_providers",
    "v1_bad_action",
    "auth_failed",
    "rate_limited",
    "faulted",
    "not_found",
)

DEFAULT_SERVICES = (
    (1, "Instagram Likes [30D Refill]"),
    (2, "Instagram Followers | 30 Days Refill"),
    (3, "TikTok Views [No Refill]"),
    (4, "YouTube Views [Lifetime Refill]"),
    (5, "Telegram Members [60D Refill]"),
    (6, "Twitter/X Followers [No Refill]"),
)
DEMO_PROVIDERS = (
    "fastlikes-supply.example",
    "smmrush.example",
    "peakfollow.example",
    "viewstorm.example",
    "instaboost-hub.example",
    "tiktok-wholesale.example",
    "ytgrowth.example",
    "cheapsmm-api.example",
    "socialcore.example",
    "rapidreach.example",
)
DEMO_USERS = (
    "alice",
    "bob",
    "carol",
    "dave",
    "erin",
    "frank",
    "grace",
    "heidi",
    "ivan",
    "judy",
)
# Weighted like a live panel: mostly finished orders, a tail of running and failed ones.
STATUS_WEIGHTS = {
    "Completed": 60,
    "Partial": 8,
    "In progress": 12,
    "Pending": 6,
    "Processing": 5,
    "Canceled": 7,
    "Fail": 2,
}


class ApiError(Exception):
    """A v2 failure, answered as HTTP 200 with a non-zero error_code (PP's way)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# ----- value helpers ---------------------------------------------------------


def utcnow() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def parse_time(value: datetime | str | float | None, default: datetime | None = None) -> datetime:
    """Accept a datetime, unix seconds, or "YYYY-MM-DD[ HH:MM:SS]" (UTC when naive)."""
    if value is None or value == "":
        return default or utcnow()
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, (int, float)) or re.fullmatch(r"-?\d+(\.\d+)?", str(value).strip()):
        moment = datetime.fromtimestamp(float(value), UTC)
    else:
        moment = datetime.fromisoformat(str(value).strip())
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def fmt_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(TIME_FORMAT)


def _letters(text: str) -> str:
    return re.sub(r"[^a-z]", "", text.lower())


_STATUS_ALIASES = {_letters(name): name for name in STATUSES} | {
    "cancelled": "Canceled",
    "failed": "Fail",
    "error": "Fail",
}


def normalize_status(value: str | int) -> str:
    """Map 2, "2", "completed", "in_progress", "In progress" ... to the canonical name."""
    text = str(value).strip()
    if text.isdigit():
        code = int(text)
        if code < len(STATUSES):
            return STATUSES[code]
    elif _letters(text) in _STATUS_ALIASES:
        return _STATUS_ALIASES[_letters(text)]
    raise ValueError(f"unknown order status {value!r}")


def normalize_mode(value: str | int) -> str:
    text = str(value).strip().lower()
    if text in ("1", "auto"):
        return "Auto"
    if text in ("0", "manual"):
        return "Manual"
    raise ValueError(f"unknown order mode {value!r}")


def status_slug(name: str) -> str:
    return name.lower().replace(" ", "_")


def parse_ids(raw: str) -> list[int]:
    """Comma-separated ids, de-duplicated in order; at most MAX_IDS."""
    tokens = [t.strip() for t in raw.split(",") if t.strip()]
    if not all(t.isdigit() for t in tokens):
        raise ApiError(ERR_BAD_REQUEST, "Invalid ids")
    ids = list(dict.fromkeys(int(t) for t in tokens))
    if len(ids) > MAX_IDS:
        raise ApiError(ERR_TOO_MANY_IDS, f"Too many ids: maximum is {MAX_IDS}")
    return ids


def to_int(text: str | None) -> int | None:
    return int(text) if text and text.strip().isdigit() else None


def page_args(query: dict[str, str], default_limit: int) -> tuple[int, int]:
    limit_raw, offset_raw = query.get("limit") or "0", query.get("offset") or "0"
    if not (limit_raw.isdigit() and offset_raw.isdigit()):
        raise ApiError(ERR_BAD_REQUEST, "Invalid limit or offset")
    limit = min(int(limit_raw), MAX_LIMIT) or default_limit  # limit=0 means "default" (S2 sends it)
    return limit, int(offset_raw)


def request_body(req: FakeRequest) -> dict[str, Any]:
    """JSON object bodies as documented; form bodies tolerated (merged with the query)."""
    if "json" not in req.headers.get("content-type", ""):
        return dict(req.values())
    try:
        data = req.json()
    except ValueError:
        raise ApiError(ERR_BAD_REQUEST, "Invalid JSON body") from None
    if not isinstance(data, dict):
        raise ApiError(ERR_BAD_REQUEST, "JSON body must be an object")
    return data
