"""The Perfect Panel v2 adapter against the fake panel, over real HTTP: every variant and error."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from fakes.panel import FakePanel
from panelrelay.panels.adapters import base
from panelrelay.panels.adapters.base import PanelError

pytestmark = pytest.mark.django_db  # the rate limiter's slots live in the database


@pytest.mark.parametrize("style", ["status_name", "int", "string"])
def test_it_normalises_every_status_style(fake: FakePanel, make_adapter, style: str) -> None:
    fake.status_style = style
    names = ["Pending", "In progress", "Completed", "Canceled", "Fail", "Partial", "Processing"]
    for n, name in enumerate(names):
        fake.add_order(100 + n, status=name)
    orders = make_adapter().get_orders([str(100 + n) for n in range(len(names))])
    assert [orders[str(100 + n)].status for n in range(len(names))] == [
        base.PENDING,
        base.IN_PROGRESS,
        base.COMPLETED,
        base.CANCELED,
        base.FAILED,
        base.PARTIAL,
        base.PROCESSING,
    ]


def test_it_reads_the_documented_fields(fake: FakePanel, make_adapter) -> None:
    fake.add_order(
        70172460,
        provider="SmmRush.com",
        external_id="596723",
        service_id=1204,
        service_name="IG Likes HQ",
        quantity=2500,
        user="dave",
        created="2025-05-15 04:36:03",
    )
    order = make_adapter().get_order("70172460")
    assert order is not None
    assert (order.id, order.external_id, order.provider_domain) == ("70172460", "596723", "SmmRush.com")
    assert (order.service_id, order.service_name, order.quantity, order.user) == ("1204", "IG Likes HQ", 2500, "dave")
    assert order.created == datetime(2025, 5, 15, 4, 36, 3, tzinfo=UTC)
    assert (order.status, order.mode) == (base.COMPLETED, base.AUTO)
    assert "SmmRush" not in repr(order)  # the domain stays out of reprs (and so of tracebacks)


def test_manual_means_mode_manual_or_no_provider(fake: FakePanel, make_adapter) -> None:
    fake.add_order(1, provider=None)
    fake.add_order(2, provider="")
    fake.add_order(3, provider="p.example", mode="Manual")
    fake.add_order(4, provider="p.example")
    orders = make_adapter().get_orders(["1", "2", "3", "4"])
    assert [orders[i].mode for i in "1234"] == [base.MANUAL, base.MANUAL, base.MANUAL, base.AUTO]
    assert orders["1"].provider_domain is None and orders["2"].provider_domain is None
    assert orders["1"].external_id is None


@pytest.mark.parametrize(
    "settings_",
    [
        {"mode_style": "name"},
        {"envelope": "data_only"},
        {"numbers_as_strings": True},
        {"external_id_type": "int"},
        {"quantity_field": "count"},
        {"quantity_field": "quantity", "status_style": "int", "numbers_as_strings": True},
    ],
)
def test_it_tolerates_the_envelope_and_number_variants(fake: FakePanel, make_adapter, settings_: dict) -> None:
    for key, value in settings_.items():
        setattr(fake, key, value)
    fake.add_order(501, provider="p.example", external_id="777", quantity=300, status="Partial")
    fake.add_order(502, provider=None, mode="Manual")
    adapter = make_adapter()
    order = adapter.get_order("501")
    assert order is not None
    assert (order.id, order.external_id, order.quantity, order.status, order.mode) == (
        "501",
        "777",
        300,
        base.PARTIAL,
        base.AUTO,
    )
    assert adapter.get_orders(["501", "502"])["502"].mode == base.MANUAL


def test_it_batches_at_most_100_ids_and_leaves_unknown_ids_out(fake: FakePanel, make_adapter) -> None:
    fake.seed_orders(250, start_id=1000)
    ids = [str(i) for i in range(1000, 1250)] + ["99999", "abc", "1000", ""]
    orders = make_adapter().get_orders(ids)
    assert len(orders) == 250 and "99999" not in orders
    calls = fake.requests_to(r"/orders$")
    assert len(calls) == 3
    assert all(len(c.query["ids"].split(",")) <= 100 for c in calls)


def test_an_unknown_order_is_none(fake: FakePanel, make_adapter) -> None:
    adapter = make_adapter()
    assert adapter.get_order("424242") is None
    assert adapter.get_order("not-a-number") is None
    assert adapter.get_orders([]) == {}


def test_recent_orders_come_newest_first_up_to_the_limit(fake: FakePanel, make_adapter) -> None:
    fake.seed_orders(30, start_id=2000)
    orders = make_adapter().recent_orders(limit=20)
    assert [o.id for o in orders][:3] == ["2029", "2028", "2027"] and len(orders) == 20


@pytest.mark.parametrize("auth_status", [200, 401, 403])
def test_a_wrong_key_is_an_auth_error(fake: FakePanel, make_adapter, auth_status: int) -> None:
    fake.auth_error_status = auth_status
    with pytest.raises(PanelError) as err:
        make_adapter(key="wrong-key-0000").get_orders(["1"])
    assert err.value.kind == "auth" and not err.value.temporary
    assert str(err.value).startswith("Panel “Main”: the API key was not accepted")


def test_http_200_with_an_error_code_is_an_error(fake: FakePanel, make_adapter) -> None:
    fake.fail_next(code=100, message="Internal error")
    with pytest.raises(PanelError) as err:
        make_adapter().get_orders(["1"])
    assert err.value.kind == "api_error" and err.value.temporary
    assert "Internal error" in str(err.value) and "error code 100" in str(err.value)


def test_the_panels_error_text_never_carries_a_domain(fake: FakePanel, make_adapter) -> None:
    fake.fail_next(message="Provider https://secret-prov.example/api failed; mail ops@secret-prov.example")
    with pytest.raises(PanelError) as err:
        make_adapter().get_order("1")
    assert "secret-prov" not in str(err.value)
    assert "[address hidden]" in str(err.value)


@pytest.mark.parametrize(
    ("fault", "words", "temporary"),
    [
        ({"kind": "html"}, "web page instead of API data (HTTP 502)", True),
        ({"kind": "html", "status": 200}, "web page instead of API data (HTTP 200)", True),
        ({"kind": "empty"}, "empty answer", True),
        ({"kind": "malformed"}, "not valid JSON", True),
        ({"kind": "status", "status": 503, "body": {"error": "busy"}}, "server error (HTTP 503)", True),
        ({"kind": "drop"}, "cannot be reached", True),
    ],
)
def test_broken_answers_become_clear_errors(fake: FakePanel, make_adapter, fault: dict, words: str, temporary) -> None:
    fake.inject(**fault)
    with pytest.raises(PanelError) as err:
        make_adapter().get_order("1")
    assert str(err.value).startswith("Panel “Main”: ")
    assert words in str(err.value)
    assert err.value.temporary is temporary


def test_a_wrong_path_is_a_404_that_points_at_the_url(fake: FakePanel, make_adapter) -> None:
    with pytest.raises(PanelError) as err:
        make_adapter(url=fake.url + "/shop").get_order("1")
    assert "HTTP 404" in str(err.value) and "check the panel URL" in str(err.value)
    assert not err.value.temporary


def test_a_slow_panel_is_a_timeout(fake: FakePanel, make_adapter, settings) -> None:
    settings.OUTBOUND_TIMEOUT = 1
    fake.inject("timeout", seconds=3)
    with pytest.raises(PanelError) as err:
        make_adapter().get_order("1")
    assert err.value.kind == "timeout" and err.value.temporary
    assert "did not answer in time" in str(err.value)


def test_a_closed_port_is_unreachable(make_adapter) -> None:
    with FakePanel() as gone:
        url = gone.url
    with pytest.raises(PanelError) as err:
        make_adapter(url=url).get_order("1")
    assert err.value.kind == "unreachable" and err.value.temporary


def test_private_addresses_are_refused_when_not_allowed(fake: FakePanel, make_adapter, settings) -> None:
    settings.OUTBOUND_ALLOW_PRIVATE = False
    with pytest.raises(PanelError) as err:
        make_adapter().get_order("1")
    assert err.value.kind == "unreachable" and not err.value.temporary
    assert "private network" in str(err.value)
    assert fake.received == []
