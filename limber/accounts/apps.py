from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "limber.accounts"
    label = "accounts"
