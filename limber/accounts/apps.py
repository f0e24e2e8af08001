from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "limber.accounts"
    label = "accounts"

    def ready(self) -> None:
        from django.contrib.auth import get_user_model
        from django.db.models.signals import post_save, pre_delete

        post_save.connect(_revoke_tokens_on_new_password, sender=get_user_model())
        pre_delete.connect(_revoke_tokens_of_deleted_user, sender=get_user_model())


def _revoke_tokens_on_new_password(sender, instance, created, **kwargs) -> None:
    # set_password() keeps the new password in _password until the save completes: a changed
    # or reset password (by the page, `limber changepassword` or the admin) ends every token,
    # since whoever had the old password may have made them.
    if not created and getattr(instance, "_password", None) is not None:
        from limber.accounts.models import ApiToken

        ApiToken.objects.revoke(instance)


def _revoke_tokens_of_deleted_user(sender, instance, **kwargs) -> None:
    # The cascade would delete the rows but not the cached lookups, which would go on naming a
    # user who no longer exists for up to TOKEN_CACHE_S.
    from limber.accounts.models import ApiToken

    ApiToken.objects.revoke(instance)
