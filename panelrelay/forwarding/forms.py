from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from django import forms

from panelrelay.forwarding.models import Command
from panelrelay.forwarding.submit import MAX_IDS, SubmitError, parse_ids
from panelrelay.panels.models import Panel
from panelrelay.panels.privacy import clean_field


class ForwardForm(forms.Form):
    ids = forms.CharField(
        widget=forms.Textarea(
            attrs={
                "rows": 6,
                "placeholder": "Paste panel order ids here: one per line, or separated by spaces or commas",
                "class": "form-control mono",
            }
        ),
        label="Panel order ids",
        help_text=f"Separated by spaces, commas, semicolons or new lines; duplicates are removed; up to {MAX_IDS:,}.",
    )
    panel = forms.ChoiceField(label="Panel")
    command = forms.CharField(widget=forms.HiddenInput, required=False)
    note = forms.CharField(max_length=500, required=False, label="Note")
    force = forms.BooleanField(required=False, label="Ignore the cooldown")

    def __init__(
        self,
        *args: Any,
        workspace_id: int,
        panels: Iterable[Panel] = (),
        commands: Iterable[Command] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.workspace_id = workspace_id
        cast(forms.ChoiceField, self.fields["panel"]).choices = [(str(p.code), p.name) for p in panels]
        self.commands = {c.slug: c for c in commands}

    def clean_ids(self) -> list[str]:
        try:
            ids = parse_ids(self.cleaned_data["ids"])
        except SubmitError as exc:
            raise forms.ValidationError(str(exc)) from None
        if not ids:
            raise forms.ValidationError("No order ids found. Paste panel order ids (numbers).")
        if len(ids) > MAX_IDS:
            raise forms.ValidationError(f"{len(ids):,} ids is more than {MAX_IDS:,}. Split them into several requests.")
        return ids

    def clean_note(self) -> str:
        # The note goes into the provider's message and onto request pages that staff read.
        return clean_field(self, "note", self.workspace_id, "A note")

    def clean_command(self):
        slug = self.data.get("command_button") or self.cleaned_data.get("command")
        if slug not in self.commands:
            raise forms.ValidationError("Pick a command: press Refill, Cancel, Speed up, Partial or one of yours.")
        return self.commands[slug]
