from __future__ import annotations

from django import forms

from panelrelay.transports.forms import WhatsAppConnectionForm, check_address


class Form(WhatsAppConnectionForm):
    kind = "evolution"
    secret_label = "API key (apikey)"
    secret_help = "The global AUTHENTICATION_API_KEY or the instance's token; stored encrypted."

    base_url = forms.URLField(
        label="Evolution API address", assume_scheme="https", help_text="e.g. https://evo.example.com"
    )
    instance = forms.CharField(max_length=100, help_text="The instance name as in Evolution's manager.")

    def setting_fields(self) -> list[str]:
        return ["base_url", "instance"]

    def clean_base_url(self) -> str:
        return check_address(self.cleaned_data["base_url"])
