"""Between the database and the core: history records in, today's prescription and script out."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from limber.accounts.device import local, zone_of
from limber.core import progression, screening
from limber.core.script import build_script
from limber.library import get_library
from limber.practice import store
from limber.practice.models import Hold, PracticeSession

# How much history today's prescription reads: every rule looks back a bounded time. The pain
# baseline uses the last 14 days (and the first sessions' pains, read separately); the rise check
# the last 3 sessions; a stretch's hold is what its last session logged (so it is in the window
# whenever the stretch was done in it); a see-clinician flag lasts until the next symptoms check,
# and a check is due every 30 days, so any cause older than 30 days has had one after it. Sessions
# older than the window change nothing but a pause without two good days in a month, and a stretch
# not done for a month starts again at its first hold: the safe way back after a break.
WINDOW_DAYS = screening.MAX_AGE_DAYS

SESSION_COLUMNS = ("id", "started_at", "finished_at", "pain_before", "pain_after", "pain_spread")
HOLD_COLUMNS = ("session_id", "exercise", "variant", "side", "rep", "target_s", "held_s",
                "stretch_felt", "pain", "too_strong")  # fmt: skip


def window_records(
    user, since: datetime | None, until: datetime | None = None
) -> list[progression.SessionRecord]:
    """The user's sessions from ``since`` on (all when None), up to ``until`` when given, oldest
    first, read as plain rows: two queries whatever the number of sessions, and only the
    columns the rules use."""
    sessions = PracticeSession.objects.filter(user=user)
    holds = Hold.objects.filter(session__user=user)
    if since is not None:
        sessions = sessions.filter(started_at__gte=since)
        holds = holds.filter(session__started_at__gte=since)
    if until is not None:
        sessions = sessions.filter(started_at__lte=until)
        holds = holds.filter(session__started_at__lte=until)
    by_session: dict[Any, list[progression.HoldRecord]] = {}
    for row in holds.order_by("session_id", "position").values_list(*HOLD_COLUMNS):
        by_session.setdefault(row[0], []).append(progression.HoldRecord(*row[1:]))
    # On the person's own clock, so that a session's day is theirs (23:30 in New York is that
    # day, not the next one in UTC).
    zone = zone_of(user)
    return [
        progression.SessionRecord(
            str(sid),
            timezone.localtime(started, zone),
            None if finished is None else timezone.localtime(finished, zone),
            before,
            after,
            spread,
            tuple(by_session.get(sid, ())),
        )  # fmt: skip
        for sid, started, finished, before, after, spread in sessions.order_by(
            "started_at"
        ).values_list(*SESSION_COLUMNS)
    ]


def first_pains(user) -> list[int]:
    """The pain of the person's first answered sessions: the baseline's fixed half."""
    rows = (
        PracticeSession.objects.filter(user=user)
        .exclude(pain_before=None, pain_after=None)
        .order_by("started_at")
        .values_list("pain_before", "pain_after")[: progression.BASELINE_SESSIONS]
    )
    return [max(p for p in row if p is not None) for row in rows]


def screening_status(user, now: datetime | None = None) -> dict[str, Any]:
    """Whether practice may start (``blocked`` is "" when it may), and why not in plain words.

    A flagged answer blocks until a clinician clears it, or a later clear answer says "a
    clinician has seen me about this"; a full screening older than MAX_AGE_DAYS is asked again.
    """
    now = now or timezone.now()
    flagged, after = store.screenings_since_flag(user)
    latest = after[0] if after else flagged
    status: dict[str, Any] = {
        "blocked": "",
        "due": True,
        "latest": latest,
        "flagged": flagged,
        # The latest clear check (or a clinician's clear of the flag): it lifts see_clinician.
        "clear_at": max(
            [r.created for r in after if not r.flagged][:1]
            + ([flagged.cleared_at] if flagged is not None and flagged.cleared_at else []),
            default=None,
        ),
    }
    if latest is None:
        status["blocked"] = _("Answer the symptoms check before your first session.")
        return status
    age = (now - latest.created).days
    status["due"] = age >= screening.MAX_AGE_DAYS
    if flagged is not None and flagged.cleared_by_id is None:
        result = screening.evaluate_stored(flagged.answers, flagged.affected_side)
        seen = any(not r.flagged and r.seen_clinician for r in after)
        if latest.pk == flagged.pk:
            status["blocked"] = (
                _(
                    "Your last symptoms check showed a red flag that needs urgent care: go to an "
                    "emergency department or call the emergency number now. Answer the check "
                    "again once a clinician has seen you."
                )
                if result.urgent
                else _(
                    "Your last symptoms check showed a red flag: please see a doctor before "
                    "starting. Answer the check again once a clinician has seen you."
                )
            )
            return status
        if not seen:
            status["blocked"] = _(
                "Your symptoms check on %(day)s showed a red flag. Before practising, answer the "
                "check again and confirm that a clinician has seen you about it, or ask your "
                "clinician to clear it."
            ) % {"day": f"{flagged.created:%a} {flagged.created.day} {flagged.created:%b}"}
            return status
    if status["due"]:
        status["blocked"] = _(
            "Your last symptoms check was %(days)d days ago. It is asked again at least every "
            "%(max)d days: please answer it before today's session."
        ) % {"days": age, "max": screening.MAX_AGE_DAYS}
    return status


@dataclass(frozen=True)
class ClinicianPlan:
    """What a clinician prescribed, in the core's terms (caps) plus what the core has no field for."""

    caps: Mapping[str, progression.Caps]
    sides: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    reps_per_side: Mapping[str, int] = field(default_factory=dict)
    # The angle the camera counts each stretch's knee straight from (limber.core.form.judge).
    knee_from: Mapping[str, float] = field(default_factory=dict)
    affected_side: str | None = None
    times_per_week: int | None = None
    clinician_note: str = ""
    override_reason: str = ""


# Apps that shape today's plan register a function user -> ClinicianPlan | None here (the clinic
# does, in its AppConfig.ready), so that practice never imports them (DESIGN.md §3).
PROVIDERS: list[Callable[[Any], ClinicianPlan | None]] = []


# Notes for the practice page from apps practice does not import (DESIGN.md §3): each provider
# gives the person's note, or None.
NOTICES: list[Callable[[Any], str | None]] = []


def notices(user) -> list[str]:
    return [n for n in (provider(user) for provider in NOTICES) if n]


def clinician_plan(user) -> ClinicianPlan | None:
    return next((p for p in (provider(user) for provider in PROVIDERS) if p is not None), None)


def _follow(prescription: progression.Prescription, cp: ClinicianPlan) -> progression.Prescription:
    """The prescribed sides and reps, which Caps cannot say (it only lowers the reps). The sides
    keep the core's order (the affected leg second) and its per-side holds."""

    def follow(i: progression.Item) -> progression.Item:
        sides = cp.sides.get(i.exercise, i.sides)
        return replace(
            i,
            sides=tuple(x for x in i.sides if x in sides),
            hold_by_side=tuple(h for h in i.hold_by_side if h[0] in sides),
            reps_per_side=cp.reps_per_side.get(i.exercise, i.reps_per_side),
        )

    items = tuple(follow(i) for i in prescription.items)
    # The note itself is shown apart (prescription.clinician_note); the reason for going past
    # the article's goal is a note, so the patient reads it wherever notes are shown.
    notes = (
        [f"Your clinician allowed longer holds than the article's goal: {cp.override_reason}"]
        if cp.override_reason
        else []
    )
    return replace(prescription, items=items, notes=(*notes, *prescription.notes))


def screening_block(user, now: datetime | None = None) -> str:
    """Why practice may not start now, or "" when it may."""
    return str(screening_status(user, now)["blocked"])


def today(user, now: datetime, status: dict[str, Any] | None = None) -> dict[str, Any]:
    """Today's prescription and script, from a bounded window of recent history."""
    status = status or screening_status(user, now)
    library = get_library()
    history = window_records(user, now - timedelta(days=WINDOW_DAYS))
    cp = clinician_plan(user)
    affected = (cp.affected_side if cp else None) or store.affected_side_of(user)
    day = local(user, now).date()  # the person's today, on their own clock
    prescription = progression.prescribe(
        library,
        history,
        day,
        cp.caps if cp else None,
        affected_side=affected,
        first_pains=first_pains(user),
        clear_at=status["clear_at"],
    )
    if cp is not None:
        prescription = _follow(prescription, cp)
    script = build_script(prescription, library)
    today_sessions = [s for s in history if s.day == day]
    # Done for today: a finished session held today's holds in full, as the player and its page
    # count them (COMPLETE_FRACTION), not any session that ended, every hold skipped included.
    planned = sum(step.kind == "hold" for step in script.steps)
    latest = status["latest"]
    return {
        "date": day.isoformat(),
        "done_today": any(
            s.finished_at is not None
            and sum(progression.held_in_full(h.held_s, h.target_s) for h in s.holds) >= planned
            for s in today_sessions
        ),
        "sessions_today": len(today_sessions),
        "screening": {
            "last": latest.created.isoformat() if latest else None,
            "due_in_days": max(0, screening.MAX_AGE_DAYS - (now - latest.created).days)
            if latest
            else 0,
            "affected_side": affected,
        },
        "prescription": {
            **_with_knee_from(prescription.to_dict(), cp),
            "history_sessions": len(history),
            **(_clinician_fields(cp) if cp else {}),
        },
        "script": script.to_dict(),
    }


def _with_knee_from(prescription: dict[str, Any], cp: ClinicianPlan | None) -> dict[str, Any]:
    """Each item with the angle its clinician set for the camera's knee check, if any: the
    person reads it before the session, not first in the middle of a hold."""
    knee_from = cp.knee_from if cp else {}
    for item in prescription["items"]:
        if item["exercise"] in knee_from:
            item["knee_from_deg"] = knee_from[item["exercise"]]
    return prescription


def _clinician_fields(cp: ClinicianPlan) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "clinician_note": cp.clinician_note,
        "override_reason": cp.override_reason,
        "times_per_week": cp.times_per_week,
    }
    if cp.times_per_week is not None and cp.times_per_week < 7:
        # The clinician's frequency, where the app said "once a day" (a tester prescribed three
        # times a week; the handout and reminders said so, the app did not).
        fields["frequency"] = {
            "per_week": cp.times_per_week,
            "max_per_day": 2,
            "text": f"{cp.times_per_week} times a week, as your clinician set; at most twice a "
            "day.",
            "origin": "clinician",
            "source": "Your clinician's prescription",
            "reason": "Your clinician set how often.",
        }
    return fields
