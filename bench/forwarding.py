"""Forwarding benchmark: PanelRelay's engine against a naive forwarder, both on the loopback fakes.

    python -m bench.forwarding [--sizes 1000 10000] [--naive 200] [--write docs/BENCHMARKS.md]

The fake panel answers every call after 50 ms and allows 5 requests/s; the fake Telegram
enforces the Bot FAQ limits (1 message/s per chat, 20/minute per group, 30/s per bot). Orders
are spread over 10 providers, each routed to its own Telegram group.

The naive forwarder is what a panel owner's script does: for each order, one GET /orders/{id}
and one sendMessage, honouring 429 retry_after. At full size it would take most of an hour
(10,000 lookups at 5/s alone are 2,000 s), so it runs on a smaller sample and its figures are
scaled linearly, which is exact for its two sequential costs (lookups, paced messages).
"""

from __future__ import annotations

import argparse
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from fakes.telegram.world import DEMO_TOKEN


def _free_port() -> int:
    """An ephemeral port for a fake in its own process (other benchmarks may run at the same time)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


ROOT = Path(__file__).resolve().parents[1]
PANEL_PORT, TELEGRAM_PORT = _free_port(), _free_port()
PANEL, TELEGRAM = f"http://127.0.0.1:{PANEL_PORT}", f"http://127.0.0.1:{TELEGRAM_PORT}"
TOKEN = DEMO_TOKEN  # the bot `python -m fakes.telegram --seed-demo` knows
PROVIDERS = 10
FIRST_ID = 100000


@dataclass
class Result:
    name: str
    ids: int
    panel_calls: int
    messages: int
    wall: float
    cpu: float
    note: str = ""

    def row(self) -> str:
        per_order = 1000 * self.cpu / self.ids
        return (f"| {self.name} | {self.ids:,} | {self.panel_calls:,} | {self.messages:,} | {self.wall:,.1f} s | "
                f"{self.cpu:,.2f} s ({per_order:.2f} ms) | {self.note} |")  # fmt: skip


def start_fakes() -> list[subprocess.Popen]:
    procs = [
        subprocess.Popen([sys.executable, "-m", "fakes.panel", "--port", str(PANEL_PORT), "--rps", "5", "--latency", "0.05"],
                         cwd=ROOT, stdout=subprocess.DEVNULL),
        subprocess.Popen([sys.executable, "-m", "fakes.telegram", "--port", str(TELEGRAM_PORT), "--seed-demo"],
                         cwd=ROOT, stdout=subprocess.DEVNULL),
    ]  # fmt: skip
    deadline = time.monotonic() + 20
    for url in (PANEL, TELEGRAM):
        while True:
            try:
                httpx.get(url + "/_fake/state", timeout=1)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise SystemExit(f"fake at {url} did not start")
                time.sleep(0.1)
    return procs


def seed_fakes(total: int) -> None:
    orders = [
        {"id": FIRST_ID + i, "provider": f"provider{i % PROVIDERS}.example", "external_id": str(7_000_000 + i)}
        for i in range(total)
    ]
    for start in range(0, total, 2000):
        httpx.post(PANEL + "/_fake/orders", json=orders[start : start + 2000], timeout=60).raise_for_status()
    for n in range(PROVIDERS):
        httpx.post(TELEGRAM + "/_fake/telegram/chat", json={"chat_id": -100100 - n, "type": "supergroup",
                                                            "title": f"provider {n}"}).raise_for_status()  # fmt: skip


def reset_counters() -> None:
    httpx.post(PANEL + "/_fake/stats/reset").raise_for_status()
    httpx.post(TELEGRAM + "/_fake/reset").raise_for_status()


def counters() -> tuple[int, int]:
    panel = httpx.get(PANEL + "/_fake/state").json()["stats"]
    calls = sum(v for k, v in panel.items() if k in ("order_by_id", "orders_by_ids", "orders_list"))
    sent = httpx.get(TELEGRAM + "/_fake/state").json()["sent"]
    return calls, len(sent)


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_engine(size: int, workers: int = 1) -> Result:
    from panelrelay.accounts.models import Workspace
    from panelrelay.demo import scenario
    from panelrelay.forwarding.models import Command
    from panelrelay.forwarding.submit import create_request
    from panelrelay.worker.runner import Worker

    ws = Workspace.objects.create(name=f"bench {size}")
    panel = scenario.panel(ws, PANEL)
    tg = scenario.telegram(ws, TELEGRAM, TOKEN)
    for n in range(PROVIDERS):
        dest = scenario.destination(tg, f"group {n}", "tg_group", str(-100100 - n))
        scenario.route(scenario.provider(ws, f"provider{n}.example", f"P{n}"), dest)
    ids = [str(FIRST_ID + i) for i in range(size)]
    reset_counters()
    cpu0, t0 = cpu_seconds(), time.monotonic()
    create_request(ws, panel, Command.for_workspace(ws)[0], ids)
    scenario.drain(timeout=600, worker=Worker(worker_id=f"bench-{size}", idle_sleep=0.01))
    wall, cpu = time.monotonic() - t0, cpu_seconds() - cpu0
    calls, sent = counters()
    return Result("PanelRelay", size, calls, sent, wall, cpu, "1 worker, SQLite")


def run_naive(size: int) -> Result:
    """One lookup and one message per order, sequential, honouring 429s."""
    client = httpx.Client(timeout=30)
    reset_counters()
    cpu0, t0 = cpu_seconds(), time.monotonic()
    for i in range(size):
        order = _retrying(client.get, f"{PANEL}/adminapi/v2/orders/{FIRST_ID + i}", headers={"X-Api-Key": "test-key"})
        data = order.json()["data"]
        chat = -100100 - int(data["provider"].removeprefix("provider").split(".")[0])
        text = f"REFILL\n{data['external_id']}"
        _retrying(client.post, f"{TELEGRAM}/bot{TOKEN}/sendMessage", json={"chat_id": chat, "text": text})
    wall, cpu = time.monotonic() - t0, cpu_seconds() - cpu0
    calls, sent = counters()
    return Result("naive", size, calls, sent, wall, cpu, "measured")


def _retrying(call, url: str, **kwargs) -> httpx.Response:
    while True:
        response = call(url, **kwargs)
        if response.status_code != 429:
            response.raise_for_status()
            return response
        retry = response.json().get("parameters", {}).get("retry_after") or float(
            response.headers.get("Retry-After", 1)
        )
        time.sleep(float(retry))


def scaled(result: Result, size: int) -> Result:
    k = size / result.ids
    return Result("naive", size, round(result.panel_calls * k), round(result.messages * k), result.wall * k,
                  result.cpu * k, f"scaled ×{k:g} from {result.ids:,}")  # fmt: skip


def setup_django(data_dir: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "panelrelay.settings")
    os.environ["DATA_DIR"] = data_dir
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def report(results: list[Result]) -> str:
    lines = [
        "| forwarder | ids | panel calls | messages | wall time until all final | CPU (per order) | note |",
        "|---|---:|---:|---:|---:|---:|---|",
        *[r.row() for r in results],
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--naive", type=int, default=200, help="sample size of the naive forwarder")
    parser.add_argument("--write", default="docs/BENCHMARKS.md")
    args = parser.parse_args()
    procs = start_fakes()
    try:
        seed_fakes(max(args.sizes + [args.naive]))
        with tempfile.TemporaryDirectory() as data_dir:
            setup_django(data_dir)
            results = []
            for size in args.sizes:
                results.append(run_engine(size))
                print(results[-1].row(), flush=True)
            sample = run_naive(args.naive)
            print(sample.row(), flush=True)
            results.append(sample)
            results += [scaled(sample, size) for size in args.sizes]
    finally:
        for proc in procs:
            proc.terminate()
    table = report(results)
    print(table)
    if args.write:
        write(ROOT / args.write, table)


def write(path: Path, table: str) -> None:
    marker_start, marker_end = "<!-- bench:forwarding:start -->", "<!-- bench:forwarding:end -->"
    text = path.read_text() if path.exists() else ""
    block = f"{marker_start}\n{table}\n\n_Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, `make bench`._\n{marker_end}"
    if marker_start in text:
        head, rest = text.split(marker_start, 1)
        text = head + block + rest.split(marker_end, 1)[1]
    else:
        text = text + "\n" + block + "\n"
    path.write_text(text)


if __name__ == "__main__":
    main()
