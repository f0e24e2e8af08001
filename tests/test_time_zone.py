"""A person's days and times are on their own clock, not the server's (UTC).

Someone in New York who stretches at 23:30 did that day's session; someone in Tokyo reads the
time they finished as their clock showed it. The browser says which zone it is in.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from limber.accounts.models import Profile
from limber.practice import history, plan
from limber.practice.models import Hold, PracticeSession
from tests.conftest import clear_answers, watched_page

pytestmark = pytest.mark.django_db


def lives_in(user, zone: str) -> None:
    user.profile.time_zone = zone
    user.profile.save()


def screened(user) -> None:
    from limber.practice.models import Screening

    row = Screening.objects.create(user=user, answers=clear_answers(), flagged=False)
    row.created = datetime(2026, 3, 1, tzinfo=UTC)
    row.save()


def session(user, started: datetime, minutes: int = 10) -> PracticeSession:
    s = PracticeSession.objects.create(
        id=uuid.uuid4(), user=user, started_at=started,
        finished_at=started + timedelta(minutes=minutes),
        pain_before=1, pain_after=1, pain_spread=False,
    )  # fmt: skip
    for n in range(20):  # more than a first day's plan, every one held in full
        Hold.objects.create(
            id=uuid.uuid4(), session=s, position=n, exercise="towel-hamstring-stretch",
            variant="towel", side=("left", "right")[n % 2], rep=n // 2 + 1, target_s=10, held_s=10,
        )  # fmt: skip
    return s


# 23:30 on 9 March in New York is 04:30 on 10 March in UTC (EDT starts on 8 March 2026).
LATE_IN_NEW_YORK = datetime(2026, 3, 10, 3, 30, tzinfo=UTC)
NEXT_MORNING = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)  # 08:00 in New York


def test_a_late_evening_session_counts_for_the_day_it_was_done(alice):
    screened(alice)
    session(alice, LATE_IN_NEW_YORK)
    # On the server's clock (no zone known yet) it was done "today", 10 March.
    assert plan.today(alice, NEXT_MORNING)["sessions_today"] == 1
    lives_in(alice, "America/New_York")
    today = plan.today(alice, NEXT_MORNING)
    assert today["date"] == "2026-03-10"
    assert today["sessions_today"] == 0 and not today["done_today"]  # it was yesterday's


def test_the_history_calendar_marks_the_person_s_own_day(alice):
    screened(alice)
    session(alice, LATE_IN_NEW_YORK)
    lives_in(alice, "America/New_York")
    march = history.page_context(alice, NEXT_MORNING)["calendar"][-1]
    practised = {d["day"] for week in march["weeks"] for d in week if d["practised"]}
    assert practised == {9}


def test_the_player_says_when_the_session_finished_on_the_person_s_clock(
    client, alice, monkeypatch
):
    screened(alice)
    lives_in(alice, "Asia/Tokyo")
    monkeypatch.setattr(timezone, "now", lambda: NEXT_MORNING)  # 21:00 in Tokyo
    session(alice, NEXT_MORNING - timedelta(hours=1))  # finished 20:10 in Tokyo, 11:10 in UTC
    client.force_login(alice)
    page = client.get("/practice/").content.decode()
    assert "You finished today&#x27;s session at 20:10" in page or (
        "You finished today's session at 20:10" in page
    )


def test_a_browser_says_its_time_zone_through_the_api(client, alice, token_for):
    auth = {"Authorization": "Bearer " + token_for(alice)}
    put = lambda body: client.put(  # noqa: E731
        "/api/v1/time-zone", json.dumps(body), content_type="application/json", headers=auth
    )
    r = put({"time_zone": "Europe/London"})
    assert r.status_code == 200 and r.json() == {"time_zone": "Europe/London"}
    assert Profile.objects.get(user=alice).time_zone == "Europe/London"
    bad_zones = ("Mars/Olympus_Mons", "", "localtime", "Factory", "../../etc/passwd", "x" * 65)
    for bad in (*({"time_zone": z} for z in bad_zones), {"time_zone": 3}, {"time_zone": None}, {}):
        r = put(bad)
        assert r.status_code == 422, bad
        assert r.json()["error"]["field"] == "time_zone"
    assert Profile.objects.get(user=alice).time_zone == "Europe/London"  # nothing lost
    assert client.put("/api/v1/time-zone", "{}", content_type="application/json").status_code == 401


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_pages_tell_limber_the_browser_s_time_zone(browser, live_server, alice):
    screened(alice)  # on 1 March at 00:00 UTC, 13:00 in Auckland; due again, so it is asked
    auckland = {"bypass_csp": False, "timezone_id": "Pacific/Auckland"}
    with watched_page(browser, live_server.url, **auckland) as page:
        page.goto("/accounts/login/")
        page.get_by_label("E-mail").fill("alice@example.org")
        page.get_by_label("Password").fill("stretch-gently-42")
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url("**/screening/**")
        # The first page, drawn on the server's clock, is drawn again on the person's.
        page.get_by_text("Last answered 1 Mar 2026, 13:00").wait_for()
        page.wait_for_function(
            "document.querySelector('form[data-time-zone]').dataset.timeZone === 'Pacific/Auckland'"
        )
    assert Profile.objects.get(user=alice).time_zone == "Pacific/Auckland"
