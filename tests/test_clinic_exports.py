"""What leaves the clinic for the patient and other systems: the handout, the reminder feed, FHIR.

Uses the clinic's shared cast (tests/test_clinic.py): Carol is Alice's clinician.
"""

import html
import json
import re
from datetime import UTC, date, datetime, timedelta
from io import BytesIO

import pytest
from django.utils import timezone

from limber.clinic import care, exports
from limber.clinic.models import CalendarFeed
from limber.core import screening as red_flags
from limber.library import get_library
from limber.practice.models import Screening
from tests.conftest import clear_answers
from tests.test_clinic import cast as cast  # noqa: F401 (the clinic's fixture, by its name)
from tests.test_clinic import log_session, put, rx

pytestmark = pytest.mark.django_db

LYING = ("towel-hamstring-stretch", "wall-hamstring-stretch")
SEATED = "seated-hamstring-stretch"


def handout_text(response) -> str:
    from pypdf import PdfReader

    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/pdf"
    text = " ".join(p.extract_text() for p in PdfReader(BytesIO(response.content)).pages)
    return re.sub(r"\s+", " ", text)


def all_three(**over):
    library = get_library()
    items = [
        {"exercise": slug, "variant": library.get(slug).default_variant.slug,
         "sides": ["left", "right"], "reps_per_side": 2, "hold_cap_s": None}
        for slug in (*LYING, SEATED)
    ]  # fmt: skip
    return rx(items=items, **over)


def flag(user, question="bladder"):
    return Screening.objects.create(
        user=user, answers={**clear_answers(), question: True}, flagged=True
    )


def feed_event(client, api, user):
    from icalendar import Calendar

    url = api.get("/calendar", user=user).json()["url"]
    response = client.get(url)
    assert response.status_code == 200
    return Calendar.from_ical(response.content).walk("VEVENT")[0]


def good_lying_days(user, days):
    """Every hold of both lying stretches done in full, pain steady: a good day each."""
    library = get_library()
    for day in days:
        holds = []
        for slug in LYING:
            s = library.get(slug)
            target = s.dose.hold_start_s.value
            for side in s.sides:
                holds += [(slug, s.default_variant.slug, side, target, target, None)] * (
                    s.dose.reps_per_side.value
                )
        log_session(user, timezone.now() - timedelta(days=day), holds=holds)


# --- #2: a red flag stops the reminders and the printed plan ----------------------------------


def test_while_a_red_flag_is_open_the_handout_says_do_not_stretch_instead_of_the_plan(
    client, api, cast
):
    alice, carol = cast["alice"], cast["carol"]
    put(client, f"/patients/{alice.pk}/prescription", rx(), carol)
    flag(alice, "bladder")
    path = f"/patients/{alice.pk}/handout.pdf"
    text = handout_text(api.get(path, user=carol))
    # The app's own words for an urgent red flag, and the sign that was answered.
    assert "Please do not stretch." in text
    assert "go to an emergency department or call the emergency number" in text
    assert "new trouble starting to pass urine, or controlling it" in text
    # No plan to follow: no stretch, no dose, no "how often".
    assert "Towel hamstring stretch" not in text and "holds on the" not in text
    assert "times a week" not in text
    client.force_login(alice)
    assert "Please do not stretch." in handout_text(client.get("/handout.pdf"))

    # Once the clinician clears it, the plan is printed again.
    assert api.post(f"/patients/{alice.pk}/screening/clear", {}, user=carol).status_code == 200
    text = handout_text(api.get(path, user=carol))
    assert "Towel hamstring stretch" in text and "Please do not stretch" not in text


def test_a_see_a_doctor_flag_prints_see_a_doctor_first(client, api, cast):
    alice, carol = cast["alice"], cast["carol"]
    flag(alice, "fever")
    text = handout_text(api.get(f"/patients/{alice.pk}/handout.pdf", user=carol))
    assert "Please do not start these stretches yet: see a doctor about this first." in text
    assert "a fever, or feel generally unwell, along with the back pain" in text
    assert "holds on the" not in text


def test_while_a_red_flag_is_open_the_feed_does_not_remind_to_stretch(client, api, cast):
    alice, carol = cast["alice"], cast["carol"]
    put(client, f"/patients/{alice.pk}/prescription", rx(times_per_week=3), carol)
    normal = feed_event(client, api, alice)
    assert "your stretches" in str(normal["SUMMARY"])
    flag(alice, "saddle_numbness")
    event = feed_event(client, api, alice)
    said = f"{event['SUMMARY']} {event['DESCRIPTION']}"
    assert "your stretches" not in said.lower()
    assert "do not stretch" in said.lower()
    assert "go to an emergency department" in said
    # Nothing rings to say "time for your stretches"; the same event (UID) is changed in place.
    assert event.walk("VALARM") == []
    assert event["UID"] == normal["UID"]
    # One all-day event on the day of the flag, not a series saying "do not stretch" for ever.
    assert "RRULE" not in event and "RRULE" in normal
    assert event["DTSTART"].dt == timezone.localdate()
    # Cleared by the clinician: the reminders come back.
    api.post(f"/patients/{alice.pk}/screening/clear", {}, user=carol)
    again = feed_event(client, api, alice)
    assert again["SUMMARY"] == normal["SUMMARY"]
    assert again.walk("VALARM")[0]["DESCRIPTION"] == "Time for your stretches"


# --- #8: the handout holds the seated stretch back as the app does ----------------------------


@pytest.mark.parametrize("prescribed", [False, True], ids=["no-prescription", "prescribed"])
def test_the_handout_holds_the_seated_stretch_back_until_the_lying_ones_went_well(
    client, api, cast, prescribed
):
    alice, carol = cast["alice"], cast["carol"]
    if prescribed:
        put(client, f"/patients/{alice.pk}/prescription", all_three(), carol)
    client.force_login(alice)
    text = handout_text(client.get("/handout.pdf"))
    assert "Towel hamstring stretch —" in text and "Wall hamstring stretch —" in text
    assert "Seated hamstring stretch —" not in text
    # It says when the seated stretch joins, in the app's words.
    assert "The seated hamstring stretch joins once the lying stretches have gone well" in text
    # Two good days of each lying stretch later, the app adds it, and so does the handout.
    good_lying_days(alice, (2, 1))
    today = [i["exercise"] for i in api.get("/today", user=alice).json()["prescription"]["items"]]
    assert SEATED in today
    assert "Seated hamstring stretch —" in handout_text(client.get("/handout.pdf"))


def test_after_care_ended_the_handout_follows_the_app(client, api, cast):
    alice, carol = cast["alice"], cast["carol"]
    put(client, f"/patients/{alice.pk}/prescription", all_three(), carol)
    care.end(alice, timezone.now())
    client.force_login(alice)
    text = handout_text(client.get("/handout.pdf"))
    assert "Seated hamstring stretch —" not in text
    assert "joins once the lying stretches" in text


# --- #9: the feed's first reminder is a scheduled day, and stays put -------------------------


def test_the_feed_starts_on_a_scheduled_day_and_does_not_move_between_fetches(client, api, cast):
    from icalendar import Calendar

    alice, carol = cast["alice"], cast["carol"]
    put(client, f"/patients/{alice.pk}/prescription", rx(times_per_week=3), carol)
    api.get("/calendar", user=alice)
    thursday = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
    CalendarFeed.objects.filter(patient=alice).update(created=thursday)
    starts = set()
    for fetched in (thursday, thursday + timedelta(days=2), thursday + timedelta(days=12)):
        feed = exports.calendar_feed(alice, "https://limber.example/practice/", fetched)
        event = Calendar.from_ical(feed).walk("VEVENT")[0]
        assert event["RRULE"]["BYDAY"] == ["MO", "WE", "FR"]
        starts.add(event["DTSTART"].dt)
    assert len(starts) == 1
    start = starts.pop()
    assert start.strftime("%a") == "Fri" and start.date() == date(2026, 11, 27)
    assert start.hour == 9 and start.tzinfo is None  # still the person's own 9:00
    # Over HTTP too: a Monday-to-Friday plan made on a Saturday starts on the Monday.
    put(client, f"/patients/{alice.pk}/prescription", rx(times_per_week=5), carol)
    CalendarFeed.objects.filter(patient=alice).update(created=datetime(2026, 11, 28, tzinfo=UTC))
    assert feed_event(client, api, alice)["DTSTART"].dt.date() == date(2026, 11, 30)


# --- #5: FHIR that other systems read right ----------------------------------------------------


def test_fhir_export_dates_pain_after_at_the_finish_and_resolves_its_references(client, api, cast):
    from fhir.resources.R4B.bundle import Bundle

    alice, carol = cast["alice"], cast["carol"]
    alice.first_name = "Alice"  # and no family name: FHIR refuses an empty one
    alice.save()
    put(client, f"/patients/{alice.pk}/prescription", rx(), carol)
    started = datetime(2026, 11, 24, 6, 23, 41, tzinfo=UTC)
    session = log_session(alice, started, pain_before=3, pain_after=5, spread=True,
                          holds=[("towel-hamstring-stretch", "hands", "left", 15, 14.5, None),
                                 ("towel-hamstring-stretch", "hands", "right", 15, 15, None)])  # fmt: skip
    session.holds.filter(side="left").update(too_strong=True, knee_felt_deg=144.6)
    session.holds.filter(side="right").update(too_strong=False)
    response = api.get(f"/patients/{alice.pk}/fhir", user=carol)
    Bundle.model_validate_json(response.content)  # still valid R4(B)
    bundle = response.json()
    assert bundle["entry"][0]["resource"]["name"] == [{"given": ["Alice"]}]
    full_urls = [e["fullUrl"] for e in bundle["entry"]]
    assert all(re.fullmatch(r"urn:uuid:[0-9a-f-]{36}", u) for u in full_urls)
    assert len(set(full_urls)) == len(full_urls)
    assert all(re.fullmatch(r"[A-Za-z0-9\-.]{1,64}", e["resource"]["id"]) for e in bundle["entry"])
    # Every reference points at an entry of the bundle.
    refs = re.findall(r'"reference": "([^"]+)"', json.dumps(bundle))
    assert refs and set(refs) <= set(full_urls)
    # The same data exports the same.
    assert api.get(f"/patients/{alice.pk}/fhir", user=carol).json() == bundle

    obs = {e["resource"]["code"]["text"]: e["resource"] for e in bundle["entry"]
           if e["resource"]["resourceType"] == "Observation"}  # fmt: skip
    before, after = obs["Pain before the session"], obs["Pain after the session"]
    assert before["effectiveDateTime"] == started.isoformat()
    assert after["effectiveDateTime"] == session.finished_at.isoformat()
    assert after["valueInteger"] == 5
    coding = after["code"]["coding"][0]
    assert coding == {
        "system": "http://loinc.org",
        "code": "72514-3",
        "display": "Pain severity - 0-10 verbal numeric rating [Score] - Reported",
    }
    category = "http://terminology.hl7.org/CodeSystem/observation-category"
    for o in obs.values():
        assert o["category"][0]["coding"][0]["system"] == category
    assert after["category"][0]["coding"][0]["code"] == "survey"
    held = obs["Seconds held in hamstring stretches, whole session"]
    assert held["category"][0]["coding"][0]["code"] == "activity"
    # Where the patient told the camera they feel the stretch, on the left leg only.
    knees = [o for o in obs.values() if o["code"]["text"].startswith("Knee angle")]
    assert [(k["code"]["text"], k["bodySite"], k["valueQuantity"]["value"]) for k in knees] == [
        ("Knee angle at which the stretch is felt (camera): Towel hamstring stretch",
         {"text": "Left knee"}, 144.6)
    ]  # fmt: skip
    assert knees[0]["valueQuantity"]["code"] == "deg"
    assert knees[0]["category"][0]["coding"][0]["code"] == "exam"
    spread = next(o for o in obs.values() if "down the leg" in o["code"]["text"])
    assert spread["valueBoolean"] is True and "coding" not in spread["code"]
    # One of the two holds felt too strong (answered at the end, like pain after).
    strong = obs["Holds in the session whose stretch felt too strong"]
    assert strong["valueInteger"] == 1
    assert strong["effectiveDateTime"] == session.finished_at.isoformat()


def test_fhir_export_downloads_as_a_file(api, cast):
    alice, carol = cast["alice"], cast["carol"]
    response = api.get(f"/patients/{alice.pk}/fhir", user=carol)
    assert response["Content-Type"] == "application/fhir+json"
    assert response["Content-Disposition"] == (
        f'attachment; filename="limber-patient-{alice.pk}-fhir.json"'
    )


# --- #15: the safety box lists signs, and one hold is said once ------------------------------


def test_the_handout_lists_the_red_flags_as_signs_and_says_an_equal_hold_once(client, api, cast):
    alice, carol = cast["alice"], cast["carol"]
    library = get_library()
    seated = {"exercise": SEATED, "variant": library.get(SEATED).default_variant.slug,
              "sides": ["left", "right"], "reps_per_side": 3, "hold_cap_s": None}  # fmt: skip
    put(client, f"/patients/{alice.pk}/prescription", rx(items=[seated]), carol)
    text = handout_text(api.get(f"/patients/{alice.pk}/handout.pdf", user=carol))
    emergency = text.split("Stop, and get emergency help now if you have")[1]
    assert "?" not in emergency
    # The app's words for these signs: emergency care now, not "call your doctor ... today" (a
    # clinician tester's finding: the handout was weaker than the app for cauda equina signs).
    assert "go to an emergency department or call your emergency number" in emergency.lower()
    assert "call your doctor" not in emergency.lower()
    assert "Do you have" not in text and "Have you" not in text
    assert "sciatica (pain, tingling or numbness) in both legs" in text
    assert "lost control of your bowels" in text
    assert "3 holds on the right leg, then the left leg; hold 30 s; rest" in text
    assert "build up to 30 s" not in text


def test_every_screening_question_has_a_sign_for_the_handout():
    assert set(exports.SIGNS) == {q.id for q in red_flags.QUESTIONS}
    assert not any("?" in sign for sign in exports.SIGNS.values())


def test_fhir_says_a_both_legs_flag_and_its_clearing_as_limber_judged_them(client, api, cast):
    """Found by a clinician tester: "both legs" chosen as the leg with sciatica (an emergency
    red flag) was exported as a check answered all "no", and a flag lifted left no trace."""
    from fhir.resources.R4B.bundle import Bundle

    alice, carol = cast["alice"], cast["carol"]
    answered = {"answers": clear_answers(), "affected_side": "both"}
    flagged = api.post("/screening", answered, user=alice).json()
    assert flagged["flagged"] and flagged["urgent"]
    assert api.post(f"/patients/{alice.pk}/screening/clear", {}, user=carol).status_code == 200
    response = api.get(f"/patients/{alice.pk}/fhir", user=carol)
    Bundle.model_validate_json(response.content)  # still valid R4(B)
    checks = [e["resource"] for e in response.json()["entry"]
              if e["resource"]["resourceType"] == "QuestionnaireResponse"]  # fmt: skip
    latest = {i["linkId"]: i["answer"][0] for i in checks[-1]["item"]}
    assert latest["both_legs"] == {"valueBoolean": True}
    assert latest["affected_side"] == {"valueString": "both"}
    lifted = next(i for i in checks[-1]["item"] if i["linkId"] == "cleared")
    assert lifted["text"] == "Red flag lifted by Carol Physio"
    assert "valueDateTime" in lifted["answer"][0]
    assert "carol@clinic.example" not in response.content.decode()  # no address leaves
    # The earlier clear check is exported as it was: no flag, nothing lifted.
    assert {i["linkId"]: i["answer"][0] for i in checks[0]["item"]}["both_legs"] == {
        "valueBoolean": False
    }
    assert not any(i["linkId"] == "cleared" for i in checks[0]["item"])
    # And the clinician's side keeps the trace: the API and the patient's page.
    shown = api.get(f"/patients/{alice.pk}", user=carol).json()["screening"]["checks"]
    assert shown[0]["urgent"] and shown[0]["cleared_by"] == "Carol Physio"
    assert shown[0]["affected_side"] == "both" and not shown[1]["signs"]
    client.force_login(carol)
    page = html.unescape(client.get(f"/clinic/patients/{alice.pk}/").content.decode())
    table = page.split('id="checks-h"')[1].split("</section>")[0]
    assert "Emergency:" in table and "by Carol Physio" in table


def test_while_the_app_asks_for_a_clinician_the_handout_and_reminders_say_so(client, api, cast):
    """Found by a clinician tester: after severe pain the app said "contact your clinician
    before stretching further"; the handout printed the plan and the reminders rang as ever."""
    alice, carol = cast["alice"], cast["carol"]
    put(client, f"/patients/{alice.pk}/prescription", rx(), carol)
    assert feed_event(client, api, alice)["SUMMARY"] == "Limber: your stretches"
    # The symptoms check before the session: a later clear one lifts the suggestion.
    Screening.objects.filter(user=alice).update(created=timezone.now() - timedelta(days=1))
    log_session(alice, timezone.now() - timedelta(hours=3), pain_before=3, pain_after=8)
    advice = api.get("/today", user=alice).json()["prescription"]["notes"][0]
    assert "Please contact your clinician before stretching further" in advice
    text = handout_text(api.get(f"/patients/{alice.pk}/handout.pdf", user=carol))
    assert "Contact your clinician before stretching further" in text
    assert "Severe pain: pain reached 8/10" in text
    event = feed_event(client, api, alice)
    assert event["SUMMARY"] == "Limber: contact your clinician before stretching further"
    assert "Severe pain: pain reached 8/10" in str(event["DESCRIPTION"])


def test_a_check_answered_before_a_question_was_added_still_shows(client, api, cast):
    """The page lists stored checks as they were: one that lacks a later question's answer (a
    check made before the question existed) is shown, not a server error."""
    alice, carol = cast["alice"], cast["carol"]
    old = dict(clear_answers())
    old.pop(next(iter(old)))  # as if that question had been added since
    old["bladder"] = True
    Screening.objects.create(user=alice, answers=old, flagged=True)
    checks = api.get(f"/patients/{alice.pk}", user=carol).json()["screening"]["checks"]
    assert checks[0]["urgent"] and any("urine" in s for s in checks[0]["signs"])
    client.force_login(carol)
    assert client.get(f"/clinic/patients/{alice.pk}/").status_code == 200
    # And the patient's own pages judge it the same: a red flag that stops practice.
    assert api.get("/screening", user=alice).json()["latest"]["urgent"] is True
    client.force_login(alice)
    assert client.get("/practice/")["Location"] == "/screening/"
    assert client.get("/screening/").status_code == 200
