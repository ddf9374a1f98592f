"""Bot API error replies: `{"ok": false, "error_code": N, "description": ..., "parameters"?}`."""

from __future__ import annotations

from typing import Any

from fakes.base import Reply, json_reply


class TelegramError(Exception):
    """An error reply in Bot API form: raised where detected, rendered once at the top."""

    def __init__(self, code: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def reply(self) -> Reply:
        body: dict[str, Any] = {"ok": False, "error_code": self.code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return json_reply(body, self.code)


def bad_request(detail: str, parameters: dict[str, Any] | None = None) -> TelegramError:
    return TelegramError(400, f"Bad Request: {detail}", parameters)


def forbidden(detail: str) -> TelegramError:
    return TelegramError(403, f"Forbidden: {detail}")


def ok(result: Any, description: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"ok": True, "result": result}
    if description:
        body["description"] = description
    return body


def too_many(retry_after: int) -> TelegramError:
    return TelegramError(429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after})
