"""Discovery: bringing a connection's pickable chats up to date when the destination picker opens.

Above both the sending path (`services`) and the Telegram updates, which it calls: Telegram
learns its chats from the bot's updates, a WhatsApp gateway lists its groups when asked.
"""

from __future__ import annotations

from panelrelay.transports.base import TransportError
from panelrelay.transports.bookkeeping import remember_chat
from panelrelay.transports.integrations import transport_for
from panelrelay.transports.integrations.telegram.updates import poll
from panelrelay.transports.models import Connection, DiscoveredChat


def refresh_chats(connection: Connection) -> str:
    """Bring the connection's pickable chats up to date; the error text, or "".

    Telegram: read the bot's new updates. WhatsApp: ask the gateway for its groups, remember
    them, and stop offering the groups it no longer lists (the account left them).
    """
    try:
        if connection.is_telegram:
            if not connection.webhook_url:  # on a webhook, updates arrive by themselves
                poll(connection)
            return ""
        listed = transport_for(connection).list_chats()
    except TransportError as exc:
        return str(exc)
    for chat in listed:
        remember_chat(connection, chat)
    gone = DiscoveredChat.objects.filter(connection=connection, kind="wa_group")
    gone.exclude(chat_id__in=[chat.chat_id for chat in listed]).update(active=False)
    return ""
