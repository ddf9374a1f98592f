"""The text of a message: a template filled with the orders of one (destination, command).

Orders are packed into parts under the transport's length limit, so every order belongs to
exactly one message part and a long list never loses ids at a cut.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass

DEFAULT_TEMPLATE = "{command}\n{ids}\n{note}"
VARIABLES = {
    "command": "the command word, e.g. REFILL",
    "ids": "one line per order: the external id (plus the panel order id when turned on)",
    "external_ids": "the external ids, comma-separated",
    "panel_order_ids": "the panel order ids, comma-separated",
    "count": "how many orders are in this message",
    "note": "the note typed with the request (empty if none)",
}
MAX_TEMPLATE_LENGTH = 2000  # a template is a few lines around the ids, not a document

# {{ and }} are literal braces and {…} is a placeholder, as in str.format.
_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}")


class TemplateError(ValueError):
    pass


@dataclass(frozen=True)
class Line:
    order_pk: int
    panel_order_id: str
    external_id: str  # empty for manual orders

    def render(self, with_panel_id: bool) -> str:
        if not self.external_id:
            return f"{self.panel_order_id} (panel order)"
        return f"{self.external_id} (order {self.panel_order_id})" if with_panel_id else self.external_id


def render(template: str, word: str, lines: list[Line], note: str, with_panel_id: bool) -> str:
    values = {
        "command": word,
        "ids": "\n".join(line.render(with_panel_id) for line in lines),
        "external_ids": ", ".join(line.external_id for line in lines if line.external_id),
        "panel_order_ids": ", ".join(line.panel_order_id for line in lines),
        "count": str(len(lines)),
        "note": note,
    }
    text = _TOKEN.sub(lambda m: _fill(m, values), template)
    # An empty {note} must not leave a trailing blank line.
    return "\n".join(line for line in text.strip("\n").split("\n")).rstrip() or word


def _fill(match: re.Match[str], values: dict[str, str]) -> str:
    """One token's text. Never str.format: a width in a template saved before validate() refused
    it (`{command:>1000000000}`) would build a gigabyte in the worker. Only the bare name counts;
    anything else that is not a known name stays as written."""
    token = match.group(0)
    if token in ("{{", "}}"):
        return token[0]
    name = re.split(r"[!:]", match.group(1), maxsplit=1)[0]
    return values.get(name, token)


def validate(template: str) -> None:
    """Refuse what the owner would not mean: broken braces, unknown names, formatting, length."""
    if len(template) > MAX_TEMPLATE_LENGTH:
        raise TemplateError(f"Keep the template under {MAX_TEMPLATE_LENGTH + 1} characters (it has {len(template)}).")
    try:
        fields = [(name, spec, conversion) for _, name, spec, conversion in string.Formatter().parse(template)]
    except ValueError:
        raise TemplateError("A “{” or “}” has no pair: write {{ or }} for a brace in the text.") from None
    known = ", ".join("{" + name + "}" for name in VARIABLES)
    for name, spec, conversion in fields:
        if name is None:
            continue  # plain text after the last placeholder
        written = "{" + name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
        if spec or conversion:
            raise TemplateError(f"“{written}”: formatting after “:” or “!” is not allowed; write {{{name}}}.")
        if name not in VARIABLES:
            raise TemplateError(f"“{written}” is not a placeholder we know; use {known}.")


def pack(template: str, word: str, lines: list[Line], note: str, with_panel_id: bool, limit: int) -> list[list[Line]]:
    """Split lines into groups whose rendered text fits `limit` characters.

    Rendering a candidate after every line would be quadratic for 10,000 ids; a running
    estimate skips the renders until the text could be near the limit.
    """
    groups: list[list[Line]] = []
    current: list[Line] = []
    measured = len(render(template, word, [], note, with_panel_id))  # real length at the last render
    added = 0  # line length added since then: a lower bound of the growth
    for line in lines:
        current.append(line)
        added += len(line.render(with_panel_id)) + 1
        if measured + added <= limit:
            continue
        measured, added = len(render(template, word, current, note, with_panel_id)), 0
        if measured > limit:
            fitting, current = _fit(template, word, current, note, with_panel_id, limit)
            groups.append(fitting)
            measured = len(render(template, word, current, note, with_panel_id))
    while current:
        fitting, current = _fit(template, word, current, note, with_panel_id, limit)
        groups.append(fitting)
    return groups


def _fit(
    template: str, word: str, lines: list[Line], note: str, with_panel_id: bool, limit: int
) -> tuple[list[Line], list[Line]]:
    """The longest head of `lines` that renders within the limit (at least one line), and the rest."""
    low, high = 1, len(lines)  # binary search: the text grows with every line
    while low < high:
        mid = (low + high + 1) // 2
        if len(render(template, word, lines[:mid], note, with_panel_id)) <= limit:
            low = mid
        else:
            high = mid - 1
    return lines[:low], lines[low:]
