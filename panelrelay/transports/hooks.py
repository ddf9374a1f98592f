"""Webhooks of the WhatsApp gateways: WAHA, Evolution API and Green-API POST what arrives here.

The owner pastes the connection's URL (shown on Settings → Connections once "Receive messages"
is set to webhook) into the gateway: WAHA's session webhooks, Evolution's instance webhook,
Green-API's webhookUrl. The URL carries a token derived from the connection's code with the
index key (nothing stored, compared in constant time); a wrong one answers like an unknown
connection. The body is read by the connection's transport (`parse_webhook`) into `Incoming`
values for the front door (transports.incoming), which drops the gateway's retries. A failure
while handling answers 500, so the gateway delivers the message again.
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
from panelrelay.transports.incoming import receive
from panelrelay.transports.integrations import transport_for
from panelrelay.transports.models import Connection

log = logging.getLogger("panelrelay.transports")
GATEWAYS = ("waha", "evolution", "greenapi")
MAX_BODY = 1_000_000  # a text message event is a few kB


def secret_for(connection: Connection) -> str:
    return index_hmac(str(connection.code), "gateway-webhook")[:48]


def url_for(connection: Connection) -> str:
    path = reverse("transports:gateway_webhook", kwargs={"code": connection.code, "token": secret_for(connection)})
    return settings.SITE_URL.rstrip("/") + path


@csrf_exempt  # the gateways cannot send our CSRF token; the URL's token stands in for it
@require_POST
def receive_webhook(request: HttpRequest, code: UUID, token: str) -> HttpResponse:
    connection = (
        Connection.objects.select_related("workspace")
        .filter(code=code, kind__in=GATEWAYS, workspace__suspended=False, receive=Connection.RECEIVE_WEBHOOK)
        .first()
    )
    if connection is None or not hmac.compare_digest(token.encode(), secret_for(connection).encode()):
        return JsonResponse({"error": "not found"}, status=404)
    if len(request.body) > MAX_BODY:
        return JsonResponse({"error": "event too large"}, status=413)
    try:
        body = json.loads(request.body)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return JsonResponse({"error": "the body is not JSON"}, status=400)
    items = transport_for(connection).parse_webhook(body)
    handled = 0
    for item in items:
        try:
            handled += receive(item)
        except Exception:
            log.exception("webhook message of connection %s not handled; the gateway will retry", connection.pk)
            return JsonResponse({"error": "not handled, send it again"}, status=500)
    return JsonResponse({"ok": True, "messages": len(items), "handled": handled})
