"""`limber clinic NAME EMAIL...`: make a clinic (or find it by name) and add clinicians to it."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from limber.accounts.models import Profile, role_of
from limber.clinic.models import Clinic


class Command(BaseCommand):
    help = "Make a clinic, or find it by name, and add clinicians to it (colleagues)."

    def add_arguments(self, parser):
        parser.add_argument("name", help="the clinic's name")
        parser.add_argument("emails", nargs="*", help="clinicians' e-mails to add as members")

    def handle(self, *args, name: str, emails: list[str], **options):
        name = name.strip()
        if not name:
            raise CommandError("the clinic needs a name", returncode=2)
        users = []
        for email in emails:
            user = get_user_model().objects.filter(email__iexact=email.strip()).first()
            if user is None or role_of(user) != Profile.CLINICIAN:
                raise CommandError(
                    f"{email} is not a clinician's account (limber createuser {email} "
                    "--role clinician makes one)",
                    returncode=2,
                )
            users.append(user)
        with transaction.atomic():
            clinic, created = Clinic.objects.get_or_create(name=name)
            clinic.members.add(*users)
        members = ", ".join(clinic.members.order_by("email").values_list("email", flat=True))
        self.stdout.write(
            f"{'created' if created else 'updated'} clinic {name!r}: {members or 'no members yet'}"
        )
