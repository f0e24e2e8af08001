import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone


class Screening(models.Model):
    """One answer to the red-flag questions; the latest decides whether practice may start."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="screenings")
    answers = models.JSONField()
    flagged = models.BooleanField()
    created = models.DateTimeField(default=timezone.now, db_index=True)
    # Which leg has the sciatica: sessions start with the other one, and its holds are capped.
    # NULL (not "") means "not said", which the API shows as null and a later check may fill.
    affected_side = models.CharField(  # noqa: DJ001
        max_length=5,
        null=True,
        blank=True,
        choices=[("left", "left"), ("right", "right"), ("both", "both")],
    )
    # "A clinician has seen me about this": with a clear answer, it lifts an earlier red flag.
    seen_clinician = models.BooleanField(default=False)
    # A clinician lifted this flagged answer (store.clear_screening).
    cleared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    cleared_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created", "-id"]

    def __str__(self) -> str:
        return (
            f"screening of {self.user_id} at {self.created:%Y-%m-%d %H:%M} flagged={self.flagged}"
        )


class PracticeSession(models.Model):
    """A practice session, keyed by the id its player made, so replays store it once."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="sessions")
    started_at = models.DateTimeField(db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    pain_before = models.PositiveSmallIntegerField(null=True, blank=True)
    pain_after = models.PositiveSmallIntegerField(null=True, blank=True)
    pain_spread = models.BooleanField(null=True, blank=True)
    received = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-started_at"]
        # Today's plan reads one person's recent window: (user, started_at) finds it directly.
        indexes = [models.Index(fields=["user", "started_at"], name="session_user_started")]

    def __str__(self) -> str:
        return f"session {self.id} of {self.user_id}"


class Hold(models.Model):
    """One completed hold of one leg."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    session = models.ForeignKey(PracticeSession, models.CASCADE, related_name="holds")
    exercise = models.CharField(max_length=100)
    variant = models.CharField(max_length=100)
    side = models.CharField(max_length=5)
    rep = models.PositiveSmallIntegerField()
    target_s = models.FloatField()
    held_s = models.FloatField()
    good_form_s = models.FloatField(null=True, blank=True)
    stretch_felt = models.BooleanField(null=True, blank=True)
    # "The stretch felt too strong": answered with stretch_felt; the next session offers the gentler variant.
    too_strong = models.BooleanField(null=True, blank=True)
    pain = models.PositiveSmallIntegerField(null=True, blank=True)
    position = models.PositiveSmallIntegerField(default=0)  # order within the session

    class Meta:
        ordering = ["session", "position"]

    def __str__(self) -> str:
        return f"{self.exercise} {self.side} rep {self.rep}: {self.held_s:g} s"
