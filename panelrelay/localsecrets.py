"""Secrets for the embedded (non-production) mode, generated once into DATA_DIR."""

from __future__ import annotations

import json
import logging
import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet

log = logging.getLogger("panelrelay.settings")


def local_secrets(data_dir: Path) -> dict[str, str]:
    """Return the secrets kept in DATA_DIR/secrets.json, creating the file on first use.

    Losing this file makes every encrypted value unreadable, hence the warning: a real
    deployment sets SECRET_KEY, FERNET_KEYS and INDEX_KEY from its own secret store.
    """
    path = data_dir / "secrets.json"
    if path.exists():
        return json.loads(path.read_text())
    data_dir.mkdir(parents=True, exist_ok=True)
    values = {
        "secret_key": secrets.token_urlsafe(50),
        "fernet_key": Fernet.generate_key().decode(),
        "index_key": secrets.token_urlsafe(32),
    }
    # Write a private temp file, then link it into place: link() fails if another process
    # (web and worker start together) won the race, and then we read the winner's file.
    tmp = data_dir / f".secrets.{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(values, fh)
    try:
        os.link(tmp, path)
    except FileExistsError:
        return json.loads(path.read_text())
    finally:
        tmp.unlink()
    log.warning(
        "Generated SECRET_KEY, FERNET_KEYS and INDEX_KEY into %s. Back this file up: without it "
        "stored API keys and provider domains cannot be decrypted. Production sets them in the environment.",
        path,
    )
    return values
