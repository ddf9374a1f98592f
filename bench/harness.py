"""What the phase, scaling and ticket benchmarks share: in-process fakes on ephemeral ports, a
database of their own (SQLite in a temporary DATA_DIR, or a PostgreSQL database created on the
server of BENCH_DATABASE_URL and dropped afterwards), workers as separate processes
(`manage.py worker`), CPU read from /proc, and the markers of docs/BENCHMARKS.md.

Nothing here patches the engine: phases are read afterwards from the database's own timestamps
(request created, messages created and sent, attempts, orders sent) and from the fake panel's log
of the calls it received (the fake is the benchmark's, not the product's).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from fakes.base import FakeRequest, Reply
from fakes.panel import FakePanel
from fakes.telegram import FakeTelegram

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "123456:DEMO"
PROVIDERS = 10
CHAT_BASE = -100100
CLK_TCK = os.sysconf("SC_CLK_TCK")
WORKER_IDLE_MS = 50  # the workers' idle poll in the benchmarks (production default: 500 ms)


# ----- fakes ------------------------------------------------------------------------------
class TimedPanel(FakePanel):
    """The fake panel, logging when each API call arrived and how it was answered."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.call_log: list[tuple[float, str, int]] = []  # (time.time() at arrival, path, status)
        super().__init__(*args, **kwargs)

    def dispatch(self, req: FakeRequest) -> Reply | None:
        arrived = time.time()
        reply = super().dispatch(req)
        if not req.path.startswith("/_fake/"):
            with self.lock:
                self.call_log.append((arrived, req.path, reply.status if reply else 0))
        return reply

    def api_calls(self, since: float = 0.0) -> list[float]:
        """Arrival times of the answered (non-429) order lookups since `since`."""
        with self.lock:
            return sorted(t for t, path, status in self.call_log if t >= since and "/orders" in path and status != 429)

    def rejected(self, since: float = 0.0) -> int:
        with self.lock:
            return sum(1 for t, _p, status in self.call_log if t >= since and status == 429)


def start_panel(rps: float = 5, latency: float = 0.05) -> TimedPanel:
    return TimedPanel("127.0.0.1", 0, rps=rps, latency=latency).start()


def start_telegram(strict_limits: bool = True) -> FakeTelegram:
    tg = FakeTelegram(tokens={}, strict_limits=strict_limits)
    tg.add_bot(TOKEN, id=123456, username="panelrelay_bench_bot", first_name="PanelRelay Bench")
    for n in range(PROVIDERS):
        tg.add_chat(CHAT_BASE - n, "supergroup", f"provider {n}")
    return tg.start()


def seed_orders(panel: FakePanel, first_id: int, count: int, external_base: int) -> None:
    for i in range(count):
        panel.add_order(
            first_id + i, provider=f"provider{i % PROVIDERS}.example", external_id=str(external_base + first_id + i)
        )


def sent_external_ids(tg: FakeTelegram) -> tuple[int, list[str]]:
    """(messages the fake accepted, every line of them that looks like an external id)."""
    with tg.lock:
        texts = [str(m.get("text", "")) for m in tg.sent]
    ids = [line.strip() for text in texts for line in text.splitlines() if line.strip().isdigit()]
    return len(texts), ids


# ----- databases --------------------------------------------------------------------------
class Database:
    """Where a run keeps its data: env for this process and for the workers."""

    def __init__(self, kind: str, data_dir: str, url: str | None = None, admin_url: str | None = None) -> None:
        self.kind, self.data_dir, self.url, self.admin_url = kind, data_dir, url, admin_url

    @property
    def env(self) -> dict[str, str]:
        env = {"DATA_DIR": self.data_dir, "LOG_LEVEL": "WARNING", "WORKER_IDLE_SLEEP_MS": str(WORKER_IDLE_MS)}
        if self.url:
            env["DATABASE_URL"] = self.url
        return env

    @property
    def name(self) -> str:
        return urlsplit(self.url).path.lstrip("/") if self.url else ""


@contextmanager
def database(kind: str, data_dir: str) -> Iterator[Database]:
    """SQLite in data_dir, or a fresh PostgreSQL database on BENCH_DATABASE_URL's server (dropped after)."""
    if kind == "sqlite":
        yield Database("sqlite", data_dir)
        return
    server = os.environ.get("BENCH_DATABASE_URL")
    if not server:
        raise SystemExit("PostgreSQL runs need BENCH_DATABASE_URL=postgres://user@host:port/anydb")
    import psycopg

    name = f"pr_bench_{uuid.uuid4().hex[:8]}"
    parts = urlsplit(server)
    url = urlunsplit(parts._replace(path="/" + name))
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield Database("postgresql", data_dir, url=url, admin_url=server)
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def setup_django(db: Database) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "panelrelay.settings"
    os.environ.pop("DATABASE_URL", None)
    os.environ.update(db.env)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


# ----- workers and CPU --------------------------------------------------------------------
def proc_cpu(pid: int) -> float:
    """User + system CPU seconds of a live process, from /proc/<pid>/stat (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def self_cpu() -> float:
    t = os.times()
    return t.user + t.system


class Workers:
    """n `manage.py worker` processes on the run's database, started before the click."""

    def __init__(self, db: Database, n: int, label: str = "bench") -> None:
        env = {**os.environ, **db.env}
        self.label = label
        self.procs = [
            subprocess.Popen(
                [sys.executable, "manage.py", "worker", "--id", f"{label}-{i + 1}"],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
            )
            for i in range(n)
        ]
        self._base: dict[int, float] = {}

    def wait_ready(self, timeout: float = 60) -> None:
        """Until every worker has written its heartbeat (Django loaded, loop running)."""
        from panelrelay.worker.models import Heartbeat

        ids = [f"{self.label}-{i + 1}" for i in range(len(self.procs))]
        deadline = time.monotonic() + timeout
        while Heartbeat.objects.filter(worker_id__in=ids, stopped=False).count() < len(self.procs):
            if any(p.poll() is not None for p in self.procs):
                raise SystemExit("a bench worker exited during start-up")
            if time.monotonic() > deadline:
                raise SystemExit("bench workers did not start")
            time.sleep(0.1)

    def mark(self) -> None:
        self._base = {p.pid: proc_cpu(p.pid) for p in self.procs}

    def cpu(self) -> float:
        return sum(proc_cpu(p.pid) - self._base.get(p.pid, 0.0) for p in self.procs)

    def stop(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()


class BackendCpu:
    """CPU of the PostgreSQL backends serving the bench database, sampled from /proc.

    The backends are the postmaster's children whose process title names the database; each is
    read every `period` s while the run lasts and its last reading kept (the workers hold their
    connections, CONN_MAX_AGE 60, so a backend outlives the run). The sampler's own connection
    is to another database and is not counted.
    """

    def __init__(self, db: Database, period: float = 0.1) -> None:
        self.db, self.period = db, period
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.frozen: set[int] = set()
        self._base: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.postmaster = self._postmaster()

    def _postmaster(self) -> int | None:
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    cmd = (entry / "cmdline").read_bytes().split(b"\0")[0]
                    stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if cmd.endswith(b"/postgres") and int(stat[1]) <= 1:  # the postmaster: parent is init
                    return int(entry.name)
        return None

    def backends(self) -> list[int]:
        if self.postmaster is None:
            return []
        try:
            children = Path(f"/proc/{self.postmaster}/task/{self.postmaster}/children").read_text().split()
        except OSError:
            return []
        found = []
        needle = f" {self.db.name} ".encode()
        for pid in children:
            try:
                if needle in Path(f"/proc/{pid}/cmdline").read_bytes():
                    found.append(int(pid))
            except OSError:
                continue
        return found

    def freeze(self, pid: int) -> None:
        """Keep this backend's reading as it is now and ignore it from here on."""
        self.frozen.add(pid)

    def sample(self) -> None:
        for pid in self.backends():
            if pid in self.frozen:
                continue
            cpu = proc_cpu(pid)
            if cpu:
                self.first.setdefault(pid, cpu)
                self.last[pid] = cpu

    def start(self) -> None:
        """Call at the click: backends alive now count from their current CPU, new ones from 0."""
        self.sample()
        self._base = dict(self.last)
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.period):
            self.sample()

    def stop(self) -> float:
        self._stop.set()
        if self._thread:
            self._thread.join()
        self.sample()
        return sum(cpu - self._base.get(pid, 0.0) for pid, cpu in self.last.items())


def wait_until(predicate: Any, timeout: float, period: float = 0.05) -> float:
    """Poll predicate() until true; returns time.time() at that moment."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"not done after {timeout:g} s")
        time.sleep(period)
    return time.time()


# ----- results and the page ---------------------------------------------------------------
def run_child(module: str, args: list[str], timeout: float = 1800) -> dict[str, Any]:
    """Run `python -m module args --json FILE` in its own process (its own Django settings)."""
    import tempfile

    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        subprocess.run([sys.executable, "-m", module, *args, "--json", out.name], cwd=ROOT, check=True, timeout=timeout)
        return json.loads(Path(out.name).read_text())


def write_block(path: Path, key: str, body: str, how: str) -> None:
    start, end = f"<!-- bench:{key}:start -->", f"<!-- bench:{key}:end -->"
    text = path.read_text() if path.exists() else ""
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    load = os.getloadavg()[0]
    block = f"{start}\n{body}\n\n_Run {stamp}, `{how}`; load average {load:.1f} on {os.cpu_count()} cores._\n{end}"
    if start in text:
        head, rest = text.split(start, 1)
        text = head + block + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(text)


def fmt_s(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds:,.1f} s"
