from django.apps import AppConfig


class MasterConfig(AppConfig):
    name = "panelrelay.master"
    label = "master"
    verbose_name = "Master area: the platform operator's pages"
