from django.apps import AppConfig


class TransportsConfig(AppConfig):
    name = "panelrelay.transports"
    label = "transports"
    verbose_name = "Transports: Telegram and WhatsApp connections, destinations"

    def ready(self) -> None:
        # Imported here, not at the top: models load only once the app registry is ready.
        from panelrelay.core import keyrotation
        from panelrelay.transports import incoming
        from panelrelay.transports.integrations.telegram.updates import start_link_receiver
        from panelrelay.transports.models import Connection

        incoming.subscribe("transports.start_links", start_link_receiver, priority=50)
        keyrotation.register(Connection, "secret_enc")
