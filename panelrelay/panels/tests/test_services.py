"""The interface the forwarding engine calls: resolve_orders, find_order, sync_providers."""

from __future__ import annotations

import dataclasses

import pytest

from fakes.panel import FakePanel
from panelrelay.panels import services
from panelrelay.panels.adapters import base
from panelrelay.panels.adapters.base import PanelError
from panelrelay.panels.models import Panel, Provider

pytestmark = pytest.mark.django_db


def test_resolve_orders_gives_aliases_and_leaves_unknown_ids_out(fake: FakePanel, panel: Panel) -> None:
    fake.add_order(10001, provider="fast.example", external_id="9876543", service_id=1204, service_name="IG Likes")
    fake.add_order(10002, provider=None, service_id=88, service_name="Manual views")
    resolved = services.resolve_orders(panel, ["10001", "10002", "10003", "oops"])
    assert set(resolved) == {"10001", "10002"}
    auto, manual = resolved["10001"], resolved["10002"]
    assert auto.provider.alias == "Provider 1" and auto.external_id == "9876543"
    assert (auto.service_id, auto.service_name, auto.status_label, auto.mode) == (
        "1204",
        "IG Likes",
        "Completed",
        "auto",
    )
    assert manual.provider is None and manual.is_manual and manual.external_id is None


def test_a_resolved_order_has_no_field_for_a_domain(fake: FakePanel, panel: Panel) -> None:
    fake.add_order(10001, provider="hidden-prov.example")
    resolved = services.resolve_orders(panel, ["10001"])["10001"]
    assert "domain" not in {f.name for f in dataclasses.fields(resolved)}
    assert "hidden-prov" not in repr(resolved) and "hidden-prov" not in str(vars(resolved))


def test_resolve_orders_batches_by_100(fake: FakePanel, panel: Panel) -> None:
    fake.seed_orders(230, providers=("a.example", "b.example", "c.example"))
    resolved = services.resolve_orders(panel, [str(i) for i in range(10001, 10231)])
    assert len(resolved) == 230
    assert len(fake.requests_to(r"/orders$")) == 3
    assert Provider.objects.filter(workspace=panel.workspace).count() == 3


def test_find_order_returns_one_or_none(fake: FakePanel, panel: Panel) -> None:
    fake.add_order(10001, provider="fast.example", status="In progress")
    found = services.find_order(panel, " 10001 ")
    assert found.status == base.IN_PROGRESS and found.provider.alias == "Provider 1"
    assert services.find_order(panel, "55555") is None


def test_errors_come_back_as_panel_errors(fake: FakePanel, panel: Panel) -> None:
    fake.inject("html")
    with pytest.raises(PanelError, match="Panel “Main”: the panel answered with a web page"):
        services.resolve_orders(panel, ["10001"])


def test_sync_scans_recent_orders(fake: FakePanel, panel: Panel) -> None:
    fake.seed_orders(60, providers=("a.example", "b.example"), manual_every=6)
    result = services.sync_providers(panel)
    assert (result.orders_scanned, result.providers_seen, result.new_providers, result.manual_orders) == (60, 2, 2, 10)
    assert result.message == "Scanned 60 recent order(s): 2 provider(s) (2 new), 10 manual order(s)."
    panel.refresh_from_db()
    assert panel.synced_at and panel.sync_message == result.message
    again = services.sync_providers(panel)
    assert again.new_providers == 0
    assert sum(Provider.objects.values_list("orders_seen", flat=True)) == 50


def test_sync_on_v1_uses_the_panels_provider_list(fake: FakePanel, make_panel) -> None:
    fake.add_order(1, provider="one.example")
    fake.add_order(2, provider="two.example")
    panel = make_panel(kind="pp_v1", name="Rental")
    result = services.sync_providers(panel)
    assert (result.orders_scanned, result.providers_seen, result.new_providers) == (0, 2, 2)
    assert panel.providers.count() == 2


def test_sync_on_a_v1_panel_without_a_provider_list_says_so_instead_of_failing(fake: FakePanel, make_panel) -> None:
    fake.V1_ACTIONS = {"getOrders-by-id": "v1_orders_by_id"}
    fake.add_order(1, provider="one.example")
    panel = make_panel(kind="pp_v1", name="Rental")
    result = services.sync_providers(panel)
    assert result.nothing_to_sync and (result.orders_scanned, result.providers_seen) == (0, 0)
    assert result.message.startswith("Nothing to sync: this panel does not offer a provider list (getProviders)")
    panel.refresh_from_db()
    assert panel.sync_message == result.message


def test_a_failed_sync_is_noted_on_the_panel(fake: FakePanel, panel: Panel) -> None:
    fake.inject("empty")
    with pytest.raises(PanelError):
        services.sync_providers(panel)
    panel.refresh_from_db()
    assert "empty answer" in panel.sync_message


def test_check_connection_keeps_the_result_on_the_panel(fake: FakePanel, panel: Panel) -> None:
    report = services.check_connection(panel)
    panel.refresh_from_db()
    assert report.reachable and panel.check_ok is True and panel.last_checked
    assert panel.check_message == report.message


def test_an_unreadable_stored_key_is_a_panel_error(panel: Panel) -> None:
    Panel.objects.filter(pk=panel.pk).update(api_key_enc="gAAAAA-not-a-token")
    panel.refresh_from_db()
    with pytest.raises(PanelError, match="enter the key again") as err:
        services.find_order(panel, "1")
    assert err.value.kind == "auth"
    report = services.check_connection(panel)
    assert not report.key_accepted and "enter the key again" in report.message
