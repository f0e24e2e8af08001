"""Pain across sessions (issue 7 §1): severe pain, creeping pain against the person's own baseline,
see a clinician until a clear check, gentler variants, the leg with sciatica, and answers skipped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from limber.core.progression import (
    RULES,
    HoldRecord,
    Prescription,
    SessionRecord,
    pain_band,
    prescribe,
    replay,
    rules_dicts,
)
from limber.core.spec import load_library
from tests.test_progression import DAY1, SEATED, TOWEL, WALL, day, good_days, hold, perform

LIBRARY = load_library()


def play(days_pains, *, start=1, history=None, **kwargs):
    """One session a day playing each day's prescription, with pain before and after as given."""
    history = list(history or [])
    seen = []
    for n, pain in enumerate(days_pains, start=start):
        p = prescribe(LIBRARY, history, day(n), **kwargs)
        seen.append(p)
        history.append(perform(p, day(n), pain_before=pain, pain_after=pain))
    return history, seen


# --- the rules carry their sources ----------------------------------------------------------------


def test_every_rule_names_its_origin_and_reason():
    assert {r.name for r in RULES} >= {
        "pain_bands", "severe_pain", "pain_rise", "baseline", "creeping_pain", "see_clinician",
        "gentler", "good_days", "affected_side", "frequency",
    }  # fmt: skip
    shown = rules_dicts()
    assert {"get_ready", "set_up", "change_legs", "hold_cues", "gentle"} <= {
        r["name"] for r in shown
    }
    for r in shown:
        assert r["origin"] in ("source", "guideline", "default")
        assert r["reason"].endswith(".") and r["value"]
        if r["origin"] in ("source", "guideline"):
            assert r["source"], r["name"]


@pytest.mark.parametrize(
    ("pain", "band"), [(None, None), (0, "none"), (1, "mild"), (3, "mild"), (4, "moderate"),
                       (6, "moderate"), (7, "severe"), (10, "severe")],
)  # fmt: skip
def test_pain_bands_follow_the_numeric_rating_scale(pain, band):
    assert pain_band(pain) == band


# --- severe pain ----------------------------------------------------------------------------------


@pytest.mark.parametrize("when", ["pain_before", "pain_after"])
def test_severe_pain_stops_growth_steps_back_and_asks_for_a_clinician(when):
    history, _ = good_days(LIBRARY, 5)
    p = prescribe(LIBRARY, history, day(6))
    assert hold(p, TOWEL) == 20
    history.append(perform(p, day(6), **{"pain_before": 2, "pain_after": 2, when: 8}))
    today = prescribe(LIBRARY, history, day(7))
    assert hold(today, TOWEL) == 15 and today.paused and today.see_clinician
    assert today.notes[0].startswith("Severe pain: pain reached 8/10 in the session yesterday")
    assert "contact your clinician" in today.notes[0]
    # Good days afterwards do not make holds grow while the clinician question stands.
    _, seen = good_days(LIBRARY, 4, history, first=7)
    assert [hold(s, TOWEL) for s in seen] == [15, 15, 15, 15]
    assert all(s.see_clinician for s in seen)
    reasons = today.to_dict()["reasons"]
    assert reasons[0]["code"] == "severe_pain" and reasons[0]["session"] == history[-1].id


def test_a_clear_screening_after_the_cause_lifts_see_clinician():
    history, _ = good_days(LIBRARY, 5)
    p = prescribe(LIBRARY, history, day(6))
    history.append(perform(p, day(6), pain_after=9))
    before = datetime(2025, 3, 8, 7, tzinfo=UTC)  # day 6 is 8 March; the check came earlier
    assert prescribe(LIBRARY, history, day(7), clear_at=before - timedelta(days=2)).see_clinician
    cleared = prescribe(LIBRARY, history, day(7), clear_at=datetime(2025, 3, 8, 20, tzinfo=UTC))
    assert not cleared.see_clinician
    # Still paused until two good days: the check lifts the clinician flag, not the pause.
    assert cleared.paused and hold(cleared, TOWEL) == 15


def test_a_check_earlier_the_same_day_does_not_lift_a_later_cause():
    history, _ = good_days(LIBRARY, 5)
    p = prescribe(LIBRARY, history, day(6))
    history.append(perform(p, day(6), pain_after=9, hour=18))
    morning = datetime(2025, 3, 8, 7, tzinfo=UTC)  # day 6, before the evening session
    today = prescribe(LIBRARY, history, day(7), clear_at=morning)
    assert today.see_clinician
    reasons = today.to_dict()["reasons"]
    assert reasons[0]["code"] == "severe_pain" and "9/10" in reasons[0]["text"]


def test_see_clinician_keeps_its_reason_after_the_pause_ends():
    history, _ = good_days(LIBRARY, 5)
    p = prescribe(LIBRARY, history, day(6))
    history.append(perform(p, day(6), pain_after=8))
    history, _ = good_days(LIBRARY, 3, history, first=7)
    today = prescribe(LIBRARY, history, day(10))
    assert today.see_clinician
    assert [r["code"] for r in today.to_dict()["reasons"]] == ["severe_pain"]


# --- creeping pain --------------------------------------------------------------------------------


def test_pain_creeping_two_to_nine_over_eight_days_ends_shorter_and_with_a_clinician():
    history, seen = play([2, 3, 4, 5, 6, 7, 8, 9])
    last = prescribe(LIBRARY, history, day(9))
    start = LIBRARY[TOWEL].dose.hold_start_s.value
    for p in [*seen, last]:
        assert all(i.hold_s <= start for i in p.items), [i.hold_s for i in p.items]
    assert last.see_clinician and last.paused
    assert "contact your clinician" in last.notes[0]
    # The note names the numbers and the session.
    assert any(c.code in ("pain_rise", "severe_pain") for c in last.causes)
    assert last.baseline == 3 and last.baseline_from == "your first 3 sessions"


def test_a_rise_of_two_over_the_baseline_on_two_of_three_sessions_pauses():
    history, _ = good_days(LIBRARY, 4)  # pain 2 each day: the baseline is 2
    history, seen = play([4, 2, 4], start=5, history=history)
    today = prescribe(LIBRARY, history, day(8))
    assert today.paused and today.see_clinician
    assert today.notes[0].startswith(
        "Your pain is above your usual: pain was 4/10 and 4/10 in 2 of your last 3 sessions, "
        "2 or more above your usual 2/10, the last of them (yesterday)."
    )
    assert "gone up in your last" not in " ".join(today.notes)


def test_one_session_above_the_baseline_does_not_pause():
    history, _ = good_days(LIBRARY, 4)
    history, _ = play([4, 2, 2], start=5, history=history)
    today = prescribe(LIBRARY, history, day(8))
    assert not today.paused and not today.see_clinician


def test_the_baseline_is_the_lower_of_the_first_sessions_and_the_last_fourteen_days():
    history, _ = play([5, 5, 5])
    history, _ = play([1] * 10, start=4, history=history)
    p = prescribe(LIBRARY, history, day(14))
    assert p.baseline == 1 and p.baseline_from == "the last 14 days"


def test_first_pains_given_for_a_window_are_the_baseline():
    history, _ = play([3, 3, 3], start=20)
    p = prescribe(LIBRARY, history, day(23), first_pains=[1, 1, 2])
    assert p.baseline == 1 and p.baseline_from == "your first 3 sessions"


rises = st.lists(st.integers(1, 3), min_size=1, max_size=12)


@settings(max_examples=150, deadline=None)
@given(start=st.integers(0, 7), steps=rises, gap=st.integers(1, 2))
def test_rising_pain_never_makes_holds_longer(start, steps, gap):
    """Whatever the start and however fast pain climbs, no prescription exceeds the first."""
    pains = [start]
    for s in steps:
        pains.append(min(10, pains[-1] + s))
    history: list[SessionRecord] = []
    first = prescribe(LIBRARY, [], DAY1)
    when = DAY1
    for pain in pains:
        p = prescribe(LIBRARY, history, when)
        for item in p.items:
            was = first.item(item.exercise)
            assert was is None or item.hold_s <= was.hold_s
        history.append(perform(p, when, pain_before=pain, pain_after=pain))
        when += timedelta(days=gap)


@settings(max_examples=100, deadline=None)
@given(
    days=st.lists(
        st.tuples(st.sampled_from(["before", "after", "spread", "all"]), st.booleans()),
        min_size=1,
        max_size=12,
    )
)
def test_skipped_answers_never_count_as_good_days(days):
    """Every hold done, but pain or spreading left unanswered: holds never grow."""
    history: list[SessionRecord] = []
    for n, (skipped, held_pain) in enumerate(days, start=1):
        p = prescribe(LIBRARY, history, day(n))
        for item in p.items:
            assert item.hold_s == LIBRARY[item.exercise].dose.hold_start_s.value
        s = perform(p, day(n), hold_pain=1 if held_pain else None)
        before = None if skipped in ("before", "all") else s.pain_before
        after = None if skipped in ("after", "all") else s.pain_after
        spread = None if skipped in ("spread", "all") else s.pain_spread
        if skipped != "all" and skipped != "spread":
            spread = None  # at least one answer is always missing
        history.append(SessionRecord(s.id, s.started_at, s.finished_at, before, after, spread,
                                     s.holds))  # fmt: skip


# --- the words ------------------------------------------------------------------------------------


def test_spreading_pain_is_never_called_pain_going_up():
    history, _ = good_days(LIBRARY, 5)
    for n in (6, 7):
        history.append(perform(prescribe(LIBRARY, history, day(n)), day(n), spread=True))
    today = prescribe(LIBRARY, history, day(8))
    text = " ".join([*today.notes, *(i.reason for i in today.items)])
    assert "spread further down your leg" in text
    assert "gone up" not in text and "went up" not in text and "pain rose" not in text


@settings(max_examples=80, deadline=None)
@given(
    plan=st.lists(
        st.tuples(st.integers(0, 10), st.integers(0, 10), st.booleans(), st.integers(1, 2)),
        min_size=1,
        max_size=10,
    )
)
def test_a_hold_at_the_start_is_never_called_one_step_shorter(plan):
    history: list[SessionRecord] = []
    when = DAY1
    for before, after, spread, gap in plan:
        p = prescribe(LIBRARY, history, when)
        history.append(perform(p, when, pain_before=before, pain_after=after, spread=spread))
        when += timedelta(days=gap)
        today = prescribe(LIBRARY, history, when)
        for item in today.items:
            was = p.item(item.exercise)
            if was is not None and was.hold_s <= LIBRARY[item.exercise].dose.hold_start_s.value:
                assert "one step shorter" not in item.reason  # it was already at the start
            if "one step shorter" in item.reason:
                assert was is not None and item.hold_s < was.hold_s
        if "one step shorter" in " ".join(today.notes):
            assert any(i.change == "down" for i in today.items)


# --- a stretch that hurts -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("slug", "gentler"),
    [(TOWEL, "hands"), (WALL, "away-from-the-wall"), (SEATED, "heel-closer")],
)
@pytest.mark.parametrize("how", ["pain", "too_strong"])
def test_a_stretch_that_hurt_offers_its_gentler_variant(slug, gentler, how):
    p = prescribe(LIBRARY, [], DAY1)
    item = p.item(TOWEL)
    assert item is not None
    variant = LIBRARY[slug].default_variant.slug
    holds = tuple(
        HoldRecord(slug, variant, side, rep, 10, 10, True,
                   pain=5 if how == "pain" else 2, too_strong=how == "too_strong")
        for side in ("left", "right") for rep in (1, 2, 3)
    )  # fmt: skip
    start = datetime(2025, 3, 3, 9, tzinfo=UTC)
    session = SessionRecord("s1", start, start + timedelta(minutes=9), 2, 2, False, holds)
    today = prescribe(LIBRARY, [session], day(2))
    shown = today.item(slug)
    if shown is None:  # the seated stretch waits for the lying ones; the offer is for later
        return
    assert shown.variant == gentler and shown.gentler is not None
    assert shown.gentler[0] == gentler
    assert "gentler" in shown.suggestion


def test_the_gentler_offer_is_not_repeated_once_taken():
    holds = tuple(
        HoldRecord(WALL, "away-from-the-wall", side, rep, 10, 10, True, pain=6)
        for side in ("left", "right") for rep in (1, 2, 3)
    )  # fmt: skip
    start = datetime(2025, 3, 3, 9, tzinfo=UTC)
    session = SessionRecord("s1", start, start + timedelta(minutes=9), 2, 2, False, holds)
    wall = prescribe(LIBRARY, [session], day(2)).item(WALL)
    assert wall is not None and wall.variant == "away-from-the-wall" and wall.gentler is None


# --- the leg with sciatica ------------------------------------------------------------------------


def test_the_affected_leg_goes_second_and_holds_one_step_less_once_holds_grew():
    first = prescribe(LIBRARY, [], DAY1, affected_side="left")
    towel = first.item(TOWEL)
    assert towel is not None and towel.sides == ("right", "left")
    assert dict(towel.hold_by_side) == {"right": 10, "left": 10}  # never below the first hold
    history, _ = good_days(LIBRARY, 4)
    grown = prescribe(LIBRARY, history, day(5), affected_side="left")
    towel = grown.item(TOWEL)
    assert towel is not None and towel.hold_s == 20
    assert towel.to_dict()["hold_by_side"] == {"right": 20, "left": 15}
    assert any("Your left leg has the sciatica" in n for n in grown.notes)
    assert grown.to_dict()["affected_side"] == "left"


def test_without_an_affected_leg_both_legs_hold_the_same():
    p = prescribe(LIBRARY, [], DAY1, affected_side="both")
    assert all(i.sides == ("left", "right") for i in p.items)
    assert all(len(set(i.to_dict()["hold_by_side"].values())) == 1 for i in p.items)


# --- one replay, the same answers -----------------------------------------------------------------


def _as_dict(p: Prescription) -> dict:
    return p.to_dict()


@settings(max_examples=60, deadline=None)
@given(
    plan=st.lists(
        st.tuples(st.integers(0, 9), st.booleans(), st.integers(0, 2)), min_size=1, max_size=14
    )
)
def test_one_replay_gives_what_prescribe_gives_before_each_session(plan):
    history: list[SessionRecord] = []
    when = DAY1
    for n, (pain, spread, gap) in enumerate(plan):
        p = prescribe(LIBRARY, history, when)
        s = perform(
            p, when, pain_before=pain, pain_after=pain, spread=spread, hour=n % 24
        )  # distinct start times
        history.append(s)
        when += timedelta(days=gap)
    before, today = replay(LIBRARY, history, when, wanted=[s.id for s in history])
    assert _as_dict(today) == _as_dict(prescribe(LIBRARY, history, when))
    for s in history:
        earlier = [r for r in history if r.started_at < s.started_at]
        assert _as_dict(before[s.id]) == _as_dict(prescribe(LIBRARY, earlier, s.day))


@settings(max_examples=80, deadline=None)
@given(
    good=st.integers(0, 8),
    severe=st.integers(7, 10),
    where=st.sampled_from(["pain_before", "pain_after", "hold_pain"]),
)
def test_severe_pain_anywhere_never_lets_holds_grow_and_asks_for_a_clinician(good, severe, where):
    history = good_days(LIBRARY, good)[0] if good else []
    p = prescribe(LIBRARY, history, day(good + 1))
    history.append(perform(p, day(good + 1), **{where: severe}))
    for n in range(good + 2, good + 6):  # and the good days after it, until a clear check
        today = prescribe(LIBRARY, history, day(n))
        assert today.see_clinician
        for item in today.items:
            was = p.item(item.exercise)
            assert was is None or item.hold_s <= was.hold_s
        history.append(perform(today, day(n)))
