"""Clinicians, their clinics, the patients linked to them and what they prescribe."""

import secrets
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

INVITE_DAYS = 7  # the issue: "a single-use code with an expiry (7 days)"


def _code() -> str:
    # 10 characters from an alphabet without look-alikes: easy to read out, 50 bits to guess.
    alphabet = "ABCDEFGHJKMNPQRSTVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(10))


def _secret() -> str:
    return secrets.token_urlsafe(32)


class Clinic(models.Model):
    name = models.CharField(max_length=200)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="clinics", blank=True)

    def __str__(self) -> str:
        return self.name


class Invite(models.Model):
    """A single-use code a clinician gives a patient to link their account."""

    code = models.CharField(max_length=20, unique=True, default=_code)
    clinician = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="invites")
    created = models.DateTimeField(default=timezone.now)
    expires = models.DateTimeField()
    used_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"invite {self.code} by {self.clinician_id}"

    def save(self, *args, **kwargs):
        if self.expires is None:
            self.expires = self.created + timedelta(days=INVITE_DAYS)
        super().save(*args, **kwargs)


class CareLink(models.Model):
    """A patient under a clinician's care. Ending it keeps the row (and the patient's data)."""

    patient = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="care_links")
    # A clinician who deletes their account has every link ended first (care.end_all_care_given_by);
    # the ended links stay, with nobody as clinician, so each patient can be told why theirs ended.
    clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+"
    )
    created = models.DateTimeField(default=timezone.now)
    ended = models.DateTimeField(null=True, blank=True)
    # Ended because the clinician deleted their account, not by the patient: said to the patient.
    clinician_left = models.BooleanField(default=False)

    class Meta:
        constraints = [
            # One clinician at a time: the patient sees "the name of their clinician".
            models.UniqueConstraint(
                fields=["patient"], condition=Q(ended=None), name="one_active_care_link"
            )
        ]
        indexes = [models.Index(fields=["clinician", "ended"])]

    def __str__(self) -> str:
        return f"{self.patient_id} cared for by {self.clinician_id}"


class Access(models.Model):
    """A clinic colleague given access to a patient by the patient's own clinician."""

    patient = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="+")
    colleague = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="patient_access"
    )
    granted_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="+")
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["patient", "colleague"], name="one_access_per_pair")
        ]

    def __str__(self) -> str:
        return f"{self.colleague_id} may see {self.patient_id}"


class Prescription(models.Model):
    """The patient's current prescription, as validated data (see prescriptions.validate)."""

    patient = models.OneToOneField(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="prescription"
    )
    data = models.JSONField()
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+"
    )
    updated = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"prescription of {self.patient_id}"


class PrescriptionChange(models.Model):
    """Every change to a prescription: who, when, what changed, and the whole new version."""

    patient = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="+")
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+"
    )
    created = models.DateTimeField(default=timezone.now)
    changes = models.JSONField()  # sentences a person can read
    data = models.JSONField()

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [models.Index(fields=["patient", "-created"])]

    def __str__(self) -> str:
        return f"prescription change for {self.patient_id} at {self.created:%Y-%m-%d %H:%M}"


class CalendarFeed(models.Model):
    """The secret behind a patient's private reminder feed; resetting it makes a new one."""

    patient = models.OneToOneField(settings.AUTH_USER_MODEL, models.CASCADE, related_name="+")
    secret = models.CharField(max_length=64, unique=True, default=_secret)
    created = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"calendar feed of {self.patient_id}"

    def renew(self) -> None:
        """A new secret: the old address stops answering."""
        self.secret, self.created = _secret(), timezone.now()
        self.save(update_fields=["secret", "created"])
