from __future__ import annotations

import re

from django import forms

from panelrelay.transports.forms import WhatsAppConnectionForm, check_address


class Form(WhatsAppConnectionForm):
    kind = "waha"
    secret_label = "API key (X-Api-Key)"
    secret_required = False  # WAHA runs without a key unless WAHA_API_KEY is set

    base_url = forms.URLField(label="WAHA address", assume_scheme="https", help_text="e.g. http://127.0.0.1:3000")
    session = forms.CharField(max_length=60, initial="default", help_text="WAHA Core has only “default”.")

    def setting_fields(self) -> list[str]:
        return ["base_url", "session"]

    def clean_base_url(self) -> str:
        return check_address(self.cleaned_data["base_url"])

    def clean_session(self) -> str:
        value = self.cleaned_data["session"].strip()
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", value):
            raise forms.ValidationError("A session name has letters, digits, dots, dashes and underscores.")
        return value
