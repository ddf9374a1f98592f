"""Forms of a Telegram user account: the three sign-in steps, and the edit form (name only:
the api_hash and session come only from signing in)."""

from __future__ import annotations

import re
from typing import Any

from django import forms

from panelrelay.accounts.models import Workspace
from panelrelay.transports.forms import ConnectionForm
from panelrelay.transports.models import Connection


def _secret_input() -> forms.PasswordInput:
    return forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"})


class Form(ConnectionForm):
    """Edit: rename only. To change the account or its keys, sign in again as a new connection."""

    kind = "telegram_user"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        del self.fields["secret"]

    def save(self, workspace: Workspace) -> Connection:
        connection = self.connection
        assert connection is not None  # adding goes through the sign-in steps, never this form
        connection.name = self.cleaned_data["name"]
        connection.save(update_fields=["name"])
        return connection


class LoginForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="Your name for it, e.g. “Office Telegram”.")
    api_id = forms.IntegerField(label="api_id", min_value=1, help_text="From my.telegram.org → API development tools.")
    api_hash = forms.CharField(label="api_hash", widget=_secret_input(),
                               help_text="Same page; 32 characters. Stored encrypted, never shown again.")  # fmt: skip
    phone = forms.CharField(label="Phone number", max_length=30,
                            help_text="Of the Telegram account that will send, with the country code: +44 7700 900123.")  # fmt: skip

    def clean_api_hash(self) -> str:
        value = self.cleaned_data["api_hash"].strip()
        if not re.fullmatch(r"[0-9a-fA-F]{32}", value):
            raise forms.ValidationError("An api_hash is 32 hexadecimal characters (0-9, a-f).")
        return value.lower()

    def clean_phone(self) -> str:
        value = re.sub(r"[\s\-().]", "", self.cleaned_data["phone"])
        value = "+" + value[2:] if value.startswith("00") else value
        if not re.fullmatch(r"\+[1-9]\d{6,14}", value):
            raise forms.ValidationError("Enter the number with + and the country code, e.g. +44 7700 900123.")
        return value


class CodeForm(forms.Form):
    code = forms.CharField(label="Login code", max_length=10, widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
                           help_text="Telegram sent it to the account's other devices (or by SMS).")  # fmt: skip

    def clean_code(self) -> str:
        value = re.sub(r"\D", "", self.cleaned_data["code"])
        if not 4 <= len(value) <= 8:
            raise forms.ValidationError("The code is 5 digits or so, as Telegram sent it.")
        return value


class PasswordForm(forms.Form):
    password = forms.CharField(label="Two-step verification password", strip=False, widget=_secret_input(),
                               help_text="The account's cloud password. Used once to sign in; never stored.")  # fmt: skip
