"""What leaves the clinic: invite links and QR codes, the handout PDF, the reminder feed, FHIR."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import datetime, time, timedelta
from typing import Any

import segno
from django.core.cache import cache
from django.db import transaction
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.urls import reverse

from limber.clinic import care, dashboard
from limber.clinic.models import Invite, Prescription, PrescriptionChange
from limber.core import draw
from limber.core import screening as red_flags
from limber.library import get_library
from limber.practice import store

PAPERS = {"a4": "A4", "letter": "letter"}
# Limber's defaults: a handout costs a server thread one to three seconds. The same handout is
# kept a day (its HTML is the key, so any change to it makes a new one), and one account renders
# one at a time, so one person printing in a loop cannot take every thread from everyone else.
HANDOUT_KEEP_S = 24 * 3600
RENDER_LOCK_S = 60  # longer than any render; a crashed render frees the lock by itself
RETRY_AFTER_S = 3
# Limber's default reminder: mornings, before the day's sitting stiffens the back; the feed is
# in floating time, so 9:00 wherever the person is.
REMINDER_AT = time(9, 0)
# Which days a schedule of N times a week falls on: spread out, with rest days between.
WEEKDAYS = {
    1: ["MO"], 2: ["MO", "TH"], 3: ["MO", "WE", "FR"], 4: ["MO", "TU", "TH", "FR"],
    5: ["MO", "TU", "WE", "TH", "FR"], 6: ["MO", "TU", "WE", "TH", "FR", "SA"],
    7: ["MO", "TU", "WE", "TH", "FR", "SA", "SU"],
}  # fmt: skip
PAIN_LOINC = "72514-3"  # LOINC: Pain severity - 0-10 verbal numeric rating [Score] - Reported


def qr_data_uri(url: str) -> str:
    return segno.make(url, error="m").svg_data_uri(scale=4, border=2)


def invite_dict(request, inv: Invite) -> dict[str, Any]:
    url = request.build_absolute_uri(reverse("clinic-join", args=[inv.code]))
    return {"code": inv.code, "url": url, "expires": inv.expires.isoformat()}


# --- the patient's facts ----------------------------------------------------------------------


SESSIONS_PAGE = 50  # sessions on one page of the clinician's view, newest first


def patient_facts(patient, now: datetime, before: Any = None) -> dict[str, Any]:
    """What the clinician's patient page and GET /patients/{id} show: the latest sessions, or
    the page older than session `before` (`sessions_next` names the page after; the FHIR
    export has them all). A CareError (404) when `before` is none of the patient's sessions."""
    try:
        sessions, more = store.page_of(patient, SESSIONS_PAGE, before)
    except store.FieldError:
        raise care.CareError("this patient has no session with this id", 404, "not_found") from None
    row = next(iter(dashboard.rows_for(patient, now)), None)
    prescription = Prescription.objects.filter(patient=patient).first()
    changes = PrescriptionChange.objects.filter(patient=patient).select_related("changed_by")[:50]
    flag = _open_flag(patient)
    latest = store.latest_screening(patient)
    return {
        **({k: v for k, v in row.items() if k != "last_session_at"} if row else {}),
        "prescription": prescription.data if prescription else None,
        "changes": [
            {
                "at": c.created.isoformat(),
                "by": care.display_name(c.changed_by) if c.changed_by else "a former clinician",
                "what": c.changes,
            }
            for c in changes
        ],  # fmt: skip
        "screening": {
            "latest": latest.created.isoformat() if latest else None,
            # A red flag that still stops practice: not cleared, and not followed by a clear
            # answer that says a clinician has seen the patient (DESIGN.md §6).
            "open_flag": flag.created.isoformat() if flag else None,
        },
        "sessions": sessions,
        "sessions_next": sessions[-1]["id"] if more else None,
    }


def _open_flag(patient):
    flagged, after = store.screenings_since_flag(patient)
    if flagged is None or flagged.cleared_by_id is not None:
        return None
    if any(not r.flagged and r.seen_clinician for r in after):
        return None
    return flagged


def clear_screening(patient, clinician, now: datetime) -> dict[str, Any]:
    """The clinician has seen the patient: lift the red flag that stops practice, on the record."""
    with transaction.atomic():
        care.lock_patient(patient)  # two clinicians at once: one clears it, the other is told
        if _open_flag(patient) is None:
            raise care.CareError("there is no flagged symptoms check to clear", 409, "conflict")
        row = store.clear_screening(patient, clinician, now)
    return {
        "flagged": row.flagged,
        "created": row.created.isoformat(),
        "cleared_at": row.cleared_at.isoformat(),
        "cleared_by": care.display_name(clinician),
    }


# --- the handout ------------------------------------------------------------------------------


def handout_items(patient) -> list[dict[str, Any]]:
    """The prescribed stretches (or, with no prescription, the article's programme) with doses."""
    library = get_library()
    row = Prescription.objects.filter(patient=patient).first()
    data = row.data if row else None
    chosen = (
        data["items"]
        if data
        else [{"exercise": slug, "variant": None, "sides": list(s.sides), "reps_per_side": None,
               "hold_cap_s": None} for slug, s in library.items()]
    )  # fmt: skip
    out = []
    for item in chosen:
        s = library.get(item["exercise"])
        if s is None:  # a stretch removed from the library since it was prescribed
            continue
        variant = s.variant(item["variant"])
        side = (
            data["affected_side"]
            if data and data.get("affected_side") in item["sides"]
            else item["sides"][0]
        )
        goal = item["hold_cap_s"] or s.dose.hold_goal_s.value
        reps = item["reps_per_side"] or s.dose.reps_per_side.value
        out.append(
            {
                "stretch": s,
                "variant": variant,
                "start_svg": _svg_uri(draw.render(s, variant.slug, side=side, pose="start")),
                "end_svg": _svg_uri(draw.render(s, variant.slug, side=side, pose="end")),
                "sides": " and ".join(f"{x} leg" for x in item["sides"]),
                "reps": reps,
                "first_hold": s.dose.hold_start_s.value,
                "goal": goal,
                "capped": item["hold_cap_s"] is not None,
                "rest": s.dose.rest_s.value,
            }
        )
    return out


def _svg_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def handout_pdf(patient, practice_url: str, paper: str = "a4", requester=None) -> bytes:
    """The handout as PDF bytes; CareError 429 while `requester` has another one rendering."""
    try:
        from weasyprint import HTML
    except (ImportError, OSError) as e:  # OSError: Pango missing from the system
        raise care.CareError(
            f"handouts need WeasyPrint and Pango (pip install 'limber[handout]'): {e}",
            503,
            "unavailable",
        ) from None
    row = Prescription.objects.filter(patient=patient).first()
    link = care.clinician_of(patient)
    ctx = {
        "patient": care.display_name(patient),
        "clinician": care.display_name(link.clinician) if link else "",
        "clinic": care.clinic_name(link.clinician) if link else "",
        "items": handout_items(patient),
        "prescription": row.data if row else None,
        "urgent_flags": [q for q in red_flags.QUESTIONS if q.urgency == "urgent"],
        "doctor_flags": [q for q in red_flags.QUESTIONS if q.urgency != "urgent"],
        "qr": qr_data_uri(practice_url),
        "practice_url": practice_url,
        "paper": PAPERS[paper],
    }
    html = render_to_string("clinic/handout.html", ctx)
    key = "handout:" + hashlib.sha256(html.encode()).hexdigest()
    pdf = cache.get(key)
    if pdf is not None:
        return pdf
    lock = f"handout-rendering:{(requester or patient).pk}"
    if not cache.add(lock, 1, RENDER_LOCK_S):
        raise care.CareError(
            "a handout is already being prepared for you; try again in a few seconds", 429, "busy"
        )
    try:
        pdf = HTML(string=html).write_pdf()
    finally:
        cache.delete(lock)
    cache.set(key, pdf, HANDOUT_KEEP_S)
    return pdf


def handout_response(request, patient, paper: str) -> HttpResponse:
    from limber.api import error

    if paper not in PAPERS:
        return error(request, 422, "invalid", "paper must be a4 or letter", "paper")
    try:
        pdf = handout_pdf(
            patient, request.build_absolute_uri(reverse("practice")), paper, request.auth
        )
    except care.CareError as e:
        retry = RETRY_AFTER_S if e.status == 429 else None
        return error(request, e.status, e.code, str(e), e.field, retry_after=retry)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="limber-handout-{paper}.pdf"'
    return response


# --- the reminder feed ------------------------------------------------------------------------


def calendar_feed(patient, practice_url: str, now: datetime) -> bytes:
    """An iCalendar with the prescribed schedule as one recurring event with a reminder."""
    from icalendar import Alarm, Calendar, Event, vRecur

    row = Prescription.objects.filter(patient=patient).first()
    per_week = row.data["times_per_week"] if row else 7
    minutes = max(5, round(sum(_item_seconds(i) for i in handout_items(patient)) / 60))
    cal = Calendar()
    cal.add("prodid", "-//Limber//Reminders//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", "Limber stretches")
    event = Event()
    event.add("uid", f"limber-stretches-{patient.pk}@limber")
    event.add("summary", "Limber: your stretches")
    event.add(
        "description",
        f"About {minutes} minutes, {per_week} times a week. A stretch should be felt, not painful. "
        f"Open: {practice_url}",
    )
    event.add("url", practice_url)
    start = datetime.combine(now.date(), REMINDER_AT)  # floating: the person's own 9:00
    event.add("dtstart", start)
    event.add("dtend", start + timedelta(minutes=minutes))
    event.add("dtstamp", now)
    event.add("rrule", vRecur({"freq": "weekly", "byday": WEEKDAYS[per_week]}))
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", "Time for your stretches")
    alarm.add("trigger", timedelta(minutes=0))
    event.add_component(alarm)
    cal.add_component(event)
    return cal.to_ical()


def _item_seconds(item: dict[str, Any]) -> float:
    sides = item["sides"].count(" leg")
    return item["reps"] * sides * (item["goal"] + item["rest"])


# --- FHIR R4 ----------------------------------------------------------------------------------


def fhir_bundle(patient) -> dict[str, Any]:
    """One patient as an R4 collection Bundle: Patient, CarePlan, Observations (pain, holds)."""
    library = get_library()
    pid = f"limber-{patient.pk}"
    subject = {"reference": f"Patient/{pid}"}
    resource_patient: dict[str, Any] = {"resourceType": "Patient", "id": pid, "active": True}
    if patient.first_name or patient.last_name:  # a name, and no identifier beyond our own id
        resource_patient["name"] = [{"family": patient.last_name, "given": [patient.first_name]}]
    row = Prescription.objects.filter(patient=patient).first()
    activities = []
    if row:
        per_week = row.data["times_per_week"]
        for item in row.data["items"]:
            s = library.get(item["exercise"])
            if s is None:
                continue
            cap = item["hold_cap_s"] or s.dose.hold_goal_s.value
            activities.append(
                {
                    "detail": {
                        "kind": "ServiceRequest",
                        "code": {"text": s.name},
                        "status": "in-progress",
                        "description": (
                            f"{item['reps_per_side']} holds per side ({', '.join(item['sides'])}), "
                            f"up to {cap:g} s each"
                        ),
                        "scheduledTiming": {
                            "repeat": {"frequency": per_week, "period": 1, "periodUnit": "wk"}
                        },
                    }
                }
            )
    careplan = {
        "resourceType": "CarePlan",
        "id": f"{pid}-plan",
        "status": "active" if row else "draft",
        "intent": "plan",
        "title": "Hamstring stretches for sciatica",
        "subject": subject,
        "activity": activities,
    }
    if row and row.data.get("note"):
        careplan["note"] = [{"text": row.data["note"]}]
    if not activities:
        del careplan["activity"]
    entries = [resource_patient, careplan]
    # Read a page of plain values at a time: a long history neither fills the memory with
    # model objects nor takes seconds to build them.
    for s in store.iter_sessions(patient):
        when = s["started_at"]
        for label, value in (("before", s["pain_before"]), ("after", s["pain_after"])):
            if value is None:
                continue  # a skipped answer is unknown, not a pain of 0 (DESIGN.md §6)
            entries.append(
                {
                    "resourceType": "Observation",
                    "id": f"{s['id']}-pain-{label}",
                    "status": "final",
                    "code": {
                        "coding": [
                            {
                                "system": "http://loinc.org",
                                "code": PAIN_LOINC,
                                "display": "Pain severity 0-10 verbal numeric rating",
                            }
                        ],
                        "text": f"Pain {label} the session",
                    },  # fmt: skip
                    "subject": subject,
                    "effectiveDateTime": when,
                    "valueInteger": value,
                }
            )
        held = sum(h["held_s"] for h in s["holds"])
        if held:
            entries.append(
                {
                    "resourceType": "Observation",
                    "id": f"{s['id']}-held",
                    "status": "final",
                    "code": {"text": "Seconds held in hamstring stretches, whole session"},
                    "subject": subject,
                    "effectiveDateTime": when,
                    "valueQuantity": {
                        "value": round(held, 1),
                        "unit": "s",
                        "system": "http://unitsofmeasure.org",
                        "code": "s",
                    },
                }  # fmt: skip
            )
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"fullUrl": f"urn:limber:{e['resourceType']}/{e['id']}", "resource": e} for e in entries
        ],
    }


def fhir_json(patient) -> str:
    return json.dumps(fhir_bundle(patient))
