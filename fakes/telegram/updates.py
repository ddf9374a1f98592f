"""getUpdates (long polling), webhooks, and how updates are queued per bot."""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.error
import urllib.request
from typing import Any

from fakes.telegram.errors import TelegramError, bad_request, ok
from fakes.telegram.params import as_flag, as_int, as_list, as_text
from fakes.telegram.world import ADMIN_RIGHTS, DEFAULT_ACTOR, BotAccount, User

# getUpdates default: everything except these (Bot API docs on allowed_updates).
NOT_BY_DEFAULT = ("chat_member", "message_reaction", "message_reaction_count")
_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")


class Updates:
    """FakeTelegram's update queue, served by getUpdates or POSTed to a webhook."""

    # State set by FakeTelegram.__init__ (lock by FakeServer's), named here so this part reads alone.
    name: str
    lock: threading.RLock
    long_poll_cap: float
    webhook_retry_delay: float
    webhook_timeout: float
    webhook_deliveries: list[dict[str, Any]]
    _cond: threading.Condition
    _stop_event: threading.Event

    # ----- getUpdates / webhooks -------------------------------------------
    def _get_updates(self, bot: BotAccount, p: dict[str, Any]) -> dict[str, Any]:
        offset = as_int(p.get("offset"), 0)
        limit = min(max(as_int(p.get("limit"), 100), 1), 100)
        timeout = max(as_int(p.get("timeout"), 0), 0)
        with self._cond:
            self._refuse_if_webhook(bot)
            if "allowed_updates" in p:
                bot.allowed_updates = as_list(p["allowed_updates"])
            self._confirm(bot, offset)
            bot.poll_generation += 1
            generation = bot.poll_generation
            self._cond.notify_all()  # an older long poll of this bot ends now with 409
            deadline = time.monotonic() + min(timeout, self.long_poll_cap)
            while not self._deliverable(bot) and not self._stop_event.is_set():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)
                if bot.poll_generation != generation:  # a newer getUpdates took over
                    raise TelegramError(
                        409,
                        "Conflict: terminated by other getUpdates request; "
                        "make sure that only one bot instance is running",
                    )
                self._refuse_if_webhook(bot)
            return ok([dict(u) for u in bot.updates[:limit]])

    def _refuse_if_webhook(self, bot: BotAccount) -> None:
        if bot.webhook_url:
            raise TelegramError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )

    def _confirm(self, bot: BotAccount, offset: int) -> None:
        """offset > 0 confirms every update below it; offset < 0 keeps only the last -offset."""
        if offset > 0:
            bot.updates[:] = [u for u in bot.updates if u["update_id"] >= offset]
        elif offset < 0:
            del bot.updates[:offset]

    def _deliverable(self, bot: BotAccount) -> bool:
        """Drop updates the bot did not ask for (as Telegram does), then say if any remain."""
        wanted = bot.allowed_updates
        bot.updates[:] = [u for u in bot.updates if _wanted(_kind(u), wanted)]
        return bool(bot.updates)

    def _set_webhook(self, bot: BotAccount, p: dict[str, Any]) -> dict[str, Any]:
        url = as_text(p.get("url")).strip()
        if not url:
            return self._delete_webhook(bot, p)
        if not re.match(r"https?://[^/\s]+", url):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = as_text(p.get("secret_token"))
        if secret and not _SECRET.fullmatch(secret):
            raise bad_request("secret token contains unallowed characters")
        with self._cond:
            if as_flag(p.get("drop_pending_updates")):
                bot.updates.clear()
            if "allowed_updates" in p:
                bot.allowed_updates = as_list(p["allowed_updates"])
            already = (bot.webhook_url, bot.webhook_secret) == (url, secret)
            if bot.webhook_url != url:
                bot.webhook_error_date = bot.webhook_error_message = None
            bot.webhook_url, bot.webhook_secret = url, secret
            self._ensure_webhook_worker(bot)
            self._cond.notify_all()  # a long poll in progress must now fail with 409
        return ok(True, "Webhook is already set" if already else "Webhook was set")

    def _delete_webhook(self, bot: BotAccount, p: dict[str, Any]) -> dict[str, Any]:
        with self._cond:
            if as_flag(p.get("drop_pending_updates")):
                bot.updates.clear()
            had = bool(bot.webhook_url)
            bot.webhook_url = bot.webhook_secret = ""
            bot.webhook_error_date = bot.webhook_error_message = None
            self._cond.notify_all()
        return ok(True, "Webhook was deleted" if had else "Webhook is already deleted")

    def _get_webhook_info(self, bot: BotAccount, p: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            info: dict[str, Any] = {
                "url": bot.webhook_url,
                "has_custom_certificate": False,
                "pending_update_count": len(bot.updates),
            }
            if bot.webhook_url:
                info.update(max_connections=40, ip_address="127.0.0.1")
            if bot.webhook_error_date:
                info.update(last_error_date=bot.webhook_error_date, last_error_message=bot.webhook_error_message)
            if bot.allowed_updates:
                info["allowed_updates"] = list(bot.allowed_updates)
        return ok(info)

    def _ensure_webhook_worker(self, bot: BotAccount) -> None:
        # Called with the lock held; the worker clears webhook_thread under the same lock
        # when it exits, so a webhook set at that moment always gets a fresh worker.
        if bot.webhook_thread is None:
            bot.webhook_thread = threading.Thread(
                target=self._webhook_loop, args=(bot,), name=f"{self.name}-webhook-{bot.id}", daemon=True
            )
            bot.webhook_thread.start()

    def _webhook_loop(self, bot: BotAccount) -> None:
        """POST pending updates one by one, in order; on failure keep the update and retry later."""
        while True:
            job = self._next_webhook_job(bot)
            if job is None:
                return
            url, secret, update = job
            error = post_update(url, update, secret, self.webhook_timeout)
            self._webhook_done(bot, url, update, error)
            if error:
                self._stop_event.wait(self.webhook_retry_delay)

    def _next_webhook_job(self, bot: BotAccount) -> tuple[str, str, dict[str, Any]] | None:
        with self._cond:
            while True:
                if self._stop_event.is_set() or not bot.webhook_url:
                    bot.webhook_thread = None
                    return None
                if self._deliverable(bot):
                    return bot.webhook_url, bot.webhook_secret, bot.updates[0]
                self._cond.wait(0.5)

    def _webhook_done(self, bot: BotAccount, url: str, update: dict[str, Any], error: str | None) -> None:
        with self._cond:
            self.webhook_deliveries.append(
                {
                    "bot_id": bot.id,
                    "url": url,
                    "update_id": update["update_id"],
                    "error": error,
                    "at": time.time(),
                }
            )
            if error is None:
                if bot.updates and bot.updates[0] is update:
                    bot.updates.pop(0)
            else:
                bot.webhook_error_date, bot.webhook_error_message = int(time.time()), error

    def _queue(self, bot: BotAccount, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        with self._cond:
            update = {"update_id": bot.next_update_id, kind: payload}
            bot.next_update_id += 1
            bot.updates.append(update)
            self._cond.notify_all()
        return update

    def _member_update(self, bot: BotAccount, chat: dict, old: str, new: str, actor: dict) -> dict[str, Any]:
        payload = {
            "chat": chat,
            "from": actor,
            "date": int(time.time()),
            "old_chat_member": self._member(bot, old),
            "new_chat_member": self._member(bot, new),
        }
        return self._queue(bot, "my_chat_member", payload)

    def _member(self, bot: BotAccount, status: str) -> dict[str, Any]:
        member: dict[str, Any] = {"user": bot.user(), "status": status}
        if status == "kicked":
            member["until_date"] = 0
        if status == "administrator":
            member.update(ADMIN_RIGHTS)
        return member

    def _message_update(
        self, bot: BotAccount, chat: dict, user: User, text: str, reply_to: int | None = None
    ) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": self._next_message_id(chat["id"]),
            "from": user.as_dict(),
            "chat": chat,
            "date": int(time.time()),
            "text": text,
        }
        if reply_to is not None:  # Telegram embeds the message replied to (here: one the bot sent)
            ours = next(
                (m for m in self.sent if m.get("chat_id") == chat["id"] and m.get("message_id") == reply_to), {}
            )
            message["reply_to_message"] = {
                "message_id": reply_to, "from": bot.user(),
                "chat": chat, "date": int(ours.get("at", time.time())), "text": ours.get("text", ""),
            }  # fmt: skip
        if text.startswith("/"):
            message["entities"] = [{"offset": 0, "length": len(text.split()[0]), "type": "bot_command"}]
        return self._queue(bot, "message", message)

    def _service_update(self, bot: BotAccount, chat: dict, fields: dict[str, Any]) -> dict[str, Any]:
        message = {"message_id": self._next_message_id(chat["id"]), "from": dict(DEFAULT_ACTOR), "chat": chat}
        return self._queue(bot, "message", {**message, "date": int(time.time()), **fields})


def _kind(update: dict[str, Any]) -> str:
    return next(k for k in update if k != "update_id")


def _wanted(kind: str, allowed: list[str] | None) -> bool:
    return kind in allowed if allowed else kind not in NOT_BY_DEFAULT


def post_update(url: str, update: dict[str, Any], secret: str, timeout: float) -> str | None:
    """POST one update to a webhook; None on 2xx, else the error getWebhookInfo reports."""
    headers = {"Content-Type": "application/json"}
    if secret:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    request = urllib.request.Request(url, data=json.dumps(update).encode(), headers=headers, method="POST")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via a proxy
    try:
        with opener.open(request, timeout=timeout) as response:
            response.read()
        return None
    except urllib.error.HTTPError as exc:
        return f"Wrong response from the webhook: {exc.code} {exc.reason}"
    except (urllib.error.URLError, OSError) as exc:
        return f"Connection failed: {getattr(exc, 'reason', exc)}"
