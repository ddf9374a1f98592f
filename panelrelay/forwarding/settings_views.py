"""Settings → Forwarding: cooldown, message options, commands and message templates."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.text import slugify
from django.views.decorators.http import require_POST

from panelrelay.core.tenancy import get_for_member, require_member, scoped
from panelrelay.core.toggles import save_toggle
from panelrelay.forwarding import text
from panelrelay.forwarding.models import Command, ForwardingSettings, MessageTemplate
from panelrelay.panels.adapters.base import STATUS_LABELS, UNKNOWN
from panelrelay.panels.privacy import AddressInText, clean_field, refuse_addresses
from panelrelay.transports.models import Destination

STATUS_CHOICES = [(k, v) for k, v in STATUS_LABELS.items() if k != UNKNOWN]


class OptionsForm(forms.ModelForm):
    class Meta:
        model = ForwardingSettings
        fields = ["cooldown_hours", "include_panel_ids", "max_age_hours", "refill_guarantee"]
        labels = {
            "cooldown_hours": "Cooldown (hours)",
            "include_panel_ids": "Add the panel order id beside each external id",
            "max_age_hours": "Give up delivering after (hours)",
            "refill_guarantee": "Refill guarantee: skip a refill after the period in the service name",
        }
        help_texts = {
            "cooldown_hours": "The same order and command is refused again within this time.",
            "refill_guarantee": "“30 Days Refill”, “R30”, “♻️ 30D”, “Lifetime”: for requests from every source.",
        }

    def clean_max_age_hours(self) -> int:
        value = self.cleaned_data["max_age_hours"]
        if not 1 <= value <= 168:
            raise forms.ValidationError("Between 1 and 168 hours.")
        return value


class CommandForm(forms.Form):
    label = forms.CharField(max_length=40)
    word = forms.CharField(max_length=60, help_text="First line of the message")
    statuses = forms.MultipleChoiceField(choices=STATUS_CHOICES, widget=forms.CheckboxSelectMultiple, required=False)
    keywords = forms.CharField(max_length=2000, required=False)

    def __init__(self, *args, workspace_id: int, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.workspace_id = workspace_id

    def clean(self) -> dict:
        # Labels are on the Forward page, the word starts every provider message: no web address.
        data = super().clean()
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

    def __init__(self, *args, workspace_id: int, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.workspace_id = workspace_id

    def clean_text(self) -> str:
        value = self.cleaned_data["text"]
        try:
            text.validate(value)
        except text.TemplateError as exc:
            raise forms.ValidationError(str(exc)) from None
        return clean_field(self, "text", self.workspace_id, "A message template")


def _context(request: HttpRequest, **extra) -> dict:
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
def forwarding_settings(request: HttpRequest) -> HttpResponse:
    settings = ForwardingSettings.of(request.workspace)
    options = OptionsForm(request.POST or None, instance=settings)
    if request.method == "POST" and options.is_valid():
        options.save()
        messages.success(request, "Forwarding options saved.")
        return redirect("forwarding:settings")
    return render(request, "forwarding/settings.html", _context(request, options=options))


@require_member("routing")
@require_POST
def add_command(request: HttpRequest) -> HttpResponse:
    form = CommandForm(request.POST, workspace_id=request.workspace.id)
    if not form.is_valid():
        messages.error(request, " ".join(form.non_field_errors()) or "A command needs a label and a message word.")
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
def update_command(request: HttpRequest, code) -> HttpResponse:
    command = get_for_member(request, Command, code=code)
    form = CommandForm(request.POST, workspace_id=request.workspace.id)
    if not form.is_valid():
        messages.error(request, " ".join(form.non_field_errors()) or "A command needs a label and a message word.")
        return redirect("forwarding:settings")
    command.label, command.word = form.cleaned_data["label"], form.cleaned_data["word"]
    command.statuses = form.cleaned_data["statuses"]
    command.keywords = _phrases(form.cleaned_data["keywords"])
    command.save()
    messages.success(request, f"Command “{command.label}” saved.")
    return redirect("forwarding:settings")


@require_member("routing")
@require_POST
def toggle_command(request: HttpRequest, code) -> HttpResponse:
    command = get_for_member(request, Command, code=code)
    save_toggle(request, command, "enabled")
    return render(request, "forwarding/_command_toggle.html", {"c": command})


@require_member("routing")
@require_POST
def delete_command(request: HttpRequest, code) -> HttpResponse:
    command = get_for_member(request, Command, code=code)
    if command.builtin:
        messages.error(request, "Built-in commands can be turned off but not deleted.")
    else:
        command.delete()
        messages.success(request, f"Command “{command.label}” deleted.")
    return redirect("forwarding:settings")


@require_member("routing")
@require_POST
def save_template(request: HttpRequest) -> HttpResponse:
    form = TemplateForm(request.POST, workspace_id=request.workspace.id)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
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
def delete_template(request: HttpRequest, code) -> HttpResponse:
    get_for_member(request, MessageTemplate, code=code).delete()
    messages.success(request, "Template removed; the default applies again.")
    return redirect("forwarding:settings")
