"""Template helpers for the admin look: relative times, toggles, status pills."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.timesince import timesince

register = template.Library()


@register.simple_tag
def reltime(value: datetime | None, empty: str = "—") -> str:
    """`3 min ago`, with the exact time on hover; app.js keeps it fresh."""
    if not value:
        return empty
    local = timezone.localtime(value)
    now = timezone.now()
    text = (
        "just now"
        if abs((now - value).total_seconds()) < 45
        else (f"{timesince(value, now)} ago" if value <= now else f"in {timesince(now, value)}")
    )
    text = text.split(",")[0]
    return format_html(
        '<time datetime="{}" title="{}" data-relative>{}</time>',
        value.isoformat(),
        local.strftime("%Y-%m-%d %H:%M:%S %Z"),
        text,
    )


@register.inclusion_tag("core/_toggle.html")
def toggle(url: str, on: bool, *id_parts: object, label: str = "", disabled: bool = False) -> dict:
    """A switch that saves itself. Its element id joins id_parts: `{% toggle url on "t" key obj.code label="…" %}`."""
    element_id = "-".join(str(part) for part in id_parts)
    return {"url": url, "on": on, "id": element_id, "label": label, "disabled": disabled}


PILL_CLASSES = {
    "ok": "pill-ok",
    "sent": "pill-ok",
    "answered": "pill-info",
    "confirmed": "pill-ok",
    "follow_up": "pill-warn",
    "escalated": "pill-warn",
    "no_answer": "pill-bad",
    "refused": "pill-bad",
    "delivered": "pill-ok",
    "done": "pill-ok",
    "working": "pill-ok",
    "retrying": "pill-warn",
    "waiting": "pill-warn",  # an order that needs a route
    "failing": "pill-bad",  # a connection whose last delivery failed
    "queued": "pill-info",
    "pending": "pill-info",
    "running": "pill-info",
    "failed": "pill-bad",
    "broken": "pill-bad",
    "error": "pill-bad",
    "completed": "pill-ok",
    "partial": "pill-warn",
    "in_progress": "pill-info",
    "processing": "pill-info",
    "canceled": "pill-muted",
    "refunded": "pill-muted",
    "skipped": "pill-muted",
    "disabled": "pill-muted",
    "unknown": "pill-muted",
}


@register.simple_tag
def pill(state: str, text: str | None = None) -> str:
    css = PILL_CLASSES.get((state or "").lower(), "pill-muted")
    return format_html('<span class="pill {}">{}</span>', css, text or state)


@register.simple_tag
def copy(value: object) -> str:
    # An inline SVG, not a glyph: "⧉" is missing from common fonts and drew as an empty box.
    icon = (
        '<svg width="12" height="12" viewBox="0 0 16 16" aria-hidden="true" fill="none" stroke="currentColor" '
        'stroke-width="1.6"><rect x="5" y="5" width="9" height="9" rx="1.5"/><path d="M11 3V2.5A1.5 1.5 0 0 0 9.5 1h-7A1.5 '
        '1.5 0 0 0 1 2.5v7A1.5 1.5 0 0 0 2.5 11H3"/></svg>'
    )
    return format_html(
        '<button type="button" class="copy-btn" data-copy="{}" title="Copy" aria-label="Copy {}">{}</button>',
        value,
        value,
        mark_safe(icon),  # noqa: S308 - a constant
    )
