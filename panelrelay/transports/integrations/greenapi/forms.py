from __future__ import annotations

from django import forms

from panelrelay.transports.forms import WhatsAppConnectionForm, check_address
from panelrelay.transports.integrations.greenapi.transport import API_URL


class Form(WhatsAppConnectionForm):
    kind = "greenapi"
    secret_label = "apiTokenInstance"
    secret_help = "From the Green-API console; stored encrypted, shown only as ••••1234."

    api_url = forms.URLField(label="API URL", initial=API_URL, assume_scheme="https",
                             help_text="The apiUrl of your instance in the Green-API console.")  # fmt: skip
    id_instance = forms.RegexField(label="idInstance", regex=r"^\d{4,20}$", max_length=20,
                                   error_messages={"invalid": "The idInstance is a number, e.g. 1101000001."})  # fmt: skip

    def setting_fields(self) -> list[str]:
        return ["api_url", "id_instance"]

    def clean_api_url(self) -> str:
        return check_address(self.cleaned_data["api_url"])
