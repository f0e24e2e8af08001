"""Between the database and the core: history records in, today's prescription and script out."""

from __future__ import annotations

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


def today(user, now: datetime) -> dict[str, Any]:
    library = get_library()
    history = records(store.sessions_of(user))
    prescription = progression.prescribe(library, history, now.date())
    script = build_script(prescription, library)
    return {
        "date": now.date().isoformat(),
        "prescription": {**prescription.to_dict(), "history_sessions": len(history)},
        "script": script.to_dict(),
    }
