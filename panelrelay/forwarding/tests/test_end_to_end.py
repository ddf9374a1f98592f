"""From pasted ids to messages in the fakes' inboxes, through the real engine and transports."""

from __future__ import annotations

import time

import pytest

from panelrelay.accounts.models import Workspace
from panelrelay.demo import scenario
from panelrelay.forwarding.models import Attempt, Command, Message, RequestOrder
from panelrelay.forwarding.submit import create_request

pytestmark = pytest.mark.django_db

EXT = 9_000_000
FAST, BACKUP, CHEAP, MYSTERY = (
    "fastlikes.example",
    "backup-supply.example",
    "cheapviews.example",
    "mystery-prov.example",
)
WA_CHEAP, WA_MANUAL = "120363000000000001@g.us", "120363000000000009@g.us"


def seed(panel) -> list[str]:
    """250 orders: three routed providers, an override, manual, unknown, refused and missing ones."""

    def add(n: int, provider: str | None, **kw) -> None:
        panel.add_order(id=n, provider=provider, external_id=None if provider is None else str(EXT + n), **kw)

    for n in range(50001, 50101):
        add(n, FAST, service_id=1234 if n > 50090 else 1, service_name="IG Likes HQ" if n > 50090 else "IG Likes")
    for n in range(50101, 50161):
        add(n, BACKUP, service_id=2)
    for n in range(50161, 50201):
        add(n, CHEAP, service_id=3)
    for n in range(50201, 50221):
        add(n, None, service_id=4, service_name="Manual comments")
    for n in range(50221, 50241):
        add(n, MYSTERY, service_id=5)
    for n in range(50241, 50246):
        add(n, FAST, service_id=1, status="Pending")
    return [str(n) for n in range(50001, 50251)]  # 50246..50250 do not exist in the panel


@pytest.fixture
def wired(fake_panel, fake_telegram, fake_waha):
    ws = Workspace.objects.create(name="E2E")
    for chat in (-1001, -1002, -1003, -1004):
        fake_telegram.add_chat(chat, type="supergroup", title=f"group {chat}")
    for group in (WA_CHEAP, WA_MANUAL):
        fake_waha.add_group(group, "provider group")
    panel = scenario.panel(ws, fake_panel.url)
    tg = scenario.telegram(ws, fake_telegram.url)
    wa = scenario.waha(ws, fake_waha.url)
    dest = {
        "fast": scenario.destination(tg, "FastLikes grp", "tg_group", "-1001"),
        "backup": scenario.destination(tg, "Backup grp", "tg_group", "-1002"),
        "override": scenario.destination(tg, "Group A", "tg_group", "-1003"),
        "fallback": scenario.destination(tg, "My chat", "tg_group", "-1004"),
        "cheap": scenario.destination(wa, "Cheap views", "wa_group", WA_CHEAP),
        "manual": scenario.destination(wa, "Manual team", "wa_group", WA_MANUAL),
    }
    scenario.route(scenario.provider(ws, FAST, "FastLikes_A"), dest["fast"])
    scenario.route(scenario.provider(ws, BACKUP, "Backup_2"), dest["backup"])
    scenario.route(scenario.provider(ws, CHEAP, "Cheap_3"), dest["cheap"])
    scenario.override("1234", dest["override"])
    scenario.defaults(ws, manual=dest["manual"], fallback=dest["fallback"])
    return ws, panel, dest


def refill(ws, panel, ids, **kw):
    return create_request(ws, panel, Command.for_workspace(ws)[0], ids, **kw)


def texts(messages: list[dict]) -> list[str]:
    return [m["text"] for m in messages]


def ext_lines(first: int, last: int) -> str:
    return "\n".join(str(EXT + n) for n in range(first, last + 1))


def test_250_ids_arrive_as_exactly_the_expected_messages(wired, fake_panel, fake_telegram, fake_waha) -> None:
    ws, panel, dest = wired
    req = refill(ws, panel, seed(fake_panel))
    scenario.drain(timeout=60)

    assert texts(fake_telegram.messages_to(-1001)) == ["REFILL\n" + ext_lines(50001, 50090)]
    assert texts(fake_telegram.messages_to(-1003)) == ["REFILL\n" + ext_lines(50091, 50100)]
    assert texts(fake_telegram.messages_to(-1002)) == ["REFILL\n" + ext_lines(50101, 50160)]
    assert texts(fake_waha.messages_to(WA_CHEAP)) == ["REFILL\n" + ext_lines(50161, 50200)]
    manual = "\n".join(f"{n} (panel order)" for n in range(50201, 50221))
    assert texts(fake_waha.messages_to(WA_MANUAL)) == ["REFILL\n" + manual]
    assert texts(fake_telegram.messages_to(-1004)) == ["REFILL\n" + ext_lines(50221, 50240)]
    assert Message.objects.count() == 6
    assert fake_panel.stats()["orders_by_ids"] == 3  # 250 ids in batches of 100

    orders = {o.panel_order_id: o for o in req.orders.all()}
    assert orders["50001"].state == "sent" and orders["50001"].provider_alias == "FastLikes_A"
    assert orders["50095"].rule == 1 and orders["50095"].destination_label == "TG · Group A"
    assert orders["50210"].manual and orders["50210"].rule == 3
    assert orders["50230"].rule == 4 and orders["50230"].provider_alias.startswith("Provider ")
    assert orders["50243"].state == "skipped" and orders["50243"].reason == "status Pending does not allow refill"
    assert orders["50248"].state == "skipped" and orders["50248"].reason == "not found in the panel"
    assert req.orders.filter(state="sent").count() == 240
    req.refresh_from_db()
    assert req.finished is not None


def test_the_cooldown_refuses_a_repeat_unless_forced(wired, fake_panel, fake_telegram) -> None:
    ws, panel, _ = wired
    seed(fake_panel)
    refill(ws, panel, ["50001", "50002"])
    scenario.drain()
    again = refill(ws, panel, ["50001", "50002", "50003"])
    scenario.drain()
    states = dict(again.orders.values_list("panel_order_id", "state"))
    assert states == {"50001": "skipped", "50002": "skipped", "50003": "sent"}
    assert again.orders.get(panel_order_id="50001").reason.startswith("already requested at ")
    forced = refill(ws, panel, ["50001"], force=True)
    scenario.drain()
    assert forced.orders.get().state == "sent"
    assert texts(fake_telegram.messages_to(-1001)) == [
        f"REFILL\n{EXT + 50001}\n{EXT + 50002}", f"REFILL\n{EXT + 50003}", f"REFILL\n{EXT + 50001}"]  # fmt: skip


def test_a_429_is_honoured_before_the_retry(wired, fake_panel, fake_telegram, fast_retries) -> None:
    ws, panel, _ = wired
    seed(fake_panel)
    fake_telegram.force_429(1, retry_after=2)
    refill(ws, panel, ["50101"])
    scenario.drain(timeout=30)
    message = Message.objects.get()
    attempts = list(Attempt.objects.filter(message=message))
    assert [a.error_kind for a in attempts] == ["rate_limited", ""]
    assert attempts[1].ok and (attempts[1].started - attempts[0].started).total_seconds() >= 2
    assert texts(fake_telegram.messages_to(-1002)) == [f"REFILL\n{EXT + 50101}"]


def test_a_gateway_down_for_a_while_then_recovered_delivers_everything(
    wired, fake_panel, fake_waha, fast_retries
) -> None:
    ws, panel, _ = wired
    seed(fake_panel)
    fake_waha.set_status("default", "SCAN_QR_CODE")
    req = refill(ws, panel, [str(n) for n in range(50161, 50201)])
    deadline = time.monotonic() + 20
    while not RequestOrder.objects.filter(state="retrying").exists() and time.monotonic() < deadline:
        scenario.Worker(worker_id="w", idle_sleep=0.01).run_once()
    order = req.orders.first()
    order.refresh_from_db()
    assert order.state == "retrying" and "retrying at" in order.reason
    fake_waha.set_status("default", "WORKING")
    scenario.drain(timeout=30)
    assert req.orders.filter(state="sent").count() == 40
    assert texts(fake_waha.messages_to(WA_CHEAP)) == ["REFILL\n" + ext_lines(50161, 50200)]
    assert Attempt.objects.filter(error_kind="unavailable").exists()


def test_a_kicked_bot_fails_the_orders_with_the_reason_and_marks_the_destination(
    wired, fake_panel, fake_telegram
) -> None:
    ws, panel, dest = wired
    seed(fake_panel)
    fake_telegram.kick(-1002)
    req = refill(ws, panel, ["50101", "50102"])
    scenario.drain()
    reasons = set(req.orders.values_list("state", "reason"))
    assert len(reasons) == 1
    state, reason = reasons.pop()
    assert state == "failed" and "kicked" in reason
    dest["backup"].refresh_from_db()
    assert dest["backup"].broken
    again = refill(ws, panel, ["50103"])
    scenario.drain()
    assert again.orders.get().state == "failed"
    assert "is broken" in again.orders.get().reason


def test_a_send_cut_short_by_a_dead_worker_is_sent_again_and_says_so(wired, fake_panel, fake_telegram) -> None:
    """The crash test's rare case made certain: an attempt row left open by a killed worker."""
    from panelrelay.forwarding.delivery import NOTE_REPEAT, deliver_message
    from panelrelay.forwarding.engine import process_request

    ws, panel, dest = wired
    seed(fake_panel)
    req = refill(ws, panel, ["50101"])
    process_request(req)  # the engine writes the message; its delivery job is not run
    message = Message.objects.get()
    Attempt.objects.create(message=message)  # the worker died between the send and its record
    deliver_message(message)
    assert list(message.attempt_rows.values_list("ok", "error_kind")) == [(False, "interrupted"), (True, "")]
    order = req.orders.get()
    assert order.state == "sent"
    assert order.reason == f"sent to TG · Backup grp ({NOTE_REPEAT})"
    [resent] = texts(fake_telegram.messages_to(-1002))
    assert resent.startswith("⚠️ POSSIBLE REPEAT") and resent.endswith(f"\nREFILL\n{EXT + 50101}")
