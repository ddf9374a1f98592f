"""Answers benchmark: how long from our message to the provider's answer recorded on its orders.

    python -m bench.answers [--orders 1000] [--write docs/BENCHMARKS.md]

1,000 orders over 10 providers, each routed to its own Telegram group, where the provider replies
"done" to every message at once (the fake Telegram's provider behaviour; strict Bot FAQ limits).
One worker on SQLite runs everything, as `make run` does: lookups, messages, and the Telegram
poll every 15 s (transports.poll_telegram) that brings the replies in through the front door.
Measured per order: from its message's send to its answer recorded (the order's progress turns
Answered). The floor is the polling period: a reply waits for the next poll, 7.5 s on average
and up to 15 s; a bot on a webhook gets it pushed, and the floor is the send pacing alone.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from bench.forwarding import cpu_seconds, setup_django

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "123456:DEMO"
PROVIDERS = 10
FIRST_ID = 400000


def run(orders: int) -> dict[str, float]:
    from fakes.panel import FakePanel
    from fakes.telegram import FakeTelegram
    from panelrelay.accounts.models import Workspace
    from panelrelay.demo import scenario
    from panelrelay.forwarding.models import Command, Progress, RequestOrder
    from panelrelay.forwarding.submit import create_request
    from panelrelay.worker.runner import Worker

    with FakePanel(rps=5, latency=0.05) as panel, FakeTelegram() as telegram:
        telegram.add_bot(TOKEN, id=123456, username="panelrelay_bench_bot")
        ws = Workspace.objects.create(name=f"answers {orders}")
        connection = scenario.telegram(ws, telegram.url, TOKEN)
        for n in range(PROVIDERS):
            chat = -100300 - n
            telegram.add_chat(chat, type="supergroup", title=f"provider {n}")
            telegram.behave(chat, "reply", says="done")
            dest = scenario.destination(connection, f"group {n}", "tg_group", str(chat))
            scenario.route(scenario.provider(ws, f"answers{n}.example", f"A{n}"), dest)
        for i in range(orders):
            panel.add_order(id=FIRST_ID + i, provider=f"answers{i % PROVIDERS}.example", external_id=str(6_000_000 + i))
        worker = Worker(worker_id="bench-answers", idle_sleep=0.02)
        cpu0, t0 = cpu_seconds(), time.monotonic()
        create_request(ws, scenario.panel(ws, panel.url), Command.for_workspace(ws)[0],
                       [str(FIRST_ID + i) for i in range(orders)])  # fmt: skip
        qs = RequestOrder.objects.filter(workspace=ws)
        while qs.exclude(progress=Progress.ANSWERED).exists():
            if time.monotonic() - t0 > 300:
                raise SystemExit("not every answer was recorded within 300 s")
            if not worker.run_once():
                time.sleep(0.02)
        wall, cpu = time.monotonic() - t0, cpu_seconds() - cpu0
        lags = [(o.updated - o.sent_at).total_seconds() for o in qs.only("updated", "sent_at")]
        polls = len(telegram.requests_to("getUpdates"))
    lags.sort()
    return {
        "orders": orders,
        "wall": wall,
        "cpu": cpu,
        "p50": statistics.median(lags),
        "p95": lags[int(0.95 * (len(lags) - 1))],
        "max": lags[-1],
        "polls": polls,
    }


def report(r: dict[str, float]) -> str:
    return "\n".join([
        "| orders | providers | click → every answer recorded | send → answer recorded: p50 / p95 / max | "
        "getUpdates calls | CPU |",
        "|---:|---:|---:|---:|---:|---:|",
        f"| {r['orders']:,} | {PROVIDERS} | {r['wall']:.1f} s | {r['p50']:.1f} s / {r['p95']:.1f} s / {r['max']:.1f} s | "
        f"{r['polls']:,} | {r['cpu']:.2f} s |",
        "",
        "Floor: the 15-s polling period (a reply waits for the next poll: 7.5 s on average, 15 s at most); "
        "with the bot on a webhook the reply is pushed and only the send pacing remains.",
    ])  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--write", default="docs/BENCHMARKS.md")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data_dir:
        setup_django(data_dir)
        table = report(run(args.orders))
    print(table)
    if args.write:
        write(ROOT / args.write, table)


def write(path: Path, table: str) -> None:
    start, end = "<!-- bench:answers:start -->", "<!-- bench:answers:end -->"
    text = path.read_text() if path.exists() else ""
    block = (f"{start}\n## From the message to the provider's answer\n\n{table}\n\n"
             f"_Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, `python -m bench.answers`._\n{end}")  # fmt: skip
    if start in text:
        head, rest = text.split(start, 1)
        text = head + block + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(text)


if __name__ == "__main__":
    main()
