"""Telegram updates by webhook: Telegram POSTs each update to us instead of us polling.

The owner switches a bot to it on Settings → Connections. We call `setWebhook` with our URL
(`SITE_URL` + /hooks/telegram/<connection code>/) and a secret token that Telegram sends back in
the `X-Telegram-Bot-Api-Secret-Token` header. The token is derived from the connection's code
with the index key, so nothing more is stored, and it is never shown. Updates are handled by the
same idempotent code as polled ones (`updates.handle`); while a webhook is set, the poller leaves
the bot alone (Telegram refuses getUpdates then). Telegram keeps an update and retries it until
we answer 2xx, so an update we fail to handle is not lost.
"""

from __future__ import annotations

import hmac
import json
import logging
from uuid import UUID

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from panelrelay.core.crypto import index_hmac
from panelrelay.transports.integrations.telegram.transport import TelegramTransport
from panelrelay.transports.integrations.telegram.updates import handle
from panelrelay.transports.models import Connection

log = logging.getLogger("panelrelay.transports")
HEADER = "HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN"
MAX_BODY = 1_000_000  # an update is a few kB; anything this large is not Telegram


def secret_for(connection: Connection) -> str:
    """The webhook's secret token (Telegram allows 1-256 of A-Z a-z 0-9 _ -): hex is fine."""
    return index_hmac(str(connection.code), "telegram-webhook")[:64]


def url_for(connection: Connection) -> str:
    path = reverse("transports:telegram_webhook", kwargs={"code": connection.code})
    return settings.SITE_URL.rstrip("/") + path


def enable(connection: Connection) -> None:
    """Ask Telegram to POST this bot's updates to us; TransportError when it refuses."""
    url = url_for(connection)
    TelegramTransport(connection).set_webhook(url, secret_for(connection))
    Connection.objects.filter(pk=connection.pk).update(webhook_url=url)
    connection.webhook_url = url


def disable(connection: Connection) -> None:
    """Back to polling. Telegram keeps undelivered updates for getUpdates."""
    TelegramTransport(connection).delete_webhook()
    Connection.objects.filter(pk=connection.pk).update(webhook_url="")
    connection.webhook_url = ""


@csrf_exempt  # Telegram cannot send our CSRF token; the secret token header stands in for it
@require_POST
def receive(request: HttpRequest, code: UUID) -> HttpResponse:
    connection = (
        Connection.objects.select_related("workspace")
        .filter(code=code, kind="telegram", workspace__suspended=False)
        .exclude(webhook_url="")
        .first()
    )
    given = request.META.get(HEADER, "")
    # A wrong token answers like an unknown connection: the URL alone tells an outsider nothing.
    if connection is None or not hmac.compare_digest(given.encode(), secret_for(connection).encode()):
        return JsonResponse({"error": "not found"}, status=404)
    if len(request.body) > MAX_BODY:
        return JsonResponse({"error": "update too large"}, status=413)
    try:
        update = json.loads(request.body)
    except (UnicodeDecodeError, ValueError, RecursionError):  # RecursionError: "[[[[…" nested too deep
        return JsonResponse({"error": "the body is not JSON"}, status=400)
    if not isinstance(update, dict) or not isinstance(update.get("update_id"), int):
        return JsonResponse({"error": "not a Telegram update"}, status=400)
    try:
        handle(connection, update)
    except Exception:  # 500: Telegram keeps the update and sends it again
        log.exception("telegram update %s of connection %s not handled", update["update_id"], connection.pk)
        return JsonResponse({"error": "not handled; send it again"}, status=500)
    return JsonResponse({"ok": True})
