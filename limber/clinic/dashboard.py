"""The clinician's view of their patients: adherence, pain, form and alerts, in a few queries.

The cost of the dashboard does not grow with a patient's history (DESIGN.md §7): it reads the
last four weeks of sessions for all patients at once, with the totals each session keeps of its
holds, and never reads a hold.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from statistics import median
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import CharField, Max
from django.db.models.functions import Cast

from limber.clinic.care import visible_patients_q
from limber.clinic.models import Prescription
from limber.core.progression import FLAGS_FOR_CLINICIAN, PAIN_RISE_FLAG
from limber.practice.models import PracticeSession, Screening

WINDOW_DAYS = 28  # the issue: adherence "in the last 7 and 28 days"; also the sparkline's span
RECENT_DAYS = 7  # Limber's default: alerts are about this week; the weeks before are the usual
BASELINE_MIN_SESSIONS = 3  # Limber's default: fewer answers than this are not a "usual" pain
NO_SESSION_DAYS = 3  # the issue: "no session for 3 days against a daily prescription"

ALERT_SOURCES = {
    "pain_up": f"pain up {PAIN_RISE_FLAG} or more (DESIGN.md §6, the progression's own flag)",
    "pain_spread": "pain spreading down the leg (DESIGN.md §6: pauses progression)",
    "red_flag": "a red flag in the symptoms check (NHS sciatica red flags)",
    "no_sessions": f"no session for {NO_SESSION_DAYS} days against a daily prescription (the issue)",
    "see_clinician": f"{FLAGS_FOR_CLINICIAN} flagged sessions in a row (the progression's see_clinician)",
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
        alert("red_flag", f"red flag answered on {screening['created']:%a %-d %b}")
    if prescription and prescription.get("times_per_week") == 7:
        since = last_session or linked_since
        if since is not None and now - since >= timedelta(days=NO_SESSION_DAYS):
            alert("no_sessions", f"no session for {(now - since).days} days; prescribed daily")
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
    return _rows(User.objects.filter(visible_patients_q(clinician), is_active=True), now)


def rows_for(patient, now: datetime) -> list[dict[str, Any]]:
    return _rows(get_user_model().objects.filter(pk=patient.pk), now)


def _rows(visible, now: datetime) -> list[dict[str, Any]]:
    User = get_user_model()
    patients = list(
        visible.distinct().order_by("email").values("id", "email", "first_name", "last_name")
    )
    ids = [p["id"] for p in patients]
    links = dict(
        User.objects.filter(pk__in=ids, care_links__ended=None).values_list(
            "pk", "care_links__created"
        )
    )
    prescriptions = dict(
        Prescription.objects.filter(patient_id__in=ids).values_list("patient_id", "data")
    )
    since = now - timedelta(days=WINDOW_DAYS)
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
        .values("user_id", "flagged", "created", "cleared_at")
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
    week_from = now - timedelta(days=RECENT_DAYS)
    for p in patients:
        sessions = by_patient[p["id"]]
        data = prescriptions.get(p["id"])
        last = sessions[-1]["started_at"] if sessions else last_before.get(p["id"])
        per_week = data["times_per_week"] if data else None
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
                "days_7": len(
                    {s["started_at"].date() for s in sessions if s["started_at"] >= week_from}
                ),
                "days_28": len({s["started_at"].date() for s in sessions}),
                "target_7": per_week,
                "target_28": per_week * 4 if per_week else None,
                "pain": pains,
                "latest_pain": next((v for v in reversed(pains) if v is not None), None),
                "good_form_share": round(good / held, 2) if held else None,
                "prescribed": data is not None,
                "alerts": alerts_for(
                    sessions, open_flags.get(p["id"]), data, last, links.get(p["id"]), now
                ),
            }
        )
    return out
