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


DAY_S = 86_400
# Limber's default: the charts span at least two weeks, so one session sits among real dates
# instead of filling the whole width on its own.
MIN_SPAN_DAYS = 14
# Limber's default: the pain trend is the average of the sessions in the 7 days up to each one,
# long enough to smooth one bad day, short enough to show a week-on-week change.
TREND_DAYS = 7


def session_pain(before: int | None, after: int | None) -> int | None:
    """The session's pain for the trend, as for the baseline: the higher answer, if any."""
    answered = [p for p in (before, after) if p is not None]
    return max(answered) if answered else None


def pain_trend(xs: list[int], pains: list[int | None]) -> list[float | None]:
    """Per session, the average answered pain of the sessions in the TREND_DAYS up to it."""
    out: list[float | None] = []
    first, total, count = 0, 0, 0  # the window is xs[first : i + 1], sliding forwards
    for i, x in enumerate(xs):
        if pains[i] is not None:
            total, count = total + pains[i], count + 1
        while x - xs[first] >= TREND_DAYS * DAY_S:
            if pains[first] is not None:
                total, count = total - pains[first], count - 1
            first += 1
        out.append(round(total / count, 1) if count else None)
    return out


def chart_data(sessions: list, now: datetime, baseline: float | None = None) -> dict[str, Any]:
    """uPlot's column layout: x (unix seconds) then one column per series, oldest first.

    ``span`` is the time axis: at least MIN_SPAN_DAYS wide and ending a day after today.
    """
    library = get_library()
    ordered = sorted(sessions, key=lambda s: s.started_at)
    xs = [int(s.started_at.timestamp()) for s in ordered]
    end = max([int(now.timestamp()), *xs]) + DAY_S // 2
    start = min([end - MIN_SPAN_DAYS * DAY_S, *(x - DAY_S // 2 for x in xs)])
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
    pains = [session_pain(s.pain_before, s.pain_after) for s in ordered]
    return {
        "span": [start, end],
        "holds": {"series": [library[slug].name for slug in used], "values": [xs, *columns]},
        "pain": {
            "values": [
                xs,
                [s.pain_before for s in ordered],
                [s.pain_after for s in ordered],
                pain_trend(xs, pains),
            ],
            "baseline": baseline,
            "trend_days": TREND_DAYS,
        },
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
    before, today = _replayed(user, sessions[:REASONED_SESSIONS], now)
    rows = []
    for s in sessions[:REASONED_SESSIONS]:
        # The plan as it stood that day: the history before the session, prescribed for its day.
        prescription = before[str(s.id)]
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
    return {
        "session_count": len(sessions),
        "sessions": rows,
        "today_reasons": [f"{i.name}: {i.reason}" for i in today.items],
        "calendar": months({s.started_at.date() for s in sessions}, now.date()),
        "chart_data": chart_data(sessions, now, today.baseline),
        "baseline": today.baseline,
    }


def _replayed(
    user, shown: list, now: datetime
) -> tuple[dict[str, progression.Prescription], progression.Prescription]:
    """One replay for the whole page: the plan before each shown session, and today's.

    It reads the same bounded window as today's plan, reaching back from the oldest shown session.
    """
    oldest = min((s.started_at for s in shown), default=now)
    since = min(oldest, now) - timedelta(days=plan.WINDOW_DAYS)
    status = plan.screening_status(user, now)
    return progression.replay(
        get_library(),
        plan.window_records(user, since),
        now.date(),
        wanted=[str(s.id) for s in shown],
        affected_side=store.affected_side_of(user),
        first_pains=plan.first_pains(user),
        clear_at=status["clear_at"],
    )
