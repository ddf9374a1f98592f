from django.apps import AppConfig


class VaultConfig(AppConfig):
    name = "panelrelay.vault"
    label = "vault"
    verbose_name = "Vault: the master admin's append-only backup"

    def ready(self) -> None:
        from panelrelay.vault import signals  # noqa: F401  (connects the delete receivers)
