from django.apps import AppConfig


class ClinicConfig(AppConfig):
    name = "limber.clinic"
    label = "clinic"

    def ready(self) -> None:
        # The practice app never imports the clinic (DESIGN.md §3): the clinic tells it instead.
        from limber.clinic import prescriptions
        from limber.practice import plan

        if prescriptions.clinician_plan not in plan.PROVIDERS:
            plan.PROVIDERS.append(prescriptions.clinician_plan)
        from limber.clinic import care

        if care.closed_notice not in plan.NOTICES:
            plan.NOTICES.append(care.closed_notice)

        from django.contrib.auth import get_user_model
        from django.db.models.signals import pre_delete

        pre_delete.connect(
            _end_care_given_by_deleted_user, sender=get_user_model(), dispatch_uid="clinic-end"
        )

        from limber.accounts import views as account_views

        if care.deleting_ends not in account_views.DELETE_WARNINGS:
            account_views.DELETE_WARNINGS.append(care.deleting_ends)


def _end_care_given_by_deleted_user(sender, instance, **kwargs) -> None:  # type: ignore[no-untyped-def]
    from django.utils import timezone

    from limber.clinic import care

    care.end_all_care_given_by(instance, timezone.now())
