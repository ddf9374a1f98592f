from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "panelrelay.intake"
    label = "intake"
    verbose_name = "Intake: reading requests from tickets and the team bot"

    def ready(self) -> None:
        from panelrelay.intake import bot
        from panelrelay.transports import incoming

        # Before start links: a staff member's /start token and every staff command are the team bot's.
        incoming.subscribe("intake.team_bot", bot.receiver, priority=10)
