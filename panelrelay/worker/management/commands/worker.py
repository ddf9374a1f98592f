from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from panelrelay.worker.runner import Worker


class Command(BaseCommand):
    help = "Run the background worker: claims due jobs from the database until stopped (SIGTERM/Ctrl-C)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--burst", action="store_true", help="exit when no job is due")
        parser.add_argument("--max-seconds", type=float, default=None, help="exit after this long")
        parser.add_argument("--id", default=None, help="worker id shown on the health page")

    def handle(self, *args: Any, **opts: Any) -> None:
        worker = Worker(worker_id=opts["id"])
        worker.install_signal_handlers()
        worker.run(burst=opts["burst"], max_seconds=opts["max_seconds"])
