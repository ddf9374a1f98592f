"""Page benchmark: a year of data (1,000,000 orders over 10,000 requests) on PostgreSQL, pages timed
through gunicorn, the CSV export's rows per second.

    python -m bench.pages [--requests 10000] [--per-request 100] [--runs 20] [--write docs/BENCHMARKS.md]
                          [--db NAME --reuse]   # keep / reuse a seeded database between runs

PostgreSQL comes from BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres); a
database of its own is created there and dropped afterwards (unless --db names one to keep).
Seeding is SQL (INSERT … SELECT generate_series), about a minute for 1,001,000 orders, then VACUUM
ANALYZE, as autovacuum would have done on a year-old table (index-only scans need the visibility map).

Each page is fetched from gunicorn (2 workers, the README's command) with a signed-in owner's
cookie: 5 warm-up requests (2 per gunicorn worker, and one), then `runs` timed ones, one after the other; p50 and p95 of the wall
time until the last byte. Queries per page are counted with Django's test client on the same
database. The export is timed twice: the streamed download of the failed orders (~70,000 rows,
under the background threshold) through gunicorn, and the background job's file of every order.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    """A port nothing listens on now (a fixed one could be another run's fake)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


PORT = _free_port()
MARK_START, MARK_END = "<!-- bench:pages:start -->", "<!-- bench:pages:end -->"
TARGET_MS = 100
EXPORT_TARGET = 50_000  # rows/s


def _db_url(base: str, name: str) -> str:
    parts = urlsplit(base)
    return urlunsplit(parts._replace(path="/" + name))


def _admin(base: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(sql)


def _fill(table: str, given: dict[str, str], cursor) -> tuple[str, str]:
    """Column list and expressions for an INSERT … SELECT: the given expressions, and for every other
    NOT NULL column without a default an empty value of its type (so columns added later still seed)."""
    cursor.execute(
        "SELECT column_name, data_type, is_nullable, column_default, is_identity FROM information_schema.columns "
        "WHERE table_name = %s ORDER BY ordinal_position",
        [table],
    )
    cols, exprs = [], []
    empty = {"character varying": "''", "text": "''", "boolean": "false", "integer": "0", "smallint": "0",
             "bigint": "0", "timestamp with time zone": "now()", "jsonb": "'{}'", "uuid": "gen_random_uuid()",
             "date": "current_date", "double precision": "0"}  # fmt: skip
    for name, dtype, nullable, default, identity in cursor.fetchall():
        if name in given:
            cols.append(name)
            exprs.append(given[name])
        elif nullable == "NO" and default is None and identity != "YES":
            cols.append(name)
            exprs.append(empty[dtype])
    return ", ".join(cols), ", ".join(exprs)


def seed(n_requests: int, per_request: int) -> dict[str, str]:
    """The owner, a panel, 10 providers, then the requests and orders in SQL. Returns what pages need."""
    from django.db import DatabaseError, connection

    from panelrelay.accounts.models import Membership, Workspace
    from panelrelay.core.testing import make_user
    from panelrelay.demo import scenario
    from panelrelay.forwarding.models import Command, ForwardRequest

    owner = make_user("owner@bench.example")
    ws = Workspace.objects.create(name="A year of data")
    Membership.objects.create(user=owner, workspace=ws, role=Membership.OWNER)
    panel = scenario.panel(ws, "http://127.0.0.1:9/", name="Main")
    providers = [scenario.provider(ws, f"supplier{i}.example", f"Provider_{i}") for i in range(10)]
    refill = Command.for_workspace(ws)[0]
    first_provider = min(p.id for p in providers)
    assert [p.id for p in providers] == list(range(first_provider, first_provider + 10))
    t0 = time.monotonic()
    with connection.cursor() as cur:
        cols, exprs = _fill(
            "forwarding_request",
            {
                "code": "gen_random_uuid()", "workspace_id": str(ws.id), "panel_id": str(panel.id),
                "panel_name": "'Main'", "command_id": str(refill.id), "command_label": "'Refill'",
                "source": "CASE WHEN mod(i, 5) = 0 THEN 'api' ELSE 'manual' END", "created_by_id": str(owner.id),
                "created": "now() - i * interval '52 minutes'", "finished": "now() - i * interval '52 minutes'",
                "total": str(per_request),
            },
            cur,
        )  # fmt: skip
        cur.execute(f"INSERT INTO forwarding_request ({cols}) SELECT {exprs} FROM generate_series(1, %s) AS i",
                    [n_requests])  # fmt: skip
        # One more, the newest, with 1,000 orders: the request page's case.
        cur.execute(f"INSERT INTO forwarding_request ({cols}) SELECT {exprs} FROM generate_series(0, 0) AS i")
        cur.execute("UPDATE forwarding_request SET total = 1000 WHERE workspace_id = %s AND created = "
                    "(SELECT max(created) FROM forwarding_request WHERE workspace_id = %s)", [ws.id, ws.id])  # fmt: skip
        # n: the order's number; k = n % 100 spreads the states: 80 % sent, 12 % skipped, 7 % failed, 1 % retrying.
        state = "CASE WHEN k < 80 THEN 'sent' WHEN k < 92 THEN 'skipped' WHEN k < 99 THEN 'failed' ELSE 'retrying' END"
        outcome = ("CASE WHEN k < 80 THEN 'sent' WHEN k < 86 THEN 'cooldown' WHEN k < 92 THEN 'not_found' "
                   "WHEN k < 99 THEN 'delivery_failed' ELSE 'send_retrying' END")  # fmt: skip
        progress = (
            "CASE WHEN k < 30 THEN 'confirmed' WHEN k < 50 THEN 'answered' WHEN k < 55 THEN 'no_answer' ELSE '' END"
        )
        cols, exprs = _fill(
            "forwarding_requestorder",
            {
                "request_id": "r.id", "workspace_id": str(ws.id), "panel_order_id": "(1000000 + n)::text",
                "command_slug": "'refill'", "state": state, "outcome": outcome,
                "reason": "CASE WHEN k >= 80 AND k < 99 THEN 'not sent: reason of the bench' ELSE '' END",
                "looked_up": "true", "external_id": "CASE WHEN k < 80 THEN (9000000 + n)::text ELSE '' END",
                "provider_id": f"{first_provider} + mod(n, 10)", "provider_alias": "'Provider_' || mod(n, 10)",
                "service_id": "(100 + mod(n, 40))::text", "service_name": "'IG Likes [Refill 30D]'",
                "status_label": "'Completed'", "destination_label": "'TG · Provider group'",
                "sent_at": "CASE WHEN k < 80 THEN r.created + interval '1 minute' END", "updated": "r.created",
                "progress": f"CASE WHEN k < 80 THEN {progress} ELSE '' END",
            },
            cur,
        )  # fmt: skip
        cur.execute(
            f"INSERT INTO forwarding_requestorder ({cols}) "
            f"SELECT {exprs} FROM (SELECT r.*, row_number() OVER (ORDER BY r.id) AS rn FROM forwarding_request r "
            f"WHERE r.workspace_id = %s) r "
            f"CROSS JOIN LATERAL (SELECT (r.rn - 1) * %s + g AS n, mod((r.rn - 1) * %s + g, 100) AS k "
            f"FROM generate_series(1, r.total) AS g) o",
            [ws.id, per_request, per_request],
        )
    seeded = time.monotonic() - t0
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE forwarding_request")
        cur.execute("VACUUM ANALYZE forwarding_requestorder")
        # The seed's ~1 GB of WAL is otherwise flushed by the checkpointer while the first page is timed
        # (Activity's p95 was 145 ms right after seeding, 56-66 ms on the same data with --reuse).
        try:
            cur.execute("CHECKPOINT")
        except DatabaseError:  # not a superuser (nor pg_checkpoint): time it as it is
            pass
    big = ForwardRequest.objects.filter(workspace=ws).order_by("-created").first()
    assert big is not None
    return {
        "workspace": str(ws.id),
        "owner": str(owner.id),
        "provider": str(providers[3].code),
        "big_request": str(big.code),
        "seed_seconds": f"{seeded:.0f}",
    }


def _login_cookie(owner_id: int) -> str:
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client()
    client.force_login(get_user_model().objects.get(pk=owner_id))
    return client.cookies["sessionid"].value


def _pages(info: dict[str, str], requests_total: int) -> list[tuple[str, str]]:
    last = (requests_total + 49) // 50
    return [
        ("Activity", "/activity/"),
        ("Activity · state filter (Failed)", "/activity/?state=failed"),
        ("Activity · provider filter", f"/activity/?provider={info['provider']}"),
        ("Activity · page 100", "/activity/?page=100"),
        (f"Activity · last page ({last})", f"/activity/?page={last}"),
        ("Activity · order-id search", "/activity/?q=1500050"),
        ("Request page (1,000 orders)", f"/requests/{info['big_request']}/"),
        ("Providers", "/providers/"),
        ("Forward", "/forward/"),
        ("Home (dashboard)", "/"),
    ]


def _queries(cookie: str, path: str) -> tuple[int, float]:
    """How many queries the page makes, and their total time in ms (Django's test client, same database)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.cookies["sessionid"] = cookie
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, HTTP_HOST="127.0.0.1")
        if hasattr(response, "streaming_content"):
            for _ in response.streaming_content:
                pass
    return len(captured.captured_queries), 1000 * sum(float(q["time"]) for q in captured.captured_queries)


CLK_TCK = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of these processes (from /proc), in seconds."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / CLK_TCK


def _workers(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children")
    return [int(pid) for pid in children.read_text().split()] if children.exists() else []


def _time(http, path: str, runs: int, workers: list[int]) -> tuple[float, float, int, float]:
    """p50 and p95 wall ms, the last HTTP status, and the web workers' CPU ms per request."""
    # Warm-ups: two per gunicorn worker and one more. The requests do not alternate between the
    # workers, so with two warm-ups one worker could meet its first view of a page (templates
    # compiled, a new database connection) inside the timed runs: one 130-190 ms sample, the p95.
    for _ in range(2 * max(len(workers), 1) + 1):
        http.get(path)
    times = []
    status = 0
    cpu0 = _cpu_seconds(workers)
    for _ in range(runs):
        t0 = time.perf_counter()
        response = http.get(path)
        times.append(1000 * (time.perf_counter() - t0))
        status = response.status_code
    cpu = 1000 * (_cpu_seconds(workers) - cpu0) / runs
    times.sort()
    p95 = times[min(len(times) - 1, int(round(0.95 * len(times))) - 1)]
    return statistics.median(times), p95, status, cpu


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=10_000)
    ap.add_argument("--per-request", type=int, default=100)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--db", default="")
    ap.add_argument("--reuse", action="store_true", help="the --db is seeded already (info in its .json)")
    ap.add_argument("--write", default="")
    ap.add_argument("--export-only", action="store_true", help="time only the CSV export (no pages, no table)")
    args = ap.parse_args()
    if args.export_only and args.write:
        ap.error("--export-only times the export alone: it writes no table")

    base = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    name = args.db or f"bench_pages_{uuid.uuid4().hex[:8]}"
    data_dir = Path(tempfile.gettempdir()) / f"bench-pages-{name}"
    data_dir.mkdir(exist_ok=True)
    env = dict(
        os.environ,
        DATABASE_URL=_db_url(base, name),
        DATA_DIR=str(data_dir),
        DJANGO_SETTINGS_MODULE="panelrelay.settings",
    )
    os.environ.update(env)
    info_file = data_dir / "info.json"
    if not args.reuse:
        _admin(base, f'DROP DATABASE IF EXISTS "{name}"')
        _admin(base, f'CREATE DATABASE "{name}"')
    gunicorn = None
    try:
        subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
        import django

        django.setup()
        import json

        if args.reuse and info_file.exists():
            info = json.loads(info_file.read_text())
        else:
            print(f"seeding {args.requests:,} requests × {args.per_request} orders (+1 × 1,000) …", flush=True)
            info = seed(args.requests, args.per_request)
            info_file.write_text(json.dumps(info))
            print(f"seeded in {info['seed_seconds']} s", flush=True)
        total_orders = args.requests * args.per_request + 1000
        cookie = _login_cookie(int(info["owner"]))
        from django.db import connection

        connection.close()
        gunicorn = subprocess.Popen(
            [str(Path(sys.executable).with_name("gunicorn")), "panelrelay.wsgi", "--bind", f"127.0.0.1:{PORT}",
             "--workers", "2", "--timeout", "120", "--log-level", "warning"],
            cwd=ROOT, env=env,
        )  # fmt: skip
        import httpx

        http = httpx.Client(base_url=f"http://127.0.0.1:{PORT}", cookies={"sessionid": cookie}, timeout=300)
        deadline = time.monotonic() + 30
        while True:
            try:
                http.get("/accounts/login/")
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

        rows = []
        workers = _workers(gunicorn.pid)
        for label, path in [] if args.export_only else _pages(info, args.requests + 1):
            p50, p95, status, cpu = _time(http, path, args.runs, workers)
            n_queries, db_ms = _queries(cookie, path)
            rows.append((label, path, p50, p95, cpu, n_queries, db_ms, status))
            print(f"{label:40} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  web CPU {cpu:6.1f} ms  {n_queries:3} queries "
                  f"{db_ms:6.1f} ms  HTTP {status}  load {os.getloadavg()[0]:.1f}", flush=True)  # fmt: skip

        # The streamed export of the failed orders (under the background threshold).
        t0, c0 = time.perf_counter(), _cpu_seconds(workers)
        streamed = 0
        with http.stream("GET", "/activity/export.csv?state=failed") as response:
            for _line in response.iter_lines():
                streamed += 1
        stream_s, stream_cpu = time.perf_counter() - t0, _cpu_seconds(workers) - c0
        streamed -= 1  # the header
        print(f"export streamed: {streamed:,} rows in {stream_s:.2f} s = {streamed / stream_s:,.0f} rows/s, "
              f"web CPU {stream_cpu:.2f} s, load {os.getloadavg()[0]:.1f}", flush=True)  # fmt: skip

        # The background export of every order: the worker job's work, timed in this process.
        from django.contrib.auth import get_user_model
        from django.utils import timezone

        from panelrelay.accounts.models import Workspace
        from panelrelay.forwarding import exports
        from panelrelay.forwarding.models import Export

        ws = Workspace.objects.get(pk=int(info["workspace"]))
        job = Export.objects.create(
            workspace=ws, created_by=get_user_model().objects.get(pk=int(info["owner"])),
            filters={}, rows_total=total_orders, expires=timezone.now() + exports.KEEP,
        )  # fmt: skip
        t0, c0 = time.perf_counter(), time.process_time()
        built = exports.write_rows(job)
        build_s, build_cpu = time.perf_counter() - t0, time.process_time() - c0
        job.refresh_from_db()
        print(f"export built: {built:,} rows in {build_s:.1f} s = {built / build_s:,.0f} rows/s, "
              f"{job.size / 1e6:,.0f} MB, CPU {build_cpu:.1f} s, load {os.getloadavg()[0]:.1f}", flush=True)  # fmt: skip
        exports.path_of(job).unlink(missing_ok=True)
        job.delete()

        if args.export_only:
            return
        table = _table(rows, info, args, total_orders, (streamed, stream_s, stream_cpu), (built, build_s, build_cpu))
        print(table)
        if args.write:
            _write(Path(args.write), table)
    finally:
        if gunicorn is not None:
            gunicorn.terminate()
            gunicorn.wait(timeout=10)
        if not args.db:
            from django.db import connections

            connections.close_all()
            _admin(base, f'DROP DATABASE IF EXISTS "{name}"')


def _table(
    rows: list[tuple[str, str, float, float, float, int, float, int]],
    info: dict[str, str],
    args: argparse.Namespace,
    total_orders: int,
    stream: tuple[int, float, float],
    build: tuple[int, float, float],
) -> str:
    load = os.getloadavg()
    lines = [
        f"Pages with a year of data: {total_orders:,} orders over {args.requests + 1:,} requests on PostgreSQL "
        f"(seeded in {info['seed_seconds']} s by `python -m bench.pages`), gunicorn with 2 workers, "
        f"{args.runs} requests per page after 5 warm-up ones, on {os.cpu_count()} CPUs with a load average of "
        f"{load[0]:.1f} at the end (wall times grow with other work on the machine; the web CPU per request "
        f"and the queries' time do much less). Target: p95 ≤ {TARGET_MS} ms.",
        "",
        "| Page | p50 | p95 | p95 / target | Web CPU / request | Queries | Query time | HTTP |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for label, _path, p50, p95, cpu, n_queries, db_ms, status in rows:
        lines.append(
            f"| {label} | {p50:,.1f} ms | {p95:,.1f} ms | {p95 / TARGET_MS:.2f} | {cpu:,.1f} ms | {n_queries} | "
            f"{db_ms:,.1f} ms | {status} |"
        )
    lines += [
        "",
        f"| CSV export | Rows | Wall | Rows/s (wall) | Rows per CPU-second | Rows/s / target ({EXPORT_TARGET:,}) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, (n, wall, cpu) in [
        ("Streamed (Failed orders, through gunicorn; web CPU)", stream),
        ("Background file (every order, the worker job's code)", build),
    ]:
        lines.append(
            f"| {name} | {n:,} | {wall:,.1f} s | {n / wall:,.0f} | {n / max(cpu, 1e-9):,.0f} | {n / wall / EXPORT_TARGET:.2f} |"
        )
    return "\n".join(lines)


def _write(path: Path, table: str) -> None:
    text = path.read_text() if path.exists() else ""
    block = f"{MARK_START}\n{table}\n{MARK_END}"
    if MARK_START in text and MARK_END in text:
        text = re.sub(re.escape(MARK_START) + r".*?" + re.escape(MARK_END), lambda _m: block, text, flags=re.S)
    else:
        text = text.rstrip("\n") + "\n\n## Pages with a year of data\n\n" + block + "\n"
    path.write_text(text)


if __name__ == "__main__":
    main()
