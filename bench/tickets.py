"""Ticket → provider message: a fixed ticket poll against the adaptive one, on simulated time.

    python -m bench.tickets [--hours 8] [--seed 14] [--write docs/BENCHMARKS.md]

The product runs in this process on SQLite (one in-thread Worker, `run_once` until nothing is
due), against the fake panel and the fake Telegram (their own threads, ephemeral ports). Time is
simulated by shifting the clock every part of the product reads, `django.utils.timezone.now`
(model defaults included: its code object is swapped for one that adds an offset to the wall
clock), and jumping the offset to the next moment anything is due: the next queued job (the
poll chain, the forwarding jobs, retries, periodic tasks) or the next customer message. Between
jumps the clock runs at wall speed, so the panel's rate limiter and HTTP timings stay real.

A customer message is added to the fake panel at its simulated moment; its latency is the
simulated time from then until `sent_at` of the message that carried its order to the
provider's group. Workloads (seeded, the same for every policy):

- *bursty*: conversations (2 per hour: a ticket asking a refill, then on average one follow-up
  45 s apart: more ids, or "any news?") and incidents (one every 2 hours: 8–16 customers of a
  provider that dropped open refill tickets about 20 s apart);
- *steady*: as many refill tickets, one per customer, at random (Poisson) moments.

Policies: the former fixed poll (each poll at the next multiple of the interval, reproduced by
replacing `intake.polling.plan` in this process), and the product's adaptive poll with the same
owner's interval of 60 s.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.harness import ROOT, TOKEN, Database, run_child, setup_django, start_panel, start_telegram, write_block

PROVIDER = "provider0.example"
CHAT = -100100
EXT = 800_000_000
DRAIN = 1800.0  # simulated seconds after the last hour for the last messages to go out (not counted in calls/h)


@dataclass
class Event:
    at: float  # seconds after the start
    customer: str
    ids: list[int]  # orders asked for ([] : a message with no request in it)
    follow_up: bool = False  # a message on the customer's open ticket, not a new ticket


def bursty(hours: float, rng: random.Random) -> list[Event]:
    events: list[Event] = []
    next_id = 100000
    t = 0.0
    customers = 0
    while True:  # conversations: 2 per hour
        t += rng.expovariate(2 / 3600)
        if t > hours * 3600:
            break
        customers += 1
        ids = list(range(next_id, next_id + rng.randint(1, 3)))
        next_id += len(ids)
        events.append(Event(t, f"cust{customers}", ids))
        at = t
        while rng.random() < 0.5:  # follow-ups: 1 on average
            at += rng.expovariate(1 / 45)
            more = list(range(next_id, next_id + 1)) if rng.random() < 0.6 else []
            next_id += len(more)
            events.append(Event(at, f"cust{customers}", more, follow_up=True))
    t = 0.0
    while True:  # incidents: one every 2 hours
        t += rng.expovariate(0.5 / 3600)
        if t > hours * 3600:
            break
        at = t
        for _ in range(rng.randint(8, 16)):
            customers += 1
            events.append(Event(at, f"cust{customers}", [next_id]))
            next_id += 1
            at += rng.expovariate(1 / 20)
    return sorted((e for e in events if e.at <= hours * 3600), key=lambda e: e.at)


def steady(hours: float, rng: random.Random, count: int) -> list[Event]:
    times = sorted(rng.uniform(0, hours * 3600) for _ in range(count))
    return [Event(t, f"cust{n}", [100000 + n]) for n, t in enumerate(times)]


def workload(name: str, hours: float, seed: int) -> list[Event]:
    base = bursty(hours, random.Random(seed))
    if name == "bursty":
        return base
    return steady(hours, random.Random(seed + 1), sum(1 for e in base if e.ids))


# ----- the simulated clock -----------------------------------------------------------------
class SimClock:
    """django.utils.timezone.now() = wall clock + offset, for every caller (model defaults too)."""

    def install(self) -> None:
        import django.utils.timezone as tz

        self.tz = tz
        vars(tz)["_bench_offset"] = 0.0
        self.original = tz.now.__code__

        def shifted():  # runs with django.utils.timezone's globals
            import time as _time

            return datetime.fromtimestamp(_time.time() + _bench_offset, tz=timezone.utc)  # noqa: F821

        tz.now.__code__ = shifted.__code__

    def uninstall(self) -> None:
        self.tz.now.__code__ = self.original

    def advance(self, seconds: float) -> None:
        if seconds > 0:
            vars(self.tz)["_bench_offset"] += seconds

    def ts(self) -> float:
        return self.tz.now().timestamp()


def fixed_plan(state: Any, now: float, interval: float, activity: bool) -> tuple[float, Any]:
    """The former schedule: the next poll at the start of the next interval-long slot."""
    from dataclasses import replace

    every = max(float(interval), 1.0)
    return (math.floor(now / every) + 1) * every - now, replace(state, at=now)


# ----- one run --------------------------------------------------------------------------------
def run_one(load: str, policy: str, interval: int, hours: float, seed: int, template: str) -> dict[str, Any]:
    events = workload(load, hours, seed)
    with tempfile.TemporaryDirectory(prefix="bench-tickets-") as data_dir:
        for name in ("panelrelay.sqlite3", "secrets.json"):  # migrated once by the parent
            shutil.copy(Path(template) / name, Path(data_dir) / name)
        setup_django(Database("sqlite", data_dir))
        from django.db.models import Min

        from panelrelay.accounts.models import Workspace
        from panelrelay.demo import scenario
        from panelrelay.forwarding.models import RequestOrder
        from panelrelay.intake import polling
        from panelrelay.panels.models import Panel
        from panelrelay.worker.models import Job
        from panelrelay.worker.runner import Worker

        if policy == "fixed":
            vars(polling)["plan"] = fixed_plan
        # The fakes' own limits (the panel's 5/s, Telegram's 20 a minute per group) count wall
        # seconds, which the simulated clock outruns: they are off here; the product's limiter and
        # pacing (on the simulated clock) still space its calls and messages.
        panel, tg = start_panel(rps=0, latency=0.0), start_telegram(strict_limits=False)
        for e in events:
            for i in e.ids:
                panel.add_order(i, provider=PROVIDER, external_id=str(EXT + i), user=e.customer)
        ws = Workspace.objects.create(name="tickets bench")
        db_panel = scenario.panel(ws, panel.url)
        tgc = scenario.telegram(ws, tg.url, TOKEN)
        scenario.route(scenario.provider(ws, PROVIDER, "P0"), scenario.destination(tgc, "g", "tg_group", str(CHAT)))
        clock = SimClock()
        clock.install()
        try:
            worker = Worker(worker_id="tickets-bench", idle_sleep=0)
            while worker.run_once():  # the set-up's own jobs (provider sync…) before the start
                pass
            Panel.objects.filter(pk=db_panel.pk).update(tickets_enabled=True, tickets_interval=interval)
            panel.reset_stats()
            start, end = clock.ts(), clock.ts() + hours * 3600
            asked: dict[int, float] = {}  # order id → simulated moment it was asked for
            tickets: dict[str, int] = {}  # customer → their ticket
            i, wall0 = 0, time.monotonic()
            stats_at_end: dict[str, int] | None = None

            def sent_ids() -> set[str]:
                return set(RequestOrder.objects.filter(sent_at__isnull=False).values_list("panel_order_id", flat=True))

            while True:
                while worker.run_once():
                    pass
                now = clock.ts()
                if i >= len(events) and now >= end:
                    if stats_at_end is None:
                        stats_at_end = panel.stats()  # calls per hour count the workload's hours only
                    if now >= end + DRAIN or {str(oid) for oid in asked} <= sent_ids():
                        break
                due = Job.objects.filter(state=Job.QUEUED).aggregate(at=Min("run_at"))["at"]
                horizon = end if now < end else end + DRAIN
                target = min(start + events[i].at if i < len(events) else horizon, due.timestamp() if due else math.inf)
                clock.advance(max(target - now, 0.05))  # a due job run_once did not take: move on a little
                while i < len(events) and clock.ts() >= start + events[i].at:
                    e = events[i]
                    text = f"refill {' '.join(map(str, e.ids))}" if e.ids else "any news?"
                    if e.follow_up and e.customer in tickets:
                        panel.add_ticket_message(tickets[e.customer], e.customer, text)
                    else:
                        tickets[e.customer] = panel.add_ticket(e.customer, "Refill", text)["id"]
                    for oid in e.ids:
                        asked[oid] = clock.ts()
                    i += 1
            wall = time.monotonic() - wall0
            sent = dict(RequestOrder.objects.filter(sent_at__isnull=False).values_list("panel_order_id", "sent_at"))
            stats = stats_at_end or panel.stats()
            jobs = dict(Counter(Job.objects.values_list("kind", flat=True)))
            states = dict(Counter(RequestOrder.objects.values_list("state", "outcome").iterator()))
            states = {f"{k[0]}/{k[1]}": v for k, v in states.items()}
        finally:
            clock.uninstall()
            panel.stop()
            tg.stop()
    # One latency per customer message that asked for orders: until its last order went out.
    latencies, missing, unsent = [], 0, []
    for e in events:
        if not e.ids:
            continue
        outs = [sent.get(str(oid)) for oid in e.ids]
        if any(o is None for o in outs):
            missing += 1
            unsent.append({"at": round(e.at), "follow_up": e.follow_up, "ids": e.ids})
            continue
        latencies.append(max(o.timestamp() for o in outs if o) - asked[e.ids[0]])
    latencies.sort()
    return {
        "load": load,
        "policy": policy,
        "interval": interval,
        "hours": hours,
        "messages": len(events),
        "requests": sum(1 for e in events if e.ids),
        "forwarded": len(latencies),
        "missing": missing,
        "p50": statistics.median(latencies) if latencies else None,
        "p95": latencies[min(len(latencies) - 1, math.ceil(0.95 * len(latencies)) - 1)] if latencies else None,
        "max": latencies[-1] if latencies else None,
        "list_per_hour": stats["tickets_list"] / hours,
        "get_per_hour": stats["ticket_get"] / hours,
        "wall": wall,
        "jobs": jobs,
        "unsent": unsent,
        "states": states,
        "panel_calls": stats,
    }


def table(results: list[dict[str, Any]]) -> str:
    lines = [
        "| workload | poll | customer messages (asking) | ticket → provider message p50 / p95 / max "
        "| ticket-list calls per hour | ticket reads per hour | not forwarded |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        poll = f"fixed {r['interval']} s" if r["policy"] == "fixed" else f"adaptive (owner's {r['interval']} s)"
        lat = " / ".join("—" if r[k] is None else f"{r[k]:.1f} s" for k in ("p50", "p95", "max"))
        lines.append(
            f"| {r['load']} | {poll} | {r['messages']} ({r['requests']}) | {lat} | {r['list_per_hour']:.1f} "
            f"| {r['get_per_hour']:.1f} | {r['missing']} |"
        )
    return "\n".join(lines)


RUNS = [("bursty", "fixed", 60), ("bursty", "adaptive", 60), ("steady", "fixed", 60), ("steady", "adaptive", 60)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hours", type=float, default=8)
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument(
        "--only", nargs=3, metavar=("LOAD", "POLICY", "INTERVAL"), help="one run, e.g. bursty adaptive 60"
    )
    parser.add_argument("--write", default="docs/BENCHMARKS.md", help="'' to only print")
    parser.add_argument("--json", help=argparse.SUPPRESS)
    parser.add_argument("--template", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.json:
        load, policy, interval = args.only
        result = run_one(load, policy, int(interval), args.hours, args.seed, args.template)
        Path(args.json).write_text(json.dumps(result))
        return
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-tickets-template-") as template:
        env = {**os.environ, "DATA_DIR": template, "LOG_LEVEL": "WARNING"}
        env.pop("DATABASE_URL", None)
        subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
        for load, policy, interval in [tuple(args.only)] if args.only else RUNS:
            results.append(
                run_child(
                    "bench.tickets",
                    [
                        "--only",
                        load,
                        policy,
                        str(interval),
                        "--hours",
                        str(args.hours),
                        "--seed",
                        str(args.seed),
                        "--template",
                        template,
                    ],
                )  # fmt: skip
            )
            print(json.dumps(results[-1]), flush=True)
    text = table(results)
    print(text)
    if args.write and not args.only:
        write_block(ROOT / args.write, "tickets", text, "python -m bench.tickets")


if __name__ == "__main__":
    main()
