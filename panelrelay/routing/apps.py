from django.apps import AppConfig


class RoutingConfig(AppConfig):
    name = "panelrelay.routing"
    label = "routing"
    verbose_name = "Routing: provider and service rules to destinations"
