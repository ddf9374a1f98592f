"""Profile → Team bot (link your Telegram account) and Settings → Tickets (reply texts)."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from panelrelay.accounts.middleware import MemberRequest
from panelrelay.accounts.models import Workspace
from panelrelay.core.tenancy import require_member, scoped
from panelrelay.intake.bot import bot_panel
from panelrelay.intake.models import TelegramLink, TicketIntake, TicketPoll, TicketSettings
from panelrelay.panels.models import Panel
from panelrelay.panels.privacy import clean_field
from panelrelay.transports.models import Connection


class ReplyForm(forms.ModelForm):
    class Meta:
        model = TicketSettings
        fields = ["replies_enabled", "reply_forwarded", "reply_already", "reply_not_eligible", "reply_not_yours",
                  "reply_outcome_done", "reply_outcome_refused"]  # fmt: skip
        labels = {
            "replies_enabled": "Reply on the ticket when the request is decided",
            "reply_forwarded": "Forwarded",
            "reply_already": "Already requested (cooldown)",
            "reply_not_eligible": "Not eligible (status, refill period, not found…)",
            "reply_not_yours": "Not the customer's order",
            "reply_outcome_done": "Later: the provider says done, or the panel confirms it",
            "reply_outcome_refused": "Later: the provider refuses ({reason}: its words, without its name)",
        }
        widgets = {name: forms.Textarea(attrs={"rows": 2}) for name in fields[1:]}

    # Customers read these on their tickets: no web address, so no provider's domain either.
    def clean_reply_forwarded(self) -> str:
        return clean_field(self, "reply_forwarded", self.instance.workspace_id, "A ticket reply")

    def clean_reply_already(self) -> str:
        return clean_field(self, "reply_already", self.instance.workspace_id, "A ticket reply")

    def clean_reply_not_eligible(self) -> str:
        return clean_field(self, "reply_not_eligible", self.instance.workspace_id, "A ticket reply")

    def clean_reply_not_yours(self) -> str:
        return clean_field(self, "reply_not_yours", self.instance.workspace_id, "A ticket reply")

    def clean_reply_outcome_done(self) -> str:
        return clean_field(self, "reply_outcome_done", self.instance.workspace_id, "A ticket reply")

    def clean_reply_outcome_refused(self) -> str:
        return clean_field(self, "reply_outcome_refused", self.instance.workspace_id, "A ticket reply")


class BotPanelForm(forms.Form):
    panel = forms.ModelChoiceField(
        queryset=Panel.objects.none(), to_field_name="code", required=False,
        empty_label="The first panel turned on", label="Commands go to",
        widget=forms.Select(attrs={"class": "form-select form-select-sm w-auto"}),
    )  # fmt: skip

    def __init__(self, *args: Any, workspace: Workspace, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast(forms.ModelChoiceField, self.fields["panel"])
        field.queryset = Panel.objects.filter(workspace=workspace, enabled=True).order_by("created", "id")


def _bot(request: MemberRequest) -> Connection | None:
    """The workspace's Telegram bot that staff talk to: the first working one."""
    bots = scoped(request, Connection).filter(kind="telegram").order_by("id")
    return bots.exclude(status=Connection.BROKEN).first() or bots.first()


@require_member()
def profile(request: MemberRequest) -> HttpResponse:
    link = TelegramLink.objects.filter(membership=request.membership).first()
    bot = _bot(request)
    username = (bot.config.get("username") or "").lstrip("@") if bot else ""
    start_url = f"https://t.me/{username}?start={link.token}" if link and username and not link.token_used else ""
    panel_form = BotPanelForm(workspace=request.workspace, initial={"panel": link.panel if link else None})
    context = {"link": link, "bot": bot, "bot_username": username, "start_url": start_url,
               "can_forward": request.membership.has("forward"), "panel_form": panel_form,
               "bot_panel": bot_panel(link or TelegramLink(membership=request.membership))}  # fmt: skip
    return render(request, "intake/profile.html", context)


@require_member()
@require_POST
def choose_panel(request: MemberRequest) -> HttpResponse:
    """The panel this member's team-bot commands go to (the same choice as /panel in the chat)."""
    link, _ = TelegramLink.objects.get_or_create(membership=request.membership)
    form = BotPanelForm(request.POST, workspace=request.workspace)
    if not form.is_valid():  # another workspace's panel, one turned off, or a made-up code
        messages.error(request, "Choose one of this workspace's panels that is turned on.")
        return redirect("intake:profile")
    link.panel = form.cleaned_data["panel"]
    link.save(update_fields=["panel"])
    chosen = link.panel.name if link.panel else "the first panel turned on"
    messages.success(request, f"Your team-bot commands go to {chosen}.")
    return redirect("intake:profile")


@require_member()
@require_POST
def new_link(request: MemberRequest) -> HttpResponse:
    link, created = TelegramLink.objects.get_or_create(membership=request.membership)
    if not created:
        link.new_token()
        link.save(update_fields=["token", "token_created", "token_used"])
    messages.success(request, "A new one-time link is ready: open it on the phone where you use Telegram.")
    return redirect("intake:profile")


@require_member()
@require_POST
def unlink(request: MemberRequest) -> HttpResponse:
    TelegramLink.objects.filter(membership=request.membership).update(
        telegram_user_id="", telegram_name="", linked_at=None, token_used=True
    )
    messages.success(request, "Your Telegram account is unlinked: the team bot ignores it from now on.")
    return redirect("intake:profile")


@require_member("routing")
def ticket_settings(request: MemberRequest) -> HttpResponse:
    form = ReplyForm(request.POST or None, instance=TicketSettings.of(request.workspace))
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Ticket replies saved.")
        return redirect("intake:tickets")
    context = {
        "tab": "tickets",
        "form": form,
        "panels": _with_pace(list(scoped(request, Panel).order_by("name"))),
        "recent": scoped(request, TicketIntake)
        .select_related("panel", "request")
        .prefetch_related("outcome_replies")
        .order_by("-created")[:20],
    }
    return render(request, "intake/tickets.html", context)


def _with_pace(panels: list[Panel]) -> list[tuple[Panel, str]]:
    """Each panel with what its adaptive ticket polling is doing now (intake/polling.py)."""
    polls = {p.panel_id: p for p in TicketPoll.objects.filter(panel__in=panels)}
    rows = []
    for panel in panels:
        poll = polls.get(panel.pk)
        pace = ""
        if poll and poll.polled_at and poll.next_at and panel.tickets_enabled:
            gap = round((poll.next_at - poll.polled_at).total_seconds())
            if poll.active_at and gap < panel.tickets_interval:
                pace = f"now every {gap} s: a new ticket or message"
            elif gap > panel.tickets_interval:
                pace = f"now every {gap} s: saving the calls spent when busy"
            else:
                pace = f"now every {gap} s"
        rows.append((panel, pace))
    return rows
