from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "panelrelay.api"
    label = "api"
    verbose_name = "REST API v1 with per-workspace tokens"
