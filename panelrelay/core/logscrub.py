"""A logging filter that removes secrets from every log record before it is written.

Secrets that look like secrets (bot tokens, Fernet tokens, `key=` query values) are masked
by pattern. Values that do not look special — provider domains above all — are registered
at run time with register_secret() by the code that decrypts them, and masked by value.
"""

from __future__ import annotations

import logging
import re
import threading

_PATTERNS = [
    (re.compile(r"(?<!\d)\d{6,12}:[A-Za-z0-9_-]{30,}"), "<bot-token>"),
    (re.compile(r"gAAAAA[A-Za-z0-9_\-=]{40,}"), "<encrypted>"),
    (re.compile(r"(?i)((?:api[_-]?key|apikey|token|key|password)[\"']?\s*[=:]\s*[\"']?)[^\s&\"',]+"), r"\1<redacted>"),
]
_registered: set[str] = set()
_lock = threading.Lock()


def register_secret(value: str) -> None:
    """Mask this exact value (and its lowercase form) in every later log record."""
    if value and len(value) >= 4:
        with _lock:
            _registered.add(value)
            _registered.add(value.lower())


def scrub(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    with _lock:
        values = sorted(_registered, key=len, reverse=True)
    for value in values:
        if value in text:
            text = text.replace(value, "<hidden>")
    return text


class ScrubFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not lose the record
            message = str(record.msg)
        cleaned = scrub(message)
        if record.exc_info and record.exc_info[1] is not None:
            cleaned += "\n" + scrub(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
            record.exc_text = None
        record.msg, record.args = cleaned, None
        return True
