import uuid
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Count, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce
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


TOTALS = (
    "hold_count",
    "held_s",
    "timed_held_s",
    "good_form_s",
)  # PracticeSession's sums of its holds


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
    # Sums over the session's holds, so that pages reading many sessions (the clinician's
    # dashboard) need not read their holds (DESIGN.md §7: summaries kept on write). Hold's
    # manager and save() keep them: never set them by hand. See recount().
    hold_count = models.PositiveIntegerField(default=0)
    held_s = models.FloatField(default=0)
    # Only the holds the camera timed (good_form_s set): the good-form share is
    # good_form_s / timed_held_s, so holds without the camera do not dilute it.
    timed_held_s = models.FloatField(default=0)
    good_form_s = models.FloatField(default=0)

    class Meta:
        ordering = ["-started_at"]
        # Today's plan reads one person's recent window: (user, started_at) finds it directly.
        indexes = [models.Index(fields=["user", "started_at"], name="session_user_started")]

    def __str__(self) -> str:
        return f"session {self.id} of {self.user_id}"

    def save(self, *args, **kwargs):
        # A stored session saved whole, read before its holds changed, would write its stale
        # totals back: only recount() writes them once the row exists.
        if not self._state.adding and kwargs.get("update_fields") is None:
            kwargs["update_fields"] = [
                f.name
                for f in self._meta.concrete_fields
                if not f.primary_key and f.name not in TOTALS
            ]
        super().save(*args, **kwargs)


# The hold fields the session totals are made of: a write that changes one of them recounts.
TOTALLED_FIELDS = frozenset({"session", "session_id", "held_s", "good_form_s"})
RECOUNT_BATCH = 500  # session ids per UPDATE: well under SQLite's limit on query parameters


def totals(holds: type[models.Model]) -> dict[str, models.Expression]:
    """The session totals as subqueries over `holds` (a model class, so that the migration that
    filled them for existing sessions can pass its historical Hold)."""

    def over(aggregate: models.Aggregate, kind: models.Field, **where: object) -> Coalesce:
        rows = (
            holds._default_manager.filter(session=OuterRef("pk"), **where)
            .order_by()
            .values("session")
            .annotate(v=aggregate)
            .values("v")
        )
        return Coalesce(Subquery(rows), Value(0), output_field=kind)

    timed = {"good_form_s__isnull": False}
    return {
        "hold_count": over(Count("pk"), models.IntegerField()),
        "held_s": over(Sum("held_s"), models.FloatField()),
        "timed_held_s": over(Sum("held_s"), models.FloatField(), **timed),
        "good_form_s": over(Sum("good_form_s"), models.FloatField(), **timed),
    }


def recount(session_ids: Iterable[object]) -> None:
    """Set these sessions' totals from their holds as stored now: one UPDATE per batch.

    Counted afresh rather than added to, so a total cannot drift from its holds whatever
    happened before (a merge, a late answer, a replay)."""
    ids = list(dict.fromkeys(session_ids))
    for start in range(0, len(ids), RECOUNT_BATCH):
        PracticeSession.objects.filter(pk__in=ids[start : start + RECOUNT_BATCH]).update(
            **totals(Hold)
        )


def totals_of(holds: Iterable[Any]) -> dict[str, Any]:
    """The totals of a new session's holds (anything with held_s and good_form_s), as
    recount() would set them, for a session created with its holds in one go."""
    holds = list(holds)
    timed = [h for h in holds if h.good_form_s is not None]
    return {
        "hold_count": len(holds),
        "held_s": float(sum(h.held_s for h in holds)),
        "timed_held_s": float(sum(h.held_s for h in timed)),
        "good_form_s": float(sum(h.good_form_s for h in timed)),
    }


class HoldQuerySet(models.QuerySet["Hold"]):
    """Every bulk way of writing holds recounts the sessions it touched."""

    def bulk_create(self, objs, *args, **kwargs):
        rows = super().bulk_create(list(objs), *args, **kwargs)
        recount(h.session_id for h in rows)
        return rows

    def bulk_create_counted(self, objs, *args, **kwargs):
        """bulk_create for the holds of a session just created with their totals (totals_of):
        no recount, so storing a new session stays two inserts (tests/test_api.py)."""
        return super().bulk_create(objs, *args, **kwargs)

    def bulk_update(self, objs, fields, *args, **kwargs):
        objs = list(objs)
        if not TOTALLED_FIELDS.intersection(fields):
            return super().bulk_update(objs, fields, *args, **kwargs)
        # The sessions the holds leave as well as those they join.
        left = list(self.filter(pk__in=[h.pk for h in objs]).values_list("session_id", flat=True))
        done = super().bulk_update(objs, fields, *args, **kwargs)
        recount([*left, *(h.session_id for h in objs)])
        return done

    def update(self, **kwargs):
        if not TOTALLED_FIELDS.intersection(kwargs):
            return super().update(**kwargs)
        touched = list(self.values_list("session_id", flat=True).distinct())
        done = super().update(**kwargs)
        moved_to = kwargs.get("session", kwargs.get("session_id"))
        recount([*touched, *([getattr(moved_to, "pk", moved_to)] if moved_to else [])])
        return done

    def delete(self):
        touched = list(self.values_list("session_id", flat=True).distinct())
        done = super().delete()
        recount(touched)
        return done


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
    # The working knee's angle (degrees, as the camera saw it) at which the person said they feel
    # the stretch ("I feel the stretch here"), when they said so for this stretch and leg: the
    # camera then counted good form from there rather than from a straight knee.
    knee_felt_deg = models.FloatField(null=True, blank=True)
    position = models.PositiveSmallIntegerField(default=0)  # order within the session

    objects = HoldQuerySet.as_manager()

    class Meta:
        ordering = ["session", "position"]

    def __str__(self) -> str:
        return f"{self.exercise} {self.side} rep {self.rep}: {self.held_s:g} s"

    def save(self, *args, **kwargs):
        fields = kwargs.get("update_fields")
        # A stored hold moved to another session leaves its old one to recount too.
        moving = not self._state.adding and (
            fields is None or {"session", "session_id"} & set(fields)
        )
        old = (
            Hold.objects.filter(pk=self.pk).exclude(session_id=self.session_id)
            .values_list("session_id", flat=True).first()
            if moving
            else None
        )  # fmt: skip
        super().save(*args, **kwargs)
        if fields is None or TOTALLED_FIELDS.intersection(fields):
            recount([self.session_id, *([old] if old else [])])

    def delete(self, *args, **kwargs):
        done = super().delete(*args, **kwargs)
        recount([self.session_id])
        return done
