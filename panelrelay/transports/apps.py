from django.apps import AppConfig


class TransportsConfig(AppConfig):
    name = "panelrelay.transports"
    label = "transports"
    verbose_name = "Transports: Telegram and WhatsApp connections, destinations"
