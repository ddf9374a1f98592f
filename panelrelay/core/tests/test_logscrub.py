from __future__ import annotations

import logging

from panelrelay.core.logscrub import ScrubFilter, register_secret, scrub


def test_it_masks_tokens_and_key_values() -> None:
    text = scrub("GET /bot123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0/sendMessage?key=abc123&x=1")
    assert "AAHdq" not in text
    assert "abc123" not in text
    assert "x=1" in text


def test_it_masks_registered_values_in_any_case() -> None:
    register_secret("Canary-Scrub-9.example")
    assert "canary-scrub-9" not in scrub("provider canary-scrub-9.example answered 500").lower()


def test_the_filter_cleans_message_args_and_tracebacks() -> None:
    register_secret("secret-provider.example")
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed for %s", ("secret-provider.example",), None)
    try:
        raise ValueError("secret-provider.example is down")
    except ValueError as exc:
        record.exc_info = (type(exc), exc, exc.__traceback__)
    ScrubFilter().filter(record)
    assert "secret-provider" not in record.getMessage()
    assert record.exc_info is None
