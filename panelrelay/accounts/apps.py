from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "panelrelay.accounts"
    label = "accounts"
    verbose_name = "Accounts: users, workspaces, team"
