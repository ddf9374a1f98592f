"""FakePanel driven over real HTTP, the way the product's adapters will drive it."""

from __future__ import annotations

import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fakes.panel import (
    ERR_BAD_KEY,
    ERR_INJECTED,
    ERR_NOT_FOUND,
    ERR_TOO_MANY_IDS,
    STATUS_CODES,
    FakePanel,
)

KEY = "test-key"
V2 = "/adminapi/v2"
REPO = Path(__file__).resolve().parents[2]
# Built once: httpx otherwise loads the CA bundle for every client (~65 ms each), which
# dominated this file's run time although every URL here is plain http on loopback.
TLS = ssl.create_default_context()


def http(url: str = "", **kw: Any) -> httpx.Client:
    kw.setdefault("timeout", 2)
    return httpx.Client(base_url=url, verify=TLS, **kw)


@pytest.fixture
def panel() -> Iterator[FakePanel]:
    # rps=0: most tests are not about the limit and must not trip over it.
    with FakePanel(rps=0) as fake:
        yield fake


@pytest.fixture
def client(panel: FakePanel) -> Iterator[httpx.Client]:
    with http(panel.url, headers={"X-Api-Key": KEY}) as client:
        yield client


def ok_data(resp: httpx.Response) -> Any:
    """The `data` of a successful v2 reply, after checking the envelope."""
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["error_code"] == 0 and body["error_message"] is None, body
    return body["data"]


def v1(client: httpx.Client, **params: str) -> Any:
    return client.get("/adminapi/v1", params={"key": KEY, **params}).json()


# ----- v2 orders ----------------------------------------------------------------


def test_order_by_id_has_the_documented_fields(panel: FakePanel, client: httpx.Client) -> None:
    panel.add_order(
        70172460,
        provider="smmrush.com",
        external_id="596723",
        created="2025-05-15 04:36:03",
    )
    order = ok_data(client.get(f"{V2}/orders/70172460"))
    assert order["id"] == 70172460 and order["user"] == "alice"
    assert (order["provider"], order["external_id"]) == ("smmrush.com", "596723")
    assert (order["status"], order["status_name"]) == (2, "Completed")
    assert (order["mode"], order["mode_name"]) == (1, "Auto")
    assert order["quantity"] == order["count"] == 1000
    assert order["created"] == "2025-05-15 04:36:03"
    assert set(order["charge"]) == {"value", "currency_code", "formatted"}
    assert set(order["actions"]) == {
        "refill",
        "resend",
        "cancel_and_refund",
        "request_cancel",
    }
    for name in (
        "user_id",
        "service_id",
        "service_name",
        "link",
        "start_count",
        "remains",
    ):
        assert name in order


def test_unknown_order_is_http_200_with_an_error_code(client: httpx.Client) -> None:
    for path in (f"{V2}/orders/999", f"{V2}/orders/abc"):
        resp = client.get(path)
        assert resp.status_code == 200
        body = resp.json()
        assert body["data"] is None
        assert (body["error_code"], body["error_message"]) == (
            ERR_NOT_FOUND,
            "Order not found",
        )


def test_admin_prefix_variant_serves_the_same_routes(panel: FakePanel, client: httpx.Client) -> None:
    panel.add_order(10001)
    assert ok_data(client.get("/admin/adminapi/v2/orders/10001"))["id"] == 10001
    listed = ok_data(client.get("/admin/adminapi/v2/orders", params={"ids": "10001"}))
    assert listed["count"] == 1


def test_orders_by_ids_skips_unknown_ids(panel: FakePanel, client: httpx.Client) -> None:
    panel.seed_orders(3, start_id=500)
    resp = client.get(f"{V2}/orders", params={"ids": "500,999,502", "limit": 0, "offset": 0})
    data = ok_data(resp)
    assert sorted(o["id"] for o in data["list"]) == [500, 502]
    assert data["count"] == 2
    pagination = resp.json()["pagination"]
    assert pagination["total"] == 2 and pagination["next_page_href"] is None


def test_more_than_100_ids_is_an_error_envelope(panel: FakePanel, client: httpx.Client) -> None:
    panel.seed_orders(101, start_id=1)
    hundred = ",".join(str(i) for i in range(1, 101))
    assert ok_data(client.get(f"{V2}/orders", params={"ids": hundred}))["count"] == 100
    resp = client.get(f"{V2}/orders", params={"ids": hundred + ",101"})
    assert resp.status_code == 200
    assert resp.json()["error_code"] == ERR_TOO_MANY_IDS
    assert "100" in resp.json()["error_message"]


def test_list_filters_sort_and_pagination(panel: FakePanel, client: httpx.Client) -> None:
    panel.seed_orders(
        30,
        providers=["a.example", "b.example"],
        newest="2025-01-02 00:00:00",
        spacing_seconds=3600,
    )
    params = {"provider": "a.example", "sort": "date-desc", "limit": 5}
    resp = client.get(f"{V2}/orders", params=params)
    first = ok_data(resp)["list"]
    assert {o["provider"] for o in first} == {"a.example"}
    assert [o["created"] for o in first] == sorted((o["created"] for o in first), reverse=True)
    nxt = resp.json()["pagination"]["next_page_href"]
    second = ok_data(client.get(nxt))["list"]
    assert not {o["id"] for o in first} & {o["id"] for o in second}


def test_list_filters_by_time_status_user_and_mode(panel: FakePanel, client: httpx.Client) -> None:
    panel.add_order(1, status="Completed", created="2025-01-01 10:00:00", user="bob")
    panel.add_order(2, status="Canceled", created="2025-01-01 12:00:00", provider="")
    panel.add_order(3, status="Completed", created="2025-01-02 12:00:00")
    day = {"created_from": "1735689600", "created_to": "1735775999"}  # 2025-01-01 UTC

    def ids(**params: str) -> list[int]:
        return sorted(o["id"] for o in ok_data(client.get(f"{V2}/orders", params=params))["list"])

    assert ids(**day) == [1, 2]
    assert ids(**day, order_status="completed") == [1]
    assert ids(order_status="2") == [1, 3]
    assert ids(user="bob") == [1]
    assert ids(mode="manual") == [2]


def test_limit_is_clamped_to_1000(panel: FakePanel, client: httpx.Client) -> None:
    panel.seed_orders(1005, start_id=1)
    resp = client.get(f"{V2}/orders", params={"limit": 5000})
    assert ok_data(resp)["count"] == 1000
    assert resp.json()["pagination"]["limit"] == 1000


@pytest.mark.parametrize(
    ("style", "expected"),
    [
        ("int", {"status": 5}),
        ("string", {"status": "partial"}),
        ("status_name", {"status": 5, "status_name": "Partial"}),
    ],
)
def test_status_styles(panel: FakePanel, client: httpx.Client, style: str, expected: dict[str, Any]) -> None:
    panel.status_style = style
    panel.add_order(1, status="Partial")
    order = ok_data(client.get(f"{V2}/orders/1"))
    assert {k: order[k] for k in ("status", "status_name") if k in order} == expected


def test_per_order_status_style_and_all_codes(panel: FakePanel, client: httpx.Client) -> None:
    panel.add_order(1, status="In progress", status_style="string")
    panel.add_order(2, status="processing", status_style="int")
    assert ok_data(client.get(f"{V2}/orders/1"))["status"] == "in_progress"
    assert ok_data(client.get(f"{V2}/orders/2"))["status"] == 6
    assert STATUS_CODES == {
        "Pending": 0,
        "In progress": 1,
        "Completed": 2,
        "Canceled": 3,
        "Fail": 4,
        "Partial": 5,
        "Processing": 6,
    }


def test_number_and_id_variants(panel: FakePanel, client: httpx.Client) -> None:
    panel.add_order(1, external_id=596723)
    panel.add_order(2, provider="", status="Pending")
    panel.add_order(3, provider=None)
    assert ok_data(client.get(f"{V2}/orders/1"))["external_id"] == 596723
    manual = ok_data(client.get(f"{V2}/orders/2"))
    assert (manual["provider"], manual["external_id"], manual["mode_name"]) == (
        "",
        None,
        "Manual",
    )
    assert ok_data(client.get(f"{V2}/orders/3"))["provider"] is None
    panel.numbers_as_strings, panel.external_id_type, panel.mode_style = (
        True,
        "str",
        "name",
    )
    order = ok_data(client.get(f"{V2}/orders/1"))
    assert (order["id"], order["status"], order["external_id"]) == ("1", "2", "596723")
    assert order["mode"] == "Auto" and "mode_name" not in order


def test_data_only_envelope_and_quantity_field(panel: FakePanel, client: httpx.Client) -> None:
    panel.envelope, panel.quantity_field = "data_only", "count"
    panel.add_order(1)
    body = client.get(f"{V2}/orders/1").json()
    assert set(body) == {"data"}
    assert "count" in body["data"] and "quantity" not in body["data"]
    assert client.get(f"{V2}/orders/2").json()["error_code"] == ERR_NOT_FOUND


def test_unknown_v2_route_is_404_envelope(client: httpx.Client) -> None:
    resp = client.get(f"{V2}/nope")
    assert resp.status_code == 404 and resp.json()["error_code"] == 404


# ----- auth -----------------------------------------------------------------------


@pytest.mark.parametrize("headers", [{}, {"X-Api-Key": "wrong"}], ids=["missing", "bad"])
def test_bad_or_missing_key_is_200_error_envelope(panel: FakePanel, headers: dict[str, str]) -> None:
    panel.add_order(1)
    with http(panel.url, headers=headers) as anonymous:
        resp = anonymous.get(f"{V2}/orders/1")
    assert resp.status_code == 200
    assert resp.json() == {
        "data": None,
        "error_message": "Invalid API key",
        "error_code": ERR_BAD_KEY,
    }
    assert panel.stats()["auth_failed"] == 1


def test_auth_failure_can_answer_401(panel: FakePanel) -> None:
    panel.auth_error_status = 401
    with http(panel.url, headers={"X-Api-Key": "wrong"}) as intruder:
        resp = intruder.get(f"{V2}/tickets")
    assert resp.status_code == 401 and resp.json()["error_code"] == ERR_BAD_KEY


# ----- rate limit -------------------------------------------------------------------


def test_rate_limit_answers_429_then_recovers() -> None:
    with (
        FakePanel(rps=5) as fake,
        http(fake.url, headers={"X-Api-Key": KEY}) as client,
    ):
        fake.add_order(1)
        codes = [client.get(f"{V2}/orders/1").status_code for _ in range(12)]
        assert codes.count(200) == 5 and codes.count(429) == 7
        limited = client.get(f"{V2}/orders/1")
        assert limited.json()["error_code"] == 429 and limited.headers["Retry-After"] == "1"
        assert client.get("/adminapi/v1", params={"key": KEY}).status_code == 429
        assert client.get("/_fake/state").status_code == 200  # control API is never limited
        time.sleep(1.05)
        assert client.get(f"{V2}/orders/1").status_code == 200
        assert fake.stats()["rate_limited"] == 9


# ----- faults -------------------------------------------------------------------------

ROUTES = [
    f"{V2}/orders/1",
    f"{V2}/tickets",
    "/adminapi/v1?action=getProviders&key=test-key",
]


@pytest.mark.parametrize("path", ROUTES)
@pytest.mark.parametrize("kind", ["html", "malformed", "empty", "status"])
def test_faults_answer_once_on_every_route(panel: FakePanel, client: httpx.Client, kind: str, path: str) -> None:
    panel.add_order(1)
    panel.inject(kind, **({"status": 503} if kind == "status" else {}))
    broken = client.get(path)
    if kind == "html":
        assert broken.status_code == 502 and broken.text.startswith("<!DOCTYPE html>")
    elif kind == "status":
        assert broken.status_code == 503
    else:
        with pytest.raises(ValueError):
            broken.json()
    assert client.get(path).status_code == 200  # a fault is used up after `times` calls
    assert panel.stats()["faulted"] == 1


@pytest.mark.parametrize("path", ROUTES)
def test_drop_and_timeout_faults(panel: FakePanel, client: httpx.Client, path: str) -> None:
    panel.inject("drop")
    with pytest.raises(httpx.RemoteProtocolError):
        client.get(path)
    panel.inject("timeout", seconds=0.5)
    with pytest.raises(httpx.ReadTimeout):
        client.get(path, timeout=0.1)
    assert panel.stats()["faulted"] == 2


def test_a_lost_reply_is_carried_out_but_not_answered(panel: FakePanel, client: httpx.Client) -> None:
    ticket = panel.add_ticket("dave", "Refill", "refill 1")
    panel.inject("lost_reply", path=r"/reply$")
    with pytest.raises(httpx.RemoteProtocolError):
        client.post(f"{V2}/tickets/{ticket['id']}/reply", json={"message": "done"})
    assert [r["message"] for r in panel.tickets_replies(ticket["id"])] == ["done"]
    with pytest.raises(ValueError, match="unknown fault kind"):
        panel.inject("lost_replies")


def test_fault_can_target_one_path(panel: FakePanel, client: httpx.Client) -> None:
    panel.add_order(1)
    panel.inject("status", path=r"/tickets", status=500, times=2)
    assert client.get(f"{V2}/orders/1").status_code == 200
    assert [client.get(f"{V2}/tickets").status_code for _ in range(3)] == [
        500,
        500,
        200,
    ]


def test_fail_next_gives_200_with_error_code(panel: FakePanel, client: httpx.Client) -> None:
    panel.add_order(1)
    panel.fail_next(2, message="Server is busy")
    for _ in range(2):
        resp = client.get(f"{V2}/orders/1")
        assert resp.status_code == 200
        assert resp.json()["error_code"] == ERR_INJECTED
        assert resp.json()["error_message"] == "Server is busy"
    assert ok_data(client.get(f"{V2}/orders/1"))["id"] == 1
    client.post("/_fake/fail_next", json={"times": 1, "code": 7})
    assert client.get(f"{V2}/orders/1").json()["error_code"] == 7


# ----- tickets and users --------------------------------------------------------------


def test_ticket_list_filters(panel: FakePanel, client: httpx.Client) -> None:
    panel.add_ticket("alice", "Refill", "Urgent Refill: 10001")
    panel.add_ticket("bob", "Cancel", "cancel 10002", status="Answered")
    everyone = ok_data(client.get(f"{V2}/tickets"))["list"]
    assert {t["user"] for t in everyone} == {"alice", "bob"}
    assert set(everyone[0]) == {
        "id",
        "user",
        "subject",
        "status",
        "created",
        "last_update",
    }
    pending = ok_data(client.get(f"{V2}/tickets", params={"user": "alice", "status": "pending"}))
    assert [t["subject"] for t in pending["list"]] == ["Refill"]


def test_ticket_reply_flow(panel: FakePanel, client: httpx.Client) -> None:
    ticket = panel.add_ticket("alice", "Refill", "Urgent Refill: 10001, 10002")
    panel.add_ticket_message(ticket["id"], "alice", "any news?")
    tid = ticket["id"]
    reply = {"message": "Refill requested for 10001.", "staff_name": "relay"}
    answered = ok_data(client.post(f"{V2}/tickets/{tid}/reply", json=reply))
    assert answered["status"] == "Answered"
    full = ok_data(client.get(f"{V2}/tickets/{tid}"))
    assert full["status"] == "Answered"
    assert [m["sender_name"] for m in full["messages"]] == ["alice", "alice", "support"]
    assert set(full["messages"][0]) == {"id", "sender_name", "message", "created"}
    replies = panel.tickets_replies(tid)
    assert [(r["message"], r["staff_name"]) for r in replies] == [("Refill requested for 10001.", "relay")]
    assert client.get(f"/_fake/tickets/{tid}/replies").json() == replies


def test_ticket_errors(panel: FakePanel, client: httpx.Client) -> None:
    tid = panel.add_ticket("alice", "Refill", "hi")["id"]
    assert client.get(f"{V2}/tickets/999").json()["error_message"] == "Ticket not found"
    missing = client.post(f"{V2}/tickets/999/reply", json={"message": "x"}).json()
    assert missing["error_code"] == ERR_NOT_FOUND
    empty = client.post(f"{V2}/tickets/{tid}/reply", json={"message": " "}).json()
    assert empty["error_message"] == "Message is required"
    assert panel.tickets_replies(tid) == []


def test_ticket_add(panel: FakePanel, client: httpx.Client) -> None:
    panel.add_user("carol")
    body = {"username": "carol", "subject": "Hello", "message": "We refilled 10003"}
    tid = ok_data(client.post(f"{V2}/tickets/add", json=body | {"staff_name": "relay"}))["id"]
    ticket = panel.get_ticket(tid)
    assert ticket is not None and ticket["status"] == "Answered"
    assert ticket["messages"][0]["sender_name"] == "support"
    plain = ok_data(client.post(f"{V2}/tickets/add", data=body))["id"]  # form bodies work too
    assert panel.get_ticket(plain)["messages"][0]["sender_name"] == "carol"  # type: ignore[index]
    unknown = client.post(f"{V2}/tickets/add", json=body | {"username": "nobody"}).json()
    assert unknown["error_message"] == "User not found"


def test_users_lookup(panel: FakePanel, client: httpx.Client) -> None:
    panel.add_order(1, user="alice")
    panel.add_user("bob", email="bob@example.com")
    found = ok_data(client.get(f"{V2}/users", params={"username": "bob"}))["list"]
    assert [(u["username"], u["email"]) for u in found] == [("bob", "bob@example.com")]
    assert ok_data(client.get(f"{V2}/users", params={"username": "zed"}))["list"] == []
    assert ok_data(client.get(f"{V2}/users"))["count"] == 2


def test_concurrent_replies_are_all_kept(panel: FakePanel, client: httpx.Client) -> None:
    tid = panel.add_ticket("alice", "Refill", "hi")["id"]

    def post(i: int) -> int:
        reply = client.post(f"{V2}/tickets/{tid}/reply", json={"message": f"reply {i}"})
        return reply.json()["error_code"]

    with ThreadPoolExecutor(max_workers=10) as pool:
        assert set(pool.map(post, range(20))) == {0}
    assert len(panel.tickets_replies(tid)) == 20
    assert panel.stats()["ticket_reply"] == 20


# ----- v1 -----------------------------------------------------------------------------


def test_v1_orders_by_id_get_and_post(panel: FakePanel, client: httpx.Client) -> None:
    panel.add_order(1, provider="smmrush.com", external_id="596723", status="In progress")
    panel.add_order(2, provider="")
    reply = v1(client, action="getOrders-by-id", orders="1,2,3", provider="1")
    assert reply["status"] == "success"
    first = reply["orders"][0]
    assert (first["id"], first["username"], first["order_status"]) == (
        1,
        "alice",
        "in progress",
    )
    assert (first["provider"], first["external_id"], first["service"]) == (
        "smmrush.com",
        "596723",
        1,
    )
    assert [o["id"] for o in reply["orders"]] == [1, 2]
    form = {"key": KEY, "action": "getOrders-by-id", "orders": "2"}
    posted = client.post("/adminapi/v1", data=form).json()
    assert [o["id"] for o in posted["orders"]] == [2]


def test_v1_errors(client: httpx.Client) -> None:
    assert client.get("/adminapi/v1", params={"key": "bad", "action": "getProviders"}).json() == {"error": "bad_auth"}
    assert client.get("/adminapi/v1", params={"action": "getProviders"}).json() == {"error": "bad_auth"}
    assert v1(client, action="explode") == {"error": "bad_action"}
    too_many = ",".join(str(i) for i in range(101))
    assert v1(client, action="getOrders-by-id", orders=too_many) == {"error": "too_many_orders"}
    assert v1(client, action="getOrders-by-id", orders="x") == {"error": "bad_orders"}


def test_v1_get_providers(panel: FakePanel, client: httpx.Client) -> None:
    panel.seed_orders(10, providers=["a.example", "b.example"], manual_every=3)
    names = [p["name"] for p in v1(client, action="getProviders")["providers"]]
    assert sorted(names) == ["a.example", "b.example"]  # manual orders have no provider


def test_v1_int_status_style(panel: FakePanel, client: httpx.Client) -> None:
    panel.status_style = "int"
    panel.add_order(1, status="Canceled")
    assert v1(client, action="getOrders-by-id", orders="1")["orders"][0]["order_status"] == 3


# ----- seeding, stats and the control API -----------------------------------------------


def test_seed_orders_is_deterministic_with_manual_variants(panel: FakePanel) -> None:
    made = panel.seed_orders(12, start_id=100, manual_every=4, seed=3)
    assert [o["id"] for o in made] == list(range(100, 112))
    manual = [o for o in made if o["mode"] == "Manual"]
    assert [o["provider"] for o in manual] == [None, "", None]
    assert all(o["external_id"] is None for o in manual)
    with FakePanel(rps=0) as other:
        again = other.seed_orders(12, start_id=100, manual_every=4, seed=3)
        assert [o["provider"] for o in again] == [o["provider"] for o in made]


def test_stats_count_each_route_kind(panel: FakePanel, client: httpx.Client) -> None:
    panel.add_order(1)
    client.get(f"{V2}/orders/1")
    client.get(f"{V2}/orders", params={"ids": "1"})
    client.get(f"{V2}/orders", params={"limit": 10})
    v1(client, action="getOrders-by-id", orders="1")
    stats = panel.stats()
    assert (stats["order_by_id"], stats["orders_by_ids"], stats["orders_list"]) == (
        1,
        1,
        1,
    )
    assert stats["v1_orders_by_id"] == 1 and stats["rate_limited"] == 0
    assert client.get("/_fake/state").json()["stats"] == stats


def test_control_endpoints_seed_a_separate_process(client: httpx.Client) -> None:
    orders = [{"id": 7, "provider": "x.example", "external_id": 55, "status": "partial"}]
    assert client.post("/_fake/orders", json=orders).json() == {"ok": True, "ids": [7]}
    seeded = client.post("/_fake/orders", json={"seed": {"n": 5, "start_id": 20}}).json()
    assert seeded["ids"] == [20, 21, 22, 23, 24]
    tickets = [{"user": "alice", "subject": "S", "message": "m", "status": "Closed"}]
    assert client.post("/_fake/tickets", json=tickets).json()["ok"]
    client.post("/_fake/orders/7", json={"status": "Completed", "remains": 0})
    assert ok_data(client.get(f"{V2}/orders/7"))["status_name"] == "Completed"
    state = client.get("/_fake/state").json()
    assert (state["orders"], state["tickets"], state["providers"][0]) == (
        6,
        1,
        "x.example",
    )


def test_control_config_validates_and_reset_clears(client: httpx.Client) -> None:
    assert client.post("/_fake/config", json={"status_style": "string"}).json() == {"ok": True}
    assert client.post("/_fake/config", json={"status_style": "roman"}).status_code == 400
    assert client.post("/_fake/orders", json=[{"status": "weird"}]).status_code == 400
    assert client.post("/_fake/config", json={"rps": 0}).json() == {"ok": True}
    client.post("/_fake/orders", json=[{"id": 1}])
    assert ok_data(client.get(f"{V2}/orders/1"))["status"] == "completed"
    client.post("/_fake/reset")
    state = client.get("/_fake/state").json()
    assert (state["orders"], state["stats"]["order_by_id"]) == (0, 0)


@pytest.fixture(scope="module")
def seeded() -> Iterator[httpx.Client]:
    # One server and client for all hypothesis examples: the property only reads.
    with FakePanel(rps=0) as fake, http(fake.url, headers={"X-Api-Key": KEY}) as client:
        fake.seed_orders(30, start_id=1)
        yield client


@settings(max_examples=50, deadline=None)
@given(ids=st.sets(st.integers(min_value=1, max_value=60), max_size=100))
def test_ids_query_returns_exactly_the_known_ids(seeded: httpx.Client, ids: set[int]) -> None:
    resp = seeded.get(f"{V2}/orders", params={"ids": ",".join(map(str, ids))})
    assert {o["id"] for o in ok_data(resp)["list"]} == {i for i in ids if i <= 30}


def test_module_entry_point_serves_the_demo() -> None:
    cmd = [sys.executable, "-m", "fakes.panel", "--port", "0", "--seed-demo"]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        banner = proc.stdout.readline()
        with http(banner.split()[2], headers={"X-Api-Key": KEY}) as client:
            state = client.get("/_fake/state").json()
            assert (state["orders"], state["tickets"], len(state["providers"])) == (
                300,
                5,
                10,
            )
            assert ok_data(client.get(f"{V2}/orders", params={"limit": 3}))["count"] == 3
            client.post("/_fake/reset")  # the demo re-seeds itself instead of going empty
            assert client.get("/_fake/state").json()["orders"] == 300
    finally:
        proc.terminate()
        assert proc.wait(timeout=5) == 0
