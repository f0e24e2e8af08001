"""The clinician's dashboard: the days counted against the prescription, the alerts, the order
of the patients, who shared a patient, and invite links from one address.

Uses the clinic's shared cast (tests/test_clinic.py): Carol Physio is Alice's clinician; Dave is
her colleague at the same clinic; Erin works at another clinic; Bob is another patient. Every
date is counted from a fixed NOW, or from the real clock in whole days only, so that no test
depends on the hour it runs at.
"""

import html
import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from limber.clinic import care, dashboard
from limber.clinic.models import CareLink, Invite, Prescription
from limber.practice.models import Screening
from tests.conftest import clear_answers
from tests.test_clinic import NOW, _join, log_session, rx
from tests.test_clinic import cast as cast  # noqa: F401 (the clinic's fixture, by its name)

pytestmark = pytest.mark.django_db


def prescribe(patient, per_week: int = 7) -> None:
    Prescription.objects.update_or_create(
        patient=patient, defaults={"data": {**rx(), "times_per_week": per_week}}
    )


def linked_since(patient, when) -> None:
    CareLink.objects.filter(patient=patient, ended=None).update(created=when)


def practise_daily(patient, days: int, now=NOW) -> None:
    """A session a day at the time of day of `now`, today and the days - 1 days before."""
    for n in range(days):
        log_session(patient, now - timedelta(days=n))


def counts(row: dict) -> tuple:
    return row["days_7"], row["target_7"], row["days_28"], row["target_28"]


# --- 1. the days counted are calendar days, at most 7 of 7 and 28 of 28 -----------------------


@pytest.mark.parametrize("zone", ["", "America/New_York", "Pacific/Auckland"])
def test_a_patient_who_practised_every_day_reads_7_of_7_and_28_of_28(cast, zone):
    """Found by a tester: "8 / 7" and "29 / 28" after 29 days of daily practice: 7 and 28 times
    24 hours back from now touch 8 and 29 dates."""
    carol, alice = cast["carol"], cast["alice"]
    alice.profile.time_zone = zone
    alice.profile.save()
    linked_since(alice, NOW - timedelta(days=40))
    prescribe(alice, 7)
    practise_daily(alice, 29)
    assert counts(dashboard.rows(carol, NOW)[0]) == (7, 7, 28, 28)
    # A day without practice a week ago no longer counts in the week, still in the four weeks.
    assert counts(dashboard.rows(carol, NOW + timedelta(days=1))[0]) == (6, 7, 27, 28)


def test_the_dashboard_and_the_patient_s_facts_read_7_of_7_after_29_days(client, api, cast):
    carol, alice = cast["carol"], cast["alice"]
    # The pages read the real clock. Whatever its hour, a session at the first moment of today
    # and at the last moment of each of the 28 days before (Alice's days are UTC's).
    midnight = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    linked_since(alice, midnight - timedelta(days=40))
    prescribe(alice, 7)
    log_session(alice, midnight)
    for n in range(28):
        log_session(alice, midnight - timedelta(days=n, microseconds=1))
    client.force_login(carol)
    row = client.get("/clinic/").content.decode().split("<tbody>")[1]
    assert ">7 / 7<" in row and ">28 / 28<" in row
    facts = api.get(f"/patients/{alice.pk}", user=carol).json()  # the patient page's header
    assert counts(facts) == (7, 7, 28, 28)


# --- 2. after a change of clinician, the days and the target cover the same days --------------


def test_after_changing_clinician_the_days_counted_are_those_the_target_asks_for(cast):
    """Found by a tester: "6 / 1" and "25 / 1" on the new clinician's dashboard: the target
    counted the days since the link, the days practised every day of the window."""
    carol, dave, alice = cast["carol"], cast["dave"], cast["alice"]
    CareLink.objects.filter(patient=alice).update(
        created=NOW - timedelta(days=60), ended=NOW - timedelta(days=3, hours=3)
    )
    new = CareLink.objects.create(
        patient=alice, clinician=dave, created=NOW - timedelta(days=3, hours=2)
    )
    prescribe(alice, 7)
    practise_daily(alice, 25)
    # Joined on the 22nd: the 22nd to the 25th, four days practised of four asked for.
    assert counts(dashboard.rows(dave, NOW)[0]) == (4, 4, 4, 4)
    assert dashboard.rows(carol, NOW) == []
    new.created = NOW - timedelta(hours=2)
    new.save()
    assert counts(dashboard.rows(dave, NOW)[0]) == (1, 1, 1, 1)


# --- 3. a patient who stops raises an alert, whatever they were prescribed --------------------


def no_session_alert(patient, clinician, now=NOW) -> dict | None:
    alerts = dashboard.rows(clinician, now)[0]["alerts"]
    return next((a for a in alerts if a["kind"] == "no_sessions"), None)


def test_a_patient_prescribed_three_times_a_week_who_stops_raises_an_alert(cast):
    """Found by a tester: Quinn, 3 a week, last session 16 days ago: no alert at all."""
    carol, alice = cast["carol"], cast["alice"]
    linked_since(alice, NOW - timedelta(days=40))
    prescribe(alice, 3)
    for day in (20, 18, 16):
        log_session(alice, NOW - timedelta(days=day))
    alert = no_session_alert(alice, carol)
    assert alert is not None
    assert alert["reason"] == "no session for 16 days; prescribed 3 times a week"
    # Its reason, as every alert's: three prescribed sessions missed in a row.
    assert "as long as 3 prescribed sessions take" in alert["source"]
    assert "7 days at 3 times a week" in alert["source"]


@pytest.mark.parametrize(
    "per_week, days_since, alerted",
    [(7, 2, False), (7, 3, True), (5, 4, False), (5, 5, True), (3, 6, False), (3, 7, True),
     (1, 20, False), (1, 21, True)],
)  # fmt: skip
def test_the_no_sessions_alert_waits_as_long_as_three_prescribed_sessions(
    cast, per_week, days_since, alerted
):
    carol, alice = cast["carol"], cast["alice"]
    linked_since(alice, NOW - timedelta(days=40))
    prescribe(alice, per_week)
    log_session(alice, NOW - timedelta(days=days_since))
    assert (no_session_alert(alice, carol) is not None) == alerted


def test_a_patient_with_no_prescription_is_held_to_the_article_s_daily_plan(cast):
    carol, alice = cast["carol"], cast["alice"]
    linked_since(alice, NOW - timedelta(days=2))
    assert no_session_alert(alice, carol) is None  # joined two days ago, not yet
    linked_since(alice, NOW - timedelta(days=10))
    alert = no_session_alert(alice, carol)
    assert alert is not None and "no session for 10 days" in alert["reason"]
    assert "the article's daily plan" in alert["reason"]
    log_session(alice, NOW - timedelta(days=1))
    assert no_session_alert(alice, carol) is None


# --- 4. an emergency red flag comes first -----------------------------------------------------


def the_ward(cast, make_user, now) -> dict:
    """Four more of Carol's patients, joined yesterday (too soon for "no sessions"): Aaron with
    three pain alerts, Zoe with an emergency red flag, Mia with a doctor's one, Bea with none."""
    carol = cast["carol"]
    people = {}
    for name in ("aaron", "zoe", "mia", "bea"):
        p = people[name] = make_user(f"{name}@example.org")
        CareLink.objects.create(patient=p, clinician=carol, created=now - timedelta(days=1))
    for day in (2, 1):
        log_session(people["aaron"], now - timedelta(days=day), 2, 5, spread=True)
    Screening.objects.create(
        user=people["zoe"], answers=clear_answers() | {"bladder": True}, flagged=True
    )
    Screening.objects.create(
        user=people["mia"], answers=clear_answers() | {"night_pain": True}, flagged=True
    )
    return people | {"alice": cast["alice"]}


def test_an_emergency_red_flag_comes_first_whatever_the_number_of_alerts(cast, make_user):
    """Found by a tester: patients came by e-mail address, and sorting by Alerts counted them:
    three pain alerts came before one emergency red flag."""
    the_ward(cast, make_user, NOW)
    rows = dashboard.by_urgency(dashboard.rows(cast["carol"], NOW))
    assert [r["email"].split("@")[0] for r in rows] == ["zoe", "mia", "aaron", "alice", "bea"]
    assert len(rows[2]["alerts"]) == 3 and len(rows[0]["alerts"]) == 1


def test_the_dashboard_page_and_its_alerts_sort_put_an_emergency_first(client, cast, make_user):
    people = the_ward(cast, make_user, timezone.now())
    by_id = {p.pk: name for name, p in people.items()}
    client.force_login(cast["carol"])
    body = client.get("/clinic/").content.decode().split("<tbody>")[1]
    rows = re.findall(r'<tr[^>]*>.*?href="/clinic/patients/(\d+)/".*?'
                      r'class="alerts"[^>]*data-sort="([^"]*)"', body)  # fmt: skip
    shown = [by_id[int(pk)] for pk, _ in rows]
    assert shown == ["zoe", "mia", "aaron", "alice", "bea"]
    # What dashboard.js does on a click on "Alerts" (ascending, numbers as numbers, stable).
    by_alerts = [by_id[int(pk)] for pk, key in sorted(rows, key=lambda r: float(r[1]))]
    assert by_alerts == shown


# --- 5. invite links from one address --------------------------------------------------------


def test_patients_joining_from_one_address_each_get_their_account(client, cast):
    """Found by a tester: the sixth patient scanning the QR code on a clinic's Wi-Fi was told
    "Too many sign-ups from here"."""
    for n in range(8):
        inv = Invite.objects.create(clinician=cast["carol"], created=timezone.now())
        assert _join(client, inv.code, f"patient{n}@example.org").status_code == 302
        client.logout()
    joined = CareLink.objects.filter(clinician=cast["carol"], patient__email__startswith="patient")
    assert joined.count() == 8
    # Nor did they use up the address's sign-ups: an ordinary one still goes through.
    signup = client.post("/accounts/signup/", {"email": "walk-in@example.org",
                         "password": "pass-w0rd-long", "password2": "pass-w0rd-long"})  # fmt: skip
    assert signup.status_code == 302


def test_a_working_invite_is_let_past_a_limit_other_sign_ups_reached(client, cast):
    inv = Invite.objects.create(clinician=cast["carol"], created=timezone.now())
    for i in range(5):
        client.post("/accounts/signup/", {"email": f"u{i}@example.org", "password": "pass-w0rd-long",
                                          "password2": "pass-w0rd-long"})  # fmt: skip
    assert _join(client, inv.code, "u9@example.org").status_code == 302
    assert CareLink.objects.get(patient__username="u9@example.org").clinician == cast["carol"]


def test_codes_that_do_not_work_count_against_the_sign_up_limit(client, cast):
    """Guessing codes stays limited: an unknown code, opened or posted, counts as a sign-up."""
    for n in range(5):
        tried = (
            client.get(f"/clinic/join/NOSUCH{n}/")
            if n % 2
            else _join(client, f"NOSUCH{n}", f"g{n}@example.org")
        )
        assert tried.status_code == 404
    refused = _join(client, "NOSUCH9", "g9@example.org")
    assert refused.status_code == 429 and "Too many sign-ups" in refused.content.decode()
    assert client.get("/clinic/join/NOSUCH9/").status_code == 429
    signup = client.post("/accounts/signup/", {"email": "x@example.org",
                         "password": "pass-w0rd-long", "password2": "pass-w0rd-long"})  # fmt: skip
    assert signup.status_code == 429
    assert not get_user_model().objects.filter(username__startswith="g").exists()
    # A working invite still makes its one account.
    inv = Invite.objects.create(clinician=cast["carol"], created=timezone.now())
    assert _join(client, inv.code, "real@example.org").status_code == 302


def test_a_used_code_counts_against_the_sign_up_limit(client, cast):
    inv = Invite.objects.create(clinician=cast["carol"], created=timezone.now())
    assert _join(client, inv.code, "first@example.org").status_code == 302
    client.logout()
    for n in range(5):
        assert _join(client, inv.code, f"again{n}@example.org").status_code == 400
    refused = _join(client, inv.code, "again9@example.org")
    assert refused.status_code == 429 and "Too many sign-ups" in refused.content.decode()
    assert get_user_model().objects.filter(username__startswith="again").count() == 0


def test_a_working_invite_tells_whether_an_address_is_taken_only_within_the_limit(client, cast):
    """Kept from before: a working invite must not become a way to test addresses unlimited."""
    inv = Invite.objects.create(clinician=cast["carol"], created=timezone.now())
    for _ in range(5):
        page = _join(client, inv.code, "bob@example.org")
        assert page.status_code == 400 and "already has a Limber account" in page.content.decode()
    refused = _join(client, inv.code, "bob@example.org")
    assert refused.status_code == 429 and "Too many sign-ups" in refused.content.decode()
    inv.refresh_from_db()
    assert inv.used_at is None
    # The invite still makes a new patient's account.
    assert _join(client, inv.code, "new-patient@example.org").status_code == 302


# --- 6. a colleague's dashboard says who shared a patient --------------------------------------


def test_a_shared_patient_is_marked_with_who_shared_them(client, cast):
    carol, dave, erin, alice = cast["carol"], cast["dave"], cast["erin"], cast["alice"]
    # An earlier clinician is not the one who shared her.
    CareLink.objects.create(
        patient=alice,
        clinician=erin,
        created=NOW - timedelta(days=90),
        ended=NOW - timedelta(days=60),
    )
    care.grant(carol, alice, "dave@clinic.example", NOW)
    assert dashboard.rows(dave, NOW)[0]["shared_by"] == "Carol Physio"
    assert dashboard.rows(carol, NOW)[0]["shared_by"] is None
    client.force_login(dave)
    row = html.unescape(client.get("/clinic/").content.decode().split("<tbody>")[1])
    assert "shared by Carol Physio" in row
    client.force_login(carol)
    assert "shared by" not in client.get("/clinic/").content.decode()
