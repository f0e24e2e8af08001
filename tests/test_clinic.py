"""The clinic: linking, prescribing within the article's limits, following along, exports.

A shared cast, as in healthchecks' BaseTestCase: Carol is Alice's clinician; Dave is Carol's
colleague at the same clinic (no access until Carol gives it); Erin works at another clinic;
Alice and Bob are patients.
"""

import html
import html.parser
import json
import re
import threading
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection
from django.utils import timezone

from limber.accounts.models import ApiToken
from limber.clinic import care, dashboard, exports, prescriptions
from limber.clinic.models import (
    Access,
    CalendarFeed,
    CareLink,
    Clinic,
    Invite,
    Prescription,
    PrescriptionChange,
)
from limber.library import get_library
from limber.practice import store
from limber.practice.models import Hold, PracticeSession, Screening
from tests.conftest import (
    clear_answers,
    confirmation_link,
    migrate_to_latest,
    migrated_to,
    walk_pages,
)
from tests.test_api import assert_error

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.fixture
def cast(make_user, alice, bob):
    carol = make_user("carol@clinic.example", role="clinician")
    carol.first_name, carol.last_name = "Carol", "Physio"
    carol.save()
    dave = make_user("dave@clinic.example", role="clinician")
    erin = make_user("erin@elsewhere.example", role="clinician")
    Clinic.objects.create(name="Riverside Physio").members.add(carol, dave)
    Clinic.objects.create(name="Elsewhere Clinic").members.add(erin)
    CareLink.objects.create(patient=alice, clinician=carol)
    Screening.objects.create(user=alice, answers=clear_answers(), flagged=False)
    return {"carol": carol, "dave": dave, "erin": erin, "alice": alice, "bob": bob}


def bearer(user) -> dict:
    return {"Authorization": "Bearer " + ApiToken.objects.issue(user)[1]}


def put(client, path, body, user):
    return client.put(
        "/api/v1" + path, json.dumps(body), content_type="application/json", headers=bearer(user)
    )


def rx(**over):
    body = {
        "items": [{"exercise": "towel-hamstring-stretch", "variant": "hands",
                   "sides": ["left", "right"], "reps_per_side": 2, "hold_cap_s": 15}],
        "times_per_week": 7, "affected_side": "left", "note": "Gently, please.",
    }  # fmt: skip
    body.update(over)
    return body


def log_session(user, started, pain_before=3, pain_after=3, spread=False, holds=()):
    s = PracticeSession.objects.create(
        id=uuid.uuid4(), user=user, started_at=started, finished_at=started + timedelta(minutes=8),
        pain_before=pain_before, pain_after=pain_after, pain_spread=spread,
    )  # fmt: skip
    for n, (exercise, variant, side, target, held, good) in enumerate(holds):
        s.holds.create(
            exercise=exercise, variant=variant, side=side, rep=n + 1, target_s=target,
            held_s=held, good_form_s=good, position=n,
        )  # fmt: skip
    return s


# --- the access matrix ------------------------------------------------------------------------

ENDPOINTS = [
    ("get", "/patients/{id}"),
    ("get", "/patients/{id}/prescription"),
    ("put", "/patients/{id}/prescription"),
    ("post", "/patients/{id}/screening/clear"),
    ("get", "/patients/{id}/handout.pdf"),
    ("get", "/patients/{id}/fhir"),
    ("post", "/patients/{id}/access"),
]
EXPECTED = {"carol": 200, "dave": 404, "erin": 404, "alice": 403, "bob": 403, None: 401}


def call(client, api, method, path, user):
    if method == "get":
        return api.get(path, user=user)
    body = rx() if "prescription" in path else {"email": "dave@clinic.example"}
    if method == "put":
        if user is None:
            return client.put("/api/v1" + path, json.dumps(body), content_type="application/json")
        return put(client, path, body, user)
    return api.post(path, body, user=user)


@pytest.mark.parametrize("method, path", ENDPOINTS)
@pytest.mark.parametrize("who", list(EXPECTED))
def test_access_matrix(client, api, cast, method, path, who):
    url = path.format(id=cast["alice"].pk)
    response = call(client, api, method, url, cast[who] if who else None)
    expected = EXPECTED[who]
    if expected == 200:
        # The clear endpoint answers 409 when nothing is flagged: allowed in, nothing to clear.
        assert response.status_code in (200, 201, 409), response.content
        if response.status_code == 409:
            assert "flagged" in response.json()["error"]["message"]
    else:
        assert_error(response, expected)


def test_unknown_patient_reads_the_same_as_someone_elses(api, cast):
    unknown = api.get("/patients/999999", user=cast["erin"])
    theirs = api.get(f"/patients/{cast['alice'].pk}", user=cast["erin"])
    assert unknown.status_code == theirs.status_code == 404
    assert unknown.json() == theirs.json()


def test_patient_list_shows_only_linked_patients(api, cast):
    mine = api.get("/patients", user=cast["carol"]).json()["patients"]
    assert [p["email"] for p in mine] == ["alice@example.org"]
    assert api.get("/patients", user=cast["erin"]).json()["patients"] == []
    assert_error(api.get("/patients", user=cast["alice"]), 403)
    assert_error(api.get("/patients"), 401)


def test_a_colleague_sees_the_patient_once_given_access(api, cast):
    alice, dave = cast["alice"], cast["dave"]
    assert_error(api.get(f"/patients/{alice.pk}", user=dave), 404)
    # Only a colleague of the same clinic can be given access.
    refused = api.post(
        f"/patients/{alice.pk}/access", {"email": "erin@elsewhere.example"}, user=cast["carol"]
    )
    assert_error(refused, 404, "email")
    given = api.post(
        f"/patients/{alice.pk}/access", {"email": "DAVE@clinic.example"}, user=cast["carol"]
    )
    assert given.status_code == 201
    assert api.get(f"/patients/{alice.pk}", user=dave).status_code == 200
    assert [p["email"] for p in api.get("/patients", user=dave).json()["patients"]] == [alice.email]
    # Dave may look, but may not pass the patient on: only her own clinician can.
    assert_error(
        api.post(f"/patients/{alice.pk}/access", {"email": "carol@clinic.example"}, user=dave), 403
    )


# --- linking ----------------------------------------------------------------------------------


def test_invite_is_single_use_and_expires(api, cast, make_user):
    made = api.post("/invites", {}, user=cast["carol"])
    assert made.status_code == 201
    body = made.json()
    assert body["url"].endswith(f"/clinic/join/{body['code']}/")
    expires = datetime.fromisoformat(body["expires"])
    assert timedelta(days=6, hours=23) < expires - timezone.now() <= timedelta(days=7)

    joined = api.post("/care", {"code": body["code"]}, user=cast["bob"])
    assert joined.status_code == 201
    assert joined.json() == {"clinician": {"name": "Carol Physio", "clinic": "Riverside Physio"}}
    assert api.get("/care", user=cast["bob"]).json()["clinician"]["name"] == "Carol Physio"
    # Replaying the code, by the same account or another, links nobody twice.
    assert_error(api.post("/care", {"code": body["code"]}, user=cast["bob"]), 409, "code")
    frank = make_user("frank@example.org")
    assert_error(api.post("/care", {"code": body["code"]}, user=frank), 409, "code")
    assert CareLink.objects.filter(patient=cast["bob"]).count() == 1

    old = Invite.objects.create(clinician=cast["carol"], created=timezone.now() - timedelta(days=8))
    assert_error(api.post("/care", {"code": old.code}, user=frank), 410, "code")
    assert_error(api.post("/care", {"code": "NOSUCHCODE"}, user=frank), 404, "code")
    assert not CareLink.objects.filter(patient=frank).exists()


def _join(client, code, email, password="joining-now-42"):
    return client.post(f"/clinic/join/{code}/",
                       {"email": email, "password": password, "password2": password})  # fmt: skip


def test_an_invite_link_with_a_taken_address_asks_to_log_in_and_changes_nothing(client, cast):
    inv = Invite.objects.create(clinician=cast["carol"], created=timezone.now())
    page = _join(client, inv.code, "bob@example.org")
    assert page.status_code == 400 and "already has a Limber account" in page.content.decode()
    bob = get_user_model().objects.get(pk=cast["bob"].pk)
    assert bob.check_password("stretch-gently-42")  # the stranger's password changed nothing
    inv.refresh_from_db()
    assert inv.used_at is None and not CareLink.objects.filter(patient=bob).exists()
    # Logged in, Bob joins with the same link.
    client.post("/accounts/login/", {"email": "bob@example.org", "password": "stretch-gently-42"})
    assert client.post(f"/clinic/join/{inv.code}/").status_code == 302
    assert CareLink.objects.get(patient=bob).clinician == cast["carol"]


def test_an_invite_link_does_not_take_over_a_sign_up_still_waiting_for_its_mail(client, cast):
    """Found by a tester: anyone holding an invite could complete someone else's sign-up with
    their own password, and be logged in to it, before the owner opened the mailed link."""
    client.post("/accounts/signup/", {"email": "new@example.org", "password": "first-try-pass-1",
                                      "password2": "first-try-pass-1"})  # fmt: skip
    inv = Invite.objects.create(clinician=cast["carol"], created=timezone.now())
    refused = _join(client, inv.code, "new@example.org")
    assert refused.status_code == 400
    assert "open the link in the mail" in html.unescape(refused.content.decode())
    new = get_user_model().objects.get(username="new@example.org")
    assert not new.is_active and new.check_password("first-try-pass-1")
    assert not CareLink.objects.filter(patient=new).exists()
    assert client.get("/accounts/").status_code == 302  # nobody is logged in
    inv.refresh_from_db()
    assert inv.used_at is None  # the invite still works for its patient
    # The owner's own link still works, and then the invite, logged in.
    link = confirmation_link("new@example.org")
    assert client.post(link, {"password": "first-try-pass-1"}).status_code == 302
    assert client.post(f"/clinic/join/{inv.code}/").status_code == 302
    assert CareLink.objects.get(patient=new).clinician == cast["carol"]


def test_a_used_invite_link_makes_no_account(client, cast):
    inv = Invite.objects.create(clinician=cast["carol"], created=timezone.now() - timedelta(days=8))
    page = _join(client, inv.code, "late@example.org")
    assert page.status_code == 400 and "has expired" in page.content.decode()
    assert not get_user_model().objects.filter(username="late@example.org").exists()


def test_every_api_write_counts_against_the_rate_limit_clinic_writes_too(
    client, api, cast, monkeypatch
):
    """Found by a tester: 130 invites in a minute, all made; the limit covered only the
    patient's writes."""
    from limber import api as limber_api

    monkeypatch.setattr(limber_api, "WRITES_PER_MINUTE", 3)
    carol, alice = cast["carol"], cast["alice"]
    for _ in range(3):
        assert api.post("/invites", {}, user=carol).status_code == 201
    refused = api.post("/invites", {}, user=carol)
    assert assert_error(refused, 429)["code"] == "rate_limited"
    assert 1 <= int(refused["Retry-After"]) <= 61
    assert Invite.objects.filter(clinician=carol).count() == 3
    assert_error(put(client, f"/patients/{alice.pk}/prescription", rx(), carol), 429)
    assert not Prescription.objects.filter(patient=alice).exists()
    assert api.get("/patients", user=carol).status_code == 200  # reading goes on


def test_only_clinicians_invite_and_only_patients_join(api, cast):
    assert_error(api.post("/invites", {}, user=cast["alice"]), 403)
    code = api.post("/invites", {}, user=cast["carol"]).json()["code"]
    assert_error(api.post("/care", {"code": code}, user=cast["erin"]), 403)


def test_ending_care_keeps_the_history_and_drops_the_prescription(client, api, cast):
    alice, carol = cast["alice"], cast["carol"]
    log_session(alice, timezone.now() - timedelta(days=1))
    assert put(client, f"/patients/{alice.pk}/prescription", rx(), carol).status_code == 200
    assert (
        api.get("/today", user=alice).json()["prescription"]["clinician_note"] == "Gently, please."
    )
    assert client.delete("/api/v1/care", headers=bearer(alice)).status_code == 204
    assert PracticeSession.objects.filter(user=alice).count() == 1
    assert_error(api.get(f"/patients/{alice.pk}", user=carol), 404)
    assert "clinician_note" not in api.get("/today", user=alice).json()["prescription"]


def test_a_clinician_joined_after_ending_care_never_reads_what_the_earlier_one_wrote(
    client, api, cast
):
    """Found by a tester: the next clinic saw the earlier clinic's record of changes, the
    deleted note word for word and who wrote it."""
    alice, carol, erin = cast["alice"], cast["carol"], cast["erin"]
    put(client, f"/patients/{alice.pk}/prescription", rx(note="Private words from Carol."), carol)
    assert client.delete("/api/v1/care", headers=bearer(alice)).status_code == 204
    assert not PrescriptionChange.objects.filter(patient=alice).exists()
    code = api.post("/invites", {}, user=erin).json()["code"]
    assert api.post("/care", {"code": code}, user=alice).status_code == 201
    seen = api.get(f"/patients/{alice.pk}", user=erin).json()
    assert seen["changes"] == [] and seen["prescription"] is None
    client.force_login(erin)
    page = html.unescape(client.get(f"/clinic/patients/{alice.pk}/").content.decode())
    assert "Private words" not in page and "Carol" not in page


def test_a_clinician_deleting_their_account_ends_their_patients_care(client, api, cast):
    """Found by a tester: the patient was left with the prescription and its note, no clinician
    to change it and no link to end."""
    alice, carol = cast["alice"], cast["carol"]
    put(client, f"/patients/{alice.pk}/prescription", rx(note="Note from Carol."), carol)
    client.force_login(carol)
    # The page says first what else ends (a clinician tester deleted theirs unwarned).
    asked = html.unescape(client.get("/accounts/delete/").content.decode())
    assert "Your care of 1 patient (alice@example.org): each link ends" in asked
    client.force_login(alice)
    assert "It also ends:" not in client.get("/accounts/delete/").content.decode()
    client.force_login(carol)
    deleted = client.post("/accounts/delete/", {"password": "stretch-gently-42"})
    assert deleted.status_code == 200
    assert not get_user_model().objects.filter(pk=carol.pk).exists()
    today = api.get("/today", user=alice).json()["prescription"]
    assert "clinician_note" not in today
    assert not any("Left out by your clinician" in n for n in today["notes"])
    assert not Prescription.objects.filter(patient=alice).exists()
    assert api.get("/care", user=alice).json() == {"clinician": None}
    # Alice is told why: her stretches changed without anything she did.
    client.force_login(alice)
    said = "closed their Limber account"
    care_page = html.unescape(client.get("/clinic/care/").content.decode())
    assert f"Your clinician {said} on {timezone.localtime().strftime('%-d %B %Y')}" in care_page
    assert said in html.unescape(client.get("/practice/").content.decode())
    # The practice page says it until her first session after it; the care page still says why.
    log_session(alice, timezone.now())
    assert said not in html.unescape(client.get("/practice/").content.decode())
    assert said in html.unescape(client.get("/clinic/care/").content.decode())
    # Alice may join someone else at once, and then nothing is said of the old link.
    code = api.post("/invites", {}, user=cast["erin"]).json()["code"]
    assert api.post("/care", {"code": code}, user=alice).status_code == 201
    assert said not in html.unescape(client.get("/clinic/care/").content.decode())


def test_a_link_the_patient_ended_is_not_said_to_be_ended_by_a_later_account_deletion(
    client, api, cast
):
    alice, carol = cast["alice"], cast["carol"]
    assert client.delete("/api/v1/care", headers=bearer(alice)).status_code == 204
    client.force_login(carol)
    assert client.post("/accounts/delete/", {"password": "stretch-gently-42"}).status_code == 200
    client.force_login(alice)
    for page in ("/clinic/care/", "/practice/"):
        assert "closed their Limber account" not in client.get(page).content.decode()


def test_a_closed_clinicians_invite_no_longer_links(api, cast, bob):
    carol = cast["carol"]
    code = api.post("/invites", {}, user=carol).json()["code"]
    carol.is_active = False  # closed by an administrator
    carol.save()
    assert_error(api.post("/care", {"code": code}, user=bob), 410, "code")
    assert not CareLink.objects.filter(patient=bob).exists()


# --- prescribing ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "change, field",
    [
        ({"exercise": "no-such-stretch"}, "items[0].exercise"),
        ({"variant": "on-a-trampoline"}, "items[0].variant"),
        ({"hold_cap_s": 35}, "items[0].hold_cap_s"),  # the article's goal is 30 s
        ({"hold_cap_s": 5}, "items[0].hold_cap_s"),  # its first hold is 10 s
        ({"reps_per_side": 0}, "items[0].reps_per_side"),
        ({"sides": ["middle"]}, "items[0].sides[0]"),
        ({"reps_per_side": "2"}, "items[0].reps_per_side"),
        ({"knee_from_deg": 161}, "items[0].knee_from_deg"),  # the camera's own is 160
        ({"knee_from_deg": 119}, "items[0].knee_from_deg"),  # Limber's floor is 120
        ({"knee_from_deg": "150"}, "items[0].knee_from_deg"),
    ],
)
def test_prescriptions_outside_the_article_are_refused_naming_the_field(
    client, cast, change, field
):
    body = rx()
    body["items"][0].update(change)
    response = put(client, f"/patients/{cast['alice'].pk}/prescription", body, cast["carol"])
    assert_error(response, 422, field)
    assert not Prescription.objects.exists() and not PrescriptionChange.objects.exists()


@pytest.mark.parametrize("reason", ["\u200b", "\u00a0\u200b", " \u2060\ufeff "])
def test_a_reason_nobody_can_read_is_no_reason(client, api, cast, reason):
    """Found by a tester: a zero-width space let a 60 s cap through, and the patient read
    "Your clinician allowed longer holds than the article's goal: " and nothing after it."""
    alice, carol = cast["alice"], cast["carol"]
    over = rx(items=[{"exercise": "towel-hamstring-stretch", "hold_cap_s": 60}],
              override_reason=reason, note="\u200b")  # fmt: skip
    refused = put(client, f"/patients/{alice.pk}/prescription", over, carol)
    assert_error(refused, 422, "items[0].hold_cap_s")
    assert not Prescription.objects.filter(patient=alice).exists()
    # An invisible note is no note either: nothing is shown under "Note from your clinician".
    body = rx(note="\u200b\u200b")
    assert put(client, f"/patients/{alice.pk}/prescription", body, carol).status_code == 200
    assert Prescription.objects.get(patient=alice).data["note"] == ""


def test_a_cap_above_the_goal_needs_a_reason_the_patient_sees(client, api, cast):
    alice, carol = cast["alice"], cast["carol"]
    body = rx(override_reason="Long-standing tightness, seen in clinic.")
    body["items"][0]["hold_cap_s"] = 45
    assert put(client, f"/patients/{alice.pk}/prescription", body, carol).status_code == 200
    today = api.get("/today", user=alice).json()["prescription"]
    assert today["override_reason"] == "Long-standing tightness, seen in clinic."
    assert any("Long-standing tightness" in n for n in today["notes"])
    # The override is honoured: the towel stretch may now grow past the article's 30 s.
    towel = next(i for i in today["items"] if i["exercise"] == "towel-hamstring-stretch")
    assert towel["goal_s"] == 45
    # The receiving record reads it too (the FHIR CarePlan's notes).
    plan = api.get(f"/patients/{alice.pk}/fhir", user=carol).json()["entry"][1]["resource"]
    assert [n["text"] for n in plan["note"]] == [
        "Gently, please.",
        "Holds longer than the article's goal, because: Long-standing tightness, seen in clinic.",
    ]


def test_the_app_says_how_often_the_clinician_prescribed(client, api, cast):
    """Found by a clinician tester: three times a week was on the handout and in the reminders,
    while the app went on saying "Once a day; at most twice"."""
    alice, carol = cast["alice"], cast["carol"]
    assert api.get("/today", user=alice).json()["prescription"]["frequency"]["text"] == (
        "Once a day; at most twice."
    )
    put(client, f"/patients/{alice.pk}/prescription", rx(times_per_week=3), carol)
    frequency = api.get("/today", user=alice).json()["prescription"]["frequency"]
    assert frequency["text"] == "3 times a week, as your clinician set; at most twice a day."
    assert frequency["origin"] == "clinician"
    client.force_login(alice)
    page = html.unescape(client.get("/practice/").content.decode())
    assert "3 times a week, as your clinician set" in page and "your clinician</span>" in page


def test_today_follows_the_prescription(client, api, cast):
    alice, carol = cast["alice"], cast["carol"]
    before = api.get("/today", user=alice).json()
    assert "clinician_note" not in before["prescription"]  # no prescription: as before
    body = rx()
    body["items"][0].update(sides=["left"], reps_per_side=2, hold_cap_s=10)
    assert put(client, f"/patients/{alice.pk}/prescription", body, carol).status_code == 200
    # Days of good sessions would grow the hold; the cap holds it at 10 s.
    for day in range(6, 0, -1):
        start = timezone.now() - timedelta(days=day)
        holds = [("towel-hamstring-stretch", "hands", "left", 10, 10, None)] * 2
        log_session(alice, start, holds=holds)
    today = api.get("/today", user=alice).json()
    items = today["prescription"]["items"]
    assert [i["exercise"] for i in items] == ["towel-hamstring-stretch"]
    assert items[0]["variant"] == "hands" and items[0]["sides"] == ["left"]
    assert items[0]["reps_per_side"] == 2 and items[0]["hold_s"] == 10
    assert today["prescription"]["clinician_note"] == "Gently, please."
    holds = [s for s in today["script"]["steps"] if s["kind"] == "hold"]
    assert [(h["side"], h["target_s"]) for h in holds] == [("left", 10), ("left", 10)]
    # The history page explains the plan under the same cap.
    client.force_login(alice)
    page = html.unescape(client.get("/history/").content.decode())
    assert "Holding 10 s today: that is your clinician's limit." in page


def test_every_change_is_kept_with_who_and_what(client, api, cast):
    alice, carol = cast["alice"], cast["carol"]
    put(client, f"/patients/{alice.pk}/prescription", rx(), carol)
    body = rx(times_per_week=3)
    body["items"][0]["hold_cap_s"] = 20
    put(client, f"/patients/{alice.pk}/prescription", body, carol)
    changes = api.get(f"/patients/{alice.pk}", user=carol).json()["changes"]
    assert [c["by"] for c in changes] == ["Carol Physio", "Carol Physio"]
    assert changes[0]["what"] == [
        "Times per week: 7 → 3.",
        "Towel hamstring stretch: hold cap (s) 15 → 20.",
    ]
    assert changes[1]["what"] == ["First prescription: Towel hamstring stretch."]


def test_a_knee_that_cannot_straighten_is_prescribed_and_followed_everywhere(client, api, cast):
    """A clinician sets the angle the camera counts a knee straight from (a knee that cannot
    straighten): kept, in the history of changes, in the patient's camera check, on the
    handout's page and in the FHIR CarePlan."""
    alice, carol = cast["alice"], cast["carol"]
    put(client, f"/patients/{alice.pk}/prescription", rx(), carol)
    body = rx()
    body["items"][0]["knee_from_deg"] = 150
    assert put(client, f"/patients/{alice.pk}/prescription", body, carol).status_code == 200
    assert Prescription.objects.get(patient=alice).data["items"][0]["knee_from_deg"] == 150
    what = api.get(f"/patients/{alice.pk}", user=carol).json()["changes"][0]["what"]
    assert what == ["Towel hamstring stretch: knee counted straight from (°) none → 150."]
    from limber.practice.plan import clinician_plan

    assert dict(clinician_plan(alice).knee_from) == {"towel-hamstring-stretch": 150}
    # The patient reads it before the session, on today's plan and its page.
    items = api.get("/today", user=alice).json()["prescription"]["items"]
    assert [i.get("knee_from_deg") for i in items] == [150]
    client.force_login(alice)
    page = html.unescape(" ".join(client.get("/practice/").content.decode().split()))
    assert "With the camera, your knee counts as straight from 150°, as your clinician set" in page
    bundle = api.get(f"/patients/{alice.pk}/fhir", user=carol).json()
    activity = bundle["entry"][1]["resource"]["activity"][0]["detail"]
    assert activity["description"].endswith("; the camera counts the knee straight from 150°")
    from io import BytesIO

    from pypdf import PdfReader

    pdf = api.get(f"/patients/{alice.pk}/handout.pdf", user=carol)
    text = " ".join(
        " ".join(p.extract_text() for p in PdfReader(BytesIO(pdf.content)).pages).split()
    )
    assert (
        "your knee counts as straight from 150° (180° is fully straight), as your clinician" in text
    )
    # The seated stretch's gentler way already counts from 145°: 150 is refused for it.
    seated = rx(items=[{"exercise": "seated-hamstring-stretch", "variant": "heel-closer",
                        "knee_from_deg": 150}])  # fmt: skip
    refused = put(client, f"/patients/{alice.pk}/prescription", seated, carol)
    assert_error(refused, 422, "items[0].knee_from_deg")
    assert "145°" in refused.json()["error"]["message"]
    # Taken away again, the camera counts from its own angle.
    assert put(client, f"/patients/{alice.pk}/prescription", rx(), carol).status_code == 200
    assert dict(clinician_plan(alice).knee_from) == {}


def test_the_knee_angle_on_the_prescription_form(client, cast):
    alice, carol = cast["alice"], cast["carol"]
    client.force_login(carol)
    page = html.unescape(client.get(f"/clinic/patients/{alice.pk}/").content.decode())
    field = page.split('id="rx-knee-towel-hamstring-stretch"')[1].split("</small>")[0]
    assert 'placeholder="160"' in field and "(120 to 160; 180 is straight)" in field
    refused = client.post(f"/clinic/patients/{alice.pk}/", rx_form(**{KNEE: "100"}))
    assert refused.status_code == 400
    element, message = field_error(html.unescape(refused.content.decode()), KNEE)
    assert element["value"] == "100"
    assert message == (
        "Towel hamstring stretch — knee counted straight from: must be a whole number of degrees "
        "from 120 to 160, where the camera already counts this stretch's knee straight; left "
        "empty, 160."
    )
    assert client.post(f"/clinic/patients/{alice.pk}/", rx_form(**{KNEE: "145"})).status_code == 302
    assert Prescription.objects.get(patient=alice).data["items"][0]["knee_from_deg"] == 145
    page = html.unescape(client.get(f"/clinic/patients/{alice.pk}/").content.decode())
    assert 'name="knee-towel-hamstring-stretch" value="145"' in page


# --- following along --------------------------------------------------------------------------


def test_dashboard_alerts_name_their_reason_and_session(cast):
    alice, carol = cast["alice"], cast["carol"]
    CareLink.objects.filter(patient=alice).update(created=NOW - timedelta(days=40))
    Prescription.objects.create(patient=alice, data={"items": [], "times_per_week": 7})
    for day in (20, 18, 15, 12):
        log_session(alice, NOW - timedelta(days=day), pain_before=3, pain_after=3)
    spread = log_session(alice, NOW - timedelta(days=4), pain_before=3, pain_after=4, spread=True)
    rows = dashboard.rows(carol, NOW)
    kinds = {a["kind"]: a for a in rows[0]["alerts"]}
    assert kinds["pain_spread"]["session"] == str(spread.id)
    assert "spread down the leg" in kinds["pain_spread"]["reason"]
    assert "no_sessions" in kinds  # daily prescription, last session 4 days ago
    assert "pain_up" not in kinds  # 4 is not 2 above her usual 3
    assert rows[0]["days_7"] == 1 and rows[0]["days_28"] == 5 and rows[0]["target_28"] == 28

    log_session(alice, NOW - timedelta(days=1), pain_before=3, pain_after=6)
    kinds = {a["kind"]: a for a in dashboard.rows(carol, NOW)[0]["alerts"]}
    assert kinds["pain_up"]["reason"].startswith("pain rose from 3 to 6")
    assert "see_clinician" in kinds  # two flagged sessions in a row
    assert "no_sessions" not in kinds
    Screening.objects.create(user=alice, answers=clear_answers(True), flagged=True)
    kinds = {a["kind"] for a in dashboard.rows(carol, NOW)[0]["alerts"]}
    assert "red_flag" in kinds


def test_dashboard_reads_a_fixed_number_of_queries(cast, make_user, django_assert_max_num_queries):
    carol = cast["carol"]
    for n in range(15):
        p = make_user(f"p{n}@example.org")
        CareLink.objects.create(patient=p, clinician=carol)
        log_session(
            p,
            NOW - timedelta(days=n),
            holds=[("towel-hamstring-stretch", "towel", "left", 10, 10, 8)],
        )
    with django_assert_max_num_queries(6):  # no hold is read: sessions keep their totals
        rows = dashboard.rows(carol, NOW)
    assert len(rows) == 16
    assert rows[1]["good_form_share"] == 0.8


# Two holds the camera timed (10 s held, 8 s and 6 s in good form) and one without the camera,
# which must not dilute the share: 14 / 20 = 70 %.
TIMED = [(10.0, 8.0), (10.0, 6.0), (10.0, None)]


def timed_holds(good=True):
    return [
        {"id": str(uuid.uuid4()), "exercise": "towel-hamstring-stretch", "variant": "towel",
         "side": "left", "rep": n + 1, "target_s": 10, "held_s": held,
         "good_form_s": g if good else None, "stretch_felt": True, "pain": 2}
        for n, (held, g) in enumerate(TIMED)
    ]  # fmt: skip


def session_body(holds):
    start = timezone.now() - timedelta(days=1)
    return {
        "id": str(uuid.uuid4()), "started_at": start.isoformat(),
        "finished_at": (start + timedelta(minutes=8)).isoformat(),
        "pain_before": 3, "pain_after": 3, "pain_spread": False, "holds": holds,
    }  # fmt: skip


def write_in_one_post(api, alice):
    assert api.post("/sessions", session_body(timed_holds()), user=alice).status_code == 201


def write_hold_by_hold(api, alice):
    body, holds = session_body([]), timed_holds()
    for n in range(1, len(holds) + 1):  # the player sends each hold as it ends
        body["holds"] = holds[:n]
        assert api.post("/sessions", body, user=alice).status_code == 201


def write_form_later(api, alice):
    body = session_body(timed_holds(good=False))
    api.post("/sessions", body, user=alice)
    for sent, (_, good) in zip(body["holds"], TIMED, strict=True):
        sent["good_form_s"] = good  # the same holds, their camera seconds sent after
    assert api.post("/sessions", body, user=alice).status_code == 201


def write_after_a_lost_race(api, alice, monkeypatch):
    # The quick insert lost to another send of the same session: the merge stores it instead.
    def lost(user, data):
        raise IntegrityError("another send of this session was first")

    monkeypatch.setattr(store, "_insert", lost)
    assert api.post("/sessions", session_body(timed_holds()), user=alice).status_code == 201


def write_with_create(api, alice):
    log_session(
        alice, timezone.now() - timedelta(days=1),
        holds=[("towel-hamstring-stretch", "towel", "left", 10, held, g) for held, g in TIMED],
    )  # fmt: skip


def write_with_bulk_create(api, alice):
    s = log_session(alice, timezone.now() - timedelta(days=1))
    Hold.objects.bulk_create(
        Hold(session=s, exercise="towel-hamstring-stretch", variant="towel", side="left",
             rep=n + 1, target_s=10, held_s=held, good_form_s=g, position=n)
        for n, (held, g) in enumerate(TIMED)
    )  # fmt: skip


def write_then_update_and_delete(api, alice):
    holds = [("towel-hamstring-stretch", "towel", "left", 10, 10.0, None)] * 5
    s = log_session(alice, timezone.now() - timedelta(days=1), holds=holds)
    stale = PracticeSession.objects.get(pk=s.pk)  # read before its holds change
    first, second, _, extra, more = s.holds.order_by("position")
    Hold.objects.filter(pk=first.pk).update(good_form_s=8.0)
    second.good_form_s = 6.0
    Hold.objects.bulk_update([second], ["good_form_s"])
    extra.delete()
    Hold.objects.filter(pk=more.pk).delete()
    stale.pain_after = 2
    stale.save()  # the pain answer is saved; its totals, read before, are not
    assert PracticeSession.objects.get(pk=s.pk).pain_after == 2


@pytest.mark.parametrize(
    "write",
    [write_in_one_post, write_hold_by_hold, write_form_later, write_after_a_lost_race,
     write_with_create, write_with_bulk_create, write_then_update_and_delete],
    ids=lambda f: f.__name__.removeprefix("write_"),
)  # fmt: skip
def test_the_dashboard_shows_the_good_form_share_however_the_holds_were_written(
    client, api, cast, monkeypatch, write
):
    alice, carol = cast["alice"], cast["carol"]
    if write is write_after_a_lost_race:
        write(api, alice, monkeypatch)
    else:
        write(api, alice)
    assert dashboard.rows(carol, timezone.now())[0]["good_form_share"] == 0.7
    client.force_login(carol)
    row = next(r for r in client.get("/clinic/").content.decode().split("<tr") if alice.email in r)
    assert 'data-label="Good form" data-sort="0.7">70 %</td>' in row
    s = PracticeSession.objects.get(user=alice)
    assert (s.hold_count, s.held_s, s.timed_held_s, s.good_form_s) == (3, 30.0, 20.0, 14.0)


def test_a_session_sent_again_or_with_a_hold_more_keeps_its_totals_right(api, cast):
    alice, carol = cast["alice"], cast["carol"]
    body = session_body(timed_holds())
    for _ in range(3):  # a replay changes nothing
        api.post("/sessions", body, user=alice)
    s = PracticeSession.objects.get(user=alice)
    assert (s.hold_count, s.held_s, s.timed_held_s, s.good_form_s) == (3, 30.0, 20.0, 14.0)
    # One more hold, and a changed length for one already recorded (what was recorded stands).
    body["holds"][0]["held_s"] = 99
    body["holds"].append({**timed_holds()[0], "rep": 4, "held_s": 20.0, "good_form_s": 20.0})
    assert api.post("/sessions", body, user=alice).status_code == 201
    s.refresh_from_db()
    assert (s.hold_count, s.held_s, s.timed_held_s, s.good_form_s) == (4, 50.0, 40.0, 34.0)
    assert dashboard.rows(carol, timezone.now())[0]["good_form_share"] == 0.85


def test_dashboard_page_sorts_and_links_alerts(client, cast):
    alice, carol = cast["alice"], cast["carol"]
    spread = log_session(alice, timezone.now() - timedelta(hours=2), spread=True)
    client.force_login(carol)
    page = client.get("/clinic/").content.decode()
    assert f"/clinic/patients/{alice.pk}/#session-{spread.id}" in page
    assert "pain spread down the leg" in page
    patient_page = client.get(f"/clinic/patients/{alice.pk}/").content.decode()
    assert f'id="session-{spread.id}"' in patient_page
    client.force_login(cast["erin"])
    assert client.get(f"/clinic/patients/{alice.pk}/").status_code == 404
    client.force_login(alice)
    assert client.get(f"/clinic/patients/{alice.pk}/").status_code == 403
    assert client.get("/clinic/").status_code == 302  # patients go to their own care page


KNEE = "knee-towel-hamstring-stretch"


def rx_form(**over) -> dict:
    """The patient page's prescription form, filled in for the towel stretch."""
    form = {
        "include-towel-hamstring-stretch": "1", "variant-towel-hamstring-stretch": "towel",
        "sides-towel-hamstring-stretch": ["left"], "reps-towel-hamstring-stretch": "2",
        "cap-towel-hamstring-stretch": "20", "times_per_week": "5", "note": "Slowly.",
    }  # fmt: skip
    return form | over


def test_prescription_form_on_the_patient_page(client, cast):
    alice, carol = cast["alice"], cast["carol"]
    client.force_login(carol)
    # Each number says where it comes from: the article gives no rep count for the towel
    # stretch (a tester found "Article: ... 3 per leg").
    page = html.unescape(client.get(f"/clinic/patients/{alice.pk}/").content.decode())
    towel = page.split('id="rx-include-towel-hamstring-stretch"')[1].split("</fieldset>")[0]
    assert "Article:" not in towel
    assert re.search(r"3 per leg\s*<span class=\"origin default\"", towel)
    assert re.search(r"First hold 10 s\s*<span class=\"origin source\"", towel)
    form = rx_form(**{"cap-towel-hamstring-stretch": "40"})
    refused = client.post(f"/clinic/patients/{alice.pk}/", form)
    assert refused.status_code == 400
    assert "above the article&#x27;s goal" in refused.content.decode()
    form["cap-towel-hamstring-stretch"] = "20"
    assert client.post(f"/clinic/patients/{alice.pk}/", form).status_code == 302
    data = Prescription.objects.get(patient=alice).data
    assert data["items"][0]["hold_cap_s"] == 20 and data["times_per_week"] == 5


def test_a_prescription_with_no_stretch_ticked_is_refused_on_the_page(client, cast):
    alice, carol = cast["alice"], cast["carol"]
    client.force_login(carol)
    refused = client.post(f"/clinic/patients/{alice.pk}/", {"times_per_week": "5"})
    assert refused.status_code == 400
    assert "<li>Tick at least one stretch to prescribe.</li>" in refused.content.decode()  # no 500
    assert not Prescription.objects.filter(patient=alice).exists()


def test_text_with_a_nul_character_is_refused_naming_the_field(client, api, cast):
    alice, carol = cast["alice"], cast["carol"]
    # PostgreSQL cannot store NUL: refused as input (422), on SQLite as on PostgreSQL.
    assert_error(put(client, f"/patients/{alice.pk}/prescription",
                     rx(note="a\x00b"), carol), 422, "note")  # fmt: skip
    client.force_login(carol)
    page = client.post(f"/clinic/patients/{alice.pk}/", rx_form(note="a\x00b"))
    assert page.status_code == 400
    assert field_error(page.content.decode(), "note")[1] == (
        "Note to the patient: must not contain the NUL character."
    )
    assert not Prescription.objects.filter(patient=alice).exists()


def test_sharing_with_a_colleague_on_the_page_says_whether_it_worked(client, cast):
    alice, carol = cast["alice"], cast["carol"]
    client.force_login(carol)
    page = client.post(f"/clinic/patients/{alice.pk}/access/", {"email": "erin@elsewhere.example"},
                       follow=True)  # fmt: skip
    assert "no colleague in your clinic has that e-mail" in page.content.decode()
    page = client.post(f"/clinic/patients/{alice.pk}/access/", {"email": "dave@clinic.example"},
                       follow=True)  # fmt: skip
    assert "can now see this patient" in page.content.decode()
    assert Access.objects.filter(patient=alice, colleague=cast["dave"]).exists()


def test_codes_and_addresses_with_odd_characters_find_nothing(client, api, cast):
    alice, carol = cast["alice"], cast["carol"]
    assert client.get("/clinic/join/%00/").status_code == 404
    assert client.get("/clinic/calendar/%00.ics").status_code == 404
    client.force_login(carol)
    assert client.get("/clinic/invites/%00/").status_code == 404
    for email in ("dave@clinic.example\x00", "d" * 200_000 + "@clinic.example"):
        assert (
            client.post(f"/clinic/patients/{alice.pk}/access/", {"email": email}).status_code == 302
        )
        assert_error(
            api.post(f"/patients/{alice.pk}/access", {"email": email[:254]}, user=carol), 404
        )
    assert not Access.objects.filter(patient=alice).exists()
    assert_error(api.post("/care", {"code": "ABC\x00"}, user=cast["bob"]), 404, "code")


def at_once(*jobs) -> list[Exception]:
    """Run the jobs in threads that start together; the exceptions they raised."""
    start, raised = threading.Barrier(len(jobs)), []

    def run(job):
        try:
            start.wait()
            job()
        except Exception as e:  # noqa: BLE001 - every error is looked at by the caller
            raised.append(e)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return raised


needs_waiting_writers = pytest.mark.skipif(
    connection.vendor == "sqlite",
    reason="SQLite's test database is in memory, where writers fail at once instead of waiting "
    "their turn; CI runs the suite on PostgreSQL too",
)


@needs_waiting_writers
@pytest.mark.django_db(transaction=True)
def test_saves_at_once_make_one_prescription_and_one_calendar_in_order(cast):
    alice, bob, carol, dave = cast["alice"], cast["bob"], cast["carol"], cast["dave"]
    Access.objects.create(patient=alice, colleague=dave, granted_by=carol)
    five, six = (prescriptions.validate({**rx(times_per_week=n), "override_reason": ""})
                 for n in (5, 6))  # fmt: skip
    for _ in range(5):
        Prescription.objects.all().delete()
        PrescriptionChange.objects.all().delete()
        CalendarFeed.objects.all().delete()
        raised = at_once(
            lambda: prescriptions.save(alice, carol, five, timezone.now()),
            lambda: prescriptions.save(alice, dave, six, timezone.now()),
            lambda: care.reset_calendar(bob),
            lambda: care.reset_calendar(bob),
            lambda: CalendarFeed.objects.get_or_create(patient=bob),  # GET /calendar's first look
        )
        assert raised == []
        assert CalendarFeed.objects.filter(patient=bob).count() == 1
        assert PrescriptionChange.objects.filter(patient=alice).count() == 2
        # The latest change on record is the prescription in force.
        assert PrescriptionChange.objects.filter(patient=alice).first().data == (
            Prescription.objects.get(patient=alice).data
        )


@needs_waiting_writers
@pytest.mark.django_db(transaction=True)
def test_ending_care_while_the_clinician_writes_leaves_them_nothing(cast):
    alice, carol, dave = cast["alice"], cast["carol"], cast["dave"]
    data = prescriptions.validate({**rx(), "override_reason": ""})
    for _ in range(5):
        CareLink.objects.filter(patient=alice, ended=None).update(ended=timezone.now())
        CareLink.objects.create(patient=alice, clinician=carol)
        raised = at_once(
            lambda: care.end(alice, timezone.now()),
            lambda: prescriptions.save(alice, carol, data, timezone.now()),
            lambda: care.grant(carol, alice, "dave@clinic.example", timezone.now()),
        )
        assert all(isinstance(e, care.CareError) and e.status == 404 for e in raised), raised
        assert not CareLink.objects.filter(patient=alice, ended=None).exists()
        assert not Prescription.objects.filter(patient=alice).exists()
        assert not Access.objects.filter(patient=alice, colleague=dave).exists()


@needs_waiting_writers
@pytest.mark.django_db(transaction=True)
def test_a_flag_cleared_by_two_clinicians_at_once_is_cleared_once(cast):
    alice, carol, dave = cast["alice"], cast["carol"], cast["dave"]
    Access.objects.create(patient=alice, colleague=dave, granted_by=carol)
    Screening.objects.create(user=alice, answers=clear_answers(True), flagged=True)
    raised = at_once(*(lambda who=who: exports.clear_screening(alice, who, timezone.now())
                       for who in (carol, dave, carol, dave)))  # fmt: skip
    assert len(raised) == 3 and all(isinstance(e, care.CareError) and e.status == 409
                                    for e in raised)  # fmt: skip


# --- exports ----------------------------------------------------------------------------------


def test_one_hold_a_side_reads_as_one(client, api, cast):
    alice, carol = cast["alice"], cast["carol"]
    one = rx()
    one["items"][0]["reps_per_side"] = 1
    put(client, f"/patients/{alice.pk}/prescription", one, carol)
    plan = api.get(f"/patients/{alice.pk}/fhir", user=carol).json()["entry"][1]["resource"]
    hands = get_library()["towel-hamstring-stretch"].variant("hands").name
    assert plan["activity"][0]["detail"]["description"].startswith(f"{hands}: 1 hold per side ")
    client.force_login(alice)
    page = " ".join(client.get("/practice/").content.decode().split())
    assert "s, once each leg" in page and "1 times" not in page


def test_fhir_bundle_is_valid_r4(client, api, cast):
    from fhir.resources.R4B.bundle import Bundle

    alice, carol = cast["alice"], cast["carol"]
    put(client, f"/patients/{alice.pk}/prescription", rx(), carol)
    log_session(alice, NOW - timedelta(days=1), pain_before=4, pain_after=None,
                holds=[("towel-hamstring-stretch", "hands", "left", 15, 14.5, None)])  # fmt: skip
    response = api.get(f"/patients/{alice.pk}/fhir", user=carol)
    assert response["Content-Type"] == "application/fhir+json"
    bundle = Bundle.model_validate_json(response.content)
    kinds = [e.resource.__resource_type__ for e in bundle.entry]
    assert kinds == ["Patient", "CarePlan", "Practitioner", "QuestionnaireResponse",
                     "Observation", "Observation", "Observation"]  # fmt: skip
    patient = bundle.entry[0].resource
    assert not patient.identifier and not patient.telecom  # no e-mail leaves with the export
    plan = bundle.entry[1].resource
    activity = plan.activity[0].detail
    assert activity.code.text == "Towel hamstring stretch"
    # The whole prescription: the variant and the leg with sciatica too.
    hands = get_library()["towel-hamstring-stretch"].variant("hands").name
    assert activity.description == (
        f"{hands}: 2 holds per side (left, right), up to 15 s each; leg with sciatica: left"
    )
    assert activity.scheduledTiming.repeat.frequency == 7
    # Carol set it: the CarePlan's author, by name and no address, in force since she did.
    author = bundle.entry[2]
    assert plan.author.reference == author.fullUrl
    assert author.resource.name[0].family == "Physio" and not author.resource.telecom
    assert plan.period.start == Prescription.objects.get(patient=alice).updated
    # Alice's symptoms check, question by question.
    check = bundle.entry[3].resource
    assert check.status == "completed" and check.subject.reference == bundle.entry[0].fullUrl
    assert [i.answer[0].valueBoolean for i in check.item] == [False] * len(check.item) != []
    assert "both legs" in check.item[0].text
    pain = bundle.entry[4].resource
    assert pain.code.coding[0].code == "72514-3" and pain.valueInteger == 4
    assert bundle.entry[5].resource.valueBoolean is False  # the pain did not spread
    assert bundle.entry[6].resource.valueQuantity.value == 14.5  # pain_after skipped: not sent


def test_handout_pdf_has_the_prescription(client, api, cast):
    from io import BytesIO

    from pypdf import PdfReader

    alice, carol = cast["alice"], cast["carol"]
    put(client, f"/patients/{alice.pk}/prescription", rx(), carol)
    sizes = {}
    for paper in ("a4", "letter"):
        response = api.get(f"/patients/{alice.pk}/handout.pdf?paper={paper}", user=carol)
        assert response["Content-Type"] == "application/pdf"
        reader = PdfReader(BytesIO(response.content))
        box = reader.pages[0].mediabox
        sizes[paper] = (round(float(box.width)), round(float(box.height)))
        text = " ".join(p.extract_text() for p in reader.pages)
        assert "Towel hamstring stretch" in text and "Wall" not in text
        # The affected leg (left) second, as the app plays them.
        assert "2 holds on the right leg, then the left leg" in text and "up to 15 s" in text
        assert "Gently, please." in text and "Carol Physio" in text
        assert "back passage" in text  # the red flags
        # Tagged, so a screen reader keeps its structure (a tester found it untagged).
        assert "/StructTreeRoot" in reader.trailer["/Root"]
    assert sizes == {"a4": (595, 842), "letter": (612, 792)}
    assert_error(api.get(f"/patients/{alice.pk}/handout.pdf?paper=a3", user=carol), 422, "paper")
    client.force_login(alice)
    own = client.get("/handout.pdf")
    assert own.status_code == 200 and own.content.startswith(b"%PDF")


def test_a_kept_handout_follows_the_prescription_and_one_account_renders_one_at_a_time(
    client, api, cast
):
    from io import BytesIO

    from django.core.cache import cache
    from pypdf import PdfReader

    def text(response):
        return " ".join(p.extract_text() for p in PdfReader(BytesIO(response.content)).pages)

    alice, carol = cast["alice"], cast["carol"]
    path = f"/patients/{alice.pk}/handout.pdf"
    put(client, f"/patients/{alice.pk}/prescription", rx(), carol)
    assert "Gently, please." in text(api.get(path, user=carol))
    # A handout is kept, but a changed prescription is never printed from the old one.
    put(client, f"/patients/{alice.pk}/prescription", rx(note="Twice a day now."), carol)
    assert "Twice a day now." in text(api.get(path, user=carol))
    # While one of Carol's handouts renders, a new one of hers waits its turn (429 with
    # Retry-After); one already made is still served, and other people are not held up.
    cache.add(f"handout-rendering:{carol.pk}", 1)
    busy = api.get(path + "?paper=letter", user=carol)
    assert_error(busy, 429)
    assert int(busy["Retry-After"]) > 0
    assert api.get(path, user=carol).status_code == 200
    client.force_login(alice)
    assert client.get("/handout.pdf?paper=letter").status_code == 200
    cache.delete(f"handout-rendering:{carol.pk}")
    assert api.get(path + "?paper=letter", user=carol).status_code == 200


def test_calendar_feed_follows_the_schedule_and_stops_when_reset(client, api, cast):
    from icalendar import Calendar

    alice, carol = cast["alice"], cast["carol"]
    put(client, f"/patients/{alice.pk}/prescription", rx(times_per_week=3), carol)
    url = api.get("/calendar", user=alice).json()["url"]
    assert api.get("/calendar", user=alice).json()["url"] == url  # stable until reset
    client.logout()
    feed = client.get(url)
    assert feed.status_code == 200 and feed["Content-Type"].startswith("text/calendar")
    event = Calendar.from_ical(feed.content).walk("VEVENT")[0]
    assert event["RRULE"]["FREQ"] == ["WEEKLY"] and event["RRULE"]["BYDAY"] == ["MO", "WE", "FR"]
    assert event.walk("VALARM")[0]["ACTION"] == "DISPLAY"
    assert "/practice/" in str(event["URL"])

    new = api.post("/calendar/reset", {}, user=alice).json()["url"]
    assert new != url
    assert client.get(url).status_code == 404
    assert client.get(new).status_code == 200
    assert_error(api.get("/calendar"), 401)


def test_clinician_clears_a_flagged_screening(api, cast):
    alice, carol = cast["alice"], cast["carol"]
    Screening.objects.create(user=alice, answers=clear_answers(True), flagged=True)
    assert_error(api.get("/today", user=alice), 409)
    kinds = {a["kind"] for a in api.get(f"/patients/{alice.pk}", user=carol).json()["alerts"]}
    assert "red_flag" in kinds
    cleared = api.post(f"/patients/{alice.pk}/screening/clear", {}, user=carol)
    assert cleared.status_code == 200
    assert cleared.json()["cleared_by"] == "Carol Physio"
    row = Screening.objects.get(user=alice, flagged=True)
    assert row.cleared_by == carol and row.cleared_at is not None
    assert api.get("/today", user=alice).status_code == 200
    facts = api.get(f"/patients/{alice.pk}", user=carol).json()
    assert facts["screening"]["open_flag"] is None
    assert "red_flag" not in {a["kind"] for a in facts["alerts"]}
    # Nothing left to clear: a second click says so.
    assert_error(api.post(f"/patients/{alice.pk}/screening/clear", {}, user=carol), 409)


def test_dashboard_escapes_what_patients_typed(client, cast):
    alice, carol = cast["alice"], cast["carol"]
    alice.first_name = '<script>alert("x")</script>'
    alice.save()
    client.force_login(carol)
    page = client.get("/clinic/").content.decode()
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page


def test_clinic_command_makes_a_clinic_of_colleagues(cast, capsys):
    from django.core.management import CommandError, call_command

    call_command("clinic", "Hillside Physio", "erin@elsewhere.example", "DAVE@clinic.example")
    assert "created clinic 'Hillside Physio': dave@clinic.example, erin@elsewhere.example" in (
        capsys.readouterr().out
    )
    hillside = Clinic.objects.get(name="Hillside Physio")
    assert set(hillside.members.all()) == {cast["dave"], cast["erin"]}
    with pytest.raises(CommandError, match="alice@example.org is not a clinician"):
        call_command("clinic", "Hillside Physio", "alice@example.org")
    assert hillside.members.count() == 2


@pytest.mark.django_db(transaction=True)
def test_sessions_stored_before_the_totals_existed_show_their_share_after_migrating():
    old = migrated_to(("practice", "0003_hold_too_strong"))
    user = old.get_model("auth", "User").objects.create(username="old@example.org")
    s = old.get_model("practice", "PracticeSession").objects.create(
        user=user, started_at=timezone.now() - timedelta(days=1)
    )
    for n, (held, good) in enumerate(TIMED):
        old.get_model("practice", "Hold").objects.create(
            session=s, exercise="towel-hamstring-stretch", variant="towel", side="left",
            rep=n + 1, target_s=10, held_s=held, good_form_s=good, position=n,
        )  # fmt: skip
    migrate_to_latest()
    stored = PracticeSession.objects.get(pk=s.pk)
    assert (stored.hold_count, stored.held_s, stored.timed_held_s, stored.good_form_s) == (
        3, 30.0, 20.0, 14.0,
    )  # fmt: skip
    patient = get_user_model().objects.get(pk=user.pk)
    assert dashboard.rows_for(patient, timezone.now())[0]["good_form_share"] == 0.7


def test_the_patient_page_and_api_go_back_through_every_session(client, api, cast):
    alice, bob, carol = cast["alice"], cast["bob"], cast["carol"]
    hold = [("towel-hamstring-stretch", "hands", "left", 10, 12, None)]
    made = [log_session(alice, NOW - timedelta(days=d), holds=hold) for d in range(120, 0, -1)]
    client.force_login(carol)
    seen, pages = walk_pages(client, f"/clinic/patients/{alice.pk}/", r'<tr id="session-([^"]+)">')
    newest_first = [str(s.id) for s in reversed(made)]
    assert len(pages) == 3 and seen == newest_first  # every session once, in order
    assert ["Latest sessions" in page for page in pages] == [False, True, True]
    # The API pages the same way, by `sessions_next`.
    ids, cursor = [], ""
    while cursor is not None:
        body = api.get(f"/patients/{alice.pk}" + (f"?before={cursor}" if cursor else ""),
                       user=carol).json()  # fmt: skip
        ids += [s["id"] for s in body["sessions"]]
        assert all(s["holds"][0]["held_s"] == 12 for s in body["sessions"])
        cursor = body["sessions_next"]
    assert ids == newest_first
    # Another person's session, or no id at all, is no page.
    theirs = log_session(bob, NOW)
    for cursor in ("nope", str(theirs.id), str(uuid.uuid4())):
        assert client.get(f"/clinic/patients/{alice.pk}/?before={cursor}").status_code == 404
    assert_error(api.get(f"/patients/{alice.pk}?before={theirs.id}", user=carol), 404, "before")
    assert_error(api.get(f"/patients/{alice.pk}?before=nope", user=carol), 422)


# --- the clinician's pages, as a person reads them ----------------------------------------------


class _Elements(html.parser.HTMLParser):
    """Each element's attributes by id and by name, and the text inside elements with an id."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.by_id: dict[str, dict] = {}
        self.by_name: dict[str, list[dict]] = {}
        self.text: dict[str, str] = {}
        self._open: list[tuple[str, str | None]] = []
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        if "id" in a:
            self.by_id[a["id"]] = a
            self.text.setdefault(a["id"], "")
        if "name" in a:
            self.by_name.setdefault(a["name"], []).append(a)
        if tag not in ("input", "br", "img", "meta", "link", "hr"):
            self._open.append((tag, a.get("id")))

    def handle_endtag(self, tag):
        while self._open:
            if self._open.pop()[0] == tag:
                break

    def handle_data(self, data):
        for _, ident in self._open:
            if ident:
                self.text[ident] += data


def field_error(page: str, name: str, n: int = 0) -> tuple[dict, str]:
    """The form field called `name` (the n-th of that name) and the message it points at."""
    found = _Elements(page)
    assert name in found.by_name, f"no field {name}"
    element = found.by_name[name][n]
    assert element.get("aria-invalid") == "true", f"{name} is not marked invalid: {element}"
    message = found.text[element["aria-describedby"]]
    return element, " ".join(message.split())


def textarea_text(page: str, name: str) -> str:
    return html.unescape(re.search(rf'<textarea[^>]*name="{name}"[^>]*>(.*?)</textarea>', page,
                                   re.S).group(1))  # fmt: skip


@pytest.mark.parametrize("typed", ["0", "8", "-3", "2.5", "twice"])
def test_times_a_week_out_of_range_is_refused_next_to_the_field_as_typed(client, cast, typed):
    alice, carol = cast["alice"], cast["carol"]
    client.force_login(carol)
    refused = client.post(f"/clinic/patients/{alice.pk}/", rx_form(times_per_week=typed))
    assert refused.status_code == 400
    element, message = field_error(refused.content.decode(), "times_per_week")
    assert element["value"] == typed
    assert message == "Times a week: must be a whole number from 1 to 7."
    assert not Prescription.objects.filter(patient=alice).exists()


def test_times_a_week_left_empty_means_daily(client, cast):
    alice, carol = cast["alice"], cast["carol"]
    client.force_login(carol)
    assert (
        client.post(f"/clinic/patients/{alice.pk}/", rx_form(times_per_week="")).status_code == 302
    )
    assert Prescription.objects.get(patient=alice).data["times_per_week"] == 7


WALL = "wall-hamstring-stretch"


def wall_form(**over) -> dict:
    """Only the wall stretch ticked: the second box on the page, the first item prescribed."""
    form = {
        f"include-{WALL}": "1", f"variant-{WALL}": "", f"sides-{WALL}": ["left", "right"],
        f"reps-{WALL}": "", f"cap-{WALL}": "", "times_per_week": "5",
    }  # fmt: skip
    return form | over


@pytest.mark.parametrize(
    "over, name, typed, expected",
    [
        (
            {f"cap-{WALL}": "45"},
            f"cap-{WALL}",
            "45",
            "Wall hamstring stretch — hold cap: 45 s is above the article's goal for this stretch "
            "(20 s): fill in “Reason for a cap above the article's goal”, which the patient sees.",
        ),
        (
            {f"cap-{WALL}": "5"},
            f"cap-{WALL}",
            "5",
            "Wall hamstring stretch — hold cap: 5 s is below the article's first hold for this "
            "stretch (10 s).",
        ),
        (
            {f"cap-{WALL}": "700"},
            f"cap-{WALL}",
            "700",
            "Wall hamstring stretch — hold cap: must be a number of seconds from the article's first "
            "hold (10 s) to 60 s; above its goal (20 s) only with a reason.",
        ),
        (
            {f"cap-{WALL}": "long"},
            f"cap-{WALL}",
            "long",
            "Wall hamstring stretch — hold cap: must be a number of seconds from the article's first "
            "hold (10 s) to 60 s; above its goal (20 s) only with a reason.",
        ),
        (
            {f"reps-{WALL}": "0"},
            f"reps-{WALL}",
            "0",
            "Wall hamstring stretch — reps per side: must be a whole number from 1 to 10.",
        ),
        (
            {f"reps-{WALL}": "11"},
            f"reps-{WALL}",
            "11",
            "Wall hamstring stretch — reps per side: must be a whole number from 1 to 10.",
        ),
        (
            {f"sides-{WALL}": []},
            f"sides-{WALL}",
            None,
            "Wall hamstring stretch — legs: tick at least one leg.",
        ),
    ],
)
def test_prescription_errors_sit_next_to_their_field_in_the_forms_words(
    client, cast, over, name, typed, expected
):
    alice, carol = cast["alice"], cast["carol"]
    client.force_login(carol)
    refused = client.post(f"/clinic/patients/{alice.pk}/", wall_form(**over))
    assert refused.status_code == 400
    page = html.unescape(refused.content.decode())
    element, message = field_error(page, name)
    assert message == expected
    if typed is not None:
        assert element["value"] == typed  # as typed: not blank, not "45.0"
    # No API names or pydantic wording anywhere on the page.
    for jargon in ("items[", "override_reason:", "Input should", "List should", "_s:"):
        assert jargon not in page
    assert not Prescription.objects.filter(patient=alice).exists()


def test_a_long_note_is_refused_next_to_it_and_kept(client, cast):
    alice, carol = cast["alice"], cast["carol"]
    client.force_login(carol)
    note = "Stretch gently & slowly. " * 100
    refused = client.post(f"/clinic/patients/{alice.pk}/", rx_form(note=note))
    page = refused.content.decode()
    _, message = field_error(page, "note")
    assert html.unescape(message) == (
        f"Note to the patient: at most 2000 characters, please (this one has {len(note.strip())})."
    )
    assert textarea_text(page, "note") == note


def test_prescription_history_reads_cleanly_when_a_text_is_removed(client, api, cast):
    alice, carol = cast["alice"], cast["carol"]
    client.force_login(carol)
    url = f"/clinic/patients/{alice.pk}/"
    for note in ("Slowly.", "Call us on 0123 456789.", ""):
        assert client.post(url, rx_form(note=note)).status_code == 302
    what = api.get(f"/patients/{alice.pk}", user=carol).json()["changes"]
    assert what[0]["what"] == ["Note: Call us on 0123 456789. → (removed)"]
    assert what[1]["what"] == ["Note: Slowly. → Call us on 0123 456789."]
    page = html.unescape(client.get(url).content.decode())
    assert ".." not in page.split('id="changes-h"')[1].split("</section>")[0]
    assert "→ ." not in page


def test_ending_care_on_the_page_asks_first_and_says_what_happens(client, cast):
    alice, carol = cast["alice"], cast["carol"]
    put_ok = prescriptions.save(alice, carol, prescriptions.validate(rx()), timezone.now())
    assert put_ok
    client.force_login(alice)
    # One tap (an old form, or a double submit) does not end anything by itself.
    asked = client.post("/clinic/care/end/")
    assert asked.status_code == 200
    assert CareLink.objects.filter(patient=alice, ended=None).exists()
    assert Prescription.objects.filter(patient=alice).exists()
    page = html.unescape(client.get("/clinic/care/end/").content.decode())
    assert "End the link to Carol Physio?" in page
    assert "Carol Physio will no longer see your sessions" in page
    assert "The stretches and note Carol Physio set for you are deleted" in page
    assert "a new invite" in page
    # The care page's button leads to this question, not straight to the end.
    care_page = client.get("/clinic/care/").content.decode()
    assert 'action="/clinic/care/end/"' not in care_page
    assert 'href="/clinic/care/end/"' in care_page
    done = client.post("/clinic/care/end/", {"confirm": "yes"})
    assert done.status_code == 302
    assert not CareLink.objects.filter(patient=alice, ended=None).exists()
    assert not Prescription.objects.filter(patient=alice).exists()


def test_the_clinician_is_told_which_red_flag_and_an_emergency_comes_first(client, api, cast):
    alice, carol = cast["alice"], cast["carol"]
    Prescription.objects.create(patient=alice, data={"items": [], "times_per_week": 7})
    log_session(alice, timezone.now() - timedelta(days=4), spread=True)  # two more alerts
    answers = clear_answers() | {"bladder": True, "cancer": True}
    Screening.objects.create(user=alice, answers=answers, flagged=True)
    alerts = dashboard.rows(carol, timezone.now())[0]["alerts"]
    first = alerts[0]
    assert first["kind"] == "red_flag" and first["urgency"] == "emergency"
    assert "Emergency red flag" in first["reason"]
    assert "new trouble starting to pass urine or controlling it" in first["reason"]
    assert "a history of cancer" in first["reason"]
    assert [f["id"] for f in first["flags"]] == ["bladder", "cancer"]
    assert first["flags"][0]["urgency"] == "emergency" and first["flags"][1]["urgency"] == "doctor"
    # The API's patient JSON carries the same.
    listed = api.get("/patients", user=carol).json()["patients"][0]["alerts"][0]
    assert [f["id"] for f in listed["flags"]] == ["bladder", "cancer"]
    one = api.get(f"/patients/{alice.pk}", user=carol).json()["alerts"][0]
    assert one["flags"][0]["question"].startswith("Have you had new trouble starting to pass urine")
    # The dashboard names it first, styled apart from the pain alerts.
    client.force_login(carol)
    page = html.unescape(client.get("/clinic/").content.decode())
    cell = page.split('class="has-alert"')[1]
    assert cell.index("alert-emergency") < cell.index("alert-pain_spread")
    assert "new trouble starting to pass urine or controlling it" in page
    # The patient page names the question and the answer.
    patient_page = html.unescape(client.get(f"/clinic/patients/{alice.pk}/").content.decode())
    flagged = patient_page.split('id="screen-h"')[1].split("</section>")[0]
    assert "Have you had new trouble starting to pass urine, or controlling it?" in flagged
    assert "Have you ever had cancer?" in flagged
    assert flagged.index("urine") < flagged.index("cancer")
    assert patient_page.index('id="screen-h"') < patient_page.index('id="alerts-h"')


def test_a_doctor_red_flag_is_named_without_calling_it_an_emergency(cast):
    alice, carol = cast["alice"], cast["carol"]
    Screening.objects.create(user=alice, answers=clear_answers() | {"night_pain": True},
                             flagged=True)  # fmt: skip
    first = dashboard.rows(carol, timezone.now())[0]["alerts"][0]
    assert first["urgency"] == "doctor"
    assert first["reason"].startswith("Red flag (see a doctor first)")
    assert "night pain that rest does not ease" in first["reason"]
    assert "Emergency" not in first["reason"]


def test_clinician_alerts_explain_themselves_without_developer_jargon(client, cast):
    alice, carol = cast["alice"], cast["carol"]
    Prescription.objects.create(patient=alice, data={"items": [], "times_per_week": 7})
    for day in (5, 4):
        log_session(alice, timezone.now() - timedelta(days=day), pain_before=2, pain_after=5)
    client.force_login(carol)
    pages = [client.get(u).content.decode() for u in ("/clinic/", f"/clinic/patients/{alice.pk}/")]
    # What a person reads: the text and titles, not the class names styling the alerts.
    pages = [re.sub(r'class="[^"]*"', "", page) for page in pages]
    for page in pages:
        for jargon in ("DESIGN.md", "see_clinician", "(the issue)", "progression's"):
            assert jargon not in page
    assert "2 sessions in a row raised pain or spread down the leg" in html.unescape(pages[0])


def test_the_clinicians_pain_chart_speaks_about_the_patient(client, cast):
    alice, carol = cast["alice"], cast["carol"]
    client.force_login(carol)
    page = client.get(f"/clinic/patients/{alice.pk}/").content.decode()
    data = json.loads(
        page.split('id="chart-data" type="application/json">')[1].split("</script>")[0]
    )
    assert data["pain"]["baseline_label"] == "Usual pain (baseline)"


def test_sharing_says_a_colleague_may_change_the_prescription_and_lists_who_has_access(
    client, cast
):
    alice, carol, dave = cast["alice"], cast["carol"], cast["dave"]
    client.force_login(carol)
    url = f"/clinic/patients/{alice.pk}/"
    page = client.get(url).content.decode()
    assert "can see this patient and change the prescription" in html.unescape(page)
    done = client.post(url + "access/", {"email": "dave@clinic.example"}, follow=True)
    page = html.unescape(done.content.decode())
    assert "dave@clinic.example can now see this patient and change the prescription." in page
    listed = page.split('id="access-list"')[1].split("</ul>")[0]
    assert "dave@clinic.example" in listed
    # Dave can, as he is told: every change he makes is recorded with his name.
    client.force_login(dave)
    assert client.post(url, rx_form()).status_code == 302
    assert PrescriptionChange.objects.get(patient=alice).changed_by == dave
    assert "access-list" not in client.get(url).content.decode()  # only her own clinician
    # Carol takes the access back.
    client.force_login(carol)
    page = client.post(url + "access/", {"remove": str(dave.pk)}, follow=True)
    assert "dave@clinic.example no longer has access to this patient." in page.content.decode()
    assert not Access.objects.filter(patient=alice).exists()
    client.force_login(dave)
    assert client.get(url).status_code == 404


def test_the_four_week_target_counts_only_the_days_since_the_patient_joined(cast):
    carol, alice = cast["carol"], cast["alice"]
    CareLink.objects.filter(patient=alice).update(created=NOW - timedelta(days=6))
    Prescription.objects.create(patient=alice, data={**rx(), "times_per_week": 5})
    for n in range(5):
        log_session(alice, NOW - timedelta(days=n, hours=2))
    row = dashboard.rows(carol, NOW)[0]
    # Joined 6 days ago, five times a week: a week's five days are asked, not four weeks' 20.
    assert (row["days_28"], row["target_28"]) == (5, 5)
    assert (row["days_7"], row["target_7"]) == (5, 5)


def test_the_dashboard_counts_a_patient_s_days_on_their_own_clock(cast):
    carol, alice = cast["carol"], cast["alice"]
    alice.profile.time_zone = "America/New_York"
    alice.profile.save()
    # 01:00 and 23:00 UTC on 24 November: 20:00 on the 23rd and 18:00 on the 24th in New York.
    log_session(alice, datetime(2026, 11, 24, 1, 0, tzinfo=UTC))
    log_session(alice, datetime(2026, 11, 24, 23, 0, tzinfo=UTC))
    row = dashboard.rows(carol, NOW)[0]
    assert row["days_7"] == 2 and row["days_28"] == 2


def test_no_hold_cap_goes_past_sixty_seconds_whatever_the_reason(client, cast):
    # ACSM's longest static hold is 60 s: a reason lifts a cap past the article's goal, not past that.
    carol, alice = cast["carol"], cast["alice"]
    over = rx(items=[{**rx()["items"][0], "hold_cap_s": 90}], override_reason="athlete")
    r = put(client, f"/patients/{alice.pk}/prescription", over, carol)
    assert r.status_code == 422 and r.json()["error"]["field"] == "items[0].hold_cap_s"
    assert not Prescription.objects.filter(patient=alice).exists()
    ok = rx(items=[{**rx()["items"][0], "hold_cap_s": 60}], override_reason="athlete")
    assert put(client, f"/patients/{alice.pk}/prescription", ok, carol).status_code == 200


def test_the_patient_page_shows_holds_cut_short_and_felt_too_strong(client, cast):
    carol, alice = cast["carol"], cast["alice"]
    towel = ("towel-hamstring-stretch", "towel")
    s = log_session(
        alice,
        NOW - timedelta(days=1),
        holds=[(*towel, "right", 10, 6, None), (*towel, "right", 10, 10, None),
               (*towel, "left", 10, 9.5, None)],
    )  # fmt: skip
    Hold.objects.filter(session=s, held_s=6).update(too_strong=True)
    # The patient told the camera they feel the stretch with the left knee at 144.6 degrees.
    Hold.objects.filter(session=s, side="left").update(good_form_s=9.0, knee_felt_deg=144.6)
    client.force_login(carol)
    page = html.unescape(client.get(f"/clinic/patients/{alice.pk}/").content.decode())
    # 6 of 10 s is cut short; 9.5 of 10 s counts as held (progression's 90 %).
    assert (
        "Towel hamstring stretch: 3 × up to 10 s of 10 s (right/left), 1 cut short, 1 too strong,"
        " good form 95 %, stretch felt with the knee at 145° (left)" in page
    )


def test_the_patient_page_gives_dates_and_times_on_the_patient_s_own_clock(client, cast):
    carol, alice = cast["carol"], cast["alice"]
    alice.profile.time_zone = "America/New_York"
    alice.profile.save()
    log_session(alice, datetime(2026, 11, 25, 4, 30, tzinfo=UTC))  # 23:30 on the 24th there
    client.force_login(carol)
    page = client.get(f"/clinic/patients/{alice.pk}/").content.decode()
    assert "2026-11-24 23:30" in page and "04:30" not in page
    assert "last session 2026-11-24" in page
    assert "the patient's own clock (America/New_York)" in html.unescape(page)


def test_saving_an_unchanged_prescription_adds_nothing_to_its_history(client, cast):
    carol, alice = cast["carol"], cast["alice"]
    assert put(client, f"/patients/{alice.pk}/prescription", rx(), carol).status_code == 200
    again = put(client, f"/patients/{alice.pk}/prescription", rx(), carol)
    assert again.status_code == 200
    assert PrescriptionChange.objects.filter(patient=alice).count() == 1
    changed = put(client, f"/patients/{alice.pk}/prescription", rx(times_per_week=3), carol)
    assert changed.status_code == 200
    assert PrescriptionChange.objects.filter(patient=alice).count() == 2


def test_every_cap_error_is_told_at_once_with_the_other_errors(client, cast):
    alice, carol = cast["alice"], cast["carol"]
    client.force_login(carol)
    form = rx_form(**{"cap-towel-hamstring-stretch": "45", "times_per_week": "0"}) | wall_form(
        **{f"cap-{WALL}": "45", "times_per_week": "0"}
    )
    page = html.unescape(client.post(f"/clinic/patients/{alice.pk}/", form).content.decode())
    # Both caps above their goal with no reason, and the bad times a week: all in one answer.
    assert "Towel hamstring stretch — hold cap: 45 s is above the article's goal" in page
    assert "Wall hamstring stretch — hold cap: 45 s is above the article's goal" in page
    assert "Times a week: must be a whole number from 1 to 7." in page
    assert not Prescription.objects.filter(patient=alice).exists()


def test_names_set_on_the_account_page_replace_e_mail_addresses_on_both_sides(client, cast):
    """Before, a name could only be set in the database: patients read their clinician as an
    e-mail address, and the dashboard listed patients by address."""
    carol, alice, dave = cast["carol"], cast["alice"], cast["dave"]
    carol.first_name = carol.last_name = ""
    carol.save()
    client.force_login(carol)
    assert "Your patients and colleagues see it" in client.get("/accounts/").content.decode()
    saved = client.post("/accounts/name/", {"first_name": " Carol ", "last_name": "O’Neill"})
    assert saved.status_code == 302
    assert "Your name is saved." in client.get(saved["Location"]).content.decode()
    client.force_login(alice)
    page = html.unescape(client.get("/accounts/").content.decode())
    assert "A clinician you link with sees it" in page
    client.post("/accounts/name/", {"first_name": "Alice", "last_name": "Ng"})
    care_page = html.unescape(client.get("/clinic/care/").content.decode())
    assert "Carol O’Neill" in care_page and "carol@clinic.example" not in care_page
    exported = json.loads(b"".join(client.get("/history/export.json").streaming_content))
    assert exported["account"]["given_name"] == "Alice"
    assert exported["account"]["family_name"] == "Ng"
    client.force_login(carol)
    board = client.get("/clinic/").content.decode()
    assert "Alice Ng" in board
    patient = client.get(f"/clinic/patients/{alice.pk}/").content.decode()
    assert "<h1>Alice Ng</h1>" in patient and "alice@example.org" in patient
    alice.refresh_from_db()
    names = exports.fhir_bundle(alice)["entry"][0]["resource"]["name"]
    assert names == [{"family": "Ng", "given": ["Alice"]}]
    # A colleague given access is listed, and thanked, by name too.
    dave.first_name, dave.last_name = "Dave", "Okafor"
    dave.save()
    given = client.post(f"/clinic/patients/{alice.pk}/access/", {"email": dave.email}, follow=True)
    assert "Dave Okafor can now see this patient" in html.unescape(given.content.decode())


@pytest.mark.parametrize(
    "first, last, field",
    [
        ("Al\tice", "Ng", "first_name"),
        ("Alice", "x" * 151, "last_name"),
        ("A\x00", "", "first_name"),
    ],
)
def test_a_name_that_cannot_be_shown_is_refused_by_its_field_and_the_old_one_kept(
    client, cast, first, last, field
):
    alice = cast["alice"]
    alice.first_name, alice.last_name = "Alice", "Ng"
    alice.save()
    client.force_login(alice)
    refused = client.post("/accounts/name/", {"first_name": first, "last_name": last})
    assert refused.status_code == 400
    page = refused.content.decode()
    assert f'id="id_{field}_error"' in page
    alice.refresh_from_db()
    assert (alice.first_name, alice.last_name) == ("Alice", "Ng")
    # Only a signed-in person names themselves, and only with a form post.
    client.logout()
    assert client.post("/accounts/name/", {"first_name": "Mallory"}).status_code == 302
    alice.refresh_from_db()
    assert alice.first_name == "Alice"


def test_the_prescription_form_lists_its_errors_in_the_order_of_the_page(client, cast):
    """Found by a clinician tester: Wall, Times a week, Towel, Seated."""
    alice, carol = cast["alice"], cast["carol"]
    client.force_login(carol)
    form = rx_form(**{
        "cap-towel-hamstring-stretch": "45",  # above the goal, no reason
        "include-wall-hamstring-stretch": "1", "variant-wall-hamstring-stretch": "at-the-wall",
        "sides-wall-hamstring-stretch": ["left"], "reps-wall-hamstring-stretch": "0",
        "include-seated-hamstring-stretch": "1", "variant-seated-hamstring-stretch": "heel-on-floor",
        "sides-seated-hamstring-stretch": ["left"], "reps-seated-hamstring-stretch": "3",
        "cap-seated-hamstring-stretch": "20",  # below its first hold
        "times_per_week": "0",
    })  # fmt: skip
    page = html.unescape(client.post(f"/clinic/patients/{alice.pk}/", form).content.decode())
    summary = page.split('id="rx-errors-h"')[1].split("</div>")[0]
    names = re.findall(r"(Towel|Wall|Seated) hamstring stretch —|(Times a week)", summary)
    assert [a or b for a, b in names] == ["Towel", "Wall", "Seated", "Times a week"]
