"""Telegram Bot API transport (Telegram Bot API docs and Bot FAQ).

The Bot API's `error_code` "is subject to change", so errors are told apart by the HTTP status
and `parameters` first, and by the description only where the status is shared (400).
"""

from __future__ import annotations

import time
from typing import Any

from panelrelay.transports import pacing
from panelrelay.transports.base import Chat, Status, Transport, TransportError
from panelrelay.transports.integrations.common import CHECK_TIMEOUT, call, join, json_of, nested, not_json

API_URL = "https://api.telegram.org"
# 400 descriptions that mean the chat itself is unusable (not this one message).
GONE_400 = ("chat not found", "chat_id is empty", "peer_id_invalid", "group chat was deactivated")
RECENT_WEBHOOK_ERROR = 30 * 60  # seconds: getWebhookInfo keeps its last error after recovery too


# message_reaction reaches a bot only where it is an administrator (Bot API: Update.message_reaction).
ALLOWED_UPDATES = ["message", "my_chat_member", "message_reaction"]


class TelegramTransport(Transport):
    kind = "telegram"
    label = "Telegram bot"
    max_length = 4096

    @property
    def bot_id(self) -> str:
        """The numeric part of the token: public (it is the bot's user id), fine for keys and logs."""
        return self.connection.secret().split(":", 1)[0]

    def api(self, method: str, params: dict[str, Any] | None = None, timeout: float | None = None) -> Any:
        """Call one Bot API method; its `result`, or TransportError."""
        base = self.connection.config.get("api_url") or API_URL
        url = join(base, f"/bot{self.connection.secret()}/{method}")
        result = call("POST", url, service="Telegram", json=params or {}, timeout=timeout)
        body = json_of(result)
        if not isinstance(body, dict) or "ok" not in body:
            raise not_json(result, "Telegram")
        if body["ok"] is True:
            return body.get("result")
        raise error_from(result.status, body)

    def send(self, target: str, text: str) -> str:
        params = {"chat_id": target, "text": text, "link_preview_options": {"is_disabled": True}}
        message = self.api("sendMessage", params)
        # ok:true means Telegram has the message; a missing id must not cause a second copy.
        return str(message.get("message_id", "")) if isinstance(message, dict) else ""

    def pacing(self, target: str) -> tuple[pacing.Limits, float]:
        chat = f"tg-chat:{self.bot_id}:{target.lower()}"
        bot = pacing.value("PACING_TELEGRAM_BOT_SECONDS")
        if not target.startswith(("-", "@")):  # a private chat: one message a second
            return {chat: pacing.value("PACING_TELEGRAM_PRIVATE_SECONDS"), f"tg-bot:{self.bot_id}": bot}, 0.0
        # A group or channel: a budget of 20 a minute, spent at most one a second (Bot FAQ).
        every = pacing.value("PACING_TELEGRAM_GROUP_SECONDS")
        keys: dict[str, float | pacing.Budget] = {
            chat: min(pacing.value("PACING_TELEGRAM_GROUP_GAP_SECONDS"), every),
            f"tg-bot:{self.bot_id}": bot,
        }
        burst = int(pacing.value("PACING_TELEGRAM_GROUP_BURST"))
        if every > 0 and burst > 0:
            keys[f"tg-group:{self.bot_id}:{target.lower()}"] = pacing.Budget(burst, every * burst)
        return keys, 0.0

    def check(self) -> Status:
        try:
            me = self.api("getMe", timeout=CHECK_TIMEOUT)
        except TransportError as exc:
            return Status("broken", str(exc))
        if not isinstance(me, dict) or not me.get("username"):
            return Status("broken", "Telegram answered getMe without a bot username")
        # Privacy mode (on by default) lets a bot read only replies to it, commands and mentions in
        # groups; getMe says which (Telegram Bot API: User.can_read_all_group_messages).
        details = {"username": me["username"], "bot_id": me.get("id"),
                   "reads_all": bool(me.get("can_read_all_group_messages"))}  # fmt: skip
        if self.connection.webhook_url:
            state, note = self.webhook_state()
            return Status(state, f"@{me['username']} · {note}", details)
        return Status("working", f"@{me['username']}", details)

    def get_updates(self, offset: int, timeout: int = 0) -> list[dict[str, Any]]:
        params = {"offset": offset, "timeout": timeout, "allowed_updates": ALLOWED_UPDATES}
        updates = self.api("getUpdates", params, timeout=CHECK_TIMEOUT + timeout)
        return [u for u in updates or [] if isinstance(u, dict) and isinstance(u.get("update_id"), int)]

    def set_webhook(self, url: str, secret: str) -> None:
        params = {"url": url, "secret_token": secret, "allowed_updates": ALLOWED_UPDATES}
        self.api("setWebhook", params, timeout=CHECK_TIMEOUT)

    def delete_webhook(self) -> None:
        self.api("deleteWebhook", {"drop_pending_updates": False}, timeout=CHECK_TIMEOUT)

    def webhook_state(self) -> tuple[str, str]:
        """The webhook's state at Telegram for the status column: (state, message)."""
        try:
            info = self.webhook_info()
        except TransportError as exc:
            return "pending", f"webhook not checked: {exc}"
        if info.get("url") != self.connection.webhook_url:
            return "pending", "the webhook is no longer set at Telegram: press Use webhook again, or poll"
        recent = time.time() - float(info.get("last_error_date") or 0) < RECENT_WEBHOOK_ERROR
        if info.get("last_error_message") and recent:
            pending = info.get("pending_update_count") or 0
            return "working", f"webhook; last error: {info['last_error_message']} ({pending} waiting)"
        return "working", "webhook"

    def webhook_info(self) -> dict[str, Any]:
        info = self.api("getWebhookInfo", timeout=CHECK_TIMEOUT)
        return info if isinstance(info, dict) else {}

    def list_chats(self) -> list[Chat]:
        return []  # Telegram cannot list a bot's chats: they are learnt from updates (updates.py)


def error_from(status: int, body: dict[str, Any]) -> TransportError:
    code = status if status != 200 else int(body.get("error_code") or 500)
    description = str(body.get("description") or f"error {code}")
    detail = description.split(": ", 1)[1] if ": " in description else description
    params = nested(body, "parameters")
    if params.get("migrate_to_chat_id"):
        new = str(params["migrate_to_chat_id"])
        return TransportError(f"the group became a supergroup ({new})", kind="target_moved", new_target=new)
    if code == 429 or params.get("retry_after"):
        wait = float(params.get("retry_after") or 5)
        return TransportError(f"Telegram rate limit: retry after {wait:g} s", kind="rate_limited", retry_after=wait)
    if code in (401, 404):
        return TransportError(f"Telegram refused the bot token ({description})", kind="auth_failed")
    if code == 403 or (code == 400 and detail.lower().startswith(GONE_400)):
        return TransportError(detail, kind="target_gone")
    if code == 400:
        return TransportError(detail, kind="bad_request")
    return TransportError(f"Telegram answered {code}: {detail}", kind="unavailable")
