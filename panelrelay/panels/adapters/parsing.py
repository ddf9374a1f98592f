"""What a panel's JSON means: one order or ticket of either API version, normalised, and the
order ids worth asking a panel for, in batches."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from panelrelay.panels.adapters import base
from panelrelay.panels.adapters.base import PanelOrder, PanelTicket, TicketMessage

# PP's codes (Perfect Panel's orders model in its public test task): 0 Pending, 1 In progress,
# 2 Completed, 3 Canceled, 4 Fail. 5 and 6 are the fake's own (Partial, Processing); a text
# status (`status_name`) wins whenever present.
_STATUS_CODES = {
    0: base.PENDING,
    1: base.IN_PROGRESS,
    2: base.COMPLETED,
    3: base.CANCELED,
    4: base.FAILED,
    5: base.PARTIAL,
    6: base.PROCESSING,
}
_STATUS_WORDS = {
    "pending": base.PENDING,
    "inprogress": base.IN_PROGRESS,
    "active": base.IN_PROGRESS,
    "processing": base.PROCESSING,
    "completed": base.COMPLETED,
    "complete": base.COMPLETED,
    "partial": base.PARTIAL,
    "canceled": base.CANCELED,
    "cancelled": base.CANCELED,
    "fail": base.FAILED,
    "failed": base.FAILED,
    "error": base.FAILED,
    "refunded": base.REFUNDED,
}
_NO_EXTERNAL_ID = {"", "0", "-1", "none", "null"}


def normalize_status(*candidates: object) -> str:
    """The first candidate that means something: text names first, then PP's int codes."""
    for value in candidates:
        if value is None or value == "":
            continue
        text = str(value).strip()
        if text.lstrip("-").isdigit():
            status = _STATUS_CODES.get(int(text))
        else:
            status = _STATUS_WORDS.get(re.sub(r"[^a-z]", "", text.lower()))
        if status:
            return status
    return base.UNKNOWN


def is_manual(mode: object, provider: str | None) -> bool:
    """Manual = mode Manual (0 / "manual") OR no provider (S1 treats both as manual)."""
    return not provider or str(mode).strip().lower() in ("0", "manual")


def to_int(value: object) -> int | None:
    try:
        return int(float(str(value).strip()))
    except (TypeError, ValueError):
        return None


def to_time(value: object) -> datetime | None:
    """Unix seconds or "YYYY-MM-DD HH:MM:SS"; panels send UTC without saying so."""
    if value in (None, ""):
        return None
    text = str(value).strip()
    try:
        if re.fullmatch(r"\d+(\.\d+)?", text):
            return datetime.fromtimestamp(float(text), UTC)
        moment = datetime.fromisoformat(text)
    except (ValueError, OverflowError, OSError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()


def parse_order(raw: object) -> PanelOrder | None:
    """One order item of either API version, or None when it has no usable id."""
    if not isinstance(raw, dict):
        return None
    order_id = _text(raw.get("id"))
    if not order_id.isdigit():
        return None
    provider = _text(raw.get("provider")) or None
    external = _text(raw.get("external_id"))
    service_id = _text(raw.get("service_id", raw.get("service"))) or None
    return PanelOrder(
        id=order_id,
        external_id=None if external.lower() in _NO_EXTERNAL_ID else external,
        provider_domain=provider,
        service_id=service_id,
        service_name=_text(raw.get("service_name")),
        status=normalize_status(raw.get("status_name"), raw.get("status"), raw.get("order_status")),
        mode=base.MANUAL if is_manual(raw.get("mode_name", raw.get("mode", "")), provider) else base.AUTO,
        quantity=to_int(raw.get("quantity", raw.get("count"))),
        created=to_time(raw.get("created") or raw.get("date") or raw.get("created_timestamp")),
        user=_text(raw.get("user", raw.get("username"))) or None,
        link=_text(raw.get("link")),
        remains=to_int(raw.get("remains")),
    )


def parse_ticket(raw: object) -> PanelTicket | None:
    """A ticket of `GET /tickets` or `GET /tickets/{id}`; field names vary, so several are read."""
    if not isinstance(raw, dict):
        return None
    ticket_id = _text(raw.get("id", raw.get("ticket_id")))
    if not ticket_id.isdigit():
        return None
    user = raw.get("user", raw.get("username", raw.get("user_name")))
    if isinstance(user, dict):  # some installs nest the customer: {"user": {"id", "username"}}
        user = user.get("username") or user.get("login")
    messages = raw.get("messages")
    return PanelTicket(
        id=ticket_id,
        user=_text(user),
        subject=_text(raw.get("subject", raw.get("title"))),
        status=_text(raw.get("status_name", raw.get("status"))),
        messages=[m for m in map(_ticket_message, messages if isinstance(messages, list) else []) if m],
    )


def _ticket_message(raw: object) -> TicketMessage | None:
    if not isinstance(raw, dict):
        return None
    text = raw.get("message", raw.get("text", raw.get("content")))
    if not isinstance(text, str):
        return None
    return TicketMessage(
        id=_text(raw.get("id", raw.get("message_id"))),
        sender=_text(raw.get("sender_name", raw.get("sender", raw.get("author")))),
        text=text,
        created=to_time(raw.get("created") or raw.get("date")),
    )


def clean_ids(ids: list[str]) -> list[str]:
    """Panel order ids are digits: anything else cannot exist there, so it is never sent."""
    seen: dict[str, None] = {}
    for raw in ids:
        text = str(raw).strip()
        if text.isdigit() and len(text) <= 20:
            seen.setdefault(str(int(text)), None)
    return list(seen)


def chunks(items: list[str], size: int) -> list[list[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]
