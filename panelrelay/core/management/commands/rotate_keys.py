"""`manage.py rotate_keys [--dry-run] [--batch-size N]`: re-encrypt stored secrets with the first key."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from panelrelay.core import keyrotation


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored secret (panel API keys, provider domains, connection secrets, vault "
        "records and the domain tokens inside them) with the first key of FERNET_KEYS. Put the new key "
        "first (FERNET_KEYS=new,old), run this, then drop the old key. Safe to run again: values already "
        "under the first key are left alone. Prints counts only. INDEX_KEY is not rotated: the keyed "
        "index of provider domains does not depend on FERNET_KEYS and stays valid."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="count what would change, write nothing")
        parser.add_argument("--batch-size", type=int, default=keyrotation.BATCH_SIZE, help="rows per transaction")

    def handle(self, *args: Any, dry_run: bool = False, batch_size: int = keyrotation.BATCH_SIZE, **kw: Any) -> None:
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        if len(settings.FERNET_KEYS) < 2:
            self.stdout.write("FERNET_KEYS holds one key: values under another key will be counted as unreadable.")
        verb = "would re-encrypt" if dry_run else "re-encrypted"
        unreadable = 0
        for column in keyrotation.columns():
            tally = keyrotation.rotate_column(column, batch_size=batch_size, dry_run=dry_run)
            unreadable += tally.unreadable
            line = f"{column.label}: {tally.rotated} {verb}, {tally.current} already current"
            if tally.changed:
                line += f", {tally.changed} rewritten meanwhile (already current)"
            if tally.unreadable:
                line += f", {tally.unreadable} unreadable with every key (left as they are)"
            self.stdout.write(line)
        if unreadable:
            raise CommandError(
                f"{unreadable} stored value(s) cannot be decrypted with any key in FERNET_KEYS; they were left "
                "unchanged. Add the key they were written with to FERNET_KEYS and run this again."
            )
        if not dry_run:
            self.stdout.write(
                self.style.SUCCESS(
                    "Done: every stored secret is under the first key. Drop the old keys from FERNET_KEYS once no "
                    "web or worker process still runs with an old key first."
                )
            )
