"""csvsafe: the cells a spreadsheet would run as a formula get a "'" in front; others stay as they are."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest

from panelrelay.core import csvsafe


@pytest.mark.parametrize(
    "raw",
    ['=HYPERLINK("http://evil.test","x")', "=cmd|'", "+1", "-5", "@SUM(A1)", "\t=1", "\r=1", "\0=1", "  =1+1"],
)
def test_it_prefixes_cells_a_spreadsheet_would_evaluate(raw: str) -> None:
    assert csvsafe.cell(raw) == "'" + raw


@pytest.mark.parametrize("raw", ["IG Likes - 30D", "Provider 1", "a=b", "", 7, -5, None])
def test_it_leaves_other_cells_alone(raw: object) -> None:
    assert csvsafe.cell(raw) == raw


def test_lines_are_quoted_csv_that_reads_back() -> None:
    text = "".join(csvsafe.lines([["name", "note"], ['=HYPERLINK("a","b")', 'say "hi", then go']]))
    assert list(csv.reader(io.StringIO(text))) == [["name", "note"], ['\'=HYPERLINK("a","b")', 'say "hi", then go']]


def test_no_other_module_writes_csv_itself() -> None:
    """A new export must use csvsafe; a bare csv.writer elsewhere would skip the neutralising."""
    root = Path(csvsafe.__file__).resolve().parents[1]
    writers = re.compile(r"\bcsv\.(?:writer|DictWriter)\b|\bfrom csv import\b")
    found = [
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if "tests" not in path.parts and path.name != "csvsafe.py" and writers.search(path.read_text())
    ]
    assert found == []
