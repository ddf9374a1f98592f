from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from panelrelay import env

ROOT = Path(__file__).resolve().parents[3]


def test_it_reads_booleans_strictly(monkeypatch) -> None:
    monkeypatch.setenv("X_FLAG", "yes")
    assert env.env_bool("X_FLAG", False) is True
    monkeypatch.setenv("X_FLAG", "Off")
    assert env.env_bool("X_FLAG", True) is False
    monkeypatch.setenv("X_FLAG", "ture")
    with pytest.raises(ImproperlyConfigured, match="X_FLAG: expected a boolean"):
        env.env_bool("X_FLAG", False)


def test_it_names_the_variable_of_a_bad_number_or_url(monkeypatch) -> None:
    monkeypatch.setenv("X_NUM", "12a")
    with pytest.raises(ImproperlyConfigured, match="X_NUM"):
        env.env_int("X_NUM", 1)
    monkeypatch.setenv("X_NUM", "0")
    with pytest.raises(ImproperlyConfigured, match="at least 1"):
        env.env_int("X_NUM", 1, minimum=1)
    monkeypatch.setenv("X_URL", "ftp://x")
    with pytest.raises(ImproperlyConfigured, match="X_URL"):
        env.env_url("X_URL")


def test_secrets_come_from_a_file_first(monkeypatch, tmp_path) -> None:
    secret = tmp_path / "key"
    secret.write_text("from-file\n")
    monkeypatch.setenv("X_SECRET", "from-env")
    monkeypatch.setenv("X_SECRET_FILE", str(secret))
    assert env.env_str("X_SECRET") == "from-file"
    monkeypatch.setenv("X_SECRET_FILE", str(tmp_path / "missing"))
    with pytest.raises(ImproperlyConfigured, match="X_SECRET_FILE"):
        env.env_str("X_SECRET")


def test_it_parses_database_urls() -> None:
    pg = env.database_from_url("postgres://u:p%40ss@db.internal:6543/relay")
    assert (pg["ENGINE"], pg["NAME"], pg["USER"], pg["PASSWORD"], pg["HOST"], pg["PORT"]) == (
        "django.db.backends.postgresql",
        "relay",
        "u",
        "p@ss",
        "db.internal",
        "6543",
    )
    assert env.database_from_url("sqlite:////var/lib/relay.db")["NAME"] == "/var/lib/relay.db"
    assert env.database_from_url("sqlite:///data/relay.db")["NAME"] == "data/relay.db"
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL"):
        env.database_from_url("mysql://x/y")
    with pytest.raises(ImproperlyConfigured, match="database name"):
        env.database_from_url("postgres://host/")


def run_django(extra_env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE")
    }
    clean.update(extra_env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60
    )


def test_a_malformed_debug_stops_the_start_naming_the_variable(tmp_path) -> None:
    r = run_django({"DEBUG": "maybe", "DATA_DIR": str(tmp_path)}, "check")
    assert r.returncode != 0
    assert "DEBUG: expected a boolean" in r.stderr


def test_production_refuses_to_start_without_its_secrets(tmp_path) -> None:
    r = run_django(
        {"PANELRELAY_PRODUCTION": "true", "DATA_DIR": str(tmp_path), "ALLOWED_HOSTS": "relay.example"}, "check"
    )
    assert r.returncode != 0
    assert "SECRET_KEY, FERNET_KEYS, INDEX_KEY" in r.stderr
    assert not (tmp_path / "secrets.json").exists()


def test_embedded_mode_generates_secrets_once_with_a_warning(tmp_path) -> None:
    first = run_django({"DATA_DIR": str(tmp_path)}, "check")
    assert first.returncode == 0, first.stderr
    assert "Generated SECRET_KEY" in first.stderr
    content = (tmp_path / "secrets.json").read_text()
    assert oct((tmp_path / "secrets.json").stat().st_mode & 0o777) == "0o600"
    second = run_django({"DATA_DIR": str(tmp_path)}, "check")
    assert "Generated SECRET_KEY" not in second.stderr
    assert (tmp_path / "secrets.json").read_text() == content


def production(tmp_path: Path, **overrides: str) -> dict[str, str]:
    """A complete production environment, with some variables replaced."""
    values = {
        "PANELRELAY_PRODUCTION": "true",
        "DATA_DIR": str(tmp_path),
        "SECRET_KEY": "x" * 20 + "-production-secret-key-with-enough-entropy-1234567890",
        "FERNET_KEYS": Fernet.generate_key().decode(),
        "INDEX_KEY": "index-key-for-the-test",
        "ALLOWED_HOSTS": "relay.example",
        "SITE_URL": "https://relay.example",
    }
    values.update(overrides)
    return values


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"DEBUG": "true"}, "DEBUG: must be false when PANELRELAY_PRODUCTION=true"),
        ({"FERNET_KEYS": "not-a-key"}, "FERNET_KEYS: entry 1 of 1 is not a Fernet key"),
        ({"FERNET_KEYS": Fernet.generate_key().decode() + ",short"}, "FERNET_KEYS: entry 2 of 2 is not a Fernet key"),
        ({"INDEX_KEY": "short"}, "INDEX_KEY: must be at least 16 characters"),
        ({"ALLOWED_HOSTS": "*"}, "ALLOWED_HOSTS: '*' is not allowed in production"),
        ({"ALLOWED_HOSTS": "relay.example,*"}, "ALLOWED_HOSTS: '*' is not allowed in production"),
        ({"SITE_URL": "http://relay.example"}, "SITE_URL: production mode needs an https:// URL"),
    ],
)
def test_production_refuses_an_unsafe_setting_naming_the_variable(tmp_path, overrides, message) -> None:
    r = run_django(production(tmp_path, **overrides), "check")
    assert r.returncode != 0
    assert message in r.stderr
    secrets = overrides.get("FERNET_KEYS", "").split(",")[1:] + [overrides.get("INDEX_KEY", "")]
    assert not any(secret and secret in r.stderr for secret in secrets)  # a secret is never echoed


def test_production_needs_a_site_url(tmp_path) -> None:
    values = production(tmp_path)
    del values["SITE_URL"]
    r = run_django(values, "check")
    assert r.returncode != 0
    assert "SITE_URL: production mode needs an https:// URL" in r.stderr


def test_a_malformed_fernet_key_stops_embedded_mode_too(tmp_path) -> None:
    r = run_django({"DATA_DIR": str(tmp_path), "FERNET_KEYS": "not-a-key"}, "check")
    assert r.returncode != 0
    assert "FERNET_KEYS: entry 1 of 1 is not a Fernet key" in r.stderr


def test_check_deploy_is_clean_in_production(tmp_path) -> None:
    r = run_django(
        production(tmp_path),
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert "no issues" in r.stdout
