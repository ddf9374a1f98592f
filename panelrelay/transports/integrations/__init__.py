"""Transports: one folder per kind (telegram, telegram_user, waha, evolution, greenapi), same contract.

REGISTRY maps Connection.kind to its Transport class; adding a transport is adding a folder and
one line here.
"""

from __future__ import annotations

from panelrelay.transports.base import Transport
from panelrelay.transports.integrations.evolution.transport import EvolutionTransport
from panelrelay.transports.integrations.greenapi.transport import GreenApiTransport
from panelrelay.transports.integrations.telegram.transport import TelegramTransport
from panelrelay.transports.integrations.telegram_user.transport import TelegramUserTransport
from panelrelay.transports.integrations.waha.transport import WahaTransport
from panelrelay.transports.models import Connection

REGISTRY: dict[str, type[Transport]] = {
    cls.kind: cls
    for cls in (TelegramTransport, TelegramUserTransport, WahaTransport, EvolutionTransport, GreenApiTransport)
}


def transport_for(connection: Connection) -> Transport:
    return REGISTRY[connection.kind](connection)


def form_class(kind: str) -> type:
    """The connection form of a kind: integrations/<kind>/forms.py, class Form."""
    from importlib import import_module

    if kind not in REGISTRY:
        raise KeyError(kind)
    return import_module(f"panelrelay.transports.integrations.{kind}.forms").Form
