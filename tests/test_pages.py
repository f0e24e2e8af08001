"""The library pages and the `limber` command, as a person would use them."""

import json
import re
from datetime import timedelta

import pytest

from limber.cli import main
from tests.conftest import walk_pages

pytestmark = pytest.mark.django_db


def test_library_lists_stretches_gentlest_first_grouped_with_figures(client):
    page = client.get("/exercises/")
    assert page.status_code == 200
    html = page.content.decode()
    lying, sitting = html.index("Lying on your back"), html.index("Sitting")
    towel, wall, seated = (html.index(n) for n in ("Towel hamstring stretch", "Wall hamstring stretch",
                                                     "Seated hamstring stretch"))  # fmt: skip
    assert lying < towel < wall < sitting < seated
    assert html.count("<svg") == 3
    assert "not a medical device" in html


@pytest.mark.parametrize("slug", ["towel-hamstring-stretch", "wall-hamstring-stretch",
                                  "seated-hamstring-stretch"])  # fmt: skip
def test_stretch_page_has_animation_steps_dose_variants_and_safety(client, slug):
    from limber.library import get_library

    stretch = get_library()[slug]
    page = client.get(f"/exercises/{slug}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "<animate" in html  # the moving demonstration
    steps = re.findall(r"<ol class=\"steps\">(.*?)</ol>", html, re.S)[0]
    assert steps.count("<li>") == len(stretch.steps)
    for v in stretch.variants:
        assert v.name.replace("'", "&#x27;") in html
    # one animation + a start and an end drawing per variant
    assert html.count("<svg") == 1 + 2 * len(stretch.variants)
    assert f"{stretch.dose.hold_start_s.value:g} seconds" in html
    assert "A stretch should be felt, not painful." in html
    assert "Not medical advice." in html
    assert "from the article" in html


def test_unknown_stretch_is_a_404(client):
    assert client.get("/exercises/headstand/").status_code == 404


def test_svg_drawings_are_served_as_images(client):
    r = client.get("/exercises/wall-hamstring-stretch/at-the-wall/left-end.svg")
    assert r.status_code == 200 and r["Content-Type"] == "image/svg+xml"
    assert b"<title id=" in r.content and b"left leg" in r.content.lower()
    assert (
        client.get("/exercises/wall-hamstring-stretch/at-the-wall/middle-end.svg").status_code
        == 404
    )


def test_cli_exercises_json_has_the_documented_fields(capsys):
    assert main(["exercises", "--json"]) == 0
    items = json.loads(capsys.readouterr().out)
    assert [i["slug"] for i in items] == [
        "towel-hamstring-stretch", "wall-hamstring-stretch", "seated-hamstring-stretch",
    ]  # fmt: skip
    for item in items:
        assert {"slug", "name", "position", "gentleness", "sides", "dose", "variants"} <= set(item)
        assert {"hold_start_s", "hold_goal_s", "reps_per_side"} <= set(item["dose"])
        assert all({"slug", "name"} <= set(v) for v in item["variants"])
    seated = items[2]
    assert seated["position"] == "sitting" and seated["dose"]["reps_per_side"] == 3
    assert items[0]["gentleness"] == 1 and items[0]["position"] == "lying"


def test_cli_exercises_table_is_readable(capsys):
    assert main(["exercises"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[:3] == ["SLUG", "NAME", "POSITION"]
    assert "10→30 s" in out[1] and "10→20 s" in out[2] and "30 s" in out[3]


def test_cli_draw_writes_an_svg(tmp_path, capsys):
    out = tmp_path / "towel.svg"
    code = main(["draw", "towel-hamstring-stretch", "--variant", "hands", "--side", "left",
                 "--pose", "animated", "-o", str(out)])  # fmt: skip
    assert code == 0
    svg = out.read_text()
    assert svg.startswith("<svg") or svg.startswith("<?xml")
    assert "<animate" in svg and "left leg" in svg.lower()


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["draw", "headstand", "-o", "x.svg"],
            "no stretch 'headstand'; choose one of: towel-hamstring-stretch",
        ),
        (
            ["draw", "towel-hamstring-stretch", "--variant", "rope", "-o", "x.svg"],
            "unknown variant 'rope' for towel-hamstring-stretch; choose one of: towel, hands",
        ),
        (
            ["draw", "towel-hamstring-stretch", "--side", "middle", "-o", "x.svg"],
            "side must be one of: left, right; got 'middle'",
        ),
        (
            ["draw", "towel-hamstring-stretch", "--pose", "sideways", "-o", "x.svg"],
            "invalid choice",
        ),
        (["draw", "towel-hamstring-stretch"], "the following arguments are required: -o/--output"),
        (["draw", "towel-hamstring-stretch", "-o", "/nonexistent/dir/x.svg"], "cannot write"),
    ],
)
def test_cli_bad_arguments_give_one_line_and_exit_2(tmp_path, monkeypatch, capsys, args, message):
    monkeypatch.chdir(tmp_path)
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("limber: error: ")
    assert message in err
    assert not (tmp_path / "x.svg").exists()


def test_a_malformed_spec_stops_start_up_with_its_message(tmp_path):

    from tests.conftest import EXERCISES, run_limber

    bad = (
        (EXERCISES / "towel-hamstring-stretch.toml")
        .read_text()
        .replace("knee_deg = 178", "knee_deg = 200")
    )
    (tmp_path / "towel-hamstring-stretch.toml").write_text(bad)
    env = {"LIMBER_EXERCISES_DIR": str(tmp_path), "LIMBER_DATA_DIR": str(tmp_path)}
    run = run_limber("check", env=env)
    assert run.returncode == 2
    assert run.stderr.strip() == (
        "limber: error: towel-hamstring-stretch.toml: poses.end.knee_deg: "
        "expected a number from 0 to 180, got 200"
    )


def test_home_page_tells_a_visitor_what_limber_is_and_sends_the_signed_in_to_practice(
    client, alice
):
    page = client.get("/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "sciatica" in html and "Who it is for" in html
    assert "Not medical advice" in html and "not a medical device" in html
    assert 'href="/accounts/signup/"' in html and 'href="/accounts/login/"' in html
    client.force_login(alice)
    assert client.get("/").url == "/practice/"


def _said(html: str) -> str:
    """What a reader sees of some HTML: its words, one space apart."""
    from html import unescape

    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def test_the_home_page_and_every_footer_give_the_same_red_flags_and_advice(client):
    from limber.core.screening import QUESTIONS

    html = client.get("/").content.decode()
    box = _said(re.search(r'<section class="safety".*?</section>', html, re.S)[0])
    footer = _said(re.search(r'<footer class="site">.*?</footer>', html, re.S)[0])
    get_help = box[box.index("Get help now") :]
    assert get_help in footer  # the same signs, the same advice, the same source
    # Every urgent sign of the symptoms check (its NHS source), and what to do about them.
    signs = {"both_legs": "sciatica in both legs", "weakness": "weakness or numbness in both legs",
             "saddle_numbness": "genitals or back passage", "bladder": "passing urine",
             "bowel": "bowels"}  # fmt: skip
    assert set(signs) == {q.id for q in QUESTIONS if q.urgency == "urgent"}
    for words in signs.values():
        assert words in get_help
    assert "go to an emergency department or call your emergency number" in get_help
    assert "getting worse, seek urgent medical care" not in footer
    assert (
        "Source: NHS, Sciatica" in get_help
        and 'href="https://www.nhs.uk/conditions/sciatica/"' in html
    )
    for path in ("/exercises/", "/accounts/login/"):
        assert get_help in _said(client.get(path).content.decode())


def player_settings(html: str) -> dict:
    return json.loads(re.search(r'id="player-settings"[^>]*>(.*?)</script>', html, re.S)[1])


def test_fast_playback_is_honoured_only_in_debug_or_under_test_settings(client, screened, settings):
    client.force_login(screened)
    assert player_settings(client.get("/practice/?speed=50").content.decode())["fast_playback"]
    settings.LIMBER_FAST_PLAYBACK = False
    settings.DEBUG = False
    assert not player_settings(client.get("/practice/?speed=50").content.decode())["fast_playback"]
    settings.DEBUG = True
    assert player_settings(client.get("/practice/?speed=50").content.decode())["fast_playback"]


def test_check_ins_arrive_with_nothing_chosen_and_a_skip_for_every_question(client, screened):
    client.force_login(screened)
    html = client.get("/practice/").content.decode()
    radios = re.findall(r'<input type="radio"[^>]*>', html)
    assert radios and not [r for r in radios if "checked" in r]
    questions = re.findall(r'<fieldset id="(\w+)-box" class="question"', html)
    assert {"felt", "pain_now", "spread", "new_symptoms"} <= set(questions)
    assert html.count("Skip question") == len(questions)


def test_stretch_pages_say_how_often_and_where_each_rule_comes_from(client):
    from limber.core import progression

    html = client.get("/exercises/seated-hamstring-stretch/").content.decode()
    assert "How often" in html and "Once a day, at most twice" in html
    for rule in progression.rules_dicts():
        assert rule["label"] in html
    assert html.count('class="origin guideline"') >= 1 and "Limber default" in html
    # The seated stretch holds 30 s from the start: no "working up to 30 s" from 30 s.
    assert "working up to 30 seconds" not in html
    index = client.get("/exercises/").content.decode()
    assert "Hold 30 s · 3 times each leg" in index and "Hold 30 s, working up to 30 s" not in index


def test_practise_this_is_offered_to_a_signed_in_person(client, alice):
    page = "/exercises/wall-hamstring-stretch/"
    assert "Practise this" not in client.get(page).content.decode()
    client.force_login(alice)
    assert 'href="/practice/">Practise this' in client.get(page).content.decode()


def test_the_clinicians_note_shows_on_the_player_and_the_history(client, screened, monkeypatch):
    from limber.practice import plan

    note = plan.ClinicianPlan(caps={}, clinician_note="Keep the holds short this week, Alice.")
    client.force_login(screened)
    assert "From your clinician" not in client.get("/practice/").content.decode()
    monkeypatch.setattr(plan, "PROVIDERS", [lambda user: note])
    for page in ("/practice/", "/history/"):
        html = client.get(page).content.decode()
        assert "From your clinician" in html
        assert "Keep the holds short this week, Alice." in html


def test_stretch_pages_mark_each_variant_and_spoken_cue_with_its_origin(client):
    from limber.library import get_library

    towel = get_library()["towel-hamstring-stretch"]
    html = client.get("/exercises/towel-hamstring-stretch/").content.decode()
    assert "What the session says" in html
    for cue in (towel.cues.start, towel.cues.release, towel.cues.switch):
        assert cue.text.replace("'", "&#x27;") in html
    limbers = [v for v in towel.variants if v.origin != "source"]
    assert limbers  # the sole-loop towel is Limber's variant, with its reason on the page
    for v in limbers:
        assert v.note.replace("'", "&#x27;") in html


def test_stretch_pages_say_what_the_camera_checks_its_limits_and_why(client):
    """Each camera check is a clinical rule: its limits and their reason are on the page."""
    from html import unescape

    from limber.library import get_library

    for stretch in get_library().values():
        html = unescape(client.get(f"/exercises/{stretch.slug}/").content.decode())
        assert "What the camera checks" in html
        checks = html[html.index("What the camera checks") : html.index("Ways to do it")]
        for c in stretch.checks:
            assert c.note and c.note in checks, (stretch.slug, c.name)
        assert "past a limit by more than the camera's own error: 5° for angles" in checks
    seated = client.get("/exercises/seated-hamstring-stretch/").content.decode()
    seated = unescape(re.sub(r"<[^>]+>", "", seated))  # the text as read
    assert (
        "Knee straight: 160° to 180°" in seated and "Heel down: 0 to 4 % of body height" in seated
    )
    # A gentler way that accepts a softer knee says so under that way, with why.
    ways = seated[seated.index("Ways to do it") :]
    assert "The camera, this way: knee straight 145° to 180°. The gentler placement" in ways
    assert ways.count("The camera, this way:") == 1


def test_the_plan_says_which_leg_goes_first(client, screened):
    client.force_login(screened)
    html = client.get("/practice/").content.decode()
    assert "(left leg first)" in html


def test_the_history_page_bears_a_session_dated_later_today_or_tomorrow(client, screened):
    from django.utils import timezone

    from limber.practice.models import PracticeSession

    # The API accepts a start up to a day ahead (a phone's clock can be wrong).
    PracticeSession.objects.create(
        user=screened, started_at=timezone.now() + timedelta(hours=20), pain_before=2
    )
    client.force_login(screened)
    response = client.get("/history/")
    assert response.status_code == 200
    assert "1 session so far." in response.content.decode()


def test_the_hold_chart_shows_holds_people_did_and_the_pain_chart_the_worst_hold(client, screened):
    """Found by a tester: the chart plotted the mean of both legs (17.5 s, a hold nobody did
    and no plan names), and the pain chart left out the 8/10 a hold hurt that flagged the day."""
    import uuid

    from django.utils import timezone

    from limber.practice.models import PracticeSession

    s = PracticeSession.objects.create(
        id=uuid.uuid4(), user=screened, started_at=timezone.now() - timedelta(hours=2),
        pain_before=3, pain_after=4,
    )  # fmt: skip
    for n, (side, held, pain) in enumerate([("right", 20, 2), ("left", 15, 8)]):
        s.holds.create(exercise="towel-hamstring-stretch", variant="towel", side=side, rep=1,
                       target_s=held, held_s=held, pain=pain, position=n)  # fmt: skip
    client.force_login(screened)
    page = client.get("/history/").content.decode()
    data = json.loads(
        page.split('id="chart-data" type="application/json">')[1].split("</script>")[0]
    )
    assert data["holds"]["values"][1] == [20.0]  # the plan's 20 s, not 17.5
    before, after, during = (data["pain"]["values"][i] for i in (1, 2, 3))
    assert (before, after, during) == ([3], [4], [8])
    assert "Pain before, during and after each session" in page
    assert data["knee"] == {"series": [], "values": [data["holds"]["values"][0]]}
    assert "Where you feel the stretch" not in page  # never told the camera: no chart


def test_the_knee_chart_follows_where_the_stretch_is_felt_per_stretch_and_leg(client, screened):
    """ "I feel the stretch here" on the camera, session after session: the knee's angle then,
    a line per stretch and leg, on the person's history and their clinician's page."""
    from django.utils import timezone

    from limber.practice.models import PracticeSession

    now = timezone.now()
    for days, left, right in ((9, 138.4, None), (5, 146.0, 150.2), (1, None, 155.0)):
        s = PracticeSession.objects.create(user=screened, started_at=now - timedelta(days=days))
        for n, (side, knee) in enumerate((("left", left), ("right", right))):
            s.holds.create(exercise="towel-hamstring-stretch", variant="towel", side=side,
                           rep=1, target_s=10, held_s=10, knee_felt_deg=knee, position=n)  # fmt: skip
    client.force_login(screened)
    page = client.get("/history/").content.decode()
    data = json.loads(
        page.split('id="chart-data" type="application/json">')[1].split("</script>")[0]
    )
    assert data["knee"]["series"] == [
        "Towel hamstring stretch, left leg",
        "Towel hamstring stretch, right leg",
    ]
    assert data["knee"]["values"][1:] == [[138, 146, None], [None, 150, 155]]
    assert "Where you feel the stretch" in page and 'id="knee-chart"' in page


def test_the_player_is_given_where_each_stretch_was_last_felt_for_a_fortnight(client, screened):
    """The camera counts from the knee angle the person last felt each stretch at, on each leg,
    without their reaching for "I feel the stretch here" again; not after two weeks away."""
    from django.utils import timezone

    from limber.practice.models import PracticeSession

    now = timezone.now()
    for days, side, knee in ((20, "left", 120.0), (9, "left", 138.5), (2, "left", 144.0),
                             (2, "right", None), (1, "right", 151.0), (20, "right", 130.0)):  # fmt: skip
        s = PracticeSession.objects.create(user=screened, started_at=now - timedelta(days=days))
        s.holds.create(exercise="towel-hamstring-stretch", variant="towel", side=side, rep=1,
                       target_s=10, held_s=10, knee_felt_deg=knee, position=0)  # fmt: skip
    client.force_login(screened)
    page = client.get("/practice/").content.decode()
    settings = json.loads(
        page.split('id="player-settings" type="application/json">')[1].split("</script>")[0]
    )
    assert settings["felt_knees"] == {
        "towel-hamstring-stretch|towel|left": 144.0,
        "towel-hamstring-stretch|towel|right": 151.0,
    }


def test_the_history_page_goes_back_through_every_session_a_page_at_a_time(client, screened, bob):
    from django.utils import timezone

    from limber.practice import history
    from limber.practice.models import Hold, PracticeSession

    now = timezone.now()
    for day in range(65, 0, -1):
        s = PracticeSession.objects.create(
            user=screened, started_at=now - timedelta(days=day), pain_before=2 + day % 3,
            finished_at=now - timedelta(days=day, minutes=-9), pain_after=2,
        )  # fmt: skip
        for rep in (1, 2):
            Hold.objects.create(
                session=s, exercise="towel-hamstring-stretch", variant="towel", side="left",
                rep=rep, target_s=10, held_s=10 + (65 - day) % 15, stretch_felt=True, pain=2,
                position=rep,
            )  # fmt: skip
    client.force_login(screened)
    dates, pages = walk_pages(client, "/history/", r'<td data-label="Date">([^<]+)</td>')
    assert len(pages) == 3 and len(dates) == 65 and len(set(dates)) == 65  # every session once
    # An older page reads only up to its newest session, and says what the full read says.
    ids = [str(i) for i in PracticeSession.objects.filter(user=screened)
           .order_by("-started_at").values_list("id", flat=True)]  # fmt: skip
    _, bounded, _, _ = history._replayed(screened, ids[30:60], now, latest_page=False)
    _, whole, _, _ = history._replayed(screened, ids[30:60], now, latest_page=True)
    assert len(bounded) == 30 and bounded == whole
    # A cursor that is not one of yours is no page.
    theirs = PracticeSession.objects.create(user=bob, started_at=now - timedelta(days=1))
    for cursor in ("nope", str(theirs.id)):
        assert client.get(f"/history/?before={cursor}").status_code == 404


def test_the_first_session_asks_about_symptoms_since_the_check_not_since_last_time(
    client, screened
):
    from django.utils import timezone

    from limber.practice.models import PracticeSession

    client.force_login(screened)
    first = client.get("/practice/").content.decode()
    assert "since your symptoms check?" in first and "since last time?" not in first
    done = timezone.now() - timedelta(days=1)
    session = PracticeSession.objects.create(
        user=screened, started_at=done, finished_at=done + timedelta(minutes=9), pain_before=2
    )
    session.holds.create(exercise="towel-hamstring-stretch", variant="towel", side="left",
                         rep=1, target_s=10, held_s=10, position=0)  # fmt: skip
    later = client.get("/practice/").content.decode()
    assert "since last time?" in later and "since your symptoms check?" not in later


def _full_session_today(user, minutes_ago: int):
    """A finished session today that held every hold of today's plan in full."""
    from django.utils import timezone

    from limber.practice import plan
    from limber.practice.models import PracticeSession

    now = timezone.now()
    steps = [s for s in plan.today(user, now)["script"]["steps"] if s["kind"] == "hold"]
    started = now - timedelta(minutes=minutes_ago)
    session = PracticeSession.objects.create(
        user=user, started_at=started, finished_at=started + timedelta(minutes=9),
        pain_before=2, pain_after=2, pain_spread=False,
    )  # fmt: skip
    for n, s in enumerate(steps):
        session.holds.create(exercise=s["exercise"], variant=s["variant"], side=s["side"],
                             rep=s["rep"], target_s=s["target_s"], held_s=s["target_s"],
                             position=n)  # fmt: skip


def test_after_two_full_sessions_today_the_page_says_enough_and_offers_no_third(
    client, screened, monkeypatch
):
    """Found by a tester: the page offered "Do it again" after two finished sessions, though
    Limber's own rule is once a day, at most twice."""
    from django.utils import timezone

    # At noon: run between midnight and 2 a.m., "two hours ago" was yesterday.
    noon = timezone.now().replace(hour=12, minute=0, second=0, microsecond=0)
    monkeypatch.setattr(timezone, "now", lambda: noon)
    client.force_login(screened)
    _full_session_today(screened, minutes_ago=120)
    once = client.get("/practice/").content.decode()
    assert "Done for today" in once and 'id="again"' in once and "twice today" not in once
    _full_session_today(screened, minutes_ago=30)
    twice = client.get("/practice/").content.decode()
    assert "That is twice today: enough for one day" in twice and 'id="again"' not in twice


def test_library_pages_answer_head_requests(client):
    """Found by a tester: HEAD (link checkers, uptime probes) was refused with 405."""
    for path in ("/exercises/", "/exercises/towel-hamstring-stretch/"):
        answer = client.head(path)
        assert answer.status_code == 200 and answer.content == b""
