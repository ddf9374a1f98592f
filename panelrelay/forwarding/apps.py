from django.apps import AppConfig


class ForwardingConfig(AppConfig):
    name = "panelrelay.forwarding"
    label = "forwarding"
    verbose_name = "Forwarding: requests, messages, delivery"
