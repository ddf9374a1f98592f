"""What the worker can run: job handlers by kind, and periodic tasks."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from panelrelay.worker.models import Job

HANDLERS: dict[str, Callable[[Job], None]] = {}
PERIODIC: dict[str, Periodic] = {}
# Kinds short enough to run in a worker's express slots, beside its busy threads (runner.py):
# a message that is ready goes out while every thread is in a long lookup.
EXPRESS: set[str] = set()
# Set when this worker process was asked to stop (SIGTERM, Ctrl-C, a deploy): a long handler
# checks it between its steps and re-queues the rest (Retry) instead of holding the stop up.
STOPPING = threading.Event()


def stop_requested() -> bool:
    return STOPPING.is_set()


# The thread running a job knows whether its worker has a thread to spare right now (runner.py
# sets `spare` per job thread): a long job need not step aside for short ones when one is free.
_JOB_THREAD = threading.local()


def set_spare_check(check: Callable[[], bool] | None) -> None:
    _JOB_THREAD.spare = check


def spare_thread() -> bool:
    """True when this job's worker can run another job beside it now (a free thread), or a
    delivery (EXPRESS) at least as soon as a short job in the express slots ends."""
    check = getattr(_JOB_THREAD, "spare", None)
    return bool(check and check())


@dataclass
class Periodic:
    kind: str
    every: int  # seconds


def handler(kind: str, express: bool = False) -> Callable[[Callable[[Job], None]], Callable[[Job], None]]:
    """Register `fn(job)` as the handler of jobs of this kind; `express`: a short job (EXPRESS)."""

    def register(fn: Callable[[Job], None]) -> Callable[[Job], None]:
        HANDLERS[kind] = fn
        if express:
            EXPRESS.add(kind)
        return fn

    return register


def periodic(kind: str, every: int) -> Callable[[Callable[[Job], None]], Callable[[Job], None]]:
    """Register a handler that the worker also enqueues once every `every` seconds.

    Several workers may all try to enqueue it; the job key (kind + time slot) lets only one
    row exist per slot, so the task runs once per period however many workers there are.
    """

    def register(fn: Callable[[Job], None]) -> Callable[[Job], None]:
        HANDLERS[kind] = fn
        PERIODIC[kind] = Periodic(kind, every)
        return fn

    return register


class Retry(Exception):
    """Raised by a handler: run again after `seconds`, without counting as a failure."""

    def __init__(self, seconds: float, reason: str = "") -> None:
        super().__init__(reason or f"retry in {seconds:g} s")
        self.seconds = seconds
        self.reason = reason


class Permanent(Exception):
    """Raised by a handler: do not retry, mark the job failed with this message."""
