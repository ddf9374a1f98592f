from django.apps import AppConfig


class PanelsConfig(AppConfig):
    name = "panelrelay.panels"
    label = "panels"
    verbose_name = "Panels: connections, panel API adapters, providers"
