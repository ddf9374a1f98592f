"""One panel, 10,000 ids: each phase timed from the click, on SQLite and on PostgreSQL.

    python -m bench.phases [--ids 10000] [--db sqlite postgresql] [--write docs/BENCHMARKS.md]

PostgreSQL needs BENCH_DATABASE_URL (any database on the server, e.g.
postgres://postgres@127.0.0.1:5432/postgres): the run creates a database of its own there and
drops it afterwards. Without it only SQLite runs.

The fake panel (50 ms per call, 5 requests/s) and the fake Telegram (Bot FAQ limits) run in the
benchmark's process on ephemeral ports; one worker runs as its own process (`manage.py worker`),
started and idle before the click. The click is `create_request` in the benchmark's process.
Phases are read afterwards from the database's timestamps (request created, messages created,
attempts started, messages and orders sent) and from the fake panel's log of the calls it got;
nothing in the engine is patched or timed from inside.

Floor: ⌈ids / 100⌉ lookups at the panel's 5 requests/s (10,000 ids: 100 calls, 20 s).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench.harness import (
    CHAT_BASE,
    PROVIDERS,
    ROOT,
    TOKEN,
    BackendCpu,
    Workers,
    database,
    fmt_s,
    run_child,
    seed_orders,
    self_cpu,
    setup_django,
    start_panel,
    start_telegram,
    wait_until,
    write_block,
)

RPS = 5.0
FIRST_ID = 100000
EXTERNAL_BASE = 700_000_000
EXTERNAL_RX = re.compile(r"\b7\d{8}\b")


def wire(panel_urls: list[str], tg_url: str) -> tuple[Any, list[Any], Any]:
    """A workspace with the panels, 10 providers each routed to its Telegram group."""
    from panelrelay.accounts.models import Workspace
    from panelrelay.demo import scenario
    from panelrelay.forwarding.models import Command

    ws = Workspace.objects.create(name="bench")
    panels = [scenario.panel(ws, url, name=f"Panel {k + 1}") for k, url in enumerate(panel_urls)]
    tg = scenario.telegram(ws, tg_url, TOKEN)
    for n in range(PROVIDERS):
        dest = scenario.destination(tg, f"group {n}", "tg_group", str(CHAT_BASE - n))
        scenario.route(scenario.provider(ws, f"provider{n}.example", f"P{n}"), dest)
    return ws, panels, Command.for_workspace(ws)[0]


def open_count() -> int:
    from panelrelay.forwarding.models import RequestOrder

    return RequestOrder.objects.exclude(state__in=RequestOrder.FINAL).count()


def db_phases(t0: float) -> dict[str, Any]:
    """Seconds after the click of each phase, from the database's own timestamps."""
    from django.db.models import Max, Min

    from panelrelay.forwarding.models import Attempt, ForwardRequest, Message, RequestOrder

    def rel(value: Any) -> float | None:
        return None if value is None else value.timestamp() - t0

    req = ForwardRequest.objects.aggregate(first=Min("created"), last=Max("created"))
    msgs = Message.objects.filter(kind=Message.REQUEST).aggregate(
        first=Min("created"), last=Max("created"), sent_first=Min("sent_at"), sent_last=Max("sent_at")
    )
    att = Attempt.objects.aggregate(first=Min("started"), last=Max("started"))
    orders = RequestOrder.objects.aggregate(sent=Max("sent_at"), updated=Max("updated"))
    final = max(v for v in (orders["sent"], orders["updated"]) if v is not None)
    return {
        "request_created": rel(req["last"]),
        "assembly": [rel(msgs["first"]), rel(msgs["last"])],
        "deliveries": [rel(att["first"]), rel(msgs["sent_last"])],
        "all_final": rel(final),
        "messages": Message.objects.filter(kind=Message.REQUEST).count(),
        "messages_sent": Message.objects.filter(kind=Message.REQUEST, state=Message.SENT).count(),
        "attempts": Attempt.objects.count(),
        "errors": dict(Counter(Attempt.objects.filter(ok=False).values_list("error", flat=True))),
        "orders_by_state": dict(Counter(RequestOrder.objects.values_list("state", flat=True))),
    }


def duplicates(tg: Any, expected: set[str]) -> dict[str, int]:
    """Every order in exactly one sent message; every external id received by Telegram once."""
    from panelrelay.forwarding.models import Message, RequestOrder

    with tg.lock:
        texts = [str(m.get("text", "")) for m in tg.sent]
    seen = Counter(x for text in texts for x in EXTERNAL_RX.findall(text))
    unsent = RequestOrder.objects.exclude(message__state=Message.SENT).count()
    return {
        "telegram_messages": len(texts),
        "ids_twice": sum(1 for c in seen.values() if c > 1),
        "ids_missing": len(expected - set(seen)),
        "orders_not_in_a_sent_message": unsent,
    }


def run_one(kind: str, size: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-phases-") as data_dir, database(kind, data_dir) as db:
        setup_django(db)
        from django.db import connection

        from panelrelay.forwarding.submit import create_request

        panel, tg = start_panel(RPS, 0.05), start_telegram()
        seed_orders(panel, FIRST_ID, size, EXTERNAL_BASE)
        ws, (db_panel,), command = wire([panel.url], tg.url)
        ids = [str(FIRST_ID + i) for i in range(size)]
        workers = Workers(db, 1, "phases")
        backends = BackendCpu(db) if db.url else None
        try:
            workers.wait_ready()
            time.sleep(0.5)  # past the worker's first periodic scheduling
            own_backend = None
            if backends:
                with connection.cursor() as cur:
                    cur.execute("SELECT pg_backend_pid()")
                    own_backend = cur.fetchone()[0]
                backends.start()
            workers.mark()
            cpu0, t0 = self_cpu(), time.time()
            create_request(ws, db_panel, command, ids)
            t_created, cpu_create = time.time() - t0, self_cpu() - cpu0
            if backends and own_backend:
                backends.sample()
                backends.freeze(own_backend)  # from here on it only serves the polls below
            t_final_polled = wait_until(lambda: open_count() == 0, timeout=900, period=0.05) - t0
            worker_cpu = workers.cpu()
            db_cpu = backends.stop() if backends else None
        finally:
            workers.stop()
        calls = panel.api_calls(since=t0)
        phases = db_phases(t0)
        result = {
            "db": kind,
            "ids": size,
            "create_request": t_created,
            "lookups": [calls[0] - t0, calls[-1] - t0] if calls else [None, None],
            "calls": len(calls),
            "rejected_429": panel.rejected(since=t0),
            "mean_period": (calls[-1] - calls[0]) / (len(calls) - 1) if len(calls) > 1 else None,
            "final_polled": t_final_polled,
            "cpu_create": cpu_create,
            "cpu_worker": worker_cpu,
            "cpu_db": db_cpu,
            "floor": math.ceil(size / 100) / RPS,
            **phases,
            **duplicates(tg, {str(EXTERNAL_BASE + FIRST_ID + i) for i in range(size)}),
        }
        panel.stop()
        tg.stop()
        return result


def table(results: list[dict[str, Any]]) -> str:
    def span(pair: list[float | None]) -> str:
        a, b = pair
        return "—" if a is None or b is None else f"{a:,.1f} → {b:,.1f} s"

    head = ["phase (seconds after the click)"] + [f"{r['ids']:,} ids, {r['db']}" for r in results]
    rows = [
        ["`create_request` returned"] + [fmt_s(r["create_request"]) for r in results],
        ["lookups: first → last panel call"] + [span(r["lookups"]) for r in results],
        ["panel calls (429s)"] + [f"{r['calls']} ({r['rejected_429']})" for r in results],
        ["mean period between calls (floor 200 ms)"]
        + ["—" if r["mean_period"] is None else f"{1000 * r['mean_period']:.0f} ms" for r in results],
        ["assembly: first → last message created"] + [span(r["assembly"]) for r in results],
        ["deliveries: first attempt → last message sent"] + [span(r["deliveries"]) for r in results],
        ["messages (attempts)"] + [f"{r['messages']} ({r['attempts']})" for r in results],
        ["**all final**"] + [f"**{fmt_s(r['all_final'])}**" for r in results],
        ["floor (⌈ids/100⌉ calls at 5/s)"] + [fmt_s(r["floor"]) for r in results],
        ["**ratio to the floor** (target ≤ 1.1)"] + [f"**{r['all_final'] / r['floor']:.2f}×**" for r in results],
        ["CPU: worker + database + `create_request`"] + [cpu_cell(r) for r in results],
        ["duplicates / missing (Telegram), orders not in a sent message"]
        + [f"{r['ids_twice']} / {r['ids_missing']}, {r['orders_not_in_a_sent_message']}" for r in results],
    ]
    lines = ["| " + " | ".join(head) + " |", "|---" + "|---:" * len(results) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def cpu_cell(r: dict[str, Any]) -> str:
    db = r["cpu_db"] or 0.0
    total = r["cpu_worker"] + db + r["cpu_create"]
    parts = f"{r['cpu_worker']:.1f} + {'—' if r['cpu_db'] is None else f'{db:.1f}'} + {r['cpu_create']:.1f}"
    return f"{parts} = {total:.1f} s ({1000 * total / r['ids']:.2f} ms/order)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ids", type=int, default=10000)
    parser.add_argument("--db", nargs="+", default=["sqlite", "postgresql"], choices=["sqlite", "postgresql"])
    parser.add_argument("--write", default="docs/BENCHMARKS.md", help="'' to only print")
    parser.add_argument("--json", help=argparse.SUPPRESS)  # a child run: one database, result to this file
    args = parser.parse_args()
    if args.json:
        Path(args.json).write_text(json.dumps(run_one(args.db[0], args.ids)))
        return
    results = []
    for kind in args.db:
        if kind == "postgresql" and not os.environ.get("BENCH_DATABASE_URL"):
            print("PostgreSQL skipped: set BENCH_DATABASE_URL=postgres://user@host:port/anydb", flush=True)
            continue
        results.append(run_child("bench.phases", ["--db", kind, "--ids", str(args.ids)]))
        print(json.dumps(results[-1]), flush=True)
    text = table(results)
    print(text)
    if args.write and results:
        write_block(ROOT / args.write, "phases", text, "python -m bench.phases")


if __name__ == "__main__":
    main()
