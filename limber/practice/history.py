"""What the history page shows: chart series, a calendar of days practised, and the reasons."""

from __future__ import annotations

import calendar as cal
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Max, Min
from django.utils import timezone

from limber.accounts.device import local
from limber.core import progression
from limber.library import get_library
from limber.practice import plan, store
from limber.practice.models import Hold, PracticeSession

MONTHS_SHOWN = 2
REASONED_SESSIONS = 30  # the table explains the latest sessions; older ones are in the export
# Limber's default: the charts show the last year, enough to see a programme's whole course at
# a glance; older sessions are in the export.
CHART_DAYS = 365


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


def chart_data(
    points: list[dict[str, Any]], now: datetime, baseline: float | None = None
) -> dict[str, Any]:
    """uPlot's column layout: x (unix seconds) then one column per series, oldest first.

    ``points`` are the charted sessions (``chart_points``). ``span`` is the time axis: at least
    MIN_SPAN_DAYS wide and ending a day after today.
    """
    library = get_library()
    ordered = sorted(points, key=lambda p: p["started_at"])
    xs = [int(p["started_at"].timestamp()) for p in ordered]
    end = max([int(now.timestamp()), *xs]) + DAY_S // 2
    start = min([end - MIN_SPAN_DAYS * DAY_S, *(x - DAY_S // 2 for x in xs)])
    used = [slug for slug in library if any(slug in p["held"] for p in ordered)]
    columns = [[p["held"].get(slug) for p in ordered] for slug in used]
    pains = [session_pain(p["pain_before"], p["pain_after"]) for p in ordered]
    # The knee angle the stretch was felt at, one series per stretch and leg that has one.
    felt = [
        (slug, side)
        for slug in library
        for side in ("left", "right")
        if any((slug, side) in p.get("knee", {}) for p in ordered)
    ]
    return {
        "span": [start, end],
        "holds": {"series": [library[slug].name for slug in used], "values": [xs, *columns]},
        "knee": {
            "series": [f"{library[slug].name}, {side} leg" for slug, side in felt],
            "values": [xs, *([p.get("knee", {}).get(k) for p in ordered] for k in felt)],
        },
        "pain": {
            "values": [
                xs,
                [p["pain_before"] for p in ordered],
                [p["pain_after"] for p in ordered],
                [p.get("hold_pain") for p in ordered],
                pain_trend(xs, pains),
            ],
            "baseline": baseline,
            "trend_days": TREND_DAYS,
        },
    }


def chart_points(user, since: datetime) -> list[dict[str, Any]]:
    """The sessions since ``since`` as chart points: pains, the longest hold per stretch, the
    worst pain answered after a hold, and the knee angle the stretch was felt at (per stretch
    and leg, when the person told the camera).

    The longest hold, not the mean: the leg with sciatica holds a step less, and a mean of both
    legs (17.5 s) is a hold nobody did and the plan never names (a tester's finding); the
    longest is the plan's own figure. Two queries of plain values, grouped by the database, so
    the page costs what a year costs, however long the history behind it.
    """
    points = {
        sid: {
            "started_at": started,
            "pain_before": before,
            "pain_after": after,
            "held": {},
            "hold_pain": None,
            "knee": {},
        }  # fmt: skip
        for sid, started, before, after in PracticeSession.objects.filter(
            user=user, started_at__gte=since
        ).values_list("id", "started_at", "pain_before", "pain_after")
    }
    held = (
        Hold.objects.filter(session__user=user, session__started_at__gte=since)
        .values_list("session_id", "exercise")
        .annotate(longest=Max("held_s"), worst=Max("pain"))
    )
    for sid, exercise, longest, worst in held:
        if sid in points:
            point = points[sid]
            point["held"][exercise] = round(longest, 1)
            if worst is not None:
                point["hold_pain"] = max(worst, point["hold_pain"] or 0)
    felt = (
        Hold.objects.filter(
            session__user=user, session__started_at__gte=since, knee_felt_deg__isnull=False
        )
        .values_list("session_id", "exercise", "side")
        .annotate(knee=Max("knee_felt_deg"))
    )
    for sid, exercise, side, knee in felt:
        if sid in points:
            points[sid]["knee"][(exercise, side)] = round(knee)
    return list(points.values())


def month_starts(today: date) -> list[date]:
    """The first day of each month the calendar shows, oldest first, ending with this month."""
    starts = [today.replace(day=1)]
    for _ in range(MONTHS_SHOWN - 1):
        starts.insert(0, (starts[0] - timedelta(days=1)).replace(day=1))
    return starts


def months(practised: set[date], today: date) -> list[dict[str, Any]]:
    out = []
    weekdays = [(cal.day_abbr[d][:2], cal.day_name[d]) for d in range(7)]
    for start in month_starts(today):
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


def page_context(user, now: datetime, older_than: Any = None) -> dict[str, Any]:
    """The history page: the table shows REASONED_SESSIONS sessions, the latest or those older
    than the session ``older_than`` (the last of the page before; a FieldError when it is none
    of the user's).

    Bounded reads (issue 10): a page of sessions for the table, a year for the charts, the
    calendar's months; the whole history is in the export, and in /api/v1/history by pages.
    """
    now = local(user, now)  # the calendar's days are the person's own
    library = get_library()
    page = store.sessions_before(user, older_than)
    ids = [str(sid) for sid in page.values_list("id", flat=True)[: REASONED_SESSIONS + 1]]
    shown = ids[:REASONED_SESSIONS]
    records, before, today, cp = _replayed(user, shown, now, latest_page=older_than is None)
    rows = []
    for s in sorted((records[sid] for sid in shown), key=lambda r: r.started_at, reverse=True):
        # The plan as it stood that day: the history before the session, prescribed for its day.
        # (None for a session dated after today, which the API allows by up to a day.)
        prescription = before.get(s.id)
        summary = []
        for slug in library:
            held = [h.held_s for h in s.holds if h.exercise == slug]
            if held:
                summary.append(f"{library[slug].name}: {len(held)} × up to {max(held):g} s")
        rows.append(
            {
                "started_at": s.started_at,
                "pain_before": s.pain_before,
                "pain_after": s.pain_after,
                "pain_spread": s.pain_spread,
                "summary": summary,
                "reasons": [f"{i.name}: {i.reason}" for i in prescription.items]
                + list(prescription.notes)
                if prescription
                else [],
            }
        )
    first = month_starts(now.date())[0]
    since = datetime(first.year, first.month, first.day, tzinfo=now.tzinfo)
    practised = {
        timezone.localtime(d, now.tzinfo).date()
        for d in PracticeSession.objects.filter(user=user, started_at__gte=since).values_list(
            "started_at", flat=True
        )
    }
    return {
        "session_count": PracticeSession.objects.filter(user=user).count(),
        "sessions": rows,
        "older_page": shown[-1] if len(ids) > REASONED_SESSIONS else None,
        "newer_page": older_than is not None,
        # What today holds, and why any stretch is left out (the notes), as the player says it.
        "today_reasons": [f"{i.name}: {i.reason}" for i in today.items] + list(today.notes),
        "calendar": months(practised, now.date()),
        "chart_data": _charted(user, now, today.baseline),
        "chart_days": CHART_DAYS,
        "baseline": today.baseline,
        "clinician_note": cp.clinician_note if cp else None,
    }


def charts_context(user, now: datetime) -> dict[str, Any]:
    """The charts alone, as the clinician's page of the patient shows them: a year of sessions,
    and the pain baseline of today's plan (one replay of today's window, no page of sessions)."""
    _, _, today, _ = _replayed(user, [], now)
    return {"chart_data": _charted(user, now, today.baseline)}


def _charted(user, now: datetime, baseline: float | None) -> dict[str, Any]:
    return chart_data(chart_points(user, now - timedelta(days=CHART_DAYS)), now, baseline)


def _replayed(
    user, shown: list[str], now: datetime, latest_page: bool = True
) -> tuple[
    dict[str, progression.SessionRecord],
    dict[str, progression.Prescription],
    progression.Prescription,
    plan.ClinicianPlan | None,
]:
    """The shown sessions' records, the plan before each of them (under the clinician's caps,
    as /today had it), and today's.

    It reads the same bounded window as today's plan, reaching back from the oldest shown
    session: for the latest page one read and one replay serve the whole page; an older page
    reads up to its newest session, and today's plan from today's window.
    """
    span = PracticeSession.objects.filter(id__in=shown).aggregate(
        first=Min("started_at"), last=Max("started_at")
    )
    start = min(span["first"], now) if span["first"] else now
    status = plan.screening_status(user, now)
    cp = plan.clinician_plan(user)
    first_pains = plan.first_pains(user)

    def replay(records: list[progression.SessionRecord], wanted: list[str]) -> Any:
        return progression.replay(
            get_library(),
            records,
            local(user, now).date(),
            cp.caps if cp else None,
            wanted=wanted,
            affected_side=(cp.affected_side if cp else None) or store.affected_side_of(user),
            first_pains=first_pains,
            clear_at=status["clear_at"],
        )

    window = timedelta(days=plan.WINDOW_DAYS)
    records = plan.window_records(user, start - window, None if latest_page else span["last"])
    before, today = replay(records, shown)
    if not latest_page:
        _, today = replay(plan.window_records(user, now - window), [])
    return {r.id: r for r in records}, before, today, cp
