"""A new user's first day, in a real browser (Debian's Chromium driven by Playwright).

Sign up, answer the symptoms check, play today's session to the end in test speed while the
network drops and comes back, then see it in the history: nothing lost, nothing doubled.
"""

import json
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from limber.practice.models import Hold, PracticeSession
from tests.conftest import confirmation_link, watched_page

PASSWORD = "stretch-gently-42"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def page(browser, live_server):
    with watched_page(browser, live_server.url) as pg:
        yield pg


def sign_up_and_screen(page, email="newcomer@example.org"):
    page.goto("/accounts/signup/")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url("**/signup/sent/")
    page.goto(confirmation_link(email))  # as if opened from the mail
    page.get_by_label("The password you chose when signing up").fill(PASSWORD)
    page.get_by_role("button", name="Confirm and start").click()
    page.wait_for_url("**/screening/")
    for fieldset in page.locator("form.screening fieldset").all():
        fieldset.get_by_label("No").check()
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/practice/")


def start(page, pain_before="0"):
    """Answer the pain question on the first page when it is asked there, then Start."""
    box = page.locator("#pain_before-box")
    if box.count() and box.is_visible():
        box.locator(f'input[value="{pain_before}"]').check(force=True)
    page.get_by_role("button", name="Start").click()


def today_data(page) -> dict:
    return page.evaluate("JSON.parse(document.getElementById('today-data').textContent)")


def hold_steps(page) -> int:
    return page.evaluate(
        "JSON.parse(document.getElementById('today-data').textContent)"
        ".script.steps.filter(s => s.kind === 'hold').length"
    )


ANSWERS = {"new_symptoms": "no", "felt": "yes", "pain_now": "0", "spread": "no"}


def answer_check_in(page, answers=None):
    """Answer every question the check-in shows (nothing is pre-filled), then Continue."""
    answers = {**ANSWERS, **(answers or {})}
    for box in page.locator("#checkin fieldset.question:visible").all():
        name = box.get_attribute("data-name")
        box.locator(f'input[value="{answers[name]}"]').check(force=True)
    page.locator("#checkin-next").click()


def play_to_the_end(page, on_hold=None, answers=None):
    """Say "I'm ready" and answer check-ins as they come until the session is done."""
    seen = 0
    while not page.locator("#done").is_visible():
        page.wait_for_function(
            "(seen) => !document.getElementById('checkin').hidden"
            " || !document.getElementById('done').hidden"
            " || (!document.getElementById('stage').hidden"
            "     && !document.getElementById('ready-box').hidden)"
            " || window.limberEvents.filter(e => e.type === 'hold').length > seen",
            arg=seen,
        )
        holds = page.evaluate("window.limberEvents.filter(e => e.type === 'hold').length")
        if on_hold and holds > seen:
            on_hold(holds)
        seen = holds
        if page.locator("#checkin").is_visible():
            answer_check_in(page, answers)
        elif page.locator("#ready").is_visible():
            page.locator("#ready").click()


def test_first_day_with_the_network_dropping(page, live_server):
    sign_up_and_screen(page)
    page.add_init_script("window.limberEvents = []")
    page.goto("/practice/?speed=25")
    expected = hold_steps(page)
    assert expected >= 6  # at least 3 reps of each leg of one stretch
    page.get_by_text("A stretch should be felt, not painful.").first.wait_for()
    start(page)

    context = page.context
    state = {"offline_at": None}

    def network(holds):
        if holds == 2 and state["offline_at"] is None:
            context.set_offline(True)
            state["offline_at"] = holds
        elif holds == 5 and state["offline_at"] is not None:
            # While offline the page says the records are kept on the device.
            assert "Offline" in page.locator("#sync").inner_text()
            context.set_offline(False)

    play_to_the_end(page, on_hold=network)
    assert state["offline_at"] == 2
    page.wait_for_function("document.getElementById('sync').dataset.waiting === '0'")
    assert page.locator("#done-note").inner_text() == f"All {expected} holds done."

    session = PracticeSession.objects.get()
    assert session.finished_at is not None and session.pain_before == 0
    assert session.pain_after == 0 and session.pain_spread is False
    holds = Hold.objects.filter(session=session)
    assert holds.count() == expected  # nothing lost, nothing doubled
    assert all(h.stretch_felt is True and h.pain == 0 for h in holds)
    assert all(abs(h.held_s - h.target_s) <= 1.5 for h in holds)

    page.goto("/history/")
    assert page.locator("table.sessions tbody tr").count() == 1
    assert page.locator("#holds-chart canvas").count() == 1
    assert page.locator("td.practised").count() == 1

    # Tomorrow's prescription is built from this session.
    from limber.practice import plan

    tomorrow = plan.today(session.user, timezone.now() + timedelta(days=1))
    assert tomorrow["prescription"]["history_sessions"] == 1

    # Back on the player today: done for today, with the option to do it again.
    page.goto("/practice/")
    assert page.get_by_role("heading", name="Done for today").is_visible()
    assert not page.locator("#intro").is_visible()
    page.get_by_role("button", name="Do it again").click()
    assert page.get_by_role("button", name="Start").is_visible()


def test_a_reload_mid_session_keeps_the_finished_holds(page, live_server):
    up_to_the_first_stretch(page, "reloader@example.org")  # the questions come first
    expected = hold_steps(page)
    page.locator("#ready").click()
    page.wait_for_function("window.limberEvents.filter(e => e.type === 'hold').length >= 2")
    page.reload()
    page.get_by_text("You have a session in progress").wait_for()
    page.get_by_role("button", name="Start").click()
    # The keyboard carries on from the player, not from the top of the page.
    page.wait_for_function(
        "!document.getElementById('intro') || document.getElementById('intro').hidden"
    )
    assert page.evaluate("document.activeElement !== document.body")
    play_to_the_end(page)
    page.wait_for_function("document.getElementById('sync').dataset.waiting === '0'")
    assert PracticeSession.objects.count() == 1
    assert not page.locator("#spread-note").is_visible()  # no spread reported
    # The step playing at the reload is played again, so there may be one hold more, never less.
    assert expected <= Hold.objects.count() <= expected + 1


def play_until_ready(page):
    """Answer any questions before the first stretch, until its "I'm ready" shows."""
    while not page.locator("#ready").is_visible():
        page.wait_for_function(
            "!document.getElementById('checkin').hidden"
            " || !document.getElementById('ready-box').hidden"
        )
        if page.locator("#checkin").is_visible():
            answer_check_in(page)


def up_to_the_first_stretch(page, email, pain_before="0", speed=25):
    """A new person's first session at 25 times the speed (or `speed`), up to the first
    stretch's "I'm ready" (the questions before it answered)."""
    sign_up_and_screen(page, email)
    page.add_init_script("window.limberEvents = window.limberEvents || []")
    page.goto(f"/practice/?speed={speed}")
    start(page, pain_before)
    play_until_ready(page)


def test_set_up_waits_for_ready_and_the_keyboard_pauses_the_clock(page, live_server):
    sign_up_and_screen(page, "keys@example.org")
    page.add_init_script("window.limberEvents = []")
    page.goto("/practice/")  # real speed
    start(page)
    play_until_ready(page)
    # Set-up waits for the person: no countdown, and nothing happens until they are ready.
    assert page.locator("#clock").is_hidden()
    # A screen reader hears the set-up as shown, and no promise to start by itself (it is off).
    live = page.locator("#live").inner_text()
    setup = next(s for s in today_data(page)["script"]["steps"] if s.get("wait_for_ready"))
    assert setup["lines"][0] in live
    assert "by itself" not in live
    # The step shown is a heading, which names the player's region: a screen reader user finds
    # their place in the session by headings, as on every other page.
    heading = page.get_by_role("heading", level=2, name=setup["title"], exact=True)
    expect(heading).to_be_visible()
    expect(page.get_by_role("region", name=setup["title"], exact=True)).to_be_visible()
    # The set-up's drawing moves by itself until the person is ready: it can be stopped.
    expect(
        page.locator("#figures").get_by_role("button", name="Pause the animation")
    ).to_be_visible()
    page.wait_for_timeout(1200)
    assert page.locator("#ready").is_visible()
    page.keyboard.press("Enter")
    page.wait_for_function("document.getElementById('stage').dataset.kind === 'get_ready'")
    page.locator("body").focus()
    page.keyboard.press("Space")
    expect(page.locator("#pause")).to_have_text("Resume")
    shown = page.locator("#clock").inner_text()
    page.wait_for_timeout(1500)
    assert page.locator("#clock").inner_text() == shown  # paused: the clock stands still
    page.keyboard.press("Space")
    expect(page.locator("#pause")).to_have_text("Pause")
    expect(page.locator("#live")).to_have_text("Resumed")
    # No one-key skip (a tester's stray N or right arrow cut a hold short; WCAG 2.1.4): paused,
    # the step stays put whatever is pressed.
    page.keyboard.press("Space")
    kind = page.evaluate("document.getElementById('stage').dataset.kind")
    for key in ("n", "N", "ArrowRight"):
        page.keyboard.press(key)
    page.wait_for_timeout(300)
    assert page.evaluate("document.getElementById('stage').dataset.kind") == kind


def test_a_check_in_cannot_be_continued_without_an_answer_and_a_skip_is_stored_as_null(
    page, live_server
):
    sign_up_and_screen(page, "skipper@example.org")
    page.add_init_script("window.limberEvents = []")
    page.goto("/practice/?speed=25")
    # Nothing is pre-filled: Start waits for the pain question (answered or skipped).
    assert page.locator("input[type=radio]:checked").count() == 0
    if page.locator("#pain_before-box").is_visible():
        assert page.get_by_role("button", name="Start").is_disabled()
        page.locator("#pain_before-box").get_by_text("Skip question").click()
    page.get_by_role("button", name="Start").click()

    first_stretch = True
    while not page.locator("#done").is_visible():
        page.wait_for_function(
            "!document.getElementById('checkin').hidden || !document.getElementById('done').hidden"
            " || !document.getElementById('ready-box').hidden"
        )
        if page.locator("#ready").is_visible():
            page.locator("#ready").click()
            continue
        if not page.locator("#checkin").is_visible():
            continue
        boxes = page.locator("#checkin fieldset.question:visible")
        assert page.locator("#checkin input[type=radio]:checked").count() == 0
        assert page.locator("#checkin-next").is_disabled()
        names = [b.get_attribute("data-name") for b in boxes.all()]
        if names == ["new_symptoms"]:
            answer_check_in(page)
            continue
        if "felt" in names and first_stretch:
            # The first stretch's check-in: answer one question, Continue still waits; then skip
            # the other one.
            boxes.first.locator('input[value="yes"]').check(force=True)
            assert page.locator("#checkin-next").is_disabled()
            for box in boxes.all()[1:]:
                box.get_by_text("Skip question").click()
            first_stretch = False
            page.locator("#checkin-next").click()
        else:
            for box in boxes.all():
                box.get_by_text("Skip question").click()
            page.locator("#checkin-next").click()
    page.wait_for_function("document.getElementById('sync').dataset.waiting === '0'")

    session = PracticeSession.objects.get()
    assert (session.pain_before, session.pain_after, session.pain_spread) == (None, None, None)
    holds = list(Hold.objects.filter(session=session))
    first = [h for h in holds if h.exercise == holds[0].exercise]
    assert all(h.stretch_felt is True and h.too_strong is False and h.pain is None for h in first)
    others = [h for h in holds if h not in first]
    assert all(h.stretch_felt is None and h.too_strong is None and h.pain is None for h in others)


def test_the_stretch_question_has_three_answers_and_too_strong_is_stored(page, live_server):
    sign_up_and_screen(page, "strong@example.org")
    page.add_init_script("window.limberEvents = []")
    page.goto("/practice/?speed=25")
    start(page)
    while not page.locator("#felt-box").is_visible():
        page.wait_for_function(
            "!document.getElementById('checkin').hidden || !document.getElementById('ready-box').hidden"
        )
        if page.locator("#ready").is_visible():
            page.locator("#ready").click()
        elif not page.locator("#felt-box").is_visible():
            answer_check_in(page)
    felt = page.locator("#felt-box")
    assert felt.locator("legend").inner_text() == "How did the back of your thigh feel?"
    choices = [label.inner_text().strip() for label in felt.locator("label").all()]
    assert choices == ["No stretch", "A gentle stretch", "Too strong", "Skip question"]
    assert page.locator("#checkin input[type=radio]:checked").count() == 0
    assert page.locator("#checkin-next").is_disabled()
    page.locator("#pain_now-box").get_by_text("1", exact=True).click()
    assert page.locator("#checkin-next").is_disabled()  # the stretch question is still unanswered
    felt.get_by_text("Too strong").click()
    assert page.locator("#checkin-next").is_enabled()
    page.locator("#checkin-next").click()
    play_to_the_end(page)
    page.wait_for_function("document.getElementById('sync').dataset.waiting === '0'")
    holds = list(Hold.objects.order_by("position"))
    first = [h for h in holds if h.exercise == holds[0].exercise]
    assert {(h.stretch_felt, h.too_strong, h.pain) for h in first} == {(True, True, 1)}
    # The rest were answered "A gentle stretch" (answer_check_in's default).
    rest = [h for h in holds if h not in first]
    assert rest and {(h.stretch_felt, h.too_strong) for h in rest} == {(True, False)}


WAKE_LOCK_STUB = """
window.wakeLockRequests = [];
Object.defineProperty(navigator, 'wakeLock', {configurable: true, value: {
  request: async (type) => { window.wakeLockRequests.push(type);
    return {released: false, release: async () => { window.wakeLockRequests.push('released'); }}; },
}});
"""


def test_the_screen_is_kept_awake_and_stop_asks_to_confirm(page, live_server):
    sign_up_and_screen(page, "awake@example.org")
    page.add_init_script("window.limberEvents = []")
    page.add_init_script(WAKE_LOCK_STUB)
    page.goto("/practice/?speed=5")  # slow enough to stay within the first stretch
    expected = hold_steps(page)
    start(page)
    # Start first makes sure no other tab plays a session: the screen is kept awake a moment on.
    page.wait_for_function("window.wakeLockRequests.length > 0")
    assert page.evaluate("window.wakeLockRequests") == ["screen"]
    play_until_ready(page)
    page.locator("#ready").click()
    page.wait_for_function("window.limberEvents.filter(e => e.type === 'hold').length >= 1")

    # Stop asks first; "Carry on" goes on with the session as it was.
    page.get_by_role("button", name="Stop").click()
    dialog = page.get_by_role("dialog", name="Stop the session?")
    assert dialog.is_visible()
    assert f"of {expected} holds" in dialog.inner_text()
    dialog.get_by_role("button", name="Carry on").click()
    assert not dialog.is_visible() and page.locator("#stage").is_visible()
    # Escape asks too, and Escape again means "carry on".
    page.keyboard.press("Escape")
    assert dialog.is_visible()
    page.keyboard.press("Escape")
    assert not dialog.is_visible()

    page.get_by_role("button", name="Stop").click()
    dialog.get_by_role("button", name="Stop here").click()
    answer_check_in(page)  # how the session went is still asked
    page.locator("#done").wait_for()
    page.wait_for_function("document.getElementById('sync').dataset.waiting === '0'")
    done = Hold.objects.count()
    assert 1 <= done < expected
    assert page.get_by_role("heading", name="Session stopped").is_visible()
    assert (
        page.locator("#done-note")
        .inner_text()
        .startswith(f"Stopped after {done} of {expected} holds")
    )
    assert page.evaluate("window.wakeLockRequests")[-1] == "released"
    # A stopped session is not "done for today".
    page.goto("/practice/")
    assert page.get_by_text(f"Earlier today you stopped after {done} of {expected} holds.").count()
    assert page.get_by_role("button", name="Start").is_visible()


def test_without_a_wake_lock_the_player_says_so(page, live_server):
    sign_up_and_screen(page, "sleepy@example.org")
    page.add_init_script("delete Navigator.prototype.wakeLock; window.limberEvents = []")
    page.goto("/practice/?speed=25")
    start(page)
    play_until_ready(page)
    assert "cannot keep the screen awake" in page.locator("#wake-note").inner_text()


def test_stopping_early_with_pain_spreading_pauses_progress_and_points_to_screening(
    page, live_server
):
    sign_up_and_screen(page, "spread@example.org")
    page.add_init_script("window.limberEvents = []")
    page.goto("/practice/?speed=25")
    start(page, pain_before="3")
    answers = {"pain_now": "3"}
    while not page.locator("#ready").is_visible():
        page.wait_for_function(
            "!document.getElementById('checkin').hidden"
            " || !document.getElementById('ready-box').hidden"
        )
        if page.locator("#checkin").is_visible():
            answer_check_in(page, answers)  # pain before, when the script asks it
    page.locator("#ready").click()
    page.wait_for_function("window.limberEvents.filter(e => e.type === 'hold').length >= 1")
    page.keyboard.press("Escape")  # stop: asked first, then straight to how the session went
    page.get_by_role("button", name="Stop here").click()
    page.locator("#checkin").wait_for()
    answer_check_in(page, {"pain_now": "6", "spread": "yes"})
    page.locator("#spread-note").wait_for()
    assert page.locator("#spread-note a").get_attribute("href") == "/screening/"
    page.wait_for_function("document.getElementById('sync').dataset.waiting === '0'")

    session = PracticeSession.objects.get()
    assert (session.pain_before, session.pain_after, session.pain_spread) == (3, 6, True)
    assert Hold.objects.filter(session=session).count() >= 1  # what was done is kept
    from limber.practice import plan

    tomorrow = plan.today(session.user, timezone.now() + timedelta(days=1))["prescription"]
    assert tomorrow["paused"] is True
    assert all(item["change"] != "up" for item in tomorrow["items"])


SPEECH_STUB = """
window.spoken = [];
class FakeUtterance { constructor(text) { this.text = text; } }
window.SpeechSynthesisUtterance = FakeUtterance;
Object.defineProperty(window, 'speechSynthesis', {configurable: true, value: {
  speak(u) { window.spoken.push(u.text); setTimeout(() => u.onend && u.onend(), 0); },
  cancel() {},
}});
"""


def test_a_whole_session_is_spoken(page, live_server):
    """Eyes-free: each set-up step, the way to change legs and each stretch's release is said."""
    sign_up_and_screen(page, "listener@example.org")
    page.add_init_script("window.limberEvents = []")
    page.add_init_script(SPEECH_STUB)
    page.goto("/practice/?speed=25")
    steps = today_data(page)["script"]["steps"]
    start(page)
    play_to_the_end(page)
    spoken = page.evaluate("window.spoken")
    text = "\n".join(spoken)
    intros = [s for s in steps if s["kind"] == "intro"]
    assert intros
    for step in intros:
        lines = step.get("lines") or []
        assert len(lines) >= 3, step["title"]  # the set-up, step by step
        for line in lines:
            assert line in spoken, line
    for step in steps:
        if step["kind"] == "switch_side":
            for line in step.get("lines") or [step["say"]]:
                assert line in text
        if step["kind"] == "hold":
            assert step["release"] and step["release"] in spoken
            for cue in step.get("cues") or []:
                assert cue["say"] in spoken
    releases = {s["exercise"]: s["release"] for s in steps if s["kind"] == "hold"}
    assert len(set(releases.values())) == len(releases)  # each stretch says its own
    assert any(s["kind"] == "check_in" and s["say"] in spoken for s in steps)
    assert spoken[-1] == "Well done. That's today's session."


def test_long_holds_get_a_calm_halfway_and_five_more_seconds_cue(page, live_server):
    """A 20 s hold (the page is given a script with one, as the plan would write it later)."""
    import re
    from dataclasses import replace

    from django.utils.html import json_script

    from limber.core import progression
    from limber.core.script import build_script
    from limber.library import get_library

    sign_up_and_screen(page, "longer@example.org")
    library = get_library()
    today = progression.prescribe(library, [], timezone.now().date())
    item = replace(today.items[0], hold_s=20, reps_per_side=1, sides=("left",))
    script = build_script(replace(today, items=(item,)), library).to_dict()
    hold = next(s for s in script["steps"] if s["kind"] == "hold")
    assert [c["at_s"] for c in hold["cues"]] == [10, 15]

    def longer(route):
        html = route.fetch().text()
        data = json.loads(re.search(r'id="today-data" type="application/json">(.*?)</script>',
                                    html, re.S)[1])  # fmt: skip
        data["script"] = script
        tag = json_script(data, "today-data")
        html = re.sub(r'<script id="today-data".*?</script>', lambda m: tag, html, flags=re.S)
        route.fulfill(body=html, headers={"content-type": "text/html; charset=utf-8"})

    page.route("**/practice/?speed=10", longer)
    page.add_init_script("window.limberEvents = []")
    page.add_init_script(SPEECH_STUB)
    page.goto("/practice/?speed=10")
    start(page)
    play_to_the_end(page)
    events = page.evaluate("window.limberEvents")
    started = next(e["at"] for e in events if e["type"] == "step" and e["kind"] == "hold")
    cues = [e for e in events if e["type"] == "cue"]
    assert [c["say"] for c in cues] == [c["say"] for c in hold["cues"]]
    # Said at the script's seconds into the hold (10 s and 15 s, played 10 times faster).
    said_at = [(c["at"] - started) / 100 for c in cues]
    assert abs(said_at[0] - 10) < 1 and abs(said_at[1] - 15) < 1, said_at
    spoken = page.evaluate("window.spoken")
    assert (
        spoken.index(cues[0]["say"]) < spoken.index(cues[1]["say"]) < spoken.index(hold["release"])
    )


RECOGNITION_STUB = """
window.heardAnswers = ["ready", "no", "3", "ready", "ready", "too strong three", "ready", "ready",
                       "skip four", "two no"];
window.SpeechRecognition = class {
  start() {
    const text = window.heardAnswers.shift() || "";
    setTimeout(() => {
      this.onresult?.({results: [[{transcript: text}]]});
      this.onend?.();
    }, 20);
  }
  abort() {}
};
"""


def test_answers_can_be_spoken_where_the_browser_listens(page, live_server):
    sign_up_and_screen(page, "speaker@example.org")
    page.add_init_script("window.limberEvents = []")
    page.add_init_script(SPEECH_STUB)
    page.add_init_script(RECOGNITION_STUB)
    page.goto("/practice/?speed=25")
    page.get_by_label("Answer by voice").check()
    assert "recognised" in page.locator("#listen-note").inner_text()
    page.get_by_role("button", name="Start").click()
    # No taps from here: "no" new symptoms, pain "3", "ready" at each set-up and leg change,
    # "too strong three" for the first stretch, "skip four" for the second, "two no" at the end.
    page.locator("#done").wait_for(timeout=60_000)
    page.wait_for_function("document.getElementById('sync').dataset.waiting === '0'")
    session = PracticeSession.objects.get()
    assert (session.pain_before, session.pain_after, session.pain_spread) == (3, 2, False)
    holds = list(Hold.objects.filter(session=session).order_by("position"))
    towel = [h for h in holds if h.exercise == "towel-hamstring-stretch"]
    wall = [h for h in holds if h.exercise == "wall-hamstring-stretch"]
    assert {(h.stretch_felt, h.too_strong, h.pain) for h in towel} == {(True, True, 3)}
    assert {(h.stretch_felt, h.too_strong, h.pain) for h in wall} == {(None, None, 4)}


def test_new_or_worse_symptoms_before_a_session_lead_to_the_symptoms_check(page, live_server):
    sign_up_and_screen(page, "worse@example.org")
    page.goto("/practice/")
    start(page)
    page.locator("#new_symptoms-box").wait_for()
    assert page.locator("#checkin-title").inner_text() == "Before you start"
    page.locator('#new_symptoms-box input[value="yes"]').check(force=True)
    page.locator("#checkin-next").click()
    page.wait_for_url("**/screening/?after=new-symptoms")
    # The check says why it is asked (a tester landed on it without a word).
    expect(page.locator("#why-asked")).to_contain_text("You said you have new or worse symptoms")
    assert PracticeSession.objects.count() == 0  # nothing was started


def test_set_up_can_start_by_itself_after_a_stated_time(page, live_server):
    sign_up_and_screen(page, "hands-free@example.org")
    page.add_init_script("window.limberEvents = []")
    page.goto("/practice/?speed=25")
    # The setting names no wait (setting up waits 60 s, changing legs 45 s): each step says its own.
    auto = page.get_by_label("Start each stretch by itself", exact=True)
    auto.check()
    start(page)
    play_until_ready(page)
    assert "Starting by itself in 60 s" in page.locator("#ready-note").inner_text()
    assert "Starting by itself in 60 s" in page.locator("#live").inner_text()
    assert page.locator("#clock").is_visible()
    # 60 s at 25 times the speed: the first rep's countdown begins without a tap.
    page.wait_for_function("document.getElementById('stage').dataset.kind === 'get_ready'")
    page.reload()
    assert page.get_by_label("Start each stretch by itself", exact=True).is_checked()  # remembered


# What the player keeps in the browser besides the player's own switches (voice, sound...).
KEPT = (
    "Object.keys(localStorage).filter(k => !/^limber\\.(voice|sound|auto-start|listen)$/.test(k))"
)


def log_out(page):
    page.goto("/accounts/")
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/accounts/login/**")


def test_a_shared_browser_never_offers_one_person_another_s_session(page, live_server):
    # The first person starts a session on a family tablet, does two holds, and logs out.
    up_to_the_first_stretch(page, "first@example.org", pain_before="7")
    page.locator("#ready").click()
    page.wait_for_function("window.limberEvents.filter(e => e.type === 'hold').length >= 2")
    page.wait_for_function("document.getElementById('sync').dataset.waiting === '0'")
    log_out(page)
    # Everything had reached the account: nothing of theirs is left in the browser.
    assert page.evaluate(KEPT) == []
    first = PracticeSession.objects.get(user__email="first@example.org")
    first_holds = first.holds.count()
    assert first_holds >= 2

    # The next person on the same browser starts afresh: not offered the unfinished session,
    # and their own is saved to their account, not refused as someone else's.
    sign_up_and_screen(page, "second@example.org")
    page.goto("/practice/?speed=25")
    expected = hold_steps(page)
    assert not page.locator("#resume-note").is_visible()
    start(page)
    play_to_the_end(page)
    page.wait_for_function("document.getElementById('sync').dataset.waiting === '0'")
    assert "refused" not in page.locator("#sync").inner_text()
    second = PracticeSession.objects.get(user__email="second@example.org")
    assert second.holds.count() == expected and second.pain_before == 0
    assert first.holds.count() == first_holds  # the first person's session is as they left it


def test_logging_out_keeps_only_the_holds_not_yet_sent_and_sends_them_on_return(page, live_server):
    up_to_the_first_stretch(page, "offline@example.org")
    page.locator("#ready").click()
    page.wait_for_function("window.limberEvents.filter(e => e.type === 'hold').length >= 1")
    page.wait_for_function("document.getElementById('sync').dataset.waiting === '0'")
    # The server cannot be reached for a while: the next holds wait on the device.
    page.route("**/api/v1/sessions", lambda route: route.abort())
    page.wait_for_function("window.limberEvents.filter(e => e.type === 'hold').length >= 3")
    page.wait_for_function("Number(document.getElementById('sync').dataset.waiting) > 0")
    # Online, but no answer: the page says the holds wait on the device, not "Saving…" forever.
    expect(page.locator("#sync")).to_contain_text("cannot be reached just now")
    log_out(page)
    kept = page.evaluate(KEPT)
    assert len(kept) == 1 and kept[0].endswith(".outbox")  # not the session in progress
    waiting = json.loads(page.evaluate(f"localStorage.getItem('{kept[0]}')"))
    assert waiting and all(not item["sent"] for item in waiting.values())

    # Back, logged in again: what waited is sent, and nothing is lost.
    page.unroute("**/api/v1/sessions")
    page.get_by_label("E-mail").fill("offline@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto("/practice/")
    page.wait_for_function("document.getElementById('sync').dataset.waiting === '0'")
    assert Hold.objects.filter(session__user__email="offline@example.org").count() >= 3


def test_deleting_the_account_forgets_what_the_browser_kept_of_it(page, live_server):
    up_to_the_first_stretch(page, "leaving@example.org")
    page.route("**/api/v1/sessions", lambda route: route.abort())
    page.locator("#ready").click()
    page.wait_for_function("window.limberEvents.filter(e => e.type === 'hold').length >= 1")
    page.wait_for_function("Number(document.getElementById('sync').dataset.waiting) > 0")
    assert page.evaluate(KEPT)  # a session in progress and a hold waiting to be sent
    page.goto("/accounts/delete/")
    page.get_by_label("Your password, to confirm").fill(PASSWORD)
    page.get_by_role("button", name="Delete my account and data").click()
    page.get_by_role("heading", name="Your account and data are deleted.").wait_for()
    assert page.evaluate(KEPT) == []


def test_skipped_holds_are_not_called_done(page, live_server):
    sign_up_and_screen(page, "skipper@example.org")
    page.add_init_script("window.limberEvents = window.limberEvents || []")
    page.goto("/practice/?speed=5")
    expected = hold_steps(page)
    start(page)
    # Every hold skipped as soon as it starts (N), every question answered.
    while not page.locator("#done").is_visible():
        page.wait_for_function(
            "!document.getElementById('checkin').hidden || !document.getElementById('done').hidden"
            " || (!document.getElementById('stage').hidden"
            "     && (!document.getElementById('ready-box').hidden"
            "         || document.getElementById('stage').dataset.kind !== 'intro'))"
        )
        if page.locator("#checkin").is_visible():
            answer_check_in(page)
        elif page.locator("#ready").is_visible():
            page.locator("#ready").click()
        elif page.locator("#stage").is_visible():
            page.locator("#skip").click()
    page.wait_for_function("document.getElementById('sync').dataset.waiting === '0'")
    assert page.get_by_role("heading", name="Session finished").is_visible()
    assert page.locator("#done-note").inner_text() == (
        f"0 of {expected} holds held in full ({expected} skipped or cut short)."
    )
    # Not "done for today" either: the player says what was really held.
    page.goto("/practice/")
    assert page.get_by_text(f"Earlier today you held 0 of {expected} holds in full.").count()
    assert page.get_by_role("button", name="Start").is_visible()


def severe_pain() -> int:
    """The pain Limber calls severe (its own rule, which the page is given)."""
    from limber.core import progression

    return progression.SEVERE_PAIN


def answer_up_to_the_first_stretch(page, pain_before):
    """Start, answer "no new symptoms" and the pain before, up to whatever comes next."""
    start(page)
    page.locator("#new_symptoms-box").wait_for()
    answer_check_in(page)
    page.locator("#pain_now-box").wait_for()
    answer_check_in(page, {"pain_now": str(pain_before)})


def test_severe_pain_after_a_stretch_waits_offers_to_stop_and_says_to_contact_a_clinician(
    page, live_server
):
    sign_up_and_screen(page, "severe@example.org")
    page.add_init_script("window.limberEvents = []")
    page.add_init_script(SPEECH_STUB)
    page.goto("/practice/?speed=25")
    steps = today_data(page)["script"]["steps"]
    expected = hold_steps(page)
    severe = severe_pain()
    # Just below severe before the session: no warning, the first stretch's set-up comes.
    answer_up_to_the_first_stretch(page, severe - 1)
    page.locator("#ready").wait_for()
    assert not page.locator("#severe").is_visible()
    while not page.locator("#felt-box").is_visible():  # "How was the towel hamstring stretch?"
        page.wait_for_function(
            "!document.getElementById('checkin').hidden || !document.getElementById('ready-box').hidden"
        )
        if page.locator("#ready").is_visible():
            page.locator("#ready").click()
    first = page.evaluate("window.limberEvents.filter(e => e.type === 'hold').length")
    answer_check_in(page, {"felt": "strong", "pain_now": "8"})

    # The next stretch does not start: the player says this is severe pain and asks.
    warning = page.locator("#severe")
    expect(warning).to_be_visible()
    assert not page.locator("#stage").is_visible()
    assert "8/10" in warning.inner_text()
    assert f"{severe}/10 or more is severe" in warning.inner_text()
    assert "A stretch should be felt, not painful." in warning.inner_text()
    stop = warning.get_by_role("button", name="Stop the session")
    expect(stop).to_be_focused()  # the primary choice: Enter or Space stops
    expect(warning.get_by_role("button", name="Carry on with the next stretch")).to_be_visible()
    page.wait_for_function("window.spoken.some(t => t.includes('8/10'))")
    intros = [s for s in steps if s["kind"] == "intro"]
    next_intro = next(s for s in intros if s["exercise"] != intros[0]["exercise"])
    own = set(next_intro["lines"]) - set(intros[0]["lines"])
    assert own and not own & set(page.evaluate("window.spoken"))  # nothing of its set-up said

    stop.click()
    page.locator("#checkin").wait_for()  # how the session went is still asked
    assert page.locator("#checkin-title").inner_text() == "How are you now?"
    answer_check_in(page, {"pain_now": "5"})
    page.locator("#done").wait_for()
    assert page.locator("#done-note").inner_text() == f"Stopped after {first} of {expected} holds."
    note = page.locator("#severe-note")
    expect(note).to_be_visible()
    assert f"pain reached 8/10 in this session ({severe}/10 or more is severe)" in note.inner_text()
    assert "Stop stretching for today." in note.inner_text()
    assert page.locator("#severe-note a").get_attribute("href") == "/screening/"
    page.wait_for_function("document.getElementById('sync').dataset.waiting === '0'")

    session = PracticeSession.objects.get()
    assert {(h.too_strong, h.pain) for h in session.holds.all()} == {(True, 8)}
    # The done screen says what the plan says the next time (limber/core/progression.py).
    from limber.practice import plan

    tomorrow = plan.today(session.user, timezone.now() + timedelta(days=1))["prescription"]
    advice = "Please contact your clinician before stretching further."
    assert advice in tomorrow["notes"][0] and advice in note.inner_text()


def test_severe_pain_before_the_session_can_be_carried_on_from(page, live_server):
    sign_up_and_screen(page, "carry-on@example.org")
    page.add_init_script("window.limberEvents = []")
    page.goto("/practice/?speed=25")
    answer_up_to_the_first_stretch(page, severe_pain())
    warning = page.locator("#severe")
    expect(warning).to_be_visible()
    assert f"{severe_pain()}/10" in warning.inner_text()
    warning.get_by_role("button", name="Carry on with the next stretch").click()
    page.locator("#ready").wait_for()  # the first stretch's set-up, as chosen
    assert page.evaluate("document.getElementById('stage').dataset.kind") == "intro"


def test_a_hold_skipped_while_paused_counts_only_the_time_held(page, live_server):
    # 10 times the speed: a 10 s hold lasts 1 s, time enough to pause it near its start.
    up_to_the_first_stretch(page, "paused-skip@example.org", speed=10)
    expected = hold_steps(page)
    page.locator("#ready").click()
    page.wait_for_function("document.getElementById('stage').dataset.kind === 'hold'")
    page.keyboard.press("Space")
    expect(page.locator("#pause")).to_have_text("Resume")
    hold = next(s for s in today_data(page)["script"]["steps"] if s["kind"] == "hold")
    # Paused for one and a half times the hold, then skipped.
    page.wait_for_timeout(hold["seconds"] * 1000 / 10 * 1.5)
    page.locator("#skip").click()
    page.wait_for_function("window.limberEvents.some(e => e.type === 'hold')")
    held = page.evaluate("window.limberEvents.find(e => e.type === 'hold').hold")
    assert held["held_s"] < held["target_s"] / 2, held  # the paused time is not time held
    page.keyboard.press("Escape")
    page.get_by_role("button", name="Stop here").click()
    answer_check_in(page)
    page.locator("#done").wait_for()
    page.wait_for_function("document.getElementById('sync').dataset.waiting === '0'")
    done = Hold.objects.count()
    assert Hold.objects.order_by("position").first().held_s == held["held_s"]
    assert page.locator("#done-note").inner_text() == (
        f"Stopped after {done} of {expected} holds ({done} skipped or cut short)."
    )


def test_a_session_left_before_its_first_hold_is_not_sent_but_resumes(page, live_server):
    sign_up_and_screen(page, "left-early@example.org")
    page.add_init_script("window.limberEvents = []")
    page.goto("/practice/?speed=25")
    answer_up_to_the_first_stretch(page, 2)
    page.locator("#ready").wait_for()
    page.wait_for_function("document.getElementById('sync').dataset.waiting === '0'")
    # Left at the first stretch's set-up: nothing for the history, nothing counted.
    assert PracticeSession.objects.count() == 0
    page.reload()
    page.get_by_text("You have a session in progress (0 of").wait_for()
    assert PracticeSession.objects.count() == 0
    page.get_by_role("button", name="Start").click()
    page.locator("#ready").click()  # resumed where it was left, the answers kept
    page.wait_for_function("window.limberEvents.filter(e => e.type === 'hold').length >= 1")
    page.wait_for_function("document.getElementById('sync').dataset.waiting === '0'")
    session = PracticeSession.objects.get()
    assert session.pain_before == 2 and session.holds.count() >= 1


def test_while_a_clinician_is_suggested_start_waits_for_the_person_to_say_they_read_it(
    page, live_server
):
    """Found by a tester: "Please contact your clinician before stretching further" sat right
    above a Start button that started at once."""
    from django.contrib.auth import get_user_model

    sign_up_and_screen(page, "flagged@example.org")
    user = get_user_model().objects.get(username="flagged@example.org")
    # A session just now, after the symptoms check (a later clear check lifts the suggestion).
    from limber.practice.models import Screening

    Screening.objects.filter(user=user).update(created=timezone.now() - timedelta(hours=1))
    when = timezone.now() - timedelta(minutes=10)
    PracticeSession.objects.create(user=user, started_at=when, finished_at=when + timedelta(minutes=9),
                                   pain_before=3, pain_after=8, pain_spread=False)  # fmt: skip
    page.goto("/practice/")
    expect(page.locator("#intro")).to_contain_text("Please contact your clinician")
    start = page.locator("#start")
    expect(start).to_be_disabled()
    page.get_by_label("I have talked to a clinician about this pain since").check()
    expect(start).to_be_enabled()
    page.get_by_label("I have talked to a clinician about this pain since").uncheck()
    expect(start).to_be_disabled()


def test_a_session_plays_in_one_tab_at_a_time(page, live_server):
    # Two tabs playing today's session would each store their holds: the same stretches twice
    # in the history and in what progression counts.
    up_to_the_first_stretch(page, "two-tabs@example.org")
    page.locator("#ready").click()
    page.wait_for_function("window.limberEvents.filter(e => e.type === 'hold').length >= 1")
    other, third = page.context.new_page(), page.context.new_page()
    other.goto("/practice/?speed=25")
    other.get_by_text("You have a session in progress").wait_for()
    third.goto("/practice/?speed=25")
    other.get_by_role("button", name="Start").click()
    other.get_by_text("Today's session is playing in another tab or window").wait_for()
    assert other.locator("#stage").is_hidden() and other.locator("#intro").is_visible()
    # Left there, it carries on here, from where that tab left it.
    page.wait_for_function("document.getElementById('sync').dataset.waiting === '0'")
    page.goto("/")
    other.get_by_role("button", name="Start").click()
    other.locator("#stage").wait_for()
    assert other.get_by_text("playing in another tab").is_hidden()
    other.evaluate("window.limberEvents = []")
    # The tab drawn earlier says how far the session has come, as it is played elsewhere.
    drawn_at = third.locator("#resume-note").inner_text()
    held = """JSON.parse(localStorage.getItem(JSON.parse(
        document.getElementById('player-settings').textContent).storage + '.current')
    ).session.holds.length"""
    followed = []

    def third_follows(_holds):
        for _ in range(50):  # the other tab plays on meanwhile: one count read on both sides
            note = third.locator("#resume-note").inner_text()
            if note != drawn_at and f"({other.evaluate(held)} of " in note:
                followed.append(note)
                return
            third.wait_for_timeout(100)
        raise AssertionError(note)

    play_to_the_end(other, on_hold=lambda n: followed or third_follows(n))
    assert followed
    other.wait_for_function("document.getElementById('sync').dataset.waiting === '0'")
    holds = Hold.objects.values_list("exercise", "side", "rep")
    assert len(holds) == len(set(holds)), "a stretch stored twice"
    # A tab drawn while the session was in progress, left open until it was finished elsewhere:
    # it says so, and Start does not play the finished session again: the page is drawn anew.
    expect(third.locator("#resume-note")).to_have_text(
        "That session ended in another tab or window. Start shows what is next."
    )
    third.get_by_role("button", name="Start").click()
    third.get_by_role("heading", name="Done for today").wait_for()
    assert Hold.objects.count() == len(holds)
