from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "panelrelay.intake"
    label = "intake"
    verbose_name = "Intake: reading requests from tickets and the team bot"
