from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "panelrelay.core"
    label = "core"
    verbose_name = "Core: HTTP, crypto, tenancy, UI shell"
