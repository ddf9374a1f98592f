"""The team bot: staff send the workspace's Telegram bot "/refill 123 456" in a private chat.

The bot is the workspace's Telegram connection; its updates are read by the one `getUpdates`
poller in transports (Telegram allows only one) or arrive by webhook, and go through the front
door (transports.incoming), where `receiver` is subscribed first for private chats:

- "/start <token>" with a staff member's one-time token (Profile → Team bot) links that
  Telegram account to the membership; any other /start is left to transports' start links;
- a command from a linked account becomes a request (source "bot", created by that user),
  if their role allows forwarding; once every order is final, one summary goes back;
- "/panel" lists the workspace's panels and "/panel 2" (or a name) picks the one this member's
  commands go to (also on the profile page); without a choice, the first panel turned on;
- "/status 123 456" answers where each id's latest request stands (any panel): sent where, the
  provider's answer (masked, as everywhere), the panel's confirmation, a reminder or escalation;
- anything from an account not linked is ignored silently: no reply, no request.

Every answer is a worker job (`intake.bot_send`, `intake.bot_summary`), paced like any message.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.timesince import timesince

from panelrelay.accounts.models import Membership
from panelrelay.core import params
from panelrelay.forwarding.models import Command, ForwardRequest, Progress, RequestOrder
from panelrelay.forwarding.submit import SubmitError, create_request
from panelrelay.intake.models import BotMessage, TelegramLink
from panelrelay.panels.models import Panel
from panelrelay.reading.orderids import NotOrderIds, split_ids
from panelrelay.reading.parser import parse_bot_command
from panelrelay.transports.incoming import Incoming
from panelrelay.transports.models import Connection
from panelrelay.worker.queue import enqueue

log = logging.getLogger("panelrelay.intake")
LINK_VALID = timedelta(days=1)
HELP = (
    "Send a command and panel order ids, e.g. /refill 123 456 (also /cancel, /speed_up, /partial). "
    "/panel shows which panel they go to. /status 123 456 says where those orders stand."
)
_PANEL_COMMAND = re.compile(r"\s*/panel(?:@([A-Za-z0-9_]+))?(?:\s+(.*))?\s*$", re.IGNORECASE | re.DOTALL)
_STATUS_COMMAND = re.compile(r"\s*/status(?:@([A-Za-z0-9_]+))?(?:\s+(.*))?\s*$", re.IGNORECASE | re.DOTALL)
STATUS_MAX = 30  # ids answered by one /status: the answer stays one readable message


def receiver(incoming: Incoming) -> bool:
    """The front door's receiver: private messages to a Telegram bot are looked at here first."""
    if not (incoming.connection.is_telegram and incoming.private):
        return False
    return handle_private(incoming.connection, incoming.raw)


def handle_private(connection: Connection, message: dict[str, Any]) -> bool:
    """Handle a private message if it is the team bot's; True when transports should stop here."""
    sender = message.get("from") or {}
    text = str(message.get("text") or "")
    if not sender.get("id") or not text:
        return False
    user_id = str(sender["id"])
    if text.startswith("/start"):
        token = text.split(maxsplit=1)[1].strip() if " " in text else ""
        return _link(connection, sender, token)
    link = _linked(connection, user_id)
    if link is None:
        return True  # not one of the team: silence, and no provider start-link handling either
    if _first_time(connection, user_id, message):
        _dispatch(connection, link, user_id, text)
    return True


def _dispatch(connection: Connection, link: TelegramLink, user_id: str, text: str) -> None:
    """/panel and /status (addressed to this bot or to none); anything else is a forwarding command."""
    ours = (connection.config.get("username") or "").lstrip("@").casefold()
    for pattern, action in ((_PANEL_COMMAND, _choose_panel), (_STATUS_COMMAND, _status)):
        found = pattern.match(text)
        addressed = found and found.group(1)
        if found and (not addressed or not ours or addressed.casefold() == ours):
            action(connection, link, user_id, (found.group(2) or "").strip())
            return
    _command(connection, link, user_id, text)


def _first_time(connection: Connection, user_id: str, message: dict[str, Any]) -> bool:
    """Claim the message: False when another poller (or an earlier read) acted on it already."""
    try:
        with transaction.atomic():
            BotMessage.objects.create(connection=connection, telegram_user_id=user_id,
                                      message_id=str(message.get("message_id", ""))[:40])  # fmt: skip
    except IntegrityError:
        return False
    return True


def _linked(connection: Connection, user_id: str) -> TelegramLink | None:
    return (
        TelegramLink.objects.select_related("membership__user", "membership__workspace")
        .filter(telegram_user_id=user_id, membership__workspace_id=connection.workspace_id)
        .first()
    )


def _link(connection: Connection, sender: dict[str, Any], token: str) -> bool:
    fresh = timezone.now() - LINK_VALID
    links = TelegramLink.objects.filter(
        token=token, token_used=False, token_created__gte=fresh, membership__workspace_id=connection.workspace_id
    )
    if not token or not links.exists():
        return False  # maybe a provider's start link (transports), or a plain /start
    user_id = str(sender["id"])
    name = " ".join(str(sender.get(k) or "") for k in ("first_name", "last_name")).strip() or user_id
    with transaction.atomic():
        # One Telegram account speaks for one member of a workspace.
        TelegramLink.objects.filter(membership__workspace_id=connection.workspace_id, telegram_user_id=user_id).update(
            telegram_user_id="", telegram_name="", linked_at=None
        )
        won = links.update(
            token_used=True, telegram_user_id=user_id, telegram_name=name[:200], linked_at=timezone.now()
        )
    if won:
        link = TelegramLink.objects.select_related("membership__user").get(token=token)
        who = link.membership.user.email or link.membership.user.username
        say(connection, user_id, f"✓ Linked to {connection.workspace.name} as {who}. {HELP}")
    return True


def _command(connection: Connection, link: TelegramLink, user_id: str, text: str) -> None:
    membership = link.membership
    if not membership.has("forward"):
        say(connection, user_id, "Your role in this workspace does not allow forwarding requests. Ask the owner.")
        return
    commands = {c.slug: c for c in Command.for_workspace(membership.workspace) if c.enabled}
    parsed = parse_bot_command(text, {slug: [] for slug in commands},
                               bot_username=connection.config.get("username"))  # fmt: skip
    command = commands.get(parsed.command or "")
    if command is None or not parsed.ids:
        say(connection, user_id, f"Not understood: {parsed.reason}. {HELP}")
        return
    panel = bot_panel(link)
    if panel is None:
        say(connection, user_id, "There is no panel turned on in this workspace.")
        return
    try:
        request = create_request(membership.workspace, panel, command, parsed.ids, source=ForwardRequest.BOT,
                                 source_ref=f"tg:{user_id}", user=membership.user)  # fmt: skip
    except SubmitError as exc:
        say(connection, user_id, str(exc))
        return
    enqueue("intake.bot_summary", {"request": request.pk, "connection": connection.pk, "chat": user_id},
            workspace=membership.workspace, key=f"intake.bot_summary:{request.pk}")  # fmt: skip


def panels_for(link: TelegramLink) -> list[Panel]:
    """The panels a member's commands may go to: those turned on, oldest first."""
    return list(Panel.objects.filter(workspace_id=link.membership.workspace_id, enabled=True).order_by("created", "id"))


def bot_panel(link: TelegramLink, panels: list[Panel] | None = None) -> Panel | None:
    """The member's chosen panel while it is turned on; else the first panel turned on."""
    panels = panels_for(link) if panels is None else panels
    return next((p for p in panels if p.pk == link.panel_id), None) or (panels[0] if panels else None)


def _choose_panel(connection: Connection, link: TelegramLink, user_id: str, wanted: str) -> None:
    panels = panels_for(link)
    if not panels:
        say(connection, user_id, "There is no panel turned on in this workspace.")
        return
    current = bot_panel(link, panels) or panels[0]  # bot_panel() falls back to panels[0] itself
    if wanted:
        pick = None
        if params.is_digits(wanted, max_length=4) and 1 <= int(wanted) <= len(panels):
            pick = panels[int(wanted) - 1]
        pick = pick or next((p for p in panels if p.name.casefold() == wanted.casefold()), None)
        if pick is not None:
            TelegramLink.objects.filter(pk=link.pk).update(panel=pick)
            say(connection, user_id, f"✓ Your commands now go to the panel {pick.name}.")
            return
        head = f"No panel “{wanted[:60]}” is turned on."
    else:
        head = f"Your commands go to the panel {current.name}."
    lines = [head, *(f"{n}. {p.name}{' ✓' if p == current else ''}" for n, p in enumerate(panels, 1))]
    if len(panels) > 1:
        lines.append("Choose with /panel 2 (its number or name).")
    say(connection, user_id, "\n".join(lines))


def _status(connection: Connection, link: TelegramLink, user_id: str, wanted: str) -> None:
    try:
        ids = split_ids(wanted)
    except NotOrderIds as exc:
        say(connection, user_id, str(exc))
        return
    if not ids:
        say(connection, user_id, "Send /status and panel order ids, e.g. /status 123 456.")
        return
    say(connection, user_id, status(link.membership, ids))


def status(membership: Membership, ids: list[str], now: datetime | None = None) -> str:
    """One line per id: where its latest request stands (any panel of the workspace).

    What the member sees on Activity: every request with "See all activity", else their own.
    """
    now = now or timezone.now()
    shown = ids[:STATUS_MAX]
    latest: dict[str, RequestOrder] = {}
    rows = RequestOrder.objects.filter(workspace_id=membership.workspace_id, panel_order_id__in=shown)
    if not membership.has("activity"):
        rows = rows.filter(request__created_by_id=membership.user_id)
    rows = rows.select_related("request")
    for order in rows.order_by("-id"):
        latest.setdefault(order.panel_order_id, order)
    lines = [status_line(latest[i], now) if i in latest else f"no request for {i}" for i in shown]
    if len(ids) > STATUS_MAX:
        lines.append(f"… and {len(ids) - STATUS_MAX} more: ask for at most {STATUS_MAX} at a time")
    return "\n".join(lines)


def status_line(order: RequestOrder, now: datetime) -> str:
    """`123: refill sent to FastLikes_A 3 hours ago · answered done “✅” 2 hours ago` (words masked)."""
    head = f"{order.panel_order_id}: {order.request.command_label.lower()} ({order.request.panel_name})"
    if order.state != RequestOrder.SENT or order.sent_at is None:
        why = order.reason or order.get_outcome_display()
        return f"{head} {order.get_state_display().lower()}: {why} {_ago(order.updated, now)}"
    parts = [f"{head} sent to {order.provider_alias or order.destination_label} {_ago(order.sent_at, now)}"]
    if order.answered_at:
        words = f" “{' '.join(order.answer_text.split())[:120]}”" if order.answer_text else ""
        parts.append(f"answered {order.answer_kind}{words} {_ago(order.answered_at, now)}")
    if order.progress == Progress.CONFIRMED and order.confirmed_at:
        parts.append(f"confirmed by the panel {_ago(order.confirmed_at, now)}")
    elif order.progress in (Progress.FOLLOW_UP, Progress.ESCALATED, Progress.NO_ANSWER):
        at = order.escalated_at if order.progress != Progress.FOLLOW_UP else order.follow_up_at
        parts.append(f"{order.get_progress_display().lower()}{' ' + _ago(at, now) if at else ''}")
    return " · ".join(parts)


def _ago(at: datetime, now: datetime) -> str:
    if now - at < timedelta(minutes=1):
        return "just now"
    return timesince(at, now, depth=1).replace("\xa0", " ") + " ago"  # Django's non-breaking space


def say(connection: Connection, chat: str, text: str) -> None:
    """Queue one private answer; the worker sends it within the chat's pacing."""
    enqueue("intake.bot_send", {"connection": connection.pk, "chat": chat, "text": text[:4000]},
            workspace=connection.workspace)  # fmt: skip


def summary(request: ForwardRequest) -> str:
    """One line per order: where it went or why not."""
    lines = [f"{request.command_label} × {request.total} ({request.panel_name})"]
    for order in request.orders.order_by("id")[:200]:
        if order.state == RequestOrder.SENT:
            lines.append(f"{order.panel_order_id}: sent to {order.destination_label}")
        else:
            lines.append(f"{order.panel_order_id}: {order.get_state_display().lower()}: {order.reason}")
    if request.total > 200:
        lines.append(f"… and {request.total - 200} more on the Activity page")
    return "\n".join(lines)
