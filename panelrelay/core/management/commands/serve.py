"""`manage.py serve`: the web server and one worker together, stopped together by Ctrl-C."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from typing import Any

from django.core.management.base import BaseCommand

# A worker asked to stop finishes its current step (one send and its record, one panel lookup);
# a send can take a gateway's full timeout, so give it well over that before killing anything.
STOP_WAIT = 60


class Command(BaseCommand):
    help = "Run the web server and a worker together (what `make run` starts)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--addr", default="127.0.0.1:8000")
        parser.add_argument("--workers", type=int, default=1)

    def handle(self, *args: Any, **opts: Any) -> None:
        manage = [sys.executable, "manage.py"]
        procs = [subprocess.Popen([*manage, "runserver", opts["addr"], "--noreload"])]
        procs += [subprocess.Popen([*manage, "worker", "--id", f"local-{n + 1}"]) for n in range(opts["workers"])]
        self.stdout.write(f"PanelRelay on http://{opts['addr']}/ with {opts['workers']} worker(s). Ctrl-C stops all.")

        def stop(*_: object) -> None:
            for proc in procs:
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)

        signal.signal(signal.SIGTERM, stop)
        try:
            while all(proc.poll() is None for proc in procs):
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            stop()
            for proc in procs:
                try:
                    proc.wait(timeout=STOP_WAIT)
                except subprocess.TimeoutExpired:
                    proc.kill()
        codes = [proc.returncode for proc in procs]
        if any(code not in (0, -signal.SIGTERM, -signal.SIGINT) for code in codes):
            self.stderr.write(f"a process exited unexpectedly (codes {codes})")
            sys.exit(1)
