from django.apps import AppConfig


class VaultConfig(AppConfig):
    name = "panelrelay.vault"
    label = "vault"
    verbose_name = "Vault: the master admin's append-only backup"

    def ready(self) -> None:
        # Imported here, not at the top: models load only once the app registry is ready.
        from panelrelay.core import keyrotation
        from panelrelay.vault import signals  # noqa: F401  (connects the change and delete receivers)
        from panelrelay.vault.models import BackupRecord
        from panelrelay.vault.reveal import rotated_payload

        keyrotation.register(BackupRecord, "payload_enc", rotated_payload)
