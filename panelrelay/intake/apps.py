"""The intake app: requests that arrive by themselves, from support tickets and the team's Telegram bot.

It polls tickets and answers them (tickets.py), and turns staff commands to the team bot into
requests (bot.py); the text itself is read by `panelrelay.reading`.
"""

from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "panelrelay.intake"
    label = "intake"
    verbose_name = "Intake: requests from support tickets and the team bot"

    def ready(self) -> None:
        # Imported here, not at the top: models load only once the app registry is ready.
        from panelrelay.forwarding import after
        from panelrelay.intake import bot, tickets
        from panelrelay.transports import incoming

        # Before start links: a staff member's /start token and every staff command are the team bot's.
        incoming.subscribe("intake.team_bot", bot.receiver, priority=10)
        # A provider's outcome (answer or panel confirmation) becomes the ticket's second reply.
        if tickets.on_outcome not in after.OUTCOME_RECEIVERS:
            after.OUTCOME_RECEIVERS.append(tickets.on_outcome)
