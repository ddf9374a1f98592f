from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class WorkerConfig(AppConfig):
    name = "panelrelay.worker"
    label = "worker"
    verbose_name = "Worker: the database is the queue"

    def ready(self) -> None:
        # Each app declares its job handlers and periodic tasks in a `jobs` module.
        autodiscover_modules("jobs")
