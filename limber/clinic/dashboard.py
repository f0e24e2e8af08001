"""The clinician's view of their patients: adherence, pain, form and alerts, in a few queries.

The cost of the dashboard does not grow with a patient's history (DESIGN.md §7): it reads the
last four weeks of sessions for all patients at once, with the totals each session keeps of its
holds, and never reads a hold.
"""

from __future__ import annotations

import math
import uuid
from datetime import date, datetime, timedelta
from statistics import median
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import CharField, Max
from django.db.models.functions import Cast
from django.utils import timezone

from limber.accounts.device import zone_named
from limber.clinic.care import visible_patients_q
from limber.clinic.models import Prescription
from limber.core import screening as red_flags
from limber.core.progression import FLAGS_FOR_CLINICIAN, PAIN_RISE_FLAG
from limber.practice.models import PracticeSession, Screening

# The issue: adherence "in the last 7 and 28 days"; also the sparkline's span. Days are the
# patient's calendar days (today and the 6 or 27 days before it), never rolling hours: seven
# times 24 hours back from now touches eight dates, and a daily patient read "8 / 7".
WINDOW_DAYS = 28
RECENT_DAYS = 7  # Limber's default: alerts are about this week; the weeks before are the usual
BASELINE_MIN_SESSIONS = 3  # Limber's default: fewer answers than this are not a "usual" pain
NO_SESSION_DAYS = 3  # the issue: "no session for 3 days against a daily prescription"
# A patient with no prescription follows the article's plan, which is daily (today's session
# and the reminder feed count it so): their silence is judged as a daily patient's.
UNPRESCRIBED_PER_WEEK = 7


def no_session_days(per_week: int) -> int:
    """Days without a session before the "no sessions" alert: as long as NO_SESSION_DAYS
    prescribed sessions take. That is the issue's 3 days for daily practice, scaled to the
    times a week, so that a patient asked for 3 a week is not called late after 3 days, and one
    who stops entirely is still found (7 days at 3 a week, 21 at once a week)."""
    return math.ceil(NO_SESSION_DAYS * 7 / max(1, min(per_week, 7)))


def _times(per_week: int) -> str:
    return (
        "daily" if per_week == 7 else "once a week" if per_week == 1 else f"{per_week} times a week"
    )


# Why each alert is raised, in a physiotherapist's words (the rules' sources are DESIGN.md §6
# and the issue; see the constants above and limber.core.progression).
ALERT_SOURCES = {
    "red_flag": "a red flag in the symptoms check (NHS sciatica red flags, and the wider ones a "
    "physiotherapist asks): an emergency sign sends the patient to emergency care now, the "
    "others to a doctor first; practice stops until it is cleared",
    "pain_up": f"pain {PAIN_RISE_FLAG} or more points higher after a session than before it, or "
    f"above the patient's usual pain: Limber stops the holds growing and steps back",
    "pain_spread": "pain spreading down the leg: Limber pauses progression and the less gentle "
    "stretches",
    "no_sessions": f"no session for as long as {NO_SESSION_DAYS} prescribed sessions take: "
    f"{no_session_days(7)} days when daily practice is prescribed (or nothing is prescribed yet: "
    f"the article's plan is daily), {no_session_days(3)} days at 3 times a week, "
    f"{no_session_days(1)} at once a week",
    "see_clinician": f"{FLAGS_FOR_CLINICIAN} sessions in a row raised pain or spread down the leg: "
    "Limber suggests the patient sees their clinician",
}
# The red-flag questions (limber.core.screening) as a clinician names the finding.
RED_FLAG_NAMES = {
    "both_legs": "sciatica in both legs",
    "weakness": "severe or worsening weakness or numbness in both legs",
    "saddle_numbness": "saddle numbness (genitals or back passage)",
    "bladder": "new trouble starting to pass urine or controlling it",
    "bowel": "loss of bowel control",
    "fever": "fever or feeling unwell",
    "weight_loss": "unexplained weight loss",
    "cancer": "a history of cancer",
    "injury": "a recent fall, accident or back injury",
    "one_leg_weakness": "worsening weakness or numbness in one leg, or foot drop",
    "night_pain": "night pain that rest does not ease",
    "surgery": "spine or hip surgery in the last year",
}


def _pain(s: dict[str, Any]) -> int | None:
    return s["pain_after"] if s["pain_after"] is not None else s["pain_before"]


def _flagged(s: dict[str, Any]) -> bool:
    rise = (
        s["pain_after"] - s["pain_before"]
        if s["pain_after"] is not None and s["pain_before"] is not None
        else 0
    )
    return bool(s["pain_spread"]) or rise >= PAIN_RISE_FLAG


def red_flags_of(screening: dict[str, Any]) -> list[dict[str, Any]]:
    """The flagged answers of a symptoms check, emergency signs first, in the questions' order."""
    answers = screening.get("answers") or {}
    present = {qid for qid, yes in answers.items() if yes is True}
    if screening.get("affected_side") == "both":
        present.add("both_legs")  # as limber.core.screening.evaluate counts it
    flags = [
        {"id": q.id, "question": q.text, "name": RED_FLAG_NAMES.get(q.id, q.text),
         "urgency": "emergency" if q.urgency == "urgent" else "doctor"}
        for q in red_flags.QUESTIONS
        if q.id in present
    ]  # fmt: skip
    return sorted(flags, key=lambda f: f["urgency"] != "emergency")


def alerts_for(
    sessions: list[dict[str, Any]],
    screening: dict[str, Any] | None,
    prescription: dict[str, Any] | None,
    last_session: datetime | None,
    linked_since: datetime | None,
    now: datetime,
) -> list[dict[str, Any]]:
    """The reasons to look at a patient now, each with the session that raised it (oldest first in)."""
    out: list[dict[str, Any]] = []
    recent_from = now - timedelta(days=RECENT_DAYS)
    recent = [s for s in sessions if s["started_at"] >= recent_from]
    earlier = [s["pain_before"] for s in sessions if s["started_at"] < recent_from]
    earlier = [p for p in earlier if p is not None]
    baseline = median(earlier) if len(earlier) >= BASELINE_MIN_SESSIONS else None

    def alert(kind: str, reason: str, s: dict[str, Any] | None = None) -> None:
        out.append(
            {"kind": kind, "reason": reason, "source": ALERT_SOURCES[kind],
             "session": str(uuid.UUID(s["sid"])) if s else None,
             "at": s["started_at"].isoformat() if s else None}
        )  # fmt: skip

    for s in reversed(recent):
        rise = (
            s["pain_after"] - s["pain_before"]
            if s["pain_after"] is not None and s["pain_before"] is not None
            else None
        )
        day = f"{s['started_at']:%a %-d %b}"
        if rise is not None and rise >= PAIN_RISE_FLAG:
            alert("pain_up", f"pain rose from {s['pain_before']} to {s['pain_after']} on {day}", s)
            break
        pain = _pain(s)
        if baseline is not None and pain is not None and pain >= baseline + PAIN_RISE_FLAG:
            alert("pain_up", f"pain {pain} on {day}, usually {baseline:g}", s)
            break
    spread = next((s for s in reversed(recent) if s["pain_spread"]), None)
    if spread is not None:
        alert(
            "pain_spread", f"pain spread down the leg on {spread['started_at']:%a %-d %b}", spread
        )
    if screening is not None and screening["flagged"]:
        # First of all, and naming what was answered: an emergency sign is not a pain alert.
        flags = red_flags_of(screening)
        emergency = any(f["urgency"] == "emergency" for f in flags)
        day = f"{screening['created']:%a %-d %b}"
        named = "; ".join(f["name"] for f in flags) or "an answer no longer asked"
        reason = (
            f"Emergency red flag on {day}: {named}"
            if emergency
            else f"Red flag (see a doctor first) on {day}: {named}"
        )
        alert("red_flag", reason)
        out.insert(0, out.pop())
        out[0] |= {"urgency": "emergency" if emergency else "doctor", "flags": flags}
    per_week = (prescription or {}).get("times_per_week") or UNPRESCRIBED_PER_WEEK
    since = last_session or linked_since
    if since is not None and now - since >= timedelta(days=no_session_days(per_week)):
        plan = (
            f"prescribed {_times(per_week)}"
            if prescription
            else "no prescription yet, so the article's daily plan"
        )
        alert("no_sessions", f"no session for {(now - since).days} days; {plan}")
    tail = sessions[-FLAGS_FOR_CLINICIAN:]
    if len(tail) == FLAGS_FOR_CLINICIAN and all(_flagged(s) for s in tail):
        alert(
            "see_clinician", f"the last {FLAGS_FOR_CLINICIAN} sessions both raised pain", tail[-1]
        )
    return out


def sparkline(values: list[int | None], width: int = 120, height: int = 28) -> str:
    """Pain 0–10 per session as a tiny inline SVG (higher is worse)."""
    pts = [(i, v) for i, v in enumerate(values) if v is not None]
    if len(pts) < 2:
        return ""
    step = width / max(len(values) - 1, 1)
    coords = " ".join(f"{i * step:.1f},{height - 2 - v * (height - 4) / 10:.1f}" for i, v in pts)
    return (
        f'<svg class="spark" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'aria-hidden="true"><polyline points="{coords}" fill="none" stroke="currentColor" '
        'stroke-width="1.5"/></svg>'
    )


def rows(clinician, now: datetime) -> list[dict[str, Any]]:
    """One row per patient this clinician may see; seven queries at most, whatever their number."""
    User = get_user_model()
    return _rows(User.objects.filter(visible_patients_q(clinician), is_active=True), now, clinician)


def urgency(alerts: list[dict[str, Any]]) -> int:
    """Where a patient stands on the dashboard, most urgent first: 0 an emergency red flag
    (emergency care now, DESIGN.md §6), 1 another red flag (a doctor before any practice),
    2 any other alert, 3 none. How many alerts a patient has does not count: three pain alerts
    are less urgent than one emergency sign."""
    flag = next((a for a in alerts if a["kind"] == "red_flag"), None)
    if flag is not None:
        return 0 if flag.get("urgency") == "emergency" else 1
    return 2 if alerts else 3


def by_urgency(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows by urgency(), keeping their order (by e-mail address) within each group."""
    return sorted(rows, key=lambda r: urgency(r["alerts"]))


def _first_day(today: date, days: int, linked: date | None) -> date:
    """The first of the ``days`` calendar days up to today, or the day the patient joined their
    clinician when that is later: the days counted and the days asked for are the same ones."""
    first = today - timedelta(days=days - 1)
    return max(first, linked) if linked is not None else first


def _target(per_week: int | None, today: date, first: date) -> int | None:
    """Days of practice the prescription asks for from ``first`` to today: a patient who joined
    their clinician within the window is asked for the days since then, not weeks before."""
    if not per_week:
        return None
    days = max(1, (today - first).days + 1)
    return max(1, round(per_week * days / 7))


def rows_for(patient, now: datetime) -> list[dict[str, Any]]:
    return _rows(get_user_model().objects.filter(pk=patient.pk), now)


def _rows(visible, now: datetime, viewer=None) -> list[dict[str, Any]]:
    User = get_user_model()
    patients = list(
        visible.distinct()
        .order_by("email")
        .values("id", "email", "first_name", "last_name", "profile__time_zone")
    )
    # Each patient's sessions on their own clock: their days, and the days the alerts name.
    zones = {p["id"]: zone_named(p["profile__time_zone"] or "") for p in patients}
    ids = [p["id"] for p in patients]
    # The patient's current link: since when, and to whom (a colleague's dashboard says who
    # shared the patient: only the patient's own clinician can, limber.clinic.care.grant).
    links: dict[int, datetime] = {}
    owners: dict[int, tuple[int, str]] = {}
    for pk, created, owner, first_name, last_name, email in User.objects.filter(
        pk__in=ids, care_links__ended=None
    ).values_list(
        "pk",
        "care_links__created",
        "care_links__clinician",
        "care_links__clinician__first_name",
        "care_links__clinician__last_name",
        "care_links__clinician__email",
    ):
        links[pk] = created
        owners[pk] = (owner, f"{first_name} {last_name}".strip() or email)
    prescriptions = dict(
        Prescription.objects.filter(patient_id__in=ids).values_list("patient_id", "data")
    )
    # Each patient's today, on their clock. A link made after `now` (a dashboard read as of an
    # earlier moment) shortens nothing.
    today = {i: timezone.localtime(now, zones[i]).date() for i in ids}
    first_28 = {i: today[i] - timedelta(days=WINDOW_DAYS - 1) for i in ids}
    # A day more than the window: the first local day can start up to a day (and a summer
    # hour) before now minus 28 days; what is before it is left out below.
    since = now - timedelta(days=WINDOW_DAYS + 1)
    by_patient: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    for s in (
        PracticeSession.objects.filter(user_id__in=ids, started_at__gte=since, started_at__lte=now)
        .order_by("started_at")
        # The id as text, made a UUID only for the few sessions an alert links to: converting
        # every id was a tenth of the dashboard's time.
        .annotate(sid=Cast("id", output_field=CharField()))
        # The good-form share from the totals each session keeps of its holds: summing the
        # holds themselves made the dashboard's cost grow with the number of holds.
        .values(
            "sid",
            "user_id",
            "started_at",
            "pain_before",
            "pain_after",
            "pain_spread",
            "good_form_s",
            "timed_held_s",
        )
    ):
        s["started_at"] = timezone.localtime(s["started_at"], zones[s["user_id"]])
        if s["started_at"].date() >= first_28[s["user_id"]]:
            by_patient[s["user_id"]].append(s)
    quiet = [i for i in ids if not by_patient[i]]
    last_before = (
        dict(
            PracticeSession.objects.filter(user_id__in=quiet, started_at__lte=now)
            .values("user_id")
            .annotate(last=Max("started_at"))
            .values_list("user_id", "last")
        )
        if quiet
        else {}
    )
    # The latest flag still open per patient: not cleared by a clinician, and no clear answer
    # since that says "a clinician has seen me" (DESIGN.md §6). Flags are rare, so this reads
    # only flagged rows and the "seen" answers of the patients who have one.
    screenings: dict[int, dict[str, Any] | None] = {}
    for sc in (
        Screening.objects.filter(user_id__in=ids, flagged=True)
        .order_by("-created", "-id")
        .values("user_id", "flagged", "created", "cleared_at", "answers", "affected_side")
    ):
        screenings.setdefault(sc["user_id"], sc if sc["cleared_at"] is None else None)
    open_flags = {uid: sc for uid, sc in screenings.items() if sc is not None}
    if open_flags:
        for uid, created in Screening.objects.filter(
            user_id__in=list(open_flags), flagged=False, seen_clinician=True
        ).values_list("user_id", "created"):
            if uid in open_flags and created >= open_flags[uid]["created"]:
                del open_flags[uid]

    out = []
    for p in patients:
        sessions = by_patient[p["id"]]
        linked = links.get(p["id"])
        link_day = (
            timezone.localtime(linked, zones[p["id"]]).date()
            if linked is not None and linked <= now
            else None
        )
        day = today[p["id"]]
        from_7 = _first_day(day, RECENT_DAYS, link_day)
        from_28 = _first_day(day, WINDOW_DAYS, link_day)
        dates = {s["started_at"].date() for s in sessions}
        owner = owners.get(p["id"])
        data = prescriptions.get(p["id"])
        last = sessions[-1]["started_at"] if sessions else last_before.get(p["id"])
        last = last and timezone.localtime(last, zones[p["id"]])
        per_week = data.get("times_per_week") if data else None
        good = sum(s["good_form_s"] for s in sessions)
        held = sum(s["timed_held_s"] for s in sessions)
        pains = [_pain(s) for s in sessions]
        out.append(
            {
                "id": p["id"],
                "email": p["email"],
                "name": f"{p['first_name']} {p['last_name']}".strip() or p["email"],
                "last_session": last.isoformat() if last else None,
                "last_session_at": last,
                "days_7": sum(d >= from_7 for d in dates),
                "days_28": sum(d >= from_28 for d in dates),
                "target_7": _target(per_week, day, from_7),
                "target_28": _target(per_week, day, from_28),
                "pain": pains,
                "latest_pain": next((v for v in reversed(pains) if v is not None), None),
                "good_form_share": round(good / held, 2) if held else None,
                "prescribed": data is not None,
                # Who shared the patient with this clinician (their own clinician), if anyone.
                "shared_by": owner[1]
                if viewer is not None and owner and owner[0] != viewer.pk
                else None,
                "alerts": alerts_for(
                    sessions, open_flags.get(p["id"]), data, last, links.get(p["id"]), now
                ),
            }
        )
    return out
