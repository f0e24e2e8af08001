"""Prescription → session script: the steps a player executes, in order and on time."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest

from limber.core.progression import Caps, HoldRecord, Prescription, SessionRecord, prescribe
from limber.core.script import (
    CUE_MIN_HOLD_S,
    EASE_OFF,
    FELT_NOT_PAINFUL,
    GENTLE,
    GET_READY_S,
    KINDS,
    NEW_SYMPTOMS,
    NEW_SYMPTOMS_FIRST,
    SETUP_AUTO_S,
    SETUP_S,
    SWITCH_MIN_S,
    Script,
    Step,
    build_script,
)
from limber.core.spec import Library

TOWEL = "towel-hamstring-stretch"
WALL = "wall-hamstring-stretch"
SEATED = "seated-hamstring-stretch"
DAY1 = date(2025, 3, 3)


@pytest.fixture(scope="module")
def first_day(library: Library) -> Prescription:
    return prescribe(library, [], DAY1)


def of(script: Script, exercise: str) -> list[Step]:
    return [s for s in script.steps if s.exercise == exercise]


def play(script: Script, when: date) -> SessionRecord:
    """What a player that follows the script to the letter would log."""
    holds = tuple(
        HoldRecord(s.exercise or "", s.variant or "", s.side or "", s.rep or 0,
                   s.target_s or 0, s.target_s or 0, True, 1)
        for s in script.steps
        if s.kind == "hold"
    )  # fmt: skip
    start = datetime(when.year, when.month, when.day, 9, tzinfo=UTC)
    return SessionRecord("s", start, start + timedelta(seconds=script.total_s), 1, 1, False, holds)


def played_days(library: Library, days: int, caps=None) -> list[SessionRecord]:
    """``days`` days, each playing that day's script to the letter."""
    history: list[SessionRecord] = []
    for n in range(days):
        p = prescribe(library, history, DAY1 + timedelta(days=n), caps)
        history.append(play(build_script(p, library), DAY1 + timedelta(days=n)))
    return history


def test_steps_of_a_stretch_in_order(library, first_day):
    script = build_script(first_day, library)
    kinds = [s.kind for s in of(script, TOWEL)]
    one_leg = ["get_ready", "hold", "rest", "get_ready", "hold", "rest", "get_ready", "hold"]
    assert kinds == ["intro", *one_leg, "switch_side", *one_leg, "check_in"]
    assert {s.kind for s in script.steps} <= set(KINDS)


def test_stretches_in_prescription_order_then_final_check_in_and_done(library, first_day):
    script = build_script(first_day, library)
    intros = [s.exercise for s in script.steps if s.kind == "intro"]
    assert intros == [i.exercise for i in first_day.items] == [TOWEL, WALL]
    assert [s.kind for s in script.steps[-2:]] == ["check_in", "done"]
    final = script.steps[-2]
    assert final.final and final.asks == ("pain_after", "pain_spread")
    assert "spread further down your leg" in final.say


def test_one_leg_at_a_time_all_reps_of_the_left_then_the_right(library, first_day):
    holds = [s for s in of(build_script(first_day, library), TOWEL) if s.kind == "hold"]
    assert [(h.side, h.rep, h.of) for h in holds] == [
        ("left", 1, 3), ("left", 2, 3), ("left", 3, 3),
        ("right", 1, 3), ("right", 2, 3), ("right", 3, 3),
    ]  # fmt: skip
    assert all(h.seconds == h.target_s == 10 for h in holds)
    assert all(h.variant == "towel" for h in holds)


def test_a_get_ready_countdown_before_every_hold(library, first_day):
    steps = build_script(first_day, library).steps
    for i, step in enumerate(steps):
        if step.kind == "hold":
            ready = steps[i - 1]
            assert ready.kind == "get_ready"
            assert ready.seconds == GET_READY_S
            assert (ready.side, ready.rep) == (step.side, step.rep)
            assert f"{ready.side.capitalize()} leg, {ready.rep} of 3" in ready.say


def test_rest_between_holds_and_when_changing_legs(library, first_day):
    script = build_script(first_day, library)
    rest = library[TOWEL].dose.rest_s.value
    towel = of(script, TOWEL)
    assert [s.seconds for s in towel if s.kind == "rest"] == [rest] * 4
    switch = [s for s in towel if s.kind == "switch_side"]
    assert len(switch) == 1
    assert switch[0].seconds == max(rest, SWITCH_MIN_S)
    assert "right leg" in switch[0].say


def test_felt_not_painful_at_the_first_hold_of_each_stretch(library, first_day):
    script = build_script(first_day, library)
    for slug in (TOWEL, WALL):
        holds = [s for s in of(script, slug) if s.kind == "hold"]
        assert FELT_NOT_PAINFUL in holds[0].say and FELT_NOT_PAINFUL in holds[0].text
        assert FELT_NOT_PAINFUL == "A stretch should be felt, not painful."
        assert not any(FELT_NOT_PAINFUL in h.say for h in holds[1:])


def test_check_in_after_each_stretch_asks_about_the_stretch_and_pain(library, first_day):
    script = build_script(first_day, library)
    for slug in (TOWEL, WALL):
        last = of(script, slug)[-1]
        assert last.kind == "check_in" and not last.final
        assert last.asks == ("stretch_felt", "too_strong", "pain")
        assert last.seconds == 0
        assert "a gentle stretch, or too strong" in last.say and "0 to 10" in last.say


def test_total_duration(library, first_day):
    script = build_script(first_day, library)
    # Each lying stretch: set-up, 6 × (get ready + 10 s hold), 4 rests of 10 s, one change of leg
    # (set-up and changing legs at their auto-start times; "I'm ready" starts them sooner).
    per_stretch = SETUP_S + 6 * (GET_READY_S + 10) + 4 * 10 + max(10, SWITCH_MIN_S)
    assert script.total_s == 2 * per_stretch == 470
    assert script.total_s == sum(s.seconds for s in script.steps)


def test_seconds_scale_shortens_every_timed_step_but_keeps_the_prescription(library, first_day):
    full = build_script(first_day, library)
    fast = build_script(first_day, library, seconds_scale=0.05)
    assert fast.total_s == pytest.approx(full.total_s * 0.05)
    assert [s.kind for s in fast.steps] == [s.kind for s in full.steps]
    holds = [s for s in fast.steps if s.kind == "hold"]
    assert all(h.seconds == 0.5 and h.target_s == 10 for h in holds)
    assert "Hold for 10 seconds" in holds[0].say
    with pytest.raises(ValueError):
        build_script(first_day, library, seconds_scale=0)


def test_clinician_reps_and_longer_holds_show_in_the_script(library):
    caps = {TOWEL: Caps(reps_per_side=2)}
    history = played_days(library, 6, caps)
    today = prescribe(library, history, DAY1 + timedelta(days=6), caps)
    script = build_script(today, library)
    towel_holds = [s for s in of(script, TOWEL) if s.kind == "hold"]
    assert [(h.side, h.rep, h.of) for h in towel_holds] == [
        ("left", 1, 2), ("left", 2, 2), ("right", 1, 2), ("right", 2, 2),
    ]  # fmt: skip
    assert {h.seconds for h in towel_holds} == {25}
    seated = [s for s in of(script, SEATED) if s.kind == "hold"]
    assert len(seated) == 6 and {h.seconds for h in seated} == {30}
    assert [s.kind for s in of(script, SEATED) if s.kind == "rest"] == ["rest"] * 4
    assert {s.seconds for s in of(script, SEATED) if s.kind == "rest"} == {15}


def test_a_script_played_as_written_counts_as_a_good_session(library):
    """Data flows one way: spec → prescription → script → log → next prescription."""
    history = played_days(library, 2)
    after = prescribe(library, history, DAY1 + timedelta(days=2))
    assert [i.hold_s for i in after.items] == [15, 15, 30]


def test_intro_names_the_stretch_and_variant(library, first_day):
    intro = of(build_script(first_day, library), WALL)[0]
    assert intro.kind == "intro" and intro.seconds == SETUP_S
    assert intro.title == "Wall hamstring stretch"
    assert intro.text.startswith("Buttocks against the wall: Lie on your back")
    assert "3 × 10 s for each leg" in intro.text


def test_nothing_prescribed_means_just_done(library):
    caps = {s: Caps(excluded=True) for s in (TOWEL, WALL, SEATED)}
    script = build_script(prescribe(library, [], DAY1, caps), library)
    assert [s.kind for s in script.steps] == ["done"]
    assert script.total_s == 0


def test_to_dict_is_json_a_player_can_read(library, first_day):
    d = json.loads(json.dumps(build_script(first_day, library).to_dict()))
    assert set(d) == {"date", "seconds_scale", "total_s", "steps"}
    assert (d["date"], d["seconds_scale"], d["total_s"]) == ("2025-03-03", 1, 470)
    hold = next(s for s in d["steps"] if s["kind"] == "hold")
    start = (
        "Slowly straighten the knee until you feel a stretch in the back of the thigh, the sole "
        "of your foot toward the ceiling. Only as far as you feel a gentle stretch."
    )
    assert hold == {
        "kind": "hold",
        "seconds": 10,
        "title": "Towel hamstring stretch",
        "say": f"{start} Hold for 10 seconds, breathing easily. A stretch should be felt, not "
        "painful.",
        "text": "Hold 10 s. A stretch should be felt, not painful.",
        "exercise": TOWEL,
        "variant": "towel",
        "side": "left",
        "rep": 1,
        "of": 3,
        "target_s": 10,
        "asks": [],
        "final": False,
        "lines": [hold["say"]],
        "wait_for_ready": False,
        "auto_start_s": None,
        "cues": [],
        "start_cue": start,
        "release": "Slowly bend the knee and lower the leg.",
        "caution": "",
        "skippable": False,
        "if_yes": "",
    }


# --- a session followed lying on the floor (issue 7 §4) -----------------------------------------


def test_every_session_starts_with_new_symptoms_then_pain_before(library, first_day):
    steps = build_script(first_day, library).steps
    assert steps[0].kind == "pre_check" and steps[0].asks == ("new_symptoms",)
    # The first session comes right after the first symptoms check: no "last time" yet (a
    # tester's finding); every later one asks about the time since the last.
    assert (
        steps[0].say == NEW_SYMPTOMS_FIRST == "Any new or worse symptoms since your symptoms check?"
    )
    assert steps[0].if_yes == "/screening/?after=new-symptoms"
    second = prescribe(library, [play(build_script(first_day, library), DAY1)], DAY1 + timedelta(1))
    again = build_script(second, library).steps[0]
    assert again.say == NEW_SYMPTOMS == "Any new or worse symptoms since last time?"
    assert steps[1].kind == "check_in" and steps[1].asks == ("pain_before",)
    assert steps[1].skippable and "0 to 10" in steps[1].say
    first_hold = next(i for i, s in enumerate(steps) if s.kind == "hold")
    assert first_hold > 1


def test_each_set_up_step_of_the_stretch_is_spoken_and_waits_for_ready(library, first_day):
    script = build_script(first_day, library)
    for slug in (TOWEL, WALL):
        intro = of(script, slug)[0]
        for step in library[slug].steps:
            assert step.text in intro.lines and step.text in intro.say
        assert intro.wait_for_ready and intro.seconds == SETUP_AUTO_S
        assert f"Starts by itself after {SETUP_AUTO_S} s." in intro.text
        # Lying stretches warn about nerve symptoms before the first hold.
        assert intro.caution == EASE_OFF and EASE_OFF in intro.lines


def test_each_stretch_releases_and_changes_legs_in_its_own_words(library, first_day):
    script = build_script(first_day, library)
    for slug in (TOWEL, WALL):
        cues = library[slug].cues
        steps = of(script, slug)
        for s in steps:
            if s.kind == "hold":
                assert s.release == cues.release.text
                assert s.start_cue.startswith(cues.start.text) and s.say.startswith(cues.start.text)
        switch = next(s for s in steps if s.kind == "switch_side")
        assert cues.switch.text in switch.say and switch.wait_for_ready
    wall_switch = next(s for s in of(script, WALL) if s.kind == "switch_side")
    assert "other side of the door frame" in wall_switch.say
    towel_release = library[TOWEL].cues.release.text
    assert towel_release == "Slowly bend the knee and lower the leg."
    assert "let go" not in " ".join(s.say for s in script.steps).lower()


def test_cues_never_push_past_a_gentle_stretch(library, first_day):
    for step in build_script(first_day, library).steps:
        assert "more" not in step.start_cue and "further" not in step.start_cue
        if step.kind == "hold":
            assert step.start_cue.endswith(GENTLE)


def test_long_holds_get_a_halfway_and_five_more_seconds_cue(library):
    history = played_days(library, 6)
    today = prescribe(library, history, DAY1 + timedelta(days=6))
    script = build_script(today, library)
    for h in (s for s in script.steps if s.kind == "hold"):
        if h.target_s is not None and h.target_s >= CUE_MIN_HOLD_S:
            assert [at for at, _ in h.cues] == [h.target_s / 2, h.target_s - 5]
            assert h.cues[1][1] == "5 more seconds." and "Halfway" in h.cues[0][1]
        else:
            assert h.cues == ()
    assert any(h.cues for h in script.steps if h.kind == "hold")
    fast = build_script(today, library, seconds_scale=0.1)
    seated = next(s for s in fast.steps if s.kind == "hold" and s.exercise == SEATED)
    assert seated.cues[0][0] == pytest.approx(1.5)


def test_the_affected_leg_goes_second_with_its_own_hold(library):
    history = played_days(library, 4)
    today = prescribe(library, history, DAY1 + timedelta(days=4), affected_side="left")
    holds = [s for s in of(build_script(today, library), TOWEL) if s.kind == "hold"]
    assert [(h.side, h.target_s) for h in holds] == [("right", 20)] * 3 + [("left", 15)] * 3
    intro = of(build_script(today, library), TOWEL)[0]
    assert "3 × 20 s for the right leg. 3 × 15 s for the left leg." in intro.text


def test_check_ins_may_be_skipped(library, first_day):
    for step in build_script(first_day, library).steps:
        if step.kind == "check_in":
            assert step.skippable
