"""Between the database and the core: history records in, today's prescription and script out."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from django.utils.translation import gettext as _

from limber.core import progression
from limber.core.script import build_script
from limber.library import get_library
from limber.practice import store
from limber.practice.models import PracticeSession


def records(sessions: list[PracticeSession]) -> list[progression.SessionRecord]:
    """Stored sessions as the core's history records (oldest first)."""
    out = []
    for s in sorted(sessions, key=lambda s: s.started_at):
        holds = tuple(
            progression.HoldRecord(
                exercise=h.exercise,
                variant=h.variant,
                side=h.side,
                rep=h.rep,
                target_s=h.target_s,
                held_s=h.held_s,
                stretch_felt=h.stretch_felt,
                pain=h.pain,
            )
            for h in s.holds.all()
        )
        out.append(
            progression.SessionRecord(
                id=str(s.id),
                started_at=s.started_at,
                finished_at=s.finished_at,
                pain_before=s.pain_before,
                pain_after=s.pain_after,
                pain_spread=bool(s.pain_spread),
                holds=holds,
            )
        )
    return out


def screening_block(user) -> str:
    """Why practice may not start now, or "" when it may."""
    latest = store.latest_screening(user)
    if latest is None:
        return _("Answer the symptoms check before your first session.")
    if latest.flagged:
        return _(
            "Your last symptoms check showed a red flag: please seek medical care. "
            "Answer the check again once a clinician has seen you."
        )
    return ""


@dataclass(frozen=True)
class ClinicianPlan:
    """What a clinician prescribed, in the core's terms (caps) plus what the core has no field for."""

    caps: Mapping[str, progression.Caps]
    sides: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    reps_per_side: Mapping[str, int] = field(default_factory=dict)
    affected_side: str | None = None
    times_per_week: int | None = None
    clinician_note: str = ""
    override_reason: str = ""


# Apps that shape today's plan register a function user -> ClinicianPlan | None here (the clinic
# does, in its AppConfig.ready), so that practice never imports them (DESIGN.md §3).
PROVIDERS: list[Callable[[Any], ClinicianPlan | None]] = []


def clinician_plan(user) -> ClinicianPlan | None:
    return next((p for p in (provider(user) for provider in PROVIDERS) if p is not None), None)


def _follow(prescription: progression.Prescription, cp: ClinicianPlan) -> progression.Prescription:
    """The prescribed sides and reps, which Caps cannot say (it only lowers the reps)."""
    items = tuple(
        replace(
            i,
            sides=cp.sides.get(i.exercise, i.sides),
            reps_per_side=cp.reps_per_side.get(i.exercise, i.reps_per_side),
        )
        for i in prescription.items
    )
    notes = [f"From your clinician: {cp.clinician_note}"] if cp.clinician_note else []
    if cp.override_reason:
        notes.append(
            f"Your clinician allowed longer holds than the article's goal: {cp.override_reason}"
        )
    return replace(prescription, items=items, notes=(*notes, *prescription.notes))


def today(user, now: datetime) -> dict[str, Any]:
    library = get_library()
    history = records(store.sessions_of(user))
    cp = clinician_plan(user)
    prescription = progression.prescribe(library, history, now.date(), cp.caps if cp else None)
    if cp is not None:
        prescription = _follow(prescription, cp)
    script = build_script(prescription, library)
    answer = {**prescription.to_dict(), "history_sessions": len(history)}
    if cp is not None:
        answer |= {
            "clinician_note": cp.clinician_note,
            "override_reason": cp.override_reason,
            "times_per_week": cp.times_per_week,
            "affected_side": cp.affected_side,
        }
    return {"date": now.date().isoformat(), "prescription": answer, "script": script.to_dict()}
