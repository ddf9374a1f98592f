"""Re-encrypting every stored secret under the first FERNET_KEYS key (`manage.py rotate_keys`).

Core knows no app's models: each app registers its encrypted columns in `AppConfig.ready()`
with `register(Model, "field")`, and a column whose value holds further tokens (a vault
payload) passes its own `rotate` function. The keyed index (INDEX_KEY) is not a Fernet key and
is never rotated here: its digests stay valid whatever FERNET_KEYS holds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import models, transaction

from panelrelay.core import crypto

BATCH_SIZE = 500

# A stored token → the same value under the first key, None when it already is, or
# crypto.DecryptionError when no configured key reads it.
Rotate = Callable[[str], str | None]


@dataclass(frozen=True)
class EncryptedColumn:
    model: type[models.Model]
    field: str
    rotate: Rotate = crypto.rotated

    @property
    def label(self) -> str:
        return f"{self.model._meta.label}.{self.field}"


@dataclass
class Tally:
    rotated: int = 0  # re-encrypted (or, with --dry-run, would be)
    current: int = 0  # already under the first key
    unreadable: int = 0  # no configured key reads it: left as it is
    changed: int = 0  # rewritten by someone else while we worked, so already under the first key


_columns: list[EncryptedColumn] = []


def register(model: type[models.Model], field: str, rotate: Rotate = crypto.rotated) -> None:
    column = EncryptedColumn(model, field, rotate)
    if column not in _columns:  # ready() may run more than once (tests)
        _columns.append(column)


def columns() -> list[EncryptedColumn]:
    return sorted(_columns, key=lambda c: c.label)


def rotate_column(column: EncryptedColumn, *, batch_size: int = BATCH_SIZE, dry_run: bool = False) -> Tally:
    """Walk the column by primary key, one transaction per batch, so a large table neither holds
    one long transaction nor starts over after an interruption: a rerun skips what is current."""
    tally, after = Tally(), None
    while rows := _batch(column, after, batch_size):
        with transaction.atomic():
            rotate_rows(column, rows, tally, dry_run=dry_run)
        after = rows[-1][0]
    return tally


def _batch(column: EncryptedColumn, after: Any, size: int) -> list[tuple[Any, str]]:
    rows = column.model._base_manager.exclude(**{column.field: ""}).order_by("pk")
    if after is not None:
        rows = rows.filter(pk__gt=after)
    return list(rows.values_list("pk", column.field)[:size])


def rotate_rows(column: EncryptedColumn, rows: list[tuple[Any, str]], tally: Tally, *, dry_run: bool) -> None:
    manager = column.model._base_manager
    for pk, token in rows:
        try:
            new = column.rotate(token)
        except crypto.DecryptionError:
            tally.unreadable += 1
            continue
        if new is None:
            tally.current += 1
        # Compare and set: an owner who saved a new API key since we read the row has written a
        # token under the first key already; writing ours would put the old key back.
        elif dry_run or manager.filter(pk=pk, **{column.field: token}).update(**{column.field: new}):
            tally.rotated += 1
        else:
            tally.changed += 1
