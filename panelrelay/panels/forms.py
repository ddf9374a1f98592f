"""Forms of the Panels and Providers pages."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django import forms

from panelrelay.accounts.models import Workspace
from panelrelay.core import http
from panelrelay.panels.adapters.registry import choices
from panelrelay.panels.models import Panel


def panel_origin(raw: str) -> str:
    """`https://mypanel.com/admin/adminapi/v2/` → `https://mypanel.com`: the adapter adds the API path."""
    try:
        parts = urlsplit(raw.strip())
    except ValueError:  # "http://[::1": an unclosed IPv6 bracket
        parts = urlsplit("")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise forms.ValidationError("Enter the panel's address, starting with https://")
    return f"{parts.scheme}://{parts.netloc.split('@')[-1].lower()}"


class PanelForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="Your name for it, e.g. Main panel.")
    url = forms.CharField(
        label="Panel URL", max_length=300, help_text="Your panel's address, e.g. https://yourpanel.com"
    )
    kind = forms.ChoiceField(label="API", choices=choices)
    api_key = forms.CharField(
        label="Admin API key",
        required=False,
        max_length=200,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )

    tickets_enabled = forms.BooleanField(label="Read support tickets", required=False)
    tickets_interval = forms.IntegerField(
        label="Every (seconds)", min_value=15, max_value=3600, initial=60, required=False,
        help_text="Order requests in open tickets are forwarded and answered (Settings → Tickets). The interval is "
        "an average: every few seconds after a new ticket, less often when quiet.",
    )  # fmt: skip

    def __init__(self, *args: Any, workspace: Workspace, panel: Panel | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.workspace, self.panel = workspace, panel
        if panel is not None:
            self.fields["api_key"].help_text = f"Saved as {panel.api_key_masked}. Leave empty to keep it."
        else:
            self.fields["api_key"].required = True
            self.fields["api_key"].help_text = "From your panel's admin: Settings → API. Stored encrypted."

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        others = self.workspace.panel_set.filter(name__iexact=name)
        if self.panel is not None:
            others = others.exclude(pk=self.panel.pk)
        if others.exists():
            raise forms.ValidationError("You already have a panel with this name.")
        return name

    def clean_tickets_interval(self) -> int:
        return self.cleaned_data["tickets_interval"] or 60  # empty: the default minute

    def clean_url(self) -> str:
        origin = panel_origin(self.cleaned_data["url"])
        try:
            http.check_url(origin)
        except http.OutboundError as exc:
            raise forms.ValidationError(f"We cannot call this address: {exc}.") from None
        return origin


class ProviderForm(forms.Form):
    """An owner adds a provider by its domain. The field is write-only: it is never shown again."""

    domain = forms.CharField(
        label="Provider domain",
        max_length=253,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "spellcheck": "false", "placeholder": "provider-panel.com"}
        ),
        help_text="Stored encrypted. After saving, everyone (you included) sees only the alias.",
    )
    alias = forms.CharField(
        max_length=60, required=False, help_text="Optional. Empty gives the next “Provider N”; rename it any time."
    )
