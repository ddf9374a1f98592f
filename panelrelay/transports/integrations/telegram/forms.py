from __future__ import annotations

import re

from django import forms

from panelrelay.accounts.models import Workspace
from panelrelay.transports.forms import ConnectionForm, check_address
from panelrelay.transports.integrations.telegram.transport import API_URL
from panelrelay.transports.models import Connection

TOKEN = re.compile(r"\d{3,}:[A-Za-z0-9_-]{20,}")


class Form(ConnectionForm):
    kind = "telegram"
    secret_label = "Bot token"
    secret_help = "From @BotFather (/newbot), e.g. 123456789:AAH…; stored encrypted, shown only as ••••1234."

    api_url = forms.URLField(
        label="Bot API server",
        required=False,
        assume_scheme="https",
        help_text=f"Leave empty for {API_URL}. Set it only for a self-hosted Bot API server.",
    )

    def setting_fields(self) -> list[str]:
        return ["api_url"]

    def clean_secret(self) -> str:
        value = super().clean_secret()
        if value and not TOKEN.fullmatch(value):
            raise forms.ValidationError("A bot token looks like 123456789:AAH… (digits, a colon, then 35 characters).")
        return value

    def clean_api_url(self) -> str:
        value = self.cleaned_data["api_url"]
        return check_address(value) if value else ""

    def save(self, workspace: Workspace) -> Connection:
        old_bot = self.connection.secret().split(":", 1)[0] if self.connection and self.connection.secret_enc else None
        connection = super().save(workspace)
        if old_bot is not None and connection.secret().split(":", 1)[0] != old_bot:
            # Another bot: the old one's update offset, username and chats mean nothing to it.
            connection.updates_offset = 0
            connection.config.pop("username", None)
            connection.save(update_fields=["updates_offset", "config"])
            connection.discovered.update(active=False)
        return connection
