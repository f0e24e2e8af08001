"""What leaves the clinic: invite links and QR codes, the handout PDF, the reminder feed, FHIR."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from datetime import date, datetime, time, timedelta
from typing import Any

import segno
from django.core.cache import cache
from django.db import transaction
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from limber.accounts.device import local
from limber.clinic import care, dashboard
from limber.clinic.models import CalendarFeed, Invite, Prescription, PrescriptionChange
from limber.core import draw
from limber.core import screening as red_flags
from limber.library import get_library
from limber.practice import plan, store

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
WEEKDAY_NUMBERS = {day: n for n, day in enumerate(WEEKDAYS[7])}
PAIN_LOINC = "72514-3"
PAIN_LOINC_DISPLAY = "Pain severity - 0-10 verbal numeric rating [Score] - Reported"  # LOINC's own
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
# FHIR fullUrls are urn:uuid: made from this fixed namespace and the resource's id, so the same
# data exports the same bundle every time (uuid5 of "limber.fhir").
FHIR_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_DNS, "fhir.limber")

# The screening questions as the signs they ask about, for printed lists ("... if you have:").
# The questions live in limber.core.screening; a question without a sign here fails a test.
SIGNS = {
    "both_legs": "sciatica (pain, tingling or numbness) in both legs",
    "weakness": "severe or worsening weakness or numbness in both legs",
    "saddle_numbness": "numbness around your genitals or back passage (the parts you would sit "
    "on in a saddle)",
    "bladder": "new trouble starting to pass urine, or controlling it",
    "bowel": "lost control of your bowels",
    "fever": "a fever, or feel generally unwell, along with the back pain",
    "weight_loss": "lost weight recently without trying",
    "cancer": "ever had cancer",
    "injury": "had a recent fall, accident or injury to your back",
    "one_leg_weakness": "weakness or numbness in one leg that is getting worse, or a foot that "
    "drops or catches when you walk",
    "night_pain": "pain at night that does not ease when you rest or change position",
    "surgery": "had surgery on your spine or hip in the last year",
}


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
        raise care.CareError(
            "this patient has no session with this id", 404, "not_found", "before"
        ) from None
    row = next(iter(dashboard.rows_for(patient, now)), None)
    prescription = Prescription.objects.filter(patient=patient).first()
    # Only this link's (care.end deletes the record; this holds should a link end otherwise).
    link = care.clinician_of(patient)
    changes = PrescriptionChange.objects.filter(
        patient=patient, created__gte=link.created if link else now
    ).select_related("changed_by")[:50]
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
            "checks": _checks(patient),
        },
        "sessions": sessions,
        "sessions_next": sessions[-1]["id"] if more else None,
    }


CHECKS_SHOWN = 10  # the latest symptoms checks on the patient's page: what led to the flag now


def _checks(patient) -> list[dict[str, Any]]:
    """The latest symptoms checks, newest first: what each showed and who lifted a flag, when.
    Before, a lifted flag left no trace on the clinician's side (a clinician tester's finding)."""
    out = []
    rows = patient.screenings.select_related("cleared_by").order_by("-created", "-id")
    for row in rows[:CHECKS_SHOWN]:
        result = red_flags.evaluate_stored(row.answers, row.affected_side)
        out.append(
            {
                "at": row.created.isoformat(),
                "signs": [SIGNS[f] for f in result.flags],
                "urgent": result.urgent,
                "affected_side": row.affected_side,
                "seen_clinician": row.seen_clinician,
                "cleared_at": row.cleared_at.isoformat() if row.cleared_at else None,
                "cleared_by": care.display_name(row.cleared_by) if row.cleared_by else None,
            }
        )
    return out


def _open_flag(patient):
    flagged, after = store.screenings_since_flag(patient)
    if flagged is None or flagged.cleared_by_id is not None:
        return None
    if any(not r.flagged and r.seen_clinician for r in after):
        return None
    return flagged


def red_flag_stop(patient) -> dict[str, Any] | None:
    """While a red flag stops practice (DESIGN.md §6): what the app says about it, in its own
    words (limber.core.screening), and the signs that were answered; None when there is none."""
    flag = _open_flag(patient)
    if flag is None:
        return None
    result = red_flags.evaluate_stored(flag.answers, flag.affected_side)
    return {
        "urgent": result.urgent,
        "message": result.message,
        "on": f"{flag.created:%a} {flag.created.day} {flag.created:%b}",
        "day": local(patient, flag.created).date(),
        "signs": [SIGNS[f] for f in result.flags],
    }


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


def handout_items(patient, now: datetime | None = None) -> list[dict[str, Any]]:
    return handout_plan(patient, now)[0]


def handout_plan(
    patient, now: datetime | None = None
) -> tuple[list[dict[str, Any]], list[str], str]:
    """The stretches the app would give the person now, with the prescribed doses (with no
    prescription, the article's); why any other prescribed stretch is held back for now (the
    seated one until the lying ones have gone well; none while progression is paused); and,
    while the app asks the person to contact their clinician first, its words, else ""."""
    library = get_library()
    row = Prescription.objects.filter(patient=patient).first()
    data = row.data if row else None
    chosen = (
        data["items"]
        if data
        else [{"exercise": slug, "variant": None, "sides": list(s.sides), "reps_per_side": None,
               "hold_cap_s": None} for slug, s in library.items()]
    )  # fmt: skip
    today = plan.today(patient, now or timezone.now())["prescription"]
    # The app's first note says why and what to do (progression: severe pain, pain above the
    # usual, flags in a row); the handout and the reminders say the same.
    advice = today["notes"][0] if today["see_clinician"] and today["notes"] else ""
    given = {i["exercise"]: i for i in today["items"]}
    out, later = [], []
    for item in chosen:
        s = library.get(item["exercise"])
        if s is None:  # a stretch removed from the library since it was prescribed
            continue
        if s.slug not in given:
            why = f"The {s.name.lower()} "
            later.append(
                next(
                    (n for n in today["notes"] if n.startswith(why)),
                    f"The {s.name.lower()} is not in your plan yet: the app adds it when it is "
                    "time.",
                )
            )
            continue
        # The variant the app gives today: the prescribed one, or a gentler one after a hold hurt.
        variant = s.variant(given[s.slug]["variant"])
        # The legs in the order the app plays them (the leg with sciatica second), and the
        # drawing of the leg that goes first.
        sides = [x for x in given[s.slug]["sides"] if x in item["sides"]] or item["sides"]
        side = sides[0]
        goal = item["hold_cap_s"] or s.dose.hold_goal_s.value
        reps = item["reps_per_side"] or s.dose.reps_per_side.value
        out.append(
            {
                "stretch": s,
                "variant": variant,
                "start_svg": _svg_uri(draw.render(s, variant.slug, side=side, pose="start")),
                "end_svg": _svg_uri(draw.render(s, variant.slug, side=side, pose="end")),
                "sides": ", then the ".join(f"{x} leg" for x in sides),
                "reps": reps,
                "first_hold": s.dose.hold_start_s.value,
                "goal": goal,
                "capped": item["hold_cap_s"] is not None,
                "rest": s.dose.rest_s.value,
                "knee_from": item.get("knee_from_deg"),
            }
        )
    return out, later, advice


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
    # While a red flag stops practice, the handout says so instead of printing the plan.
    stop = red_flag_stop(patient)
    items, later, advice = handout_plan(patient) if stop is None else ([], [], "")
    ctx = {
        "patient": care.display_name(patient),
        "clinician": care.display_name(link.clinician) if link else "",
        "clinic": care.clinic_name(link.clinician) if link else "",
        "stop": stop,
        "advice": advice,
        "items": items,
        "later": later,
        "prescription": row.data if row and stop is None else None,
        "urgent_signs": [SIGNS[q.id] for q in red_flags.QUESTIONS if q.urgency == "urgent"],
        "doctor_signs": [SIGNS[q.id] for q in red_flags.QUESTIONS if q.urgency != "urgent"],
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
        # Tagged: a screen reader keeps the headings, lists and the drawings' descriptions.
        pdf = HTML(string=html).write_pdf(pdf_tags=True)
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
    """An iCalendar with the prescribed schedule as one recurring event with a reminder; while
    a red flag stops practice, the same event says so instead, and no reminder rings."""
    from icalendar import Alarm, Calendar, Event, vRecur

    row = Prescription.objects.filter(patient=patient).first()
    per_week = row.data["times_per_week"] if row else 7
    days = WEEKDAYS[per_week]
    items, _later, advice = handout_plan(patient, now)
    minutes = max(5, round(sum(_item_seconds(i) for i in items) / 60))
    stop = red_flag_stop(patient)
    cal = Calendar()
    cal.add("prodid", "-//Limber//Reminders//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", "Limber stretches")
    event = Event()
    # One UID whatever the event says: calendar apps change the event in place.
    event.add("uid", f"limber-stretches-{patient.pk}@limber")
    if stop is None and advice:
        # The reminders go on (gently is still allowed), saying first what the app says.
        event.add("summary", "Limber: contact your clinician before stretching further")
        event.add("description", f"{advice} Open: {practice_url}")
    elif stop is None:
        event.add("summary", "Limber: your stretches")
        event.add(
            "description",
            f"About {minutes} minutes, {per_week} times a week. A stretch should be felt, not "
            f"painful. Open: {practice_url}",
        )
    else:
        event.add(
            "summary",
            "Limber: do not stretch, get medical help now"
            if stop["urgent"]
            else "Limber: do not stretch, see a doctor first",
        )
        event.add(
            "description",
            f"Your symptoms check on {stop['on']} showed a red flag. {stop['message']} "
            "The reminders to stretch start again once a clinician has seen you. "
            f"Open: {practice_url}",
        )
    event.add("url", practice_url)
    # Floating time: the person's own 9:00. The series starts on the first scheduled day from
    # the day the feed was made, so it neither moves between fetches nor falls on a rest day.
    made = CalendarFeed.objects.filter(patient=patient).values_list("created", flat=True).first()
    since = local(patient, made or now).date()  # the person's own day
    start = datetime.combine(first_day(since, days), REMINDER_AT)
    event.add("dtstamp", now)
    if stop is not None:
        # One all-day event on the day of the flag, not a series: nothing to repeat while
        # stretching is stopped, and no reminder rings.
        event.add("dtstart", stop["day"])
        event.add("dtend", stop["day"] + timedelta(days=1))
        cal.add_component(event)
        return cal.to_ical()
    event.add("dtstart", start)
    event.add("dtend", start + timedelta(minutes=minutes))
    event.add("rrule", vRecur({"freq": "weekly", "byday": days}))
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", "Time for your stretches")
    alarm.add("trigger", timedelta(minutes=0))
    event.add_component(alarm)
    cal.add_component(event)
    return cal.to_ical()


def first_day(since: date, days: list[str]) -> date:
    """The first day from `since` on that falls on one of `days` ("MO", "TU", ...)."""
    wanted = {WEEKDAY_NUMBERS[d] for d in days}
    return next(d for d in (since + timedelta(n) for n in range(7)) if d.weekday() in wanted)


def _item_seconds(item: dict[str, Any]) -> float:
    sides = item["sides"].count(" leg")
    return item["reps"] * sides * (item["goal"] + item["rest"])


# --- FHIR R4 ----------------------------------------------------------------------------------


def fhir_bundle(patient) -> dict[str, Any]:
    """One patient as an R4 collection Bundle: Patient, CarePlan and its author (Practitioner),
    each symptoms check (QuestionnaireResponse), Observations (pain before and after, pain
    spreading down the leg, holds that felt too strong, seconds held, the knee angle a stretch
    was felt at). Entries have urn:uuid: fullUrls, and references point at them, so they
    resolve inside the Bundle."""
    library = get_library()
    pid = f"limber-{patient.pk}"
    subject = {"reference": _full_url("Patient", pid)}
    resource_patient: dict[str, Any] = {"resourceType": "Patient", "id": pid, "active": True}
    # A name, and no identifier beyond our own id.
    if name := _human_name(patient):
        resource_patient["name"] = [name]
    row = Prescription.objects.select_related("updated_by").filter(patient=patient).first()
    activities = []
    if row:
        per_week = row.data["times_per_week"]
        affected = row.data.get("affected_side")
        for item in row.data["items"]:
            s = library.get(item["exercise"])
            if s is None:
                continue
            cap = item["hold_cap_s"] or s.dose.hold_goal_s.value
            variant = s.variant(item["variant"]) if item.get("variant") else s.default_variant
            activities.append(
                {
                    "detail": {
                        "kind": "ServiceRequest",
                        "code": {"text": s.name},
                        "status": "in-progress",
                        # The whole prescription, as the patient's app plays it (a clinician
                        # tester found the variant and the leg with sciatica missing).
                        "description": (
                            f"{variant.name}: {item['reps_per_side']} "
                            f"hold{'s' if item['reps_per_side'] != 1 else ''} per side "
                            f"({', '.join(item['sides'])}), up to {cap:g} s each"
                            + (f"; leg with sciatica: {affected}" if affected else "")
                            + (
                                f"; the camera counts the knee straight from "
                                f"{item['knee_from_deg']}°"
                                if item.get("knee_from_deg")
                                else ""
                            )
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
    notes = [row.data.get("note")] if row else []
    if row and row.data.get("override_reason"):
        notes.append(
            f"Holds longer than the article's goal, because: {row.data['override_reason']}"
        )
    if any(notes):
        careplan["note"] = [{"text": n} for n in notes if n]
    if not activities:
        del careplan["activity"]
    entries = [resource_patient, careplan]
    link = care.clinician_of(patient)
    if row:
        # In force since the first change of this prescription under the present link.
        changes = PrescriptionChange.objects.filter(patient=patient)
        if link is not None:
            changes = changes.filter(created__gte=link.created)
        first = changes.order_by("created", "id").values_list("created", flat=True).first()
        careplan["period"] = {"start": (first or row.updated).isoformat()}
    # The author: who last set the prescription, else the patient's clinician.
    author = (row.updated_by if row else None) or (link.clinician if link else None)
    if author is not None:
        # By name only: no e-mail address leaves with the export, the clinician's as the patient's.
        practitioner: dict[str, Any] = {"resourceType": "Practitioner", "id": f"limber-{author.pk}"}
        if name := _human_name(author):
            practitioner["name"] = [name]
        careplan["author"] = {"reference": _full_url("Practitioner", practitioner["id"])}
        entries.append(practitioner)
    # Each symptoms check, as the questions and the answers given, judged as Limber judged them:
    # "both" legs is the both-legs red flag whatever that question's answer (screening.evaluate).
    for check in patient.screenings.select_related("cleared_by").order_by("created", "id"):
        answers = dict(check.answers)
        if check.affected_side == "both":
            answers["both_legs"] = True
        items = [
            {"linkId": q.id, "text": q.text, "answer": [{"valueBoolean": answers[q.id]}]}
            for q in red_flags.QUESTIONS
            if isinstance(answers.get(q.id), bool)
        ]
        if check.affected_side:
            items.append({"linkId": "affected_side", "text": "Which leg has the sciatica?",
                          "answer": [{"valueString": check.affected_side}]})  # fmt: skip
        items.append({"linkId": "seen_clinician",
                      "text": "A clinician has seen me about these symptoms.",
                      "answer": [{"valueBoolean": check.seen_clinician}]})  # fmt: skip
        if check.cleared_at is not None:
            named = check.cleared_by and check.cleared_by.get_full_name()  # never an address
            who = named or "a clinician"
            items.append({"linkId": "cleared", "text": f"Red flag lifted by {who}",
                          "answer": [{"valueDateTime": check.cleared_at.isoformat()}]})  # fmt: skip
        entries.append(
            {
                "resourceType": "QuestionnaireResponse",
                "id": f"{pid}-screening-{check.pk}",
                "status": "completed",
                "subject": subject,
                "authored": check.created.isoformat(),
                "item": items,
            }
        )

    def observation(oid: str, category: str, code: dict, when: str, **value: Any) -> None:
        entries.append(
            {
                "resourceType": "Observation",
                "id": oid,
                "status": "final",
                "category": [{"coding": [{"system": OBSERVATION_CATEGORY, "code": category}]}],
                "code": code,
                "subject": subject,
                "effectiveDateTime": when,
                **value,
            }
        )

    # Read a page of plain values at a time: a long history neither fills the memory with
    # model objects nor takes seconds to build them.
    for s in store.iter_sessions(patient):
        # Pain after, and whether it spread, are answered at the end of the session.
        end = s["finished_at"] or s["started_at"]
        for label, value, when in (
            ("before", s["pain_before"], s["started_at"]),
            ("after", s["pain_after"], end),
        ):
            if value is None:
                continue  # a skipped answer is unknown, not a pain of 0 (DESIGN.md §6)
            code = {
                "coding": [
                    {
                        "system": "http://loinc.org",
                        "code": PAIN_LOINC,
                        "display": PAIN_LOINC_DISPLAY,
                    }
                ],
                "text": f"Pain {label} the session",
            }
            observation(f"{s['id']}-pain-{label}", "survey", code, when, valueInteger=value)
        if s["pain_spread"] is not None:  # no LOINC code says this: plain text only
            code = {"text": "Pain spread further down the leg during the session"}
            observation(f"{s['id']}-spread", "survey", code, end, valueBoolean=s["pain_spread"])
        strong = sum(h["too_strong"] is True for h in s["holds"])
        if any(h["too_strong"] is not None for h in s["holds"]):
            code = {"text": "Holds in the session whose stretch felt too strong"}
            observation(f"{s['id']}-too-strong", "survey", code, end, valueInteger=strong)
        held = sum(h["held_s"] for h in s["holds"])
        if held:
            code = {"text": "Seconds held in hamstring stretches, whole session"}
            quantity = {"value": round(held, 1), "unit": "s",
                        "system": "http://unitsofmeasure.org", "code": "s"}  # fmt: skip
            observation(
                f"{s['id']}-held", "activity", code, s["started_at"], valueQuantity=quantity
            )
        # Where the patient told the camera they feel the stretch: the knee's angle then, by
        # stretch and leg (no LOINC code says this: plain text; the knee named, not coded).
        felt = {(h["exercise"], h["side"]): h["knee_felt_deg"] for h in s["holds"]
                if h.get("knee_felt_deg") is not None}  # fmt: skip
        # Numbered, not named: a FHIR id is at most 64 characters.
        for n, ((slug, side), deg) in enumerate(felt.items(), 1):
            name = library[slug].name if slug in library else slug
            code = {"text": f"Knee angle at which the stretch is felt (camera): {name}"}
            quantity = {"value": round(deg, 1), "unit": "degrees",
                        "system": "http://unitsofmeasure.org", "code": "deg"}  # fmt: skip
            observation(
                f"{s['id']}-knee-{n}", "exam", code, s["started_at"],
                valueQuantity=quantity, bodySite={"text": f"{side.capitalize()} knee"},
            )  # fmt: skip
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"fullUrl": _full_url(e["resourceType"], e["id"]), "resource": e} for e in entries
        ],
    }


def _human_name(user) -> dict[str, Any]:
    # FHIR refuses empty strings, so a part that was never filled in is left out.
    return {
        **({"family": user.last_name} if user.last_name else {}),
        **({"given": [user.first_name]} if user.first_name else {}),
    }


def _full_url(resource_type: str, rid: str) -> str:
    return f"urn:uuid:{uuid.uuid5(FHIR_NAMESPACE, f'{resource_type}/{rid}')}"


def fhir_json(patient) -> str:
    return json.dumps(fhir_bundle(patient))
