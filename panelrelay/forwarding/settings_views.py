"""Settings → Forwarding: cooldown, message options, follow-ups and answer words, commands and templates."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.text import slugify
from django.views.decorators.http import require_POST

from panelrelay.accounts.middleware import MemberRequest
from panelrelay.core.tenancy import get_for_member, require_member, scoped
from panelrelay.core.toggles import save_toggle
from panelrelay.forwarding import text
from panelrelay.forwarding.models import Command, ForwardingSettings, MessageTemplate
from panelrelay.panels.adapters.base import STATUS_LABELS, UNKNOWN
from panelrelay.panels.privacy import AddressInText, clean_field, refuse_addresses
from panelrelay.transports.models import Destination

STATUS_CHOICES = [(k, v) for k, v in STATUS_LABELS.items() if k != UNKNOWN]
MAX_WORDS = 2000  # a list of phrases, like a command's ticket words
ANSWER_WORDS = {
    "answer_done_words": "Your words for “done”",
    "answer_refused_words": "Your words for “refused”",
    "answer_working_words": "Your words for “working on it”",
}
KEEP_WHEN_MISSING = ("follow_up_hours", "escalate_hours", "watch_days")
RANGES = {  # field: (lowest, highest, unit)
    "max_age_hours": (1, 168, "hours"),
    "follow_up_hours": (0, 168, "hours"),
    "escalate_hours": (1, 168, "hours"),
    "watch_days": (1, 30, "days"),
}


class OptionsForm(forms.ModelForm):
    class Meta:
        model = ForwardingSettings
        fields = [
            "cooldown_hours",
            "include_panel_ids",
            "max_age_hours",
            "refill_guarantee",
            "follow_up_hours",
            "escalate_hours",
            "watch_days",
            *ANSWER_WORDS,
        ]
        labels = {
            "cooldown_hours": "Cooldown (hours)",
            "include_panel_ids": "Add the panel order id beside each external id",
            "max_age_hours": "Give up delivering after (hours)",
            "refill_guarantee": "Refill guarantee: skip a refill after the period in the service name",
            "follow_up_hours": "Remind the provider after (hours)",
            "escalate_hours": "Then escalate after (hours)",
            "watch_days": "Watch the panel's status for (days)",
            **ANSWER_WORDS,
        }
        help_texts = {
            "cooldown_hours": "The same order and command is refused again within this time.",
            "refill_guarantee": "“30 Days Refill”, “R30”, “♻️ 30D”, “Lifetime”: for requests from every source.",
            "follow_up_hours": "No answer and no change on the panel this long: one reminder to the same chat "
            "(0: never). A provider can have its own delay.",
            "escalate_hours": "Still nothing: to the provider's backup destination (Routing) and an alert to you; "
            "the same time again, and the order shows No answer.",
            "answer_done_words": "Comma separated, added to the built-in words in several languages, "
            "e.g. ho gaya, sudah, готово.",
        }
        widgets = {name: forms.Textarea(attrs={"rows": 2}) for name in ANSWER_WORDS}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A page opened before these fields existed still saves: a missing one keeps its value.
        for name in KEEP_WHEN_MISSING:
            self.fields[name].required = False

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        for name in KEEP_WHEN_MISSING:
            if data.get(name) is None and name not in self.errors:
                data[name] = getattr(self.instance, name)
        for name, (low, high, unit) in RANGES.items():
            if data.get(name) is not None and not low <= data[name] <= high:
                self.add_error(name, f"Between {low} and {high} {unit}.")
        # Providers never read these, but they are typed text shown back to every member: no web address.
        for name, what in ANSWER_WORDS.items():
            if name in data and len(data[name]) > MAX_WORDS:
                self.add_error(name, f"Keep it under {MAX_WORDS + 1} characters.")
            elif name in data:
                try:
                    data[name] = _phrases(clean_field(self, name, self.instance.workspace_id, what))
                except forms.ValidationError as exc:
                    self.add_error(name, exc)
        return data


class CommandForm(forms.Form):
    label = forms.CharField(max_length=40)
    word = forms.CharField(max_length=60, help_text="First line of the message")
    statuses = forms.MultipleChoiceField(choices=STATUS_CHOICES, widget=forms.CheckboxSelectMultiple, required=False)
    keywords = forms.CharField(max_length=2000, required=False)

    def __init__(self, *args: Any, workspace_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.workspace_id = workspace_id

    def clean(self) -> dict[str, Any]:
        # Labels are on the Forward page, the word starts every provider message: no web address.
        super().clean()
        data = self.cleaned_data
        for name, what in (("label", "A command's label"), ("word", "A command's word"), ("keywords", "Ticket words")):
            try:
                refuse_addresses(self.workspace_id, data.get(name) or "", what)
            except AddressInText as exc:
                raise forms.ValidationError(str(exc)) from None
        return data


def _phrases(raw: str) -> str:
    """Ticket words as one tidy comma-separated line, whatever separated them in the form."""
    return ", ".join(p.strip() for p in raw.replace("\n", ",").split(",") if p.strip())


class TemplateForm(forms.Form):
    destination = forms.UUIDField(required=False, error_messages={"invalid": "Pick the destination from the list."})
    command = forms.UUIDField(required=False, error_messages={"invalid": "Pick the command from the list."})
    text = forms.CharField(widget=forms.Textarea)

    def __init__(self, *args: Any, workspace_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.workspace_id = workspace_id

    def clean_text(self) -> str:
        value = self.cleaned_data["text"]
        try:
            text.validate(value)
        except text.TemplateError as exc:
            raise forms.ValidationError(str(exc)) from None
        return clean_field(self, "text", self.workspace_id, "A message template")


def _context(request: MemberRequest, **extra: Any) -> dict[str, Any]:
    return {
        "tab": "forwarding",
        "options": extra.pop("options", OptionsForm(instance=ForwardingSettings.of(request.workspace))),
        "commands": Command.for_workspace(request.workspace),
        "templates": scoped(request, MessageTemplate).select_related("destination", "command"),
        "destinations": scoped(request, Destination).order_by("name"),
        "status_choices": STATUS_CHOICES,
        "variables": text.VARIABLES,
        "default_template": text.DEFAULT_TEMPLATE,
        **extra,
    }


@require_member("routing")
def forwarding_settings(request: MemberRequest) -> HttpResponse:
    settings = ForwardingSettings.of(request.workspace)
    options = OptionsForm(request.POST or None, instance=settings)
    if request.method == "POST" and options.is_valid():
        options.save()
        messages.success(request, "Forwarding options saved.")
        return redirect("forwarding:settings")
    return render(request, "forwarding/settings.html", _context(request, options=options))


@require_member("routing")
@require_POST
def add_command(request: MemberRequest) -> HttpResponse:
    form = CommandForm(request.POST, workspace_id=request.workspace.id)
    if not form.is_valid():
        messages.error(
            request, " ".join(str(e) for e in form.non_field_errors()) or "A command needs a label and a message word."
        )
        return redirect("forwarding:settings")
    data = form.cleaned_data
    slug = slugify(data["label"]).replace("-", "_")[:40] or "command"
    if scoped(request, Command).filter(slug=slug).exists():
        messages.error(request, f"A command called “{data['label']}” exists already.")
        return redirect("forwarding:settings")
    position = scoped(request, Command).count()
    Command.objects.create(workspace=request.workspace, slug=slug, label=data["label"], word=data["word"],
                           statuses=data["statuses"], position=position, keywords=_phrases(data["keywords"]))  # fmt: skip
    messages.success(request, f"Command “{data['label']}” added: it appears on the Forward page.")
    return redirect("forwarding:settings")


@require_member("routing")
@require_POST
def update_command(request: MemberRequest, code: UUID) -> HttpResponse:
    command = get_for_member(request, Command, code=code)
    form = CommandForm(request.POST, workspace_id=request.workspace.id)
    if not form.is_valid():
        messages.error(
            request, " ".join(str(e) for e in form.non_field_errors()) or "A command needs a label and a message word."
        )
        return redirect("forwarding:settings")
    command.label, command.word = form.cleaned_data["label"], form.cleaned_data["word"]
    command.statuses = form.cleaned_data["statuses"]
    command.keywords = _phrases(form.cleaned_data["keywords"])
    command.save()
    messages.success(request, f"Command “{command.label}” saved.")
    return redirect("forwarding:settings")


@require_member("routing")
@require_POST
def toggle_command(request: MemberRequest, code: UUID) -> HttpResponse:
    command = get_for_member(request, Command, code=code)
    save_toggle(request, command, "enabled")
    return render(request, "forwarding/_command_toggle.html", {"c": command})


@require_member("routing")
@require_POST
def delete_command(request: MemberRequest, code: UUID) -> HttpResponse:
    command = get_for_member(request, Command, code=code)
    if command.builtin:
        messages.error(request, "Built-in commands can be turned off but not deleted.")
    else:
        command.delete()
        messages.success(request, f"Command “{command.label}” deleted.")
    return redirect("forwarding:settings")


@require_member("routing")
@require_POST
def save_template(request: MemberRequest) -> HttpResponse:
    form = TemplateForm(request.POST, workspace_id=request.workspace.id)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(str(e) for e in errors))
        return redirect("forwarding:settings")
    data = form.cleaned_data
    destination = get_for_member(request, Destination, code=data["destination"]) if data["destination"] else None
    command = get_for_member(request, Command, code=data["command"]) if data["command"] else None
    MessageTemplate.objects.update_or_create(
        workspace=request.workspace, destination=destination, command=command, defaults={"text": data["text"]}
    )
    messages.success(request, "Template saved.")
    return redirect("forwarding:settings")


@require_member("routing")
@require_POST
def delete_template(request: MemberRequest, code: UUID) -> HttpResponse:
    get_for_member(request, MessageTemplate, code=code).delete()
    messages.success(request, "Template removed; the default applies again.")
    return redirect("forwarding:settings")
