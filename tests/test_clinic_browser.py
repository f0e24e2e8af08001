"""The clinic in a real browser: invite, join by the link, prescribe a cap, practise within it,
and see the session and its alert on the dashboard.

Set LIMBER_SHOTS=/some/folder to keep screenshots of the pages (phone and desktop widths).
"""

import os
from pathlib import Path
from urllib.parse import urlparse

import pytest
from django.core.cache import cache

from limber.clinic.models import CareLink, Clinic
from limber.practice.models import Hold, PracticeSession
from limber.practice.plan import clinician_plan
from tests.conftest import watched_page
from tests.test_browser import play_to_the_end, start

PASSWORD = "stretch-gently-42"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def shoot(page, name: str) -> None:
    folder = os.environ.get("LIMBER_SHOTS")
    if not folder:
        return
    for label, width in (("desktop", 1200), ("phone", 390)):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(Path(folder) / f"{name}-{label}.png"), full_page=True)
    page.set_viewport_size({"width": 900, "height": 700})


def log_in(page, email):
    # Earlier tests' failed logins from 127.0.0.1 may still count in the throttle's cache.
    cache.clear()
    page.goto("/accounts/login/?next=/clinic/")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: urlparse(url).path == "/clinic/")


def test_invite_join_prescribe_practise_and_follow(browser, live_server, make_user):
    carol = make_user("carol@clinic.example", role="clinician", password=PASSWORD)
    carol.first_name, carol.last_name = "Carol", "Physio"
    carol.save()
    Clinic.objects.create(name="Riverside Physio").members.add(carol)

    with (
        watched_page(browser, live_server.url) as clinician,
        watched_page(browser, live_server.url) as patient,
    ):
        # The clinician makes an invite: a link and a QR code.
        log_in(clinician, "carol@clinic.example")
        clinician.get_by_role("button", name="Invite a patient").click()
        link = clinician.locator("#invite-link").get_attribute("href")
        assert "/clinic/join/" in link
        assert clinician.locator(".qr img").evaluate("img => img.naturalWidth") > 0

        # A new patient opens the link, signs up there, and answers the symptoms check.
        patient.goto(link)
        assert "Join Carol Physio on Limber" in patient.locator("h1").inner_text()
        patient.get_by_label("E-mail").fill("newcomer@example.org")
        patient.get_by_label("Password", exact=True).fill(PASSWORD)
        patient.get_by_label("Password again").fill(PASSWORD)
        patient.get_by_role("button", name="Create account and join").click()
        patient.wait_for_url("**/screening/")
        for fieldset in patient.locator("form.screening fieldset").all():
            fieldset.get_by_label("No").check()
        patient.get_by_role("button", name="Continue").click()
        patient.wait_for_url("**/practice/")
        newcomer = CareLink.objects.get(clinician=carol).patient
        assert newcomer.email == "newcomer@example.org"

        # The clinician prescribes the towel stretch, left leg only, one hold capped at 10 s.
        clinician.goto("/clinic/")
        clinician.get_by_role("link", name="newcomer@example.org").click()
        for box in clinician.locator("legend input[type=checkbox]").all():
            box.uncheck()
        towel = clinician.locator("fieldset.rx-item").filter(has_text="Towel hamstring stretch")
        towel.locator("legend input").check()
        towel.get_by_label("right").uncheck()
        towel.get_by_label("Reps per side").fill("1")
        towel.get_by_label("Hold cap (s)").fill("10")
        # A knee that cannot straighten: the camera is to count it straight from 150 degrees.
        knee = towel.get_by_label("Knee counted straight from (°)")
        assert knee.get_attribute("placeholder") == "160"
        knee.fill("150")
        clinician.get_by_label("Note to the patient").fill("Only the left leg for now.")
        clinician.get_by_role("button", name="Save prescription").click()
        clinician.locator("table.changes").get_by_text("First prescription").wait_for()
        towel = clinician.locator("fieldset.rx-item").filter(has_text="Towel hamstring stretch")
        assert towel.get_by_label("Knee counted straight from (°)").input_value() == "150"

        # The patient's session follows it: one hold, left leg, 10 s, and the note is shown.
        patient.add_init_script("window.limberEvents = []")
        patient.goto("/practice/?speed=25")
        patient.locator(".clinician-note").get_by_text("Only the left leg for now.").wait_for()
        # The camera check opened now counts this knee from there (tests/test_live.py), and the
        # plan says so before the session starts.
        assert dict(clinician_plan(newcomer).knee_from) == {"towel-hamstring-stretch": 150}
        plan = patient.locator("ul.plan")
        assert plan.get_by_text(
            "your knee counts as straight from 150°, as your clinician set"
        ).is_visible()
        assert plan.get_by_text("10 s, once each leg").is_visible()
        shoot(patient, "plan")
        holds = patient.evaluate(
            "JSON.parse(document.getElementById('today-data').textContent)"
            ".script.steps.filter(s => s.kind === 'hold')"
            ".map(s => [s.exercise, s.side, s.target_s])"
        )
        assert holds == [["towel-hamstring-stretch", "left", 10]]
        start(patient, pain_before="3")
        play_to_the_end(patient, answers={"pain_now": "4", "spread": "yes"})
        patient.wait_for_function("document.getElementById('sync').dataset.waiting === '0'")
        session = PracticeSession.objects.get(user=newcomer)
        assert session.pain_spread is True
        assert [(h.side, h.target_s) for h in Hold.objects.filter(session=session)] == [
            ("left", 10)
        ]

        # The dashboard shows the session and an alert that links to it.
        clinician.goto("/clinic/")
        row = clinician.locator("#patients tbody tr").filter(has_text="newcomer@example.org")
        # Daily, and joined today: one day asked so far, not seven.
        assert row.locator("td").nth(3).inner_text().startswith("1 / 1")
        alert = row.locator("a.alert-pain_spread")
        assert "pain spread down the leg" in alert.inner_text()
        shoot(clinician, "dashboard")
        alert.click()
        clinician.wait_for_url(f"**#session-{session.id}")
        assert (
            clinician.locator(f"#session-{session.id}")
            .get_by_text("spread down the leg")
            .is_visible()
        )
        shoot(clinician, "patient")

        # The patient sees who their clinician is.
        patient.goto("/clinic/care/")
        assert patient.locator("#clinician").inner_text() == "Carol Physio, Riverside Physio"


def test_dashboard_columns_sort(browser, live_server, make_user):
    carol = make_user("carol@clinic.example", role="clinician", password=PASSWORD)
    for email in ("zoe@example.org", "adam@example.org", "mia@example.org"):
        CareLink.objects.create(patient=make_user(email), clinician=carol)
    with watched_page(browser, live_server.url) as page:
        log_in(page, "carol@clinic.example")

        def names():
            return page.locator("#patients tbody tr td:first-child a").all_inner_texts()

        assert names() == ["adam@example.org", "mia@example.org", "zoe@example.org"]
        page.locator('#patients th button[data-col="0"]').click()
        page.locator('#patients th button[data-col="0"]').click()
        assert names() == ["zoe@example.org", "mia@example.org", "adam@example.org"]
        assert page.locator("th[aria-sort]").get_attribute("aria-sort") == "descending"


def test_the_patient_page_pages_back_through_older_sessions_and_fits_a_phone(
    browser, live_server, make_user
):
    from datetime import timedelta

    from django.utils import timezone

    carol = make_user("carol@clinic.example", role="clinician", password=PASSWORD)
    alice = make_user("alice@example.org")
    CareLink.objects.create(patient=alice, clinician=carol)
    now = timezone.now()
    for day in range(60, 0, -1):  # one a day for 60 days, the oldest with the longest hold
        s = PracticeSession.objects.create(
            user=alice, started_at=now - timedelta(days=day), pain_before=2, pain_after=2
        )
        # Every fifth day the patient told the camera where they feel the stretch.
        knee = 130 + (60 - day) / 3 if day % 5 == 0 else None
        Hold.objects.create(session=s, exercise="towel-hamstring-stretch", variant="towel",
                            side="left", rep=1, target_s=10, held_s=day, position=0,
                            knee_felt_deg=knee)  # fmt: skip
    with watched_page(browser, live_server.url) as page:
        log_in(page, "carol@clinic.example")
        page.goto(f"/clinic/patients/{alice.pk}/")
        page.get_by_role("heading", name="Where the stretch is felt").wait_for()
        assert page.locator("#knee-chart canvas").count() == 1
        assert page.evaluate("window.limberCharts.knee.data[1].filter(Number).length") == 12
        rows = page.locator("table.sessions tbody tr")
        assert rows.count() == 50 and "up to 1 s" in rows.first.inner_text()
        page.get_by_role("link", name="Older sessions →").click()
        assert rows.count() == 10 and "up to 60 s" in rows.last.inner_text()
        assert page.get_by_role("link", name="Older sessions →").count() == 0
        shoot(page, "clinic-patient-older-sessions")
        # On a phone the page fits the screen: a long variant name once widened the form.
        page.set_viewport_size({"width": 390, "height": 800})
        page.reload()  # as a phone opens it (the charts take their width when drawn)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.get_by_role("link", name="← Latest sessions").click()
        assert rows.count() == 50


def phone_fits(page) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def log_in_to(page, email, path):
    cache.clear()
    page.goto(f"/accounts/login/?next={path}")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: urlparse(url).path == path)


def test_the_dashboard_shows_every_column_on_a_phone(browser, live_server, make_user):
    from datetime import timedelta

    from django.utils import timezone

    from limber.practice.models import Screening
    from tests.conftest import clear_answers

    carol = make_user("carol@clinic.example", role="clinician", password=PASSWORD)
    alice = make_user("alice@example.org")
    CareLink.objects.create(patient=alice, clinician=carol)
    now = timezone.now()
    for day in (3, 2):
        PracticeSession.objects.create(user=alice, started_at=now - timedelta(days=day),
                                       pain_before=2, pain_after=5, pain_spread=True)  # fmt: skip
    Screening.objects.create(user=alice, answers=clear_answers() | {"bladder": True}, flagged=True)
    with watched_page(browser, live_server.url) as page:
        log_in(page, "carol@clinic.example")
        shoot(page, "dashboard-alerts")
        phone_fits(page)
        row = page.locator("#patients tbody tr").first
        for label in ("Last session", "7 days", "28 days", "Pain", "Good form"):
            cell = row.locator(f'td[data-label="{label}"]')
            box = cell.bounding_box()
            assert cell.is_visible() and box["x"] >= 0 and box["x"] + box["width"] <= 390, label
            # Each value says what it is: the column's name is shown beside it.
            assert cell.evaluate("td => getComputedStyle(td, '::before').content") == f'"{label}"'
        # The alerts read as lines, not one word per line; the emergency comes first.
        alerts = row.locator("a.alert")
        assert "Emergency red flag" in alerts.first.inner_text()
        for n in range(alerts.count()):
            assert alerts.nth(n).bounding_box()["width"] >= 250
        # Sorting still works from the column names above the cards.
        page.locator('#patients th button[data-col="0"]').click()
        assert page.locator("th[aria-sort]").count() == 1


def test_the_care_page_and_ending_the_link_fit_a_phone(browser, live_server, make_user):
    carol = make_user("carol@clinic.example", role="clinician", password=PASSWORD)
    carol.first_name, carol.last_name = "Carol", "Physio"
    carol.save()
    alice = make_user("alice@example.org", password=PASSWORD)
    CareLink.objects.create(patient=alice, clinician=carol)
    with watched_page(browser, live_server.url) as page:
        log_in_to(page, "alice@example.org", "/clinic/care/")
        page.get_by_role("button", name="Make my calendar address").click()
        page.locator("#feed-url").wait_for()
        assert page.get_by_role("button", name="Make a new address (the old one stops working)")
        shoot(page, "care-calendar")
        phone_fits(page)
        # Ending the link asks first, on a page of its own (no script needed).
        page.get_by_role("link", name="End the link to my clinician…").click()
        page.get_by_role("heading", name="End the link to Carol Physio?").wait_for()
        shoot(page, "care-end-confirm")
        phone_fits(page)
        page.get_by_role("link", name="No, keep my clinician").click()
        assert CareLink.objects.filter(patient=alice, ended=None).exists()
        page.get_by_role("link", name="End the link to my clinician…").click()
        page.get_by_role("button", name="Yes, end the link").click()
        page.get_by_text("The link to your clinician has ended.").wait_for()
        assert not CareLink.objects.filter(patient=alice, ended=None).exists()


def test_the_invite_link_is_one_box_on_a_phone(browser, live_server, make_user):
    make_user("carol@clinic.example", role="clinician", password=PASSWORD)
    with watched_page(browser, live_server.url) as page:
        log_in(page, "carol@clinic.example")
        page.get_by_role("button", name="Invite a patient").click()
        shoot(page, "invite")
        phone_fits(page)
        link = page.locator("#invite-link")
        # One rectangle with one border, within the screen (inline, it broke into pieces).
        assert link.evaluate("a => a.getClientRects().length") == 1
        box = link.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390
