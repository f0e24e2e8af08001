"""The player's camera check in Chromium when things go wrong: the socket lost mid-hold, the
camera stopping, a person never in view; and the seconds shown as they are stored.

The pose engine is a fake (tests/test_live.py's) and the camera Chromium's fake device.
"""

from __future__ import annotations

import re

import pytest

from limber.practice import consumers
from tests import test_live
from tests.test_browser import (
    hold_steps,
    play_to_the_end,
    play_until_ready,
    sign_up_and_screen,
)
from tests.test_live import FakeEngine, follow

# tests/test_live.py's fixtures: Chromium with a fake camera, and uvicorn serving the socket.
camera_browser = test_live.camera_browser
asgi_server = test_live.asgi_server
camera_page = test_live.camera_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Every socket the page opens, and how many frames went out on each, for the test to see.
SOCKETS = """
window.limberEvents = [];
window.sockets = [];
window.WebSocket = class extends WebSocket {
  constructor(...args) { super(...args); this.frames = 0; window.sockets.push(this); }
  send(data) { if (typeof data !== "string") this.frames += 1; return super.send(data); }
};
"""


def into_a_coached_hold(page, email, speed=2):
    """Signed up, camera on, in the first hold with its checks ticked; then paused, so that the
    hold cannot end (and clear the screen itself) while the test looks."""
    sign_up_and_screen(page, email)
    page.add_init_script(SOCKETS)
    page.goto(f"/practice/?speed={speed}")
    into_the_first_hold(page)
    page.wait_for_function(
        "document.getElementById('camera-checks').textContent.includes('✓')"
        " && Number(document.getElementById('camera-overlay').dataset.drawn) >= 3"
    )
    page.locator("#pause").click()


def into_a_camera_session(page, email, speed=25) -> int:
    """Signed up, camera on, today's session started up to its first hold (at `speed`); the
    number of holds the session has."""
    sign_up_and_screen(page, email)
    page.add_init_script(SOCKETS)
    page.goto(f"/practice/?speed={speed}")
    expected = hold_steps(page)
    into_the_first_hold(page)
    return expected


def test_a_lost_socket_mid_hold_clears_the_coaching_and_says_counting_is_paused(
    camera_page, monkeypatch
):
    follow(monkeypatch, FakeEngine())
    page = camera_page
    into_a_coached_hold(page, "lostsocket@example.org")
    page.evaluate("window.sockets.at(-1).close()")  # as when the server goes away
    page.wait_for_function("document.getElementById('camera-overlay').dataset.drawn === '0'")
    assert page.locator("#camera-checks li").count() == 0
    assert page.locator("#camera-cue").inner_text() == ""
    assert page.evaluate("document.getElementById('camera').dataset.good") is None
    assert "not counted until it is back" in page.locator("#camera-status").inner_text()
    assert "paused" in page.locator("#camera-good").inner_text()


def test_a_camera_that_stops_is_a_lost_camera(camera_page, monkeypatch):
    engine = FakeEngine()
    follow(monkeypatch, engine)
    page = camera_page
    into_a_coached_hold(page, "camerastops@example.org")
    page.locator("#pause").click()  # counting again
    page.wait_for_function("window.sockets.at(-1).frames >= 3")
    page.evaluate(
        "document.getElementById('camera-video').srcObject.getVideoTracks()[0]"
        ".dispatchEvent(new Event('ended'))"
    )
    page.get_by_text("The camera stopped: carrying on with the timer alone.").wait_for()
    sent = page.evaluate("window.sockets.reduce((n, s) => n + s.frames, 0)")
    page.wait_for_timeout(800)
    assert page.evaluate("window.sockets.reduce((n, s) => n + s.frames, 0)") == sent
    assert page.evaluate("document.getElementById('camera').dataset.state") == "off"


def test_the_good_form_seconds_are_shown_as_the_record_keeps_them(camera_page, monkeypatch):
    """Tenths, rounded as player.js rounds good_form_s: 9.6 s shows as 9.6, not 9."""
    follow(monkeypatch, FakeEngine())
    page = camera_page
    into_a_coached_hold(page, "tenths@example.org", speed=1)
    held = page.evaluate("window.limberEvents.filter(e => e.type === 'verdict').at(-1).held_s")
    shown = page.locator("#camera-good").inner_text()
    assert re.fullmatch(r"Good form: \d+\.\d s", shown), shown
    assert shown == f"Good form: {round(held * 10) / 10:.1f} s"


def test_holds_in_which_the_camera_saw_nobody_store_no_good_form_seconds(camera_page, monkeypatch):
    from limber.practice.models import Hold

    monkeypatch.setattr(consumers, "engine_factory", lambda: FakeEngine(None))
    page = camera_page
    expected = into_a_camera_session(page, "nobody@example.org")
    page.wait_for_function("window.limberEvents.some(e => e.type === 'verdict')")
    play_to_the_end(page)
    page.wait_for_function("document.getElementById('sync').dataset.waiting === '0'")
    verdicts = page.evaluate("window.limberEvents.filter(e => e.type === 'verdict')")
    assert verdicts and not any(v["good_form"] for v in verdicts)
    holds = list(Hold.objects.all())
    assert len(holds) == expected and all(h.good_form_s is None for h in holds), [
        h.good_form_s for h in holds
    ]


def camera_on_at_start(page, email):
    sign_up_and_screen(page, email)
    page.add_init_script(SOCKETS)
    page.goto("/practice/?speed=25")
    page.get_by_label("Use camera").check()


def test_a_camera_check_already_on_elsewhere_is_said_plainly(camera_page):
    from django.contrib.auth import get_user_model
    from django.core.cache import cache

    page = camera_page
    camera_on_at_start(page, "twotabs@example.org")
    user = get_user_model().objects.get(email="twotabs@example.org")
    for slot in range(consumers.MAX_SOCKETS_PER_USER):  # two other tabs have it on
        cache.add(consumers._slot_key(user.pk, slot), "another tab", consumers.SOCKET_LEASE_S)
    page.get_by_role("button", name="Start").click()
    play_until_ready(page)  # the camera box shows with the stretch
    status = page.locator("#camera-status")
    status.get_by_text("already on in another tab or window").wait_for()
    assert "your holds are timed as usual" in status.inner_text()
    assert page.evaluate("document.getElementById('camera').dataset.state") == "off"


def test_without_the_pose_models_the_patient_reads_a_plain_message(camera_page, monkeypatch):
    from limber.errors import UserError

    def missing():
        raise UserError("the pose model /srv/limber/var/models/pose_detection.tflite is missing;"
                        " run `limber models`")  # fmt: skip

    monkeypatch.setattr(consumers, "engine_factory", missing)
    page = camera_page
    camera_on_at_start(page, "nomodels@example.org")
    page.get_by_role("button", name="Start").click()
    play_until_ready(page)
    page.locator("#ready").click()
    page.wait_for_function("document.getElementById('camera').dataset.state === 'off'")
    assert page.locator("#camera-status").inner_text() == (
        "The camera check is not set up on this server; your holds are timed as usual."
    )


def into_the_first_hold(page):
    """From today's page: camera on, the session started, into its first hold."""
    page.get_by_label("Use camera").check()
    page.get_by_role("button", name="Start").click()
    play_until_ready(page)
    page.locator("#ready").click()


def test_a_person_who_feels_the_stretch_before_the_knee_is_straight_says_so(
    camera_page, monkeypatch
):
    """Tight hamstrings: the knee stops at 145 degrees where the stretch is felt. The camera
    offers "I feel the stretch here"; pressed, good form counts from there on that leg."""
    from limber.practice.models import Hold

    follow(monkeypatch, FakeEngine(), knee=145)
    page = camera_page
    sign_up_and_screen(page, "tight@example.org")
    page.add_init_script(SOCKETS)
    page.goto("/practice/?speed=2")
    into_the_first_hold(page)
    felt = page.get_by_role("button", name="I feel the stretch here")
    felt.wait_for()
    assert page.locator("#camera-checks").get_by_text("✗ Knee straight — not yet").is_visible()
    assert page.locator("#camera-good").inner_text() == "Good form: 0.0 s"
    page.screenshot(path=str(test_live.SHOTS / "limber-player-felt-offered.png"))
    felt.click()
    page.get_by_text(
        re.compile(r"Noted: you feel the stretch with your knee at 1[45]\d°")
    ).wait_for()
    page.locator("#camera-checks").get_by_text(
        "✓ Knee straight (as far as you feel the stretch)"
    ).wait_for()
    assert felt.is_hidden()
    page.wait_for_function(
        "/Good form: [1-9]/.test(document.getElementById('camera-good').textContent)"
    )
    page.locator("#pause").click()
    page.screenshot(path=str(test_live.SHOTS / "limber-player-felt.png"))
    # Kept with the hold, for the person's history and their clinician.
    page.locator("#pause").click()
    page.wait_for_function("window.limberEvents.some(e => e.type === 'hold')")
    hold = page.evaluate("window.limberEvents.find(e => e.type === 'hold').hold")
    assert 140 <= hold["knee_felt_deg"] <= 150 and hold["good_form_s"] > 0
    page.wait_for_function("document.getElementById('sync').dataset.waiting === '0'")
    assert Hold.objects.get(id=hold["id"]).knee_felt_deg == hold["knee_felt_deg"]


def test_where_a_stretch_was_felt_yesterday_counts_from_the_first_frame_today(
    camera_page, monkeypatch
):
    """Lying on the floor with both hands on the towel, nobody reaches for a button: the knee
    angle felt last time is where the camera counts from, and the button is not offered."""
    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from limber.practice.models import PracticeSession

    follow(monkeypatch, FakeEngine(), knee=145)
    page = camera_page
    sign_up_and_screen(page, "felt-yesterday@example.org")
    page.add_init_script(SOCKETS)
    first = """JSON.parse(document.getElementById('today-data').textContent)
        .script.steps.find(s => s.kind === 'hold')"""
    page.goto("/practice/?speed=2")
    step = page.evaluate(first)
    user = get_user_model().objects.get(username="felt-yesterday@example.org")
    yesterday = timezone.now() - timedelta(days=1)
    s = PracticeSession.objects.create(user=user, started_at=yesterday)
    s.holds.create(exercise=step["exercise"], variant=step["variant"], side=step["side"], rep=1,
                   target_s=10, held_s=10, knee_felt_deg=146.0, position=0)  # fmt: skip
    page.goto("/practice/?speed=2")
    assert {k: page.evaluate(first)[k] for k in ("exercise", "variant", "side")} == {
        k: step[k] for k in ("exercise", "variant", "side")
    }
    into_the_first_hold(page)
    page.locator("#camera-checks").get_by_text(
        "✓ Knee straight (as far as you feel the stretch)"
    ).wait_for()
    page.wait_for_function(
        "/Good form: [1-9]/.test(document.getElementById('camera-good').textContent)"
    )
    assert page.get_by_role("button", name="I feel the stretch here").is_hidden()


def test_a_knee_the_clinician_says_cannot_straighten_counts_from_their_angle(
    camera_page, monkeypatch
):
    """The clinician prescribed the first stretch with the knee counted straight from 140
    degrees (a knee that cannot straighten): held at 145, the hold counts from the first frame,
    the check says whose angle it is, and no button is offered."""
    from django.contrib.auth import get_user_model

    from limber.accounts.models import Profile
    from limber.clinic.models import CareLink, Prescription

    follow(monkeypatch, FakeEngine(), knee=145)
    page = camera_page
    sign_up_and_screen(page, "stiff-knee@example.org")
    page.add_init_script(SOCKETS)
    first = """JSON.parse(document.getElementById('today-data').textContent)
        .script.steps.find(s => s.kind === 'hold')"""
    page.goto("/practice/?speed=2")
    step = page.evaluate(first)
    users = get_user_model().objects
    patient = users.get(username="stiff-knee@example.org")
    carol = users.create_user(username="carol@clinic.example", email="carol@clinic.example")
    Profile.objects.create(user=carol, role="clinician")
    CareLink.objects.create(patient=patient, clinician=carol)
    item = {"exercise": step["exercise"], "variant": step["variant"], "sides": ["left", "right"],
            "reps_per_side": 1, "hold_cap_s": None, "knee_from_deg": 140}  # fmt: skip
    Prescription.objects.create(patient=patient, updated_by=carol, data={
        "items": [item], "times_per_week": 7, "affected_side": None, "note": "",
        "override_reason": ""})  # fmt: skip
    page.goto("/practice/?speed=2")
    into_the_first_hold(page)
    page.locator("#camera-checks").get_by_text(
        "✓ Knee straight (from 140°, as your clinician set)"
    ).wait_for()
    page.wait_for_function(
        "/Good form: [1-9]/.test(document.getElementById('camera-good').textContent)"
    )
    page.locator("#pause").click()
    page.screenshot(path=str(test_live.SHOTS / "limber-player-clinician-knee.png"))
    assert page.get_by_role("button", name="I feel the stretch here").is_hidden()


@pytest.mark.parametrize("felt, kept", [("yes", True), ("no", False), ("strong", False)])
def test_a_gentle_stretch_answered_after_holds_with_the_knee_short_is_where_it_is_felt(
    camera_page, monkeypatch, felt, kept
):
    """Nobody pressed the button (hands on the towel). The knee stayed at 145 degrees and the
    check-in says "A gentle stretch": each of those holds keeps 145 as where the stretch is
    felt, and the next session counts from there. "No stretch" or "Too strong" keeps nothing:
    the knee was not where a gentle stretch is felt."""
    from limber.practice.models import Hold
    from limber.practice.store import felt_knees

    follow(monkeypatch, FakeEngine(), knee=145)
    page = camera_page
    expected = into_a_camera_session(page, f"checkin-{felt}@example.org")
    play_to_the_end(page, answers={"felt": felt})
    page.wait_for_function("document.getElementById('sync').dataset.waiting === '0'")
    holds = list(Hold.objects.all())
    assert len(holds) == expected
    # At 25 times the speed a hold lasts a fraction of a second: one the camera had no answer
    # for yet (good_form_s None, as the page stores it) has no knee seen either.
    seen = [h for h in holds if h.good_form_s is not None]
    assert len(seen) * 2 > len(holds)
    angles = [h.knee_felt_deg for h in seen]
    assert all(h.knee_felt_deg is None for h in holds if h.good_form_s is None)
    if kept:
        assert all(a is not None and 140 <= a <= 150 for a in angles), angles
        user = holds[0].session.user
        assert set(felt_knees(user, holds[0].session.started_at)) == {
            f"{h.exercise}|{h.variant}|{h.side}" for h in seen
        }
    else:
        assert angles == [None] * len(seen)
