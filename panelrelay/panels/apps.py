from django.apps import AppConfig


class PanelsConfig(AppConfig):
    name = "panelrelay.panels"
    label = "panels"
    verbose_name = "Panels: connections, panel API adapters, providers"

    def ready(self) -> None:
        # Imported here, not at the top: models load only once the app registry is ready.
        from panelrelay.core import keyrotation
        from panelrelay.panels.models import Panel, Provider

        keyrotation.register(Panel, "api_key_enc")
        keyrotation.register(Provider, "domain_enc")
