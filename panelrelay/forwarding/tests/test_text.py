from __future__ import annotations

import pytest

from panelrelay.forwarding import text
from panelrelay.forwarding.text import DEFAULT_TEMPLATE, Line, pack, render


def lines(n: int, start: int = 45000) -> list[Line]:
    return [Line(i, str(start + i), str(9870000 + i)) for i in range(n)]


def test_the_default_message_is_the_command_and_one_id_per_line() -> None:
    assert render(DEFAULT_TEMPLATE, "REFILL", lines(2), "", False) == "REFILL\n9870000\n9870001"


def test_panel_ids_and_note_are_added_when_asked() -> None:
    out = render(DEFAULT_TEMPLATE, "CANCEL", lines(1), "customer waited 3 days", True)
    assert out == "CANCEL\n9870000 (order 45000)\ncustomer waited 3 days"


def test_a_manual_order_is_named_by_its_panel_id() -> None:
    assert render(DEFAULT_TEMPLATE, "REFILL", [Line(1, "45325", "")], "", False) == "REFILL\n45325 (panel order)"


def test_templates_have_their_variables() -> None:
    out = render("{count} × {command}: {external_ids} [{panel_order_ids}]", "SPEED UP", lines(2), "", False)
    assert out == "2 × SPEED UP: 9870000, 9870001 [45000, 45001]"


@pytest.mark.parametrize("bad", ["{command", "{unknown}", "{0}", "{ids!z}"])
def test_a_broken_template_is_refused_with_a_clear_error(bad: str) -> None:
    with pytest.raises(text.TemplateError):
        text.validate(bad)


@pytest.mark.parametrize(
    ("bad", "says"),
    [
        ("{command:>1000000000}", "“{command:>1000000000}”: formatting after “:” or “!” is not allowed"),
        ("{ids!r}", "“{ids!r}”: formatting"),
        ("{count:{note}}", "“{count:{note}}”: formatting"),
        ("{ids.real}", "“{ids.real}” is not a placeholder we know; use {command}, {ids}"),
        ("{ids[0]}", "“{ids[0]}” is not a placeholder we know"),
        ("{}", "“{}” is not a placeholder we know"),
        ("refill}", "has no pair: write {{ or }}"),
        ("{command}\n" + "x" * 2000, "Keep the template under 2001 characters (it has 2010)."),
    ],
)
def test_formatting_fields_and_oversized_templates_are_refused_by_name(bad: str, says: str) -> None:
    with pytest.raises(text.TemplateError) as err:
        text.validate(bad)
    assert says in str(err.value)


def test_braces_and_every_variable_are_allowed() -> None:
    text.validate("{{{command}}} {count}: {external_ids} / {panel_order_ids}\n{ids}\n{note}")
    assert render("{{{command}}}", "REFILL", lines(1), "", False) == "{REFILL}"


def test_a_stored_template_from_before_the_checks_renders_without_its_formatting() -> None:
    # 10**7, not 10**9: with str.format this built a 10 MB message (10**9 took 10 s and 1 GB).
    out = render("{command:>10000000}\n{ids!r}\n{count:03}\n{ids.real} {x}", "REFILL", lines(1), "", False)
    assert out == "REFILL\n9870000\n1\n{ids.real} {x}"
    assert len(pack("{command:>10000000}\n{ids}", "REFILL", lines(3), "", False, 4096)) == 1


@pytest.mark.parametrize("limit", [100, 4096, 20000])
def test_packing_keeps_every_id_once_and_every_part_under_the_limit(limit: int) -> None:
    items = lines(3000)
    parts = pack(DEFAULT_TEMPLATE, "REFILL", items, "a note", True, limit)
    assert [line for part in parts for line in part] == items
    assert all(len(render(DEFAULT_TEMPLATE, "REFILL", part, "a note", True)) <= limit for part in parts)
    assert len(parts) > 1 or limit == 20000


def test_packing_splits_only_when_needed() -> None:
    assert len(pack(DEFAULT_TEMPLATE, "REFILL", lines(10), "", False, 4096)) == 1


def test_a_template_repeating_the_ids_still_fits() -> None:
    tpl = "{command}\n{ids}\n---\n{ids}\n{external_ids}"
    parts = pack(tpl, "REFILL", lines(2000), "", False, 4096)
    assert all(len(render(tpl, "REFILL", p, "", False)) <= 4096 for p in parts)
    assert sum(len(p) for p in parts) == 2000
