"""Typed lists of order ids: whole tokens that are ids, or a refusal naming the ones that are not."""

from __future__ import annotations

import pytest

from panelrelay.reading.orderids import NotOrderIds, is_order_id, split_ids


def test_it_splits_at_whitespace_commas_and_semicolons_and_deduplicates() -> None:
    assert split_ids("45323, 45324\n45325;45323\t 45326\u00a045324") == ["45323", "45324", "45325", "45326"]
    assert split_ids("") == [] and split_ids(" ,; \n") == []
    assert split_ids("1 99999999999999999999") == ["1", "99999999999999999999"]  # 1 to 20 digits


@pytest.mark.parametrize(
    "token",
    [
        "9999999999999999999910001",  # 25 digits: not 99999999999999999999 and 10001
        "1180591620717411303424",  # 2**70
        "-5", "+5", "1e5", "1.5", "45323.0", "2**70", "0045", "0", "#45326", "order-45327",
        "١٢٣", "１２３", "²", "123\u200b456",  # other scripts' digits, a zero-width space
    ],
)  # fmt: skip
def test_a_token_that_is_not_a_whole_order_id_is_refused_never_cut(token: str) -> None:
    assert not is_order_id(token)
    with pytest.raises(NotOrderIds) as refused:
        split_ids(f"45323 {token} 45324")
    assert refused.value.bad == [token]


def test_the_refusal_names_the_first_few_tokens_shortened() -> None:
    with pytest.raises(NotOrderIds) as refused:
        split_ids("10001 9999999999999999999910001 -5 1e5 a b c d")
    message = str(refused.value)
    assert message.startswith("Not an order id: 9999…10001, -5, 1e5, a, b (and 2 more).")
    assert "1 to 20 digits" in message
