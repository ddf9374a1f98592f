"""Signing a Telegram user account in: phone → code → (two-step password) → saved session.

Between the steps the half-done login (phone_code_hash, the not-yet-authorised StringSession,
api_hash) lives encrypted in the owner's Django session; the code and the password are used once
and never stored or logged. Telethon's errors become sentences the owner can act on.
"""

from __future__ import annotations

import json
from typing import Any

from telethon import errors

from panelrelay.accounts.models import Workspace
from panelrelay.core import crypto
from panelrelay.transports.base import Status, TransportError
from panelrelay.transports.bookkeeping import set_status
from panelrelay.transports.integrations.telegram_user.transport import run, set_secrets
from panelrelay.transports.models import Connection

SESSION_KEY = "telegram_user_login"


class LoginError(Exception):
    """A sentence for the owner. `restart` when the half-done login is useless now."""

    def __init__(self, message: str, restart: bool = False) -> None:
        super().__init__(message)
        self.restart = restart


def plain(exc: Exception) -> LoginError:
    if isinstance(exc, errors.FloodWaitError):
        minutes = max(1, -(-int(exc.seconds) // 60))
        return LoginError(f"Telegram asks to wait: try again in {minutes} min.")
    if isinstance(exc, errors.PhoneNumberInvalidError):
        return LoginError("Telegram does not know this phone number. Enter it with the country code: +44 7700 900123.")
    if isinstance(exc, errors.PhoneNumberBannedError):
        return LoginError("Telegram has banned this phone number.")
    if isinstance(exc, errors.ApiIdInvalidError):
        return LoginError("Telegram refused this api_id and api_hash. Copy both again from my.telegram.org.")
    if isinstance(exc, errors.PhoneCodeInvalidError):
        return LoginError("That code is not right. Type the latest code Telegram sent you.")
    if isinstance(exc, errors.PhoneCodeExpiredError):
        return LoginError("That code has expired. Start again to get a new one.", restart=True)
    if isinstance(exc, errors.PasswordHashInvalidError):
        return LoginError("That is not the account's two-step verification password.")
    if isinstance(exc, TransportError):
        return LoginError(f"{exc}. Try again in a moment.")
    if isinstance(exc, errors.RPCError):
        return LoginError(f"Telegram refused: {exc.message}.")
    return LoginError(f"The sign-in failed ({type(exc).__name__}). Try again.")


def _probe(pending: dict[str, Any]) -> Connection:
    """An unsaved connection carrying the half-done login, for client_factory()."""
    connection = Connection(kind="telegram_user", config={"api_id": pending["api_id"]})
    set_secrets(connection, pending["api_hash"], pending["session"])
    return connection


def _run(pending: dict[str, Any], action: Any) -> Any:
    try:
        return run(_probe(pending), action)
    except (errors.SessionPasswordNeededError, LoginError):
        raise
    except Exception as exc:  # noqa: BLE001 — each becomes a sentence in plain()
        raise plain(exc) from None


def start(name: str, api_id: int, api_hash: str, phone: str) -> dict[str, Any]:
    """Ask Telegram to send the login code; the pending login to keep for the next step."""
    pending = {"name": name, "api_id": api_id, "api_hash": api_hash, "phone": phone, "session": "", "step": "code"}

    async def action(client: Any) -> tuple[str, str]:
        sent = await client.send_code_request(phone)
        return sent.phone_code_hash, client.session.save()

    pending["phone_code_hash"], pending["session"] = _run(pending, action)
    return pending


def submit_code(pending: dict[str, Any], code: str) -> Any:
    """The user (Telethon's User) once signed in; with two-step verification on, the pending
    login moves to step "password" and None is returned."""

    async def action(client: Any) -> tuple[Any, str]:
        try:
            user = await client.sign_in(pending["phone"], code, phone_code_hash=pending["phone_code_hash"])
        except errors.SessionPasswordNeededError:
            user = None
        return user, client.session.save()

    user, pending["session"] = _run(pending, action)
    if user is None:
        pending["step"] = "password"
    return user


def submit_password(pending: dict[str, Any], password: str) -> Any:
    async def action(client: Any) -> tuple[Any, str]:
        user = await client.sign_in(password=password)
        return user, client.session.save()

    user, pending["session"] = _run(pending, action)
    return user


def save(workspace: Workspace, pending: dict[str, Any], user: Any) -> Connection:
    """The signed-in account as a working connection; its session and api_hash encrypted."""
    username = getattr(user, "username", "") or ""
    connection = Connection(workspace=workspace, kind="telegram_user", name=pending["name"],
                            config={"api_id": pending["api_id"], "username": username})  # fmt: skip
    set_secrets(connection, pending["api_hash"], pending["session"])
    connection.save()
    shown = f"@{username}" if username else f"user {getattr(user, 'id', '')}"
    set_status(connection, Status(Connection.WORKING, f"signed in as {shown}", {"username": username}))
    return connection


def dump(pending: dict[str, Any]) -> str:
    return crypto.encrypt(json.dumps(pending))


def load(value: str | None) -> dict[str, Any] | None:
    if not value:
        return None
    try:
        return json.loads(crypto.decrypt(value))
    except (crypto.DecryptionError, ValueError):  # a stale blob (rotated key…) is no pending login
        return None
