"""The pages on a phone (360-390 px) and a desktop, in a real browser.

Each test checks what a person would notice on a small screen (the navigation fits, the pain
scale is one row, labels don't break, tables keep their column labels, charts read right with
one session, two, or a year). Set LIMBER_SHOTS=DIR to also keep a screenshot of each page there.
"""

import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from limber.practice.models import Hold, PracticeSession
from tests.conftest import watched_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 360, "height": 780}
PHONE_390 = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 860}
SHOTS = os.environ.get("LIMBER_SHOTS")


def shot(page, name: str, full_page: bool = True) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=full_page)


@pytest.fixture
def page(browser, live_server):
    with watched_page(browser, live_server.url) as pg:
        yield pg


def log_in(page, user, base_url: str):
    """Signed in by a session cookie (the login form's throttle counts every test's attempts)."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": base_url}]
    )


def rows_of(page, selector: str) -> int:
    """How many rows the visible matching elements make (boxes that overlap vertically share one)."""
    return page.evaluate(
        """(sel) => {
             const boxes = [...document.querySelectorAll(sel)].filter(e => e.offsetParent)
               .map(e => e.getBoundingClientRect()).sort((a, b) => a.top - b.top);
             let rows = 0, bottom = -Infinity;
             for (const b of boxes) {
               if (b.top >= bottom - 2) { rows += 1; bottom = b.bottom; }
               else bottom = Math.max(bottom, b.bottom);
             }
             return rows; }""",
        selector,
    )


def broken_labels(page, selector: str) -> list[str]:
    """Visible controls whose own words wrap onto a second line."""
    return page.evaluate(
        """(sel) => [...document.querySelectorAll(sel)].filter(e => e.offsetParent).filter(e => {
             const walker = document.createTreeWalker(e, NodeFilter.SHOW_TEXT);
             const rects = [];
             for (let n = walker.nextNode(); n; n = walker.nextNode()) {
               if (!n.textContent.trim()) continue;
               const r = document.createRange(); r.selectNodeContents(n);
               rects.push(...[...r.getClientRects()].filter(x => x.width > 1));
             }
             const lineHeight = parseFloat(getComputedStyle(e).fontSize);
             const tops = rects.map(x => x.top).sort((a, b) => a - b);
             return tops.length && tops[tops.length - 1] - tops[0] > lineHeight * 0.8;
           }).map(e => e.textContent.trim())""",
        selector,
    )


def test_home_page_for_a_visitor_on_a_phone_and_a_desktop(page):
    for name, size in (("home-phone", PHONE_390), ("home-desktop", DESKTOP)):
        page.set_viewport_size(size)
        page.goto("/")
        assert page.get_by_role("link", name="Sign up").first.is_visible()
        assert page.get_by_role("heading", name="Not medical advice").is_visible()
        assert rows_of(page, "header.site > *:not([hidden])") == 1
        assert page.evaluate("document.documentElement.scrollWidth") <= size["width"]
        shot(page, name)


def test_on_a_phone_the_navigation_folds_into_a_menu(page, screened, live_server):
    page.set_viewport_size(PHONE)
    log_in(page, screened, live_server.url)
    page.goto("/exercises/")
    nav = page.locator("#site-nav")
    assert rows_of(page, "header.site > *:not([hidden])") == 1
    assert not nav.is_visible()
    page.get_by_role("button", name="Menu").click()
    assert nav.get_by_role("link", name="History").is_visible()
    assert page.get_by_role("button", name="Menu").get_attribute("aria-expanded") == "true"
    page.set_viewport_size(DESKTOP)
    assert rows_of(page, "header.site nav > *") == 1


def test_the_player_on_a_phone_and_a_desktop(page, screened, live_server):
    log_in(page, screened, live_server.url)
    page.add_init_script("window.limberEvents = []")
    for label, size in (("phone", PHONE_390), ("desktop", DESKTOP), ("phone360", PHONE)):
        page.set_viewport_size(size)
        page.goto("/practice/?speed=8")
        page.evaluate("localStorage.clear()")  # each size starts a fresh session
        page.reload()
        assert page.evaluate("document.documentElement.scrollWidth") <= size["width"]
        if page.locator("#pain_before-box").is_visible():
            assert rows_of(page, "#pain_before-box .scale span") == 1  # 0-10 on one row
            page.locator('#pain_before-box input[value="2"]').check(force=True)
        assert broken_labels(page, "#intro button, #intro .toggles label") == []
        shot(page, f"player-{label}-start")
        page.get_by_role("button", name="Start").click()
        while not page.locator("#ready").is_visible():
            page.wait_for_function(
                "!document.getElementById('checkin').hidden"
                " || !document.getElementById('ready-box').hidden"
            )
            if page.locator("#checkin").is_visible():
                assert rows_of(page, "#checkin fieldset:not([hidden]) .scale span") <= 1
                shot(page, f"player-{label}-question", full_page=False)
                for box in page.locator("#checkin fieldset.question:visible").all():
                    value = "no" if box.get_attribute("data-name") == "new_symptoms" else "2"
                    box.locator(f'input[value="{value}"]').check(force=True)
                page.locator("#checkin-next").click()
        assert broken_labels(page, "#stage button") == []
        shot(page, f"player-{label}-setup", full_page=False)
        page.locator("#ready").click()
        page.wait_for_function("document.getElementById('stage').dataset.kind === 'hold'")
        # The figure is still during a hold: no animation in the drawing shown.
        assert page.locator("#figures .fig:not([hidden]) animate").count() == 0
        shot(page, f"player-{label}-hold", full_page=False)
        while not page.locator("#checkin").is_visible():
            page.wait_for_function(
                "!document.getElementById('checkin').hidden"
                " || !document.getElementById('ready-box').hidden"
            )
            if page.locator("#ready").is_visible():
                page.locator("#ready").click()  # changing legs waits for the person too
        assert rows_of(page, "#pain_now-box .scale span") == 1
        assert broken_labels(page, "#checkin button, #checkin label") == []
        shot(page, f"player-{label}-checkin", full_page=False)
        for box in page.locator("#checkin fieldset.question:visible").all():
            box.locator('input[value="yes"], input[value="2"]').first.check(force=True)
        page.locator("#checkin-next").click()
        page.locator("#ready").click()  # the next stretch's set-up
        page.wait_for_function("document.getElementById('stage').dataset.kind === 'hold'")
        page.get_by_role("button", name="Stop").click()
        shot(page, f"player-{label}-stop", full_page=False)
        page.get_by_role("button", name="Stop here").click()
        for box in page.locator("#checkin fieldset.question:visible").all():
            box.locator('input[value="no"], input[value="2"]').first.check(force=True)
        page.locator("#checkin-next").click()
        page.locator("#done").wait_for()
        # Nothing left in flight before the next size (or the database's teardown) begins.
        page.wait_for_function("document.getElementById('sync').dataset.waiting === '0'")
        shot(page, f"player-{label}-done", full_page=False)


def add_session(user, when, pain_before, pain_after, hold_s=(10, 10), knee=None):
    """knee: where the person told the camera they feel the towel stretch, on the left leg."""
    session = PracticeSession.objects.create(
        user=user, started_at=when, finished_at=when + timedelta(minutes=9),
        pain_before=pain_before, pain_after=pain_after, pain_spread=False,
    )  # fmt: skip
    for i, (exercise, held) in enumerate(
        zip(("towel-hamstring-stretch", "wall-hamstring-stretch"), hold_s, strict=True)
    ):
        variant = "towel" if exercise.startswith("towel") else "at-the-wall"
        for n, side in enumerate(("left", "right")):
            Hold.objects.create(
                session=session, exercise=exercise, variant=variant, side=side, rep=1,
                target_s=held, held_s=held, stretch_felt=True, pain=pain_before,
                position=i * 2 + n,
                knee_felt_deg=knee if (exercise, side) == ("towel-hamstring-stretch", "left")
                else None,
            )  # fmt: skip


def history_checks(page, label, size, sessions, felt=True):
    page.set_viewport_size(size)
    page.goto("/history/")
    assert page.evaluate("document.documentElement.scrollWidth") <= size["width"]
    # The knee chart only once the person has told the camera where they feel a stretch.
    assert page.locator("#knee-chart").count() == int(felt)
    for chart in ("#holds-chart", "#pain-chart", *(["#knee-chart"] if felt else [])):
        assert page.locator(f"{chart} canvas").count() == 1
        assert page.locator(f"{chart} + .chart-legend li").count() >= (chart != "#knee-chart") + 1
        assert "--" not in page.locator(f"{chart}").locator("..").inner_text()
    # The time axis spans real dates, at least two weeks, even for one session.
    span = page.evaluate("window.limberCharts.pain.scales.x")
    xs = page.evaluate("window.limberCharts.pain.data[0]")
    assert span["max"] - span["min"] >= 14 * 86400
    assert span["min"] < min(xs) and max(xs) < span["max"]
    assert span["max"] > timezone.now().timestamp()  # today is on the axis
    if size["width"] < 640:
        labels = page.evaluate(
            "[...document.querySelectorAll('table.sessions td')].slice(0, 4)"
            ".map(td => getComputedStyle(td, '::before').content)"
        )
        assert labels == ['"Date"', '"Holds"', '"Pain before → after"', '"Plan that day"']
    shot(page, f"history-{label}")


def test_history_reads_right_with_one_session_two_and_a_year(page, screened, live_server):
    log_in(page, screened, live_server.url)
    now = timezone.now()
    add_session(screened, now - timedelta(hours=3), 3, 3)
    for size_label, size in (("phone", PHONE_390), ("desktop", DESKTOP)):
        history_checks(page, f"one-{size_label}", size, 1, felt=False)
    add_session(screened, now - timedelta(days=2), 4, 3, knee=141.0)
    for size_label, size in (("phone", PHONE_390), ("desktop", DESKTOP)):
        history_checks(page, f"two-{size_label}", size, 2)
    hold = 10
    for day in range(365, 3, -1):
        if day % 3 == 0:
            continue  # some days missed
        hold = min(30, 10 + (365 - day) // 20)
        pain = 2 + (day // 40) % 3
        knee = 135.0 + (365 - day) / 12 if day % 2 else None  # the hamstrings give, slowly
        add_session(screened, now - timedelta(days=day), pain, max(0, pain - 1), (hold, hold), knee)
    for size_label, size in (("phone", PHONE_390), ("desktop", DESKTOP)):
        history_checks(page, f"year-{size_label}", size, 200)
    labels = page.evaluate(
        "window.limberCharts.dateLabels(window.limberCharts.pain, [Date.now() / 1000])"
    )
    assert str(now.year) in labels[0]  # a year of history names months and years


def test_stretch_page_on_a_phone(page, screened, live_server):
    page.set_viewport_size({"width": 1100, "height": 900})
    page.goto("/exercises/towel-hamstring-stretch/")
    assert page.get_by_role("link", name="Practise this").count() == 0  # not signed in
    # The README's picture shows the stretch itself: the animation paused while it is held.
    page.evaluate(
        "const svg = document.querySelector('.hero svg');"
        "svg.pauseAnimations(); svg.setCurrentTime(4.5)"
    )
    shot(page, "stretch-page-readme", full_page=False)  # docs/stretch-page.png
    log_in(page, screened, live_server.url)
    page.set_viewport_size(PHONE_390)
    page.goto("/exercises/towel-hamstring-stretch/")
    assert page.get_by_role("link", name="Practise this").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_390["width"]
    shot(page, "stretch-phone")
    # What the camera checks, opened: each limit with its reason, within the phone's width.
    page.goto("/exercises/seated-hamstring-stretch/")
    page.get_by_text("3 checks, each with its limits and why").click()
    checks = page.locator(".camera-checks")
    expect(checks.get_by_text("Knee straight: 160° to 180°")).to_be_visible()
    expect(checks.get_by_text("Heel down: 0 to 4 % of body height")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_390["width"]
    page.get_by_role("heading", name="What the camera checks").scroll_into_view_if_needed()
    shot(page, "stretch-checks-phone", full_page=False)
    softer = page.get_by_text("The camera, this way: knee straight 145° to 180°.")
    softer.scroll_into_view_if_needed()
    expect(softer).to_be_visible()  # under the gentler way that accepts a softer knee
    shot(page, "stretch-ways-phone", full_page=False)
    page.set_viewport_size({"width": 1100, "height": 900})
    page.goto("/exercises/towel-hamstring-stretch/")
    shot(page, "stretch-desktop")


def test_the_animation_can_be_paused_and_is_still_with_reduced_motion(page):
    # WCAG 2.2.2: what moves by itself for more than five seconds can be stopped.
    page.goto("/exercises/wall-hamstring-stretch/")
    svg = page.locator(".hero svg")
    assert svg.evaluate("s => s.animationsPaused()") is False
    page.get_by_role("button", name="Pause the animation").click()
    assert svg.evaluate("s => s.animationsPaused()") is True
    page.get_by_role("button", name="Play the animation").click()
    assert svg.evaluate("s => s.animationsPaused()") is False
    # Reduced motion shows the still end position: nothing moves, nothing to pause.
    page.emulate_media(reduced_motion="reduce")
    page.reload()
    expect(page.locator(".hero svg")).to_be_visible()
    assert page.get_by_role("button", name="Pause the animation").count() == 0


def test_each_stretch_card_link_is_named_by_the_stretch_alone(page, library):
    """Not by the drawing's long title and description read out first (about 600 characters)."""
    for path in ("/", "/exercises/"):
        page.goto(path)
        links = page.locator(".cards a")
        assert links.count() == len(library)
        for stretch in library.values():
            link = page.get_by_role("link", name=stretch.name, exact=True)
            assert link.count() == 1, (path, stretch.name)
            assert link.get_attribute("href") == f"/exercises/{stretch.slug}/"
            assert link.locator("svg").is_visible()  # the drawing is still there, and clickable


def test_a_partly_answered_symptoms_check_keeps_the_answers_and_shows_what_is_missing(
    page, alice, live_server
):
    log_in(page, alice, live_server.url)
    for label, size in (("phone", PHONE_390), ("desktop", DESKTOP)):
        page.set_viewport_size(size)
        page.goto("/screening/")
        boxes = page.locator("form.screening fieldset[data-urgency]")  # the 12 questions
        page.get_by_label("Left leg").check()
        boxes.nth(0).get_by_label("Yes").check()  # a red flag, answered
        for i in range(1, boxes.count()):
            if i != 4:
                boxes.nth(i).get_by_label("No").check()
        page.get_by_role("button", name="Continue").click()
        # Focus is on the summary, which names the question left out.
        summary = page.locator(".error-summary")
        missing = boxes.nth(4)
        expect(summary).to_be_focused()
        assert summary.is_visible() and "not answered" in summary.inner_text()
        assert missing.locator("legend").inner_text() in summary.inner_text()
        assert page.get_by_label("Left leg").is_checked()
        assert boxes.nth(0).get_by_label("Yes").is_checked()
        assert all(boxes.nth(i).get_by_label("No").is_checked() for i in (1, 2, 3, 5, 11))
        assert not missing.locator("input:checked").count()
        assert missing.get_attribute("aria-invalid") == "true"
        assert missing.get_by_text("Please answer this question.").is_visible()
        # Its link in the summary leads to the question.
        summary.get_by_role("link").click()
        focused = page.evaluate("document.activeElement.name")
        assert focused == missing.locator("input").first.get_attribute("name")
        shot(page, f"screening-missing-{label}", full_page=False)  # where the link led
        # Answered, the red flag still stops practice.
        missing.get_by_label("No").check()
        page.get_by_role("button", name="Continue").click()
        assert page.get_by_role("heading", name="Please seek urgent medical care").is_visible()


def test_on_the_history_a_hold_keeps_its_number_and_unit_together(page, screened, live_server):
    log_in(page, screened, live_server.url)
    add_session(screened, timezone.now() - timedelta(hours=3), 3, 3)
    for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(size)
        page.goto("/history/")
        split = page.evaluate(
            """() => [...document.querySelectorAll('table.sessions td[data-label="Holds"]')]
                 .flatMap(td => {
                   const walker = document.createTreeWalker(td, NodeFilter.SHOW_TEXT), apart = [];
                   for (let n = walker.nextNode(); n; n = walker.nextNode()) {
                     const text = n.textContent, at = text.search(/\\d+\\s+s$/);
                     if (at < 0) continue;
                     const top = (i) => { const r = document.createRange();
                       r.setStart(n, i); r.setEnd(n, i + 1); return r.getBoundingClientRect().top; };
                     if (Math.abs(top(at) - top(text.length - 1)) > 2) apart.push(text);
                   }
                   return apart; })"""
        )
        assert page.locator('td[data-label="Holds"]').first.inner_text().count(" s") >= 1
        assert split == [], label


def test_log_out_in_the_phone_menu_is_a_row_like_the_others(page, screened, live_server):
    page.set_viewport_size(PHONE_390)
    log_in(page, screened, live_server.url)
    page.goto("/exercises/")
    page.get_by_role("button", name="Menu").click()
    rows = page.evaluate(
        """() => [...document.querySelectorAll('#site-nav a, #site-nav button')].map(e => {
             const s = getComputedStyle(e), r = e.getBoundingClientRect();
             return {name: e.textContent.trim(), radius: s.borderRadius, border: s.borderTop,
                     left: r.left, width: r.width, height: Math.round(r.height),
                     font: s.fontSize + ' ' + s.fontFamily, color: s.color, align: s.textAlign,
                     padding: s.padding}; })"""
    )
    assert rows[-1]["name"] == "Log out"
    looks = [{k: v for k, v in row.items() if k != "name"} for row in rows]
    links = [look for look, row in zip(looks, rows, strict=True) if row["name"] != "Stretches"]
    assert all(look == links[0] for look in links), rows  # the current page's row is bold
    assert looks[-1]["radius"] == "0px"
