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
