"""Fault-injection points: named places where a test makes a crash or a race happen on purpose.

Production code calls `point("forwarding.after_send")` at the few places where timing decides
correctness (between a send and its record, between reading orders and assigning them). Nothing
happens there unless a test installed a hook, in-process with `injected()`, or for worker
processes through the environment:

    PANELRELAY_FAULT_KILL=forwarding.after_send:/tmp/tokens

kills the process with SIGKILL at that point as long as it can take (delete) one token file from
that folder, so a test that puts five tokens there gets exactly five kills, each right where it
wants them, whatever the machine's load. PANELRELAY_FAULT_TERM does the same with SIGTERM: a
deploy's stop arriving at that very point.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

_hooks: dict[str, Callable[[], None]] = {}
ENV = "PANELRELAY_FAULT_KILL"
ENV_TERM = "PANELRELAY_FAULT_TERM"


def point(name: str) -> None:
    """A place where a test may inject a fault; a no-op otherwise."""
    hook = _hooks.get(name)
    if hook is not None:
        hook()
    for at, folder, signum in _env_faults:
        if at == name:
            _signal_if_token(Path(folder), signum)


@contextmanager
def injected(name: str, hook: Callable[[], None]) -> Iterator[None]:
    """Run `hook` whenever point(name) is reached inside the block (tests only)."""
    _hooks[name] = hook
    try:
        yield
    finally:
        _hooks.pop(name, None)


def _signal_if_token(folder: Path, signum: int) -> None:
    for token in sorted(folder.glob("token-*")):
        try:
            token.unlink()  # exactly one process wins each token
        except FileNotFoundError:
            continue
        os.kill(os.getpid(), signum)
        return


def _parse_env() -> list[tuple[str, str, int]]:
    found = []
    for variable, signum in ((ENV, signal.SIGKILL), (ENV_TERM, signal.SIGTERM)):
        name, sep, folder = os.environ.get(variable, "").partition(":")
        if name and sep and folder:
            found.append((name, folder, int(signum)))
    return found


_env_faults = _parse_env()
