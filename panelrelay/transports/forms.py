"""Forms of the Connections and Destinations pages. Each integration's own connection form
(integrations/<kind>/forms.py) extends ConnectionForm with its settings."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms

from panelrelay.accounts.models import Workspace
from panelrelay.core import http
from panelrelay.panels.privacy import clean_field
from panelrelay.transports import targets
from panelrelay.transports.models import Connection, Destination, DiscoveredChat


def check_address(url: str) -> str:
    """A gateway address we may call: http(s), and not into a private network in production."""
    try:
        http.check_url(url)
    except http.OutboundError as exc:
        raise forms.ValidationError(f"This address cannot be used: {exc}.") from None
    return url.rstrip("/")


class ConnectionForm(forms.Form):
    kind = ""
    secret_label = "API key"
    secret_required = True
    secret_help = "Stored encrypted; shown afterwards only as ••••1234."

    name = forms.CharField(max_length=100, help_text="Your name for it, e.g. “Main bot” or “Office WhatsApp”.")
    secret = forms.CharField(required=False, strip=True, widget=forms.PasswordInput(render_value=False))

    def __init__(self, *args: Any, instance: Connection | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Not `self.instance`: Evolution's form has a field named `instance` (its instance name).
        self.connection = instance
        field = self.fields["secret"]
        field.label, field.help_text = self.secret_label, self.secret_help
        field.widget.attrs["autocomplete"] = "off"
        if instance is not None:
            self.initial.update({"name": instance.name, "pace_seconds": instance.pace_seconds, **instance.config})
            if instance.secret_enc:
                field.help_text = f"Leave empty to keep the saved one ({instance.secret_masked})."
        self.order_fields(["name", *self.setting_fields(), "secret", "pace_seconds"])

    def setting_fields(self) -> list[str]:
        return []

    def clean_secret(self) -> str:
        value = self.cleaned_data["secret"]
        saved = self.connection is not None and bool(self.connection.secret_enc)
        if self.secret_required and not value and not saved:
            raise forms.ValidationError(f"Enter the {self.secret_label.lower()}.")
        return value

    def config(self) -> dict[str, Any]:
        """The non-secret settings, as stored in Connection.config."""
        return {name: self.cleaned_data[name] for name in self.setting_fields()}

    def save(self, workspace: Workspace) -> Connection:
        connection = self.connection or Connection(workspace=workspace, kind=self.kind)
        connection.name = self.cleaned_data["name"]
        # Keep what the status check learnt (the bot's username…), replace what the owner set.
        connection.config = {**connection.config, **self.config()}
        if "pace_seconds" in self.cleaned_data:
            connection.pace_seconds = self.cleaned_data["pace_seconds"]
        if self.cleaned_data["secret"]:
            connection.set_secret(self.cleaned_data["secret"])
        connection.save()
        return connection


class WhatsAppConnectionForm(ConnectionForm):
    pace_seconds = forms.FloatField(
        label="Seconds between messages",
        initial=4.0,
        min_value=1.0,
        max_value=600.0,
        help_text="WhatsApp bans numbers that send like a bot: each pause is this long plus up to 50 % at random.",
    )


class DestinationForm(forms.Form):
    """Pick a discovered chat, or choose a kind and type the target."""

    name = forms.CharField(max_length=100, required=False)
    connection = forms.CharField()
    pick = forms.CharField(required=False)
    kind = forms.ChoiceField(choices=[("", "—"), *Destination.KINDS], required=False)
    target = forms.CharField(max_length=200, required=False)

    def __init__(self, *args: Any, workspace: Workspace, instance: Destination | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.workspace, self.instance = workspace, instance
        self.connections = Connection.objects.filter(workspace=workspace).order_by("name")
        if instance is not None and not self.is_bound:
            self.initial.update(name=instance.name, connection=str(instance.connection.code), kind=instance.kind,
                                target=instance.target)  # fmt: skip

    def clean_name(self) -> str:
        # Staff and alerts show destination names; a picked chat's title is masked where it is read.
        return clean_field(self, "name", self.workspace.pk, "A destination name")

    def clean_connection(self) -> Connection:
        code = parse_code(self.cleaned_data["connection"])
        found = self.connections.filter(code=code).first() if code else None
        if found is None:
            raise forms.ValidationError("Choose the connection that sends to this destination.")
        return found

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        connection = data.get("connection")
        if not isinstance(connection, Connection):
            return data
        chat = self._picked(connection, data.get("pick", ""))
        if chat is not None:
            data.update(kind=chat.kind, target=chat.chat_id, name=data.get("name") or chat.title or chat.chat_id)
        else:
            self._typed(connection, data)
        self._unique_name(data)
        return data

    def _picked(self, connection: Connection, code: str) -> DiscoveredChat | None:
        if not code:
            return None
        parsed = parse_code(code)
        chats = DiscoveredChat.objects.filter(workspace=self.workspace, connection=connection)
        chat = chats.filter(code=parsed).first() if parsed else None
        if chat is None:
            self.add_error("pick", "That chat is not one this connection knows. Refresh the list and pick again.")
        return chat

    def _typed(self, connection: Connection, data: dict[str, Any]) -> None:
        kind = data.get("kind") or ""
        if kind not in connection.destination_kinds:
            labels = " or ".join(dict(Destination.KINDS)[k] for k in connection.destination_kinds)
            self.add_error("kind", f"{connection} sends to a {labels}: pick one from the list or choose the kind.")
            return
        try:
            data["target"] = targets.normalize(kind, data.get("target") or "", connection.kind)
        except targets.TargetError as exc:
            self.add_error("target", str(exc))
        if not data.get("name"):
            self.add_error("name", "Give the destination a name, e.g. “FastLikes group”.")

    def _unique_name(self, data: dict[str, Any]) -> None:
        name = (data.get("name") or "").strip()[:100]
        data["name"] = name
        taken = Destination.objects.filter(workspace=self.workspace, name=name)
        if self.instance is not None:
            taken = taken.exclude(pk=self.instance.pk)
        if name and taken.exists():
            self.add_error("name", f"A destination called “{name}” exists already.")

    def save(self) -> Destination:
        data = self.cleaned_data
        destination = self.instance or Destination(workspace=self.workspace)
        moved = self.instance is not None and (destination.target, destination.connection_id) != (
            data["target"],
            data["connection"].pk,
        )
        destination.name, destination.kind, destination.target = data["name"], data["kind"], data["target"]
        destination.connection = data["connection"]
        if moved:  # a new target or connection: the old breakage no longer says anything
            destination.broken, destination.broken_reason = False, ""
        destination.save()
        return destination


def parse_code(value: str) -> str | None:
    """A public object code as sent by a form or query string, or None when it is not one."""
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        return None
