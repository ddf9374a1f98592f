"""Web addresses in text people type: found in any spelling, refused alike, provider or not."""

from __future__ import annotations

import pytest

from panelrelay.accounts.models import Workspace
from panelrelay.panels.models import Provider
from panelrelay.panels.privacy import AddressInText, find_domains, mask_domains, refuse_addresses
from panelrelay.panels.providers import add_by_domain, domain_digest

pytestmark = pytest.mark.django_db
PROVIDER = "smmrush.example"


@pytest.fixture
def ws(workspace: Workspace) -> int:
    add_by_domain(workspace, PROVIDER, "FastLikes_A")
    return workspace.pk


@pytest.mark.parametrize(
    "text",
    [
        "smmrush.example", "Alpha (SMMRUSH.EXAMPLE)", "provider is https://www.smmrush.example/api/v2",
        "smmrush.example:443", "support@smmrush.example", "bücher.example", "xn--bcher-kva.example",
        "smmrush\u3002example",  # the ideographic full stop IDNA reads as a dot
        "ｓｍｍｒｕｓｈ．ｅｘａｍｐｌｅ",  # fullwidth
        "ⓢⓜⓜⓡⓤⓢⓗ.example",  # circled letters that IDNA folds to ASCII
        "smmrush\u200b.example", "smm\u00adrush.example",  # invisible characters inside
        "203.0.113.7", "done.Next",  # an IP address; a missing space reads as a host name too
    ],
)  # fmt: skip
def test_it_finds_every_spelling_of_a_host_name(ws: int, text: str) -> None:
    assert find_domains(ws, text), text


@pytest.mark.parametrize(
    "text",
    ["Provider 3", "FastLikes_A", "{command}\n{ids}\n{note}", "e.g. 1.5k v2.0 at 12:30, Rs.500, U.S.A.", "REFILL",
     "Your {command} request for order(s) {ids} has been sent.", "докрутка, refil", ""],
)  # fmt: skip
def test_ordinary_text_is_left_alone(ws: int, text: str) -> None:
    assert find_domains(ws, text) == []
    assert refuse_addresses(ws, text, "A note") == text


def test_a_providers_domain_and_any_other_host_get_the_same_answer(ws: int) -> None:
    answers = set()
    for host in (PROVIDER, "SMMRUSH.example", "unrelated.example", "guess-one.example", "ⓢⓜⓜⓡⓤⓢⓗ.example"):
        with pytest.raises(AddressInText) as refused:
            refuse_addresses(ws, f"provider is {host}, hurry", "A note")
        answers.add((str(refused.value), refused.value.masked))
    assert answers == {
        (
            "A note cannot contain a web address or domain name (a word with a dot inside, like site.com): "
            "others read it.",
            "provider is [web address], hurry",
        )
    }


def test_masking_keeps_the_text_around_invisible_characters_and_other_scripts(ws: int) -> None:
    with pytest.raises(AddressInText) as refused:
        refuse_addresses(ws, "می\u200cخواهم smm\u200brush.example باشد", "A note")
    assert refused.value.masked == "می\u200cخواهم [web address] باشد"  # the Persian ZWNJ stays


def test_a_provider_domain_that_is_not_shaped_like_a_host_is_caught_by_its_digest(workspace: Workspace) -> None:
    # Panels report whatever their provider field holds; a bare name is matched through the keyed index.
    Provider.objects.create(workspace=workspace, alias="Odd", domain_enc="x", domain_hmac=domain_digest("smmking"))
    found = find_domains(workspace.pk, "ask SMMKING today")
    assert [(f.start, f.end, f.provider.alias) for f in found] == [(4, 11, "Odd")]


def test_chat_titles_show_a_known_providers_alias_and_keep_other_hosts(ws: int) -> None:
    assert mask_domains(ws, "smmrush.example · refills") == "FastLikes_A · refills"
    assert mask_domains(ws, "ⓢⓜⓜⓡⓤⓢⓗ.example team") == "FastLikes_A team"
    assert mask_domains(ws, "other.example group") == "other.example group"


def test_it_reads_the_index_in_one_query_per_500_words(ws: int, django_assert_num_queries) -> None:
    with django_assert_num_queries(3):
        find_domains(ws, " ".join(f"word{n}" for n in range(1200)))


def test_text_no_database_could_store_is_scanned_without_an_error(ws: int) -> None:
    assert refuse_addresses(ws, "hurry \ud800 please", "A note") == "hurry \ud800 please"  # JSON can carry one
    assert len(find_domains(ws, "x\ud800 smmrush.example")) == 1
