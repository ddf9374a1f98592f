"""parse_mode=HTML checked like TDLib's parser (same error texts and byte offsets), but loosely."""

from __future__ import annotations

import re

from fakes.telegram.errors import TelegramError, bad_request

ALLOWED_TAGS = frozenset(
    {"a", "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "tg-emoji"}
    | {"code", "pre", "blockquote"}
)
_ENTITY = re.compile(r"&(lt|gt|amp|quot|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6});")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_TAG_NAME = re.compile(r"[^\s>]*")


def parse_html(text: str) -> str:
    """The plain text Telegram keeps from HTML `text`, or TelegramError like TDLib's parser."""
    text = text.strip()  # TDLib strips first; byte offsets count in the stripped text
    out: list[str] = []
    stack: list[str] = []
    i = 0
    while i < len(text):
        if text[i] == "&" and (m := _ENTITY.match(text, i)):
            out.append(_decode_entity(m.group(1)))
            i = m.end()
        elif text[i] == "<":
            i = _parse_tag(text, i, stack)
        else:
            out.append(text[i])
            i += 1
    if stack:
        raise _entities_error(f'Can\'t find end tag corresponding to start tag "{stack[-1]}"')
    return "".join(out)


def _decode_entity(name: str) -> str:
    if name.startswith("#"):
        code = int("0" + name[1:], 0) if name[1] == "x" else int(name[1:])  # "#x1F" → "0x1F"
        return chr(min(code, 0x10FFFF))
    return _NAMED[name]


def _entities_error(detail: str) -> TelegramError:
    return bad_request(f"can't parse entities: {detail}")


def _parse_tag(text: str, start: int, stack: list[str]) -> int:
    """Consume the tag at text[start] == '<'; return the index after it."""
    offset = len(text[:start].encode("utf-8"))
    close = text.find(">", start)
    if text.startswith("</", start):
        if not stack:
            raise _entities_error(f"Unexpected end tag at byte offset {offset}")
        if close < 0:
            raise _entities_error(f"Unclosed end tag at byte offset {offset}")
        name = text[start + 2 : close].strip().lower()
        if name and name != stack[-1]:
            raise _entities_error(
                f'Unmatched end tag at byte offset {offset}, expected "</{stack[-1]}>", found "</{name}>"'
            )
        stack.pop()
        return close + 1
    name_match = _TAG_NAME.match(text, start + 1)
    name = name_match.group(0).lower()
    if name_match.end() >= len(text):
        raise _entities_error(f"Unclosed start tag at byte offset {offset}")
    if name not in ALLOWED_TAGS:  # also a stray '<' in prose: "a < b" → tag name ""
        raise _entities_error(f'Unsupported start tag "{name}" at byte offset {offset}')
    if close < 0:
        raise _entities_error(f"Unclosed start tag at byte offset {offset}")
    if name == "span" and "tg-spoiler" not in text[start:close]:
        raise _entities_error(f'Tag "span" must have class "tg-spoiler" at byte offset {offset}')
    stack.append(name)
    return close + 1


def plain_text(text: str, parse_mode: str | None) -> str:
    if not parse_mode:
        return text
    mode = parse_mode.lower()
    if mode == "html":
        return parse_html(text)
    if mode in ("markdown", "markdownv2"):
        return text  # accepted, not validated (see module docstring)
    raise bad_request("unsupported parse_mode")
