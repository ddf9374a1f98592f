"""Strict readers for settings from environment variables.

A malformed value is an error at start-up that names the variable: a typo in
DEBUG must never silently mean False. Every secret can also come from NAME_FILE
(Docker/Kubernetes secrets), which wins over NAME.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import overload
from urllib.parse import unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

TRUE = {"1", "true", "yes", "on"}
FALSE = {"0", "false", "no", "off"}


def _raw(name: str) -> str | None:
    file_path = os.environ.get(f"{name}_FILE")
    if file_path:
        try:
            return Path(file_path).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE: cannot read {file_path}: {exc.strerror}") from exc
    value = os.environ.get(name)
    return None if value is None or value.strip() == "" else value.strip()


# With a str default the setting always has a value, so callers need no None check.
@overload
def env_str(name: str, default: str) -> str: ...
@overload
def env_str(name: str, default: None = None) -> str | None: ...
def env_str(name: str, default: str | None = None) -> str | None:
    value = _raw(name)
    return default if value is None else value


def env_bool(name: str, default: bool) -> bool:
    value = _raw(name)
    if value is None:
        return default
    if value.lower() in TRUE:
        return True
    if value.lower() in FALSE:
        return False
    raise ImproperlyConfigured(f"{name}: expected a boolean (true/false/1/0/yes/no), got {value!r}")


def env_int(name: str, default: int, minimum: int | None = None) -> int:
    value = _raw(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}: expected a whole number, got {value!r}") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name}: must be at least {minimum}, got {number}")
    return number


def env_list(name: str, default: list[str]) -> list[str]:
    value = _raw(name)
    if value is None:
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


def env_fernet_keys(name: str) -> list[str]:
    """A comma-separated list of Fernet keys, each checked now rather than at the first encryption."""
    from cryptography.fernet import Fernet

    keys = env_list(name, [])
    for position, key in enumerate(keys, 1):
        try:
            Fernet(key.encode())
        except (ValueError, TypeError):
            # The message names the entry, never its text: it is a secret even when malformed.
            raise ImproperlyConfigured(
                f"{name}: entry {position} of {len(keys)} is not a Fernet key (32 url-safe base64 bytes); make one "
                'with python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
            ) from None
    return keys


@overload
def env_url(name: str, default: str, schemes: tuple[str, ...] = ...) -> str: ...
@overload
def env_url(name: str, default: None = None, schemes: tuple[str, ...] = ...) -> str | None: ...
def env_url(name: str, default: str | None = None, schemes: tuple[str, ...] = ("http", "https")) -> str | None:
    value = _raw(name)
    if value is None:
        return default
    parts = urlsplit(value)
    if parts.scheme not in schemes or not parts.netloc:
        raise ImproperlyConfigured(f"{name}: expected a URL starting with {' or '.join(schemes)}://, got {value!r}")
    return value


def database_from_url(url: str, name: str = "DATABASE_URL") -> dict:
    """Turn sqlite:///path or postgres://user:pass@host:port/db into a Django DATABASES entry."""
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        path = unquote(parts.path)
        if url.startswith("sqlite:////"):
            path = "/" + path.lstrip("/")
        else:
            path = path[1:] if path.startswith("/") else path
        if not path:
            raise ImproperlyConfigured(f"{name}: sqlite URL needs a file path, e.g. sqlite:///data/db.sqlite3")
        return sqlite_database(path)
    if parts.scheme in ("postgres", "postgresql"):
        dbname = unquote(parts.path.lstrip("/"))
        if not dbname:
            raise ImproperlyConfigured(f"{name}: PostgreSQL URL needs a database name, e.g. postgres://host/panelrelay")
        try:
            port = parts.port
        except ValueError:
            raise ImproperlyConfigured(f"{name}: the port is not a number") from None
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": dbname,
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(port or ""),
            "CONN_MAX_AGE": 60,
            "CONN_HEALTH_CHECKS": True,
            "TEST": {"NAME": f"test_{dbname}"},
        }
    raise ImproperlyConfigured(f"{name}: expected sqlite:/// or postgres:// URL, got scheme {parts.scheme!r}")


def sqlite_database(path: str) -> dict:
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": path,
        # WAL lets the web process read while the worker writes; IMMEDIATE transactions
        # take the write lock up front, so two writers queue instead of failing with
        # "database is locked" when a read lock would have to be upgraded.
        "OPTIONS": {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        },
    }
