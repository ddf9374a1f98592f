"""Every CSV file PanelRelay writes goes through here, so no cell can run as a spreadsheet formula.

Exports carry text from outside: a panel's service names, provider domains, aliases and names
typed by owners. Excel, LibreOffice and Google Sheets read a cell starting with "=", "+", "-" or
"@" as a formula (`=HYPERLINK(...)` leaks data, `=cmd|'...'` runs a program), and a leading tab,
CR or NUL can hide one. We do what OWASP and ASVS 1.2.10 advise: such a cell gets a "'" in front,
which spreadsheets show as text; the csv module does the RFC 4180 quoting.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

from django.http import StreamingHttpResponse

FORMULA_STARTS = ("=", "+", "-", "@")
HIDING_STARTS = ("\t", "\r", "\n", "\0")


def cell(value: object) -> object:
    """The value, with a "'" in front when a spreadsheet could read it as a formula."""
    if not isinstance(value, str) or not value:
        return value  # numbers and dates we write ourselves
    # Also "  =1+1": some importers trim spaces before deciding what a cell is.
    if value.startswith(HIDING_STARTS) or value.lstrip(" ").startswith(FORMULA_STARTS):
        return "'" + value
    return value


class _Echo:
    """A file that hands back what is written to it, so rows can be streamed one by one."""

    def write(self, value: str) -> str:
        return value


def lines(rows: Iterable[Iterable[object]]) -> Iterator[str]:
    """One CSV line per row, every cell made safe."""
    writer = csv.writer(_Echo())
    for row in rows:
        yield writer.writerow([cell(value) for value in row])


# A cell can only be risky when it starts with one of these (a formula start, a hiding character or
# the spaces some importers trim): the fast path of lines() and counted_chunks() checks just that.
_RISKY_FIRST = frozenset("".join(FORMULA_STARTS + HIDING_STARTS) + " ")


def counted_chunks(rows: Iterable[Iterable[object]], per: int = 1000) -> Iterator[tuple[str, int]]:
    """The CSV lines of `rows` joined `per` rows at a time, each with its number of rows: a stream or a
    file then gets a few large writes instead of one per row. Every cell goes through cell()'s rule."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    risky = _RISKY_FIRST
    count = 0
    for row in rows:
        writer.writerow([cell(v) if type(v) is str and v and v[0] in risky else v for v in row])
        count += 1
        if count >= per:
            yield buffer.getvalue(), count
            buffer.seek(0)
            buffer.truncate()
            count = 0
    if count:
        yield buffer.getvalue(), count


def chunks(rows: Iterable[Iterable[object]], per: int = 1000) -> Iterator[str]:
    for text, _ in counted_chunks(rows, per):
        yield text


def response(rows: Iterable[Iterable[object]], filename: str) -> StreamingHttpResponse:
    """A streamed CSV download of `rows` (the header is the first row)."""
    resp = StreamingHttpResponse(chunks(rows), content_type="text/csv; charset=utf-8")
    resp["Content-Disposition"] = f'attachment; filename="{filename}"'
    return resp
