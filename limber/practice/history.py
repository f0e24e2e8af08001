"""What the history page shows: chart series, a calendar of days practised, and the reasons."""

from __future__ import annotations

import calendar as cal
from datetime import date, datetime, timedelta
from statistics import fmean
from typing import Any

from limber.core import progression
from limber.library import get_library
from limber.practice import plan, store

MONTHS_SHOWN = 2
REASONED_SESSIONS = 30  # the table explains the latest sessions; older ones are in the export


def chart_data(sessions: list) -> dict[str, Any]:
    """uPlot's column layout: x (unix seconds) then one column per series, oldest first."""
    library = get_library()
    ordered = sorted(sessions, key=lambda s: s.started_at)
    xs = [int(s.started_at.timestamp()) for s in ordered]
    used = [
        slug for slug in library if any(h.exercise == slug for s in ordered for h in s.holds.all())
    ]
    columns = []
    for slug in used:
        col = []
        for s in ordered:
            held = [h.held_s for h in s.holds.all() if h.exercise == slug]
            col.append(round(fmean(held), 1) if held else None)
        columns.append(col)
    return {
        "holds": {"series": [library[slug].name for slug in used], "values": [xs, *columns]},
        "pain": {"values": [xs, [s.pain_before for s in ordered], [s.pain_after for s in ordered]]},
    }


def months(practised: set[date], today: date) -> list[dict[str, Any]]:
    out = []
    first = today.replace(day=1)
    starts = [first]
    for _ in range(MONTHS_SHOWN - 1):
        starts.insert(0, (starts[0] - timedelta(days=1)).replace(day=1))
    weekdays = [(cal.day_abbr[d][:2], cal.day_name[d]) for d in range(7)]
    for start in starts:
        weeks = []
        for week in cal.Calendar(firstweekday=0).monthdayscalendar(start.year, start.month):
            weeks.append(
                [
                    {"day": d, "practised": bool(d) and start.replace(day=d) in practised}
                    for d in week
                ]
            )
        out.append({"title": start.strftime("%B %Y"), "weekdays": weekdays, "weeks": weeks})
    return out


def page_context(user, now: datetime) -> dict[str, Any]:
    library = get_library()
    sessions = store.sessions_of(user)
    records = plan.records(sessions)
    rows = []
    for s in sessions[:REASONED_SESSIONS]:
        # The plan as it stood that day: the history before the session, prescribed for its day.
        before = [r for r in records if r.started_at < s.started_at]
        prescription = progression.prescribe(library, before, s.started_at.date())
        summary = []
        for slug in library:
            holds = [h for h in s.holds.all() if h.exercise == slug]
            if holds:
                longest = max(h.held_s for h in holds)
                summary.append(f"{library[slug].name}: {len(holds)} × up to {longest:g} s")
        rows.append(
            {
                "started_at": s.started_at,
                "pain_before": s.pain_before,
                "pain_after": s.pain_after,
                "pain_spread": s.pain_spread,
                "summary": summary,
                "reasons": [f"{i.name}: {i.reason}" for i in prescription.items]
                + list(prescription.notes),
            }
        )
    today = progression.prescribe(library, records, now.date())
    return {
        "sessions": rows,
        "today_reasons": [f"{i.name}: {i.reason}" for i in today.items],
        "calendar": months({s.started_at.date() for s in sessions}, now.date()),
        "chart_data": chart_data(sessions),
    }
