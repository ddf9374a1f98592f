"""Reading Bot API parameters: query string plus JSON, urlencoded or multipart body."""

from __future__ import annotations

import email.parser
import email.policy
import json
from typing import Any

from fakes.base import FakeRequest
from fakes.telegram.errors import bad_request


def request_params(req: FakeRequest) -> dict[str, Any]:
    """Query string plus body (JSON, urlencoded or multipart), body winning, nulls dropped."""
    params: dict[str, Any] = dict(req.query)
    if not req.body:
        return params
    ctype = req.headers.get("content-type", "")
    if "json" in ctype:
        try:
            body = json.loads(req.body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            raise bad_request("can't parse JSON object") from None
        if isinstance(body, dict):
            params.update({k: v for k, v in body.items() if v is not None})
    elif "multipart/form-data" in ctype:
        params.update(_multipart(ctype, req.body))
    else:
        params.update(req.form())
    return params


def _multipart(ctype: str, body: bytes) -> dict[str, str]:
    head = f"Content-Type: {ctype}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    fields: dict[str, str] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if name:
            fields[str(name)] = part.get_content() if part.get_content_maintype() == "text" else ""
    return fields


def as_text(value: Any) -> str:
    """A parameter as the Bot API sees it: a string (JSON bodies may carry ints, bools, lists)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return str(value)


def as_int(value: Any, default: int) -> int:
    try:
        return int(as_text(value).strip() or default)
    except ValueError:
        return default


def as_flag(value: Any) -> bool:
    return as_text(value).strip().lower() in ("1", "true", "yes", "on")


def as_list(value: Any) -> list[str] | None:
    if isinstance(value, list):
        return [str(v) for v in value]
    text = as_text(value).strip()
    if not text:
        return None
    try:
        parsed = json.loads(text)
    except ValueError:
        raise bad_request("can't parse allowed updates list") from None
    return [str(v) for v in parsed] if isinstance(parsed, list) else None
