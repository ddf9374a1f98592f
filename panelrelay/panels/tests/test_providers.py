"""Provider detection: normalised, encrypted, matched by keyed digest, aliased, counted once."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from fakes.panel import FakePanel
from panelrelay.accounts.models import Workspace
from panelrelay.core import crypto
from panelrelay.panels import providers
from panelrelay.panels.adapters import base
from panelrelay.panels.models import Panel, Provider, SeenOrder, ServiceSeen

pytestmark = pytest.mark.django_db


def order(oid: int, domain: str | None = "prov.example", service: int = 1, name: str = "IG Likes") -> base.PanelOrder:
    return base.PanelOrder(
        id=str(oid),
        external_id=str(9000 + oid),
        provider_domain=domain,
        service_id=str(service),
        service_name=name,
        status=base.COMPLETED,
        mode=base.AUTO if domain else base.MANUAL,
    )


@pytest.mark.parametrize(
    "raw",
    [
        "smmrush.com",
        "SMMRUSH.COM",
        "https://www.smmrush.com/",
        "http://smmrush.com:8080/api/v2?x=1",
        "www.SmmRush.com.",
        "  smmrush.com  ",
        "user:pw@smmrush.com/path",
    ],
)
def test_it_normalises_every_spelling_to_one_domain(raw: str) -> None:
    assert providers.normalize_domain(raw) == "smmrush.com"


def test_unicode_and_punycode_spellings_match() -> None:
    assert providers.normalize_domain("bücher.example") == providers.normalize_domain("xn--bcher-kva.example")
    assert providers.normalize_domain("") is None and providers.normalize_domain(None) is None


def test_a_new_provider_is_stored_encrypted_and_gets_the_next_alias(panel: Panel) -> None:
    Provider.objects.create(workspace=panel.workspace, alias="Provider 1", domain_enc="x", domain_hmac="h1")
    found = providers.match(panel, [order(1, "https://www.New-Prov.example/")])
    provider = found["1"]
    assert provider.alias == "Provider 2"
    assert "new-prov" not in provider.domain_enc
    assert crypto.decrypt(provider.domain_enc) == "new-prov.example"
    assert provider.domain_hmac == providers.domain_digest("new-prov.example")
    assert list(provider.panels.all()) == [panel]


def test_the_same_provider_in_any_spelling_is_one_row(panel: Panel) -> None:
    providers.match(panel, [order(1, "prov.example"), order(2, "WWW.PROV.EXAMPLE"), order(3, "https://prov.example/x")])
    assert Provider.objects.filter(workspace=panel.workspace).count() == 1


def test_manual_orders_have_no_provider(panel: Panel) -> None:
    found = providers.match(panel, [order(1, None), order(2, "")])
    assert found == {"1": None, "2": None}
    assert not Provider.objects.exists()


def test_aliases_skip_names_already_taken(panel: Panel) -> None:
    Provider.objects.create(workspace=panel.workspace, alias="provider 2", domain_enc="x", domain_hmac="h")
    found = providers.match(panel, [order(1, "a.example"), order(2, "b.example")])
    assert sorted(p.alias for p in found.values()) == ["Provider 3", "Provider 4"]


def test_workspaces_do_not_share_providers(panel: Panel, make_panel) -> None:
    other = make_panel(ws=Workspace.objects.create(name="Other"))
    mine = providers.match(panel, [order(1)])["1"]
    theirs = providers.match(other, [order(1)])["1"]
    assert mine.pk != theirs.pk and mine.alias == theirs.alias == "Provider 1"


def test_a_provider_created_meanwhile_is_reused(panel: Panel) -> None:
    digest = providers.domain_digest("race.example")
    # Another process inserted the row after our bulk load: the unique constraint fires and we reuse it.
    created = Provider.objects.create(workspace=panel.workspace, alias="Theirs", domain_enc="t", domain_hmac=digest)
    provider, is_new = providers._create(panel.workspace_id, digest, "race.example")
    assert (provider.pk, is_new) == (created.pk, False)


def test_orders_and_services_are_counted_once_per_order(panel: Panel) -> None:
    batch = [order(1, service=10, name="IG Likes"), order(2, service=10), order(3, service=11, name="TT Views")]
    providers.match(panel, batch)
    providers.match(panel, batch + [order(4, service=11, name="TT Views v2")])
    assert providers.flush_counts() > 0
    provider = Provider.objects.get()
    assert provider.orders_seen == 4
    services = {s.service_id: (s.name, s.orders) for s in ServiceSeen.objects.filter(provider=provider)}
    assert services == {"10": ("IG Likes", 2), "11": ("TT Views v2", 2)}
    assert SeenOrder.objects.filter(panel=panel).count() == 4


def test_services_shared_by_providers_are_counted_per_provider(panel: Panel) -> None:
    providers.match(panel, [order(1, "a.example", service=1), order(2, "b.example", service=2)])
    # Now a.example sells service 2 and b.example service 1: new pairs next to existing ones.
    providers.match(panel, [order(3, "a.example", service=2), order(4, "b.example", service=1), order(5, "a.example")])
    providers.flush_counts()
    counts = {(s.provider.alias, s.service_id): s.orders for s in ServiceSeen.objects.select_related("provider")}
    assert counts == {("Provider 1", "1"): 2, ("Provider 1", "2"): 1, ("Provider 2", "2"): 1, ("Provider 2", "1"): 1}


def test_matching_many_orders_takes_a_bounded_number_of_queries(panel: Panel) -> None:
    batch = [order(i, f"p{i % 5}.example", service=i % 7) for i in range(1, 1001)]
    with CaptureQueriesContext(connection) as queries:
        providers.match(panel, batch)
    assert len(queries) < 150, len(queries)  # not one (or more) per order
    with CaptureQueriesContext(connection) as queries:
        providers.match(panel, batch)
    assert len(queries) < 30, len(queries)
    providers.flush_counts()
    assert sum(Provider.objects.values_list("orders_seen", flat=True)) == 1000


def test_a_lookup_writes_no_provider_row_and_the_count_job_adds_its_tally(panel: Panel) -> None:
    providers.match(panel, [order(1, "a.example")])  # creates the provider
    with CaptureQueriesContext(connection) as queries:
        providers.match(panel, [order(2, "a.example", service=3), order(3, "a.example", service=3)])
    writes = [q["sql"] for q in queries if q["sql"].startswith(("UPDATE", "INSERT"))]
    assert not any('"panels_provider"' in sql or '"panels_serviceseen"' in sql for sql in writes), writes
    assert Provider.objects.get().orders_seen == 0  # not yet: counted by the panels.count job
    from panelrelay.worker.models import Job
    from panelrelay.worker.queue import run_job

    job = Job.objects.create(kind="panels.count")
    assert run_job(job, "")
    provider = Provider.objects.get()
    assert provider.orders_seen == 3
    assert {s.service_id: s.orders for s in ServiceSeen.objects.all()} == {"1": 1, "3": 2}
    assert providers.flush_counts() == 0  # nothing left waiting


def test_a_new_provider_writes_a_vault_record(panel: Panel) -> None:
    from panelrelay.vault.models import BackupRecord

    providers.match(panel, [order(1, "a.example")])
    providers.match(panel, [order(2, "a.example")])  # nothing new: no new record
    assert list(BackupRecord.objects.values_list("event", flat=True)) == ["providers_changed"]


def test_rename_refuses_duplicates_and_domains(panel: Panel) -> None:
    found = providers.match(panel, [order(1, "a.example"), order(2, "b.example")])
    first, second = found["1"], found["2"]
    providers.rename(first, "  FastLikes_A ")
    assert Provider.objects.get(pk=first.pk).alias == "FastLikes_A"
    with pytest.raises(providers.AliasError, match="already the alias"):
        providers.rename(second, "fastlikes_a")
    # Any web address is refused alike, a provider's or not: the answer tells no domain from another.
    for typed in ("https://www.A.example", "Alpha (a.example)", "Alpha (unrelated.example)", "Alpha (ⓐ.example)"):
        with pytest.raises(providers.AliasError, match="^An alias cannot contain a web address") as refused:
            providers.rename(second, typed)
        assert refused.value.shown in ("[web address]", "Alpha ([web address])")
    with pytest.raises(providers.AliasError, match="Type an alias"):
        providers.rename(second, "   ")
    with pytest.raises(providers.AliasError, match="under 61"):
        providers.rename(second, "x" * 61)


def test_an_owner_adds_a_provider_by_domain(workspace: Workspace) -> None:
    provider, created = providers.add_by_domain(workspace, "HTTPS://Hand-Added.example/", "Backup_2")
    assert created and provider.alias == "Backup_2"
    assert crypto.decrypt(provider.domain_enc) == "hand-added.example"
    again, created = providers.add_by_domain(workspace, "hand-added.example")
    assert not created and again.pk == provider.pk
    for bad in ("not a domain", "localhost", ""):
        with pytest.raises(providers.AliasError):
            providers.add_by_domain(workspace, bad)
    with pytest.raises(providers.AliasError, match="cannot contain a web address"):
        providers.add_by_domain(workspace, "other.example", "other.example")


def test_the_fake_panels_orders_flow_through(fake: FakePanel, panel: Panel) -> None:
    fake.seed_orders(40, providers=("one.example", "two.example"), manual_every=10)
    orders = panel.adapter().get_orders([str(i) for i in range(10001, 10041)])
    found = providers.match(panel, orders.values())
    assert sum(1 for p in found.values() if p is None) == 4
    assert Provider.objects.filter(workspace=panel.workspace).count() == 2
