"""Who is acting: set around a change by the view that makes it, read by whoever records it.

The vault names the person in every backup record, also in the records its signal receivers
write, which see no request: a context variable carries the name from the view to them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

SYSTEM = "system"
_actor: ContextVar[str] = ContextVar("actor", default=SYSTEM)


@contextmanager
def acting_as(user: Any) -> Iterator[None]:
    """Changes recorded inside (also by signal receivers) name this user as the one who acted."""
    token = _actor.set(actor_label(user))
    try:
        yield
    finally:
        _actor.reset(token)


def actor_label(user: Any) -> str:
    if user is None or not getattr(user, "is_authenticated", False):
        return SYSTEM
    return user.email or user.get_username()


def current() -> str:
    """The label of whoever acts now: an e-mail address, or "system" (the worker, the shell)."""
    return _actor.get()
