"""Watching benchmark: what it costs to watch 1,000 sent orders on their panel.

    python -m bench.watch [--orders 1000] [--write docs/BENCHMARKS.md]

The fake panel runs in its own process, answers every call after 50 ms and allows 5 requests/s.
PanelRelay runs `forwarding.watch.watch_due` in this process on SQLite, as the worker's periodic
job does: a round every 60 s of simulated time, and at once again while a round leaves more due
(the job's continuation). Simulated time jumps from one round with work to the next, so the day
takes seconds; the wall and CPU figures are the time spent in the rounds, panel calls included.

Three ways the same 1,000 orders reach the panel's providers:
- together: one request of 1,000 ids, sent in one go;
- in 100 messages: 10 orders every 14.4 minutes all day (tickets as they come in);
- one by one: one order every 86.4 s all day (the worst case for batching).
For each, the panel calls in the first 24 h after the first send, and over the whole watch
(ForwardingSettings.watch_days = 3, the default) until no order is watched any more.
"""

from __future__ import annotations

import argparse
import math
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from bench.forwarding import cpu_seconds, setup_django

ROOT = Path(__file__).resolve().parents[1]
PANEL_PORT = 8211
PANEL = f"http://127.0.0.1:{PANEL_PORT}"
FIRST_ID = 300000
TICK = timedelta(seconds=60)  # the forwarding.watch job's period
DAY = timedelta(days=1)


@dataclass
class Result:
    name: str
    orders: int
    calls_day: int
    rounds_day: int
    calls_all: int
    wall_day: float
    cpu_day: float
    floor_day: int

    def row(self) -> str:
        return (f"| {self.name} | {self.orders:,} | {self.calls_day:,} | {self.floor_day:,} | {self.rounds_day:,} | "
                f"{self.wall_day:,.1f} s | {self.cpu_day:,.2f} s | {self.calls_all:,} |")  # fmt: skip


def start_panel() -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "fakes.panel", "--port", str(PANEL_PORT), "--rps", "5",
                             "--latency", "0.05"], cwd=ROOT, stdout=subprocess.DEVNULL)  # fmt: skip
    deadline = time.monotonic() + 20
    while True:
        try:
            httpx.get(PANEL + "/_fake/state", timeout=1)
            return proc
        except httpx.HTTPError:
            if time.monotonic() > deadline:
                proc.terminate()
                raise SystemExit(f"fake panel at {PANEL} did not start") from None
            time.sleep(0.1)


def seed_panel(total: int) -> None:
    orders = [
        {"id": FIRST_ID + i, "provider": f"provider{i % 10}.example", "external_id": str(8_000_000 + i),
         "status": "In progress", "quantity": 1000, "remains": 500}
        for i in range(total)
    ]  # fmt: skip
    for start in range(0, total, 2000):
        httpx.post(PANEL + "/_fake/orders", json=orders[start : start + 2000], timeout=60).raise_for_status()


def panel_calls() -> int:
    stats = httpx.get(PANEL + "/_fake/state").json()["stats"]
    return sum(v for k, v in stats.items() if k in ("order_by_id", "orders_by_ids", "orders_list"))


def sent_orders(name: str, total: int, messages: int, t0: datetime) -> None:
    """`total` sent orders in `messages` messages spread evenly over a day from t0."""
    from panelrelay.accounts.models import Workspace
    from panelrelay.demo import scenario
    from panelrelay.forwarding.after import first_watch
    from panelrelay.forwarding.models import ForwardRequest, Outcome, RequestOrder

    ws = Workspace.objects.create(name=f"watch bench: {name}")
    panel = scenario.panel(ws, PANEL)
    per_message = total // messages
    for m in range(messages):
        at = t0 + DAY * m / messages
        req = ForwardRequest.objects.create(workspace=ws, panel=panel, panel_name=panel.name, command_label="Refill",
                                            total=per_message)  # fmt: skip
        ids = range(FIRST_ID + m * per_message, FIRST_ID + (m + 1) * per_message)
        RequestOrder.objects.bulk_create(
            RequestOrder(request=req, workspace=ws, panel_order_id=str(n), command_slug="refill",
                         state=RequestOrder.SENT, outcome=Outcome.SENT, sent_at=at, next_watch_at=first_watch(at))
            for n in ids
        )  # fmt: skip


def next_tick(after: datetime) -> datetime:
    """The first periodic slot at or after `after` (slots are whole minutes, as the worker's)."""
    seconds = math.ceil(after.timestamp() / TICK.total_seconds()) * TICK.total_seconds()
    return datetime.fromtimestamp(seconds, UTC)


def simulate(name: str, total: int, messages: int) -> Result:
    from django.db.models import Min

    from panelrelay.forwarding.models import RequestOrder
    from panelrelay.forwarding.watch import watch_due

    RequestOrder.objects.all().delete()
    t0 = datetime(2026, 12, 1, tzinfo=UTC)
    sent_orders(name, total, messages, t0)
    httpx.post(PANEL + "/_fake/stats/reset").raise_for_status()
    rounds, calls_day, wall, cpu = 0, None, 0.0, 0.0
    while (first := RequestOrder.objects.aggregate(at=Min("next_watch_at"))["at"]) is not None:
        tick = next_tick(first)
        in_day = tick <= t0 + DAY
        if not in_day and calls_day is None:
            calls_day = panel_calls()
        cpu0, wall0 = cpu_seconds(), time.monotonic()
        more = True
        while more:  # the job's continuation runs at once
            more = watch_due(now=tick).more
            rounds += in_day
        if in_day:
            wall, cpu = wall + time.monotonic() - wall0, cpu + cpu_seconds() - cpu0
    calls_all = panel_calls()
    floor = math.ceil(total / 100) * 7  # looks within a day: 5 min, 15 min, 1 h, 3 h, 6 h, 12 h, 24 h
    return Result(name, total, calls_all if calls_day is None else calls_day, rounds, calls_all, wall, cpu, floor)


def report(results: list[Result]) -> str:
    return "\n".join(
        [
            "| sent | open orders | panel calls in 24 h | floor (together) | rounds with work | wall time of the rounds | CPU | "
            "panel calls over the whole watch (3 days) |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
            *[r.row() for r in results],
        ]
    )


def write(path: Path, table: str) -> None:
    start, end = "<!-- bench:watch:start -->", "<!-- bench:watch:end -->"
    text = path.read_text() if path.exists() else ""
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    block = f"{start}\n{table}\n\n_Run {stamp}, `python -m bench.watch`._\n{end}"
    if start in text:
        head, rest = text.split(start, 1)
        text = head + block + rest.split(end, 1)[1]
    else:
        text = text + "\n" + block + "\n"
    path.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--write", default="docs/BENCHMARKS.md", help="'' to print only")
    args = parser.parse_args()
    proc = start_panel()
    try:
        seed_panel(args.orders)
        with tempfile.TemporaryDirectory() as data_dir:
            setup_django(data_dir)
            results = []
            for name, messages in (("together", 1), ("in 100 messages", 100), ("one by one", args.orders)):
                results.append(simulate(name, args.orders, messages))
                print(results[-1].row(), flush=True)
    finally:
        proc.terminate()
    table = report(results)
    print(table)
    if args.write:
        write(ROOT / args.write, table)


if __name__ == "__main__":
    main()
