"""Progression: a person's history and the library → today's prescription.

The history is replayed day by day, oldest first. Each stretch has a *level* (its hold in seconds)
kept between a floor and a ceiling. The rules, with the named constants they use:

1. Bounds. The floor is the spec's ``hold_start_s`` (or a clinician's ``start_hold_s``); the
   ceiling is the spec's ``hold_goal_s``, or a clinician's ``max_hold_s`` if lower. A hold is
   never outside them, so never above the goal or the cap and never below 1 s.
2. What was done counts. When a session logs a stretch, its level becomes the largest
   ``target_s`` logged for it (kept within the bounds): the history, not a recomputation, says
   where a person is. A level that changes this way starts its count of good days again.
3. Flagged session. Pain spread further down the leg, or pain rose by ``PAIN_RISE_FLAG`` (2) points
   or more: the highest of ``pain_after`` and the per-hold pains, minus ``pain_before`` (or, when
   that is missing, minus the first pain reported in the session). DESIGN.md §6.
4. Good session (per stretch). The session is finished and not flagged, the stretch was held at
   least as many times per side as prescribed, on every side, and every hold reached
   ``COMPLETE_FRACTION`` (90 %) of its target.
5. Up. After ``GOOD_DAYS_TO_STEP`` (2) good sessions of a stretch on different days since its level
   last changed, the next day starts one ``hold_step_s`` higher (never above the ceiling). Steps
   are taken only when a new day starts, so at most one per day, and never on the same day as the
   session that earned it.
6. Back and pause. A flagged session steps every stretch already begun back one ``hold_step_s``
   (never below the floor) and clears the good-day counts. Progression is *paused* until
   ``GOOD_DAYS_TO_STEP`` days with a good session follow; while paused, only lying stretches are
   prescribed (the gentler option) and the notes suggest the gentlest stretch or a clinician.
   ``FLAGS_FOR_CLINICIAN`` (2) flagged sessions in a row set ``see_clinician``.
7. Order. Lying stretches first, in library order (gentlest first). Any other stretch joins once
   every lying stretch has had ``LYING_GOOD_DAYS`` (2) good days in all, and not while paused.
8. Variant. A clinician's variant if set; otherwise, when in the last session of a stretch most
   answered holds said no stretch was felt, the variant that uses a stool (the source: flexible
   people "may need to elevate the foot on a stool"); otherwise the variant last used; otherwise
   the spec's first.
9. Clinician caps also limit reps per side and may exclude a stretch.

Every item carries a reason a person can read; notes explain the session as a whole. Time is
passed in (``today``); sessions that start after ``today`` are ignored.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from limber.core.spec import Library, Stretch, Variant

__all__ = [
    "COMPLETE_FRACTION",
    "FLAGS_FOR_CLINICIAN",
    "GOOD_DAYS_TO_STEP",
    "LYING_GOOD_DAYS",
    "PAIN_RISE_FLAG",
    "Caps",
    "HoldRecord",
    "Item",
    "Prescription",
    "SessionRecord",
    "prescribe",
]

PAIN_RISE_FLAG = 2  # DESIGN.md §6: "rises by 2 points or more"
COMPLETE_FRACTION = 0.9  # a hold cut short by a second or two in ten still counts as held
GOOD_DAYS_TO_STEP = 2  # the issue: "last two sessions went well"
LYING_GOOD_DAYS = 2  # lying stretches "tolerated": two good days each
FLAGS_FOR_CLINICIAN = 2  # pain rising twice in a row is for a clinician, not for an app

CHANGES = ("start", "up", "same", "down")


def _num(x: float) -> int | float:
    """Whole seconds as ints, so JSON and text read "15", not "15.0"."""
    return int(x) if float(x).is_integer() else x


def _s(x: float) -> str:
    return f"{_num(x)} s"


# --- inputs -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HoldRecord:
    """One logged hold, as the player sends it (the API's hold body without its id)."""

    exercise: str
    variant: str
    side: str
    rep: int
    target_s: float
    held_s: float
    stretch_felt: bool | None = None
    pain: int | None = None

    def __post_init__(self) -> None:
        if self.target_s <= 0 or self.held_s < 0:
            raise ValueError("target_s must be above 0 and held_s not below 0")
        if self.pain is not None and not 0 <= self.pain <= 10:
            raise ValueError("pain must be from 0 to 10")


@dataclass(frozen=True)
class SessionRecord:
    """One logged session, as the API stores it. ``finished_at`` is None if it never finished."""

    id: str
    started_at: datetime
    finished_at: datetime | None
    pain_before: int | None
    pain_after: int | None
    pain_spread: bool
    holds: tuple[HoldRecord, ...] = ()

    def __post_init__(self) -> None:
        for pain in (self.pain_before, self.pain_after):
            if pain is not None and not 0 <= pain <= 10:
                raise ValueError("pain must be from 0 to 10")

    @property
    def day(self) -> date:
        return self.started_at.date()

    def pain_rise(self) -> tuple[int, int] | None:
        """(baseline, peak) when both are known, else None."""
        hold_pains = [h.pain for h in self.holds if h.pain is not None]
        baseline = (
            self.pain_before if self.pain_before is not None else next(iter(hold_pains), None)
        )
        later = hold_pains + ([self.pain_after] if self.pain_after is not None else [])
        if baseline is None or not later:
            return None
        return baseline, max(later)

    def flag(self) -> str:
        """Why this session pauses progression (past tense, no date), or "" if it does not."""
        if self.pain_spread:
            return "pain spread further down your leg"
        rise = self.pain_rise()
        if rise is not None and rise[1] - rise[0] >= PAIN_RISE_FLAG:
            return f"pain rose from {rise[0]} to {rise[1]}"
        return ""


@dataclass(frozen=True)
class Caps:
    """A clinician's limits for one stretch. None means no limit."""

    max_hold_s: float | None = None
    start_hold_s: float | None = None
    reps_per_side: int | None = None
    variant: str | None = None
    excluded: bool = False

    def __post_init__(self) -> None:
        for name in ("max_hold_s", "start_hold_s", "reps_per_side"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"{name} must be at least 1")


# --- outputs ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    """One stretch in today's prescription."""

    exercise: str
    name: str
    variant: str
    variant_name: str
    sides: tuple[str, ...]
    hold_s: float
    goal_s: float
    reps_per_side: int
    rest_s: float
    change: str  # one of CHANGES
    reason: str
    suggestion: str = ""
    offered_variants: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "exercise": self.exercise,
            "name": self.name,
            "variant": self.variant,
            "variant_name": self.variant_name,
            "sides": list(self.sides),
            "hold_s": _num(self.hold_s),
            "goal_s": _num(self.goal_s),
            "reps_per_side": self.reps_per_side,
            "rest_s": _num(self.rest_s),
            "change": self.change,
            "reason": self.reason,
            "suggestion": self.suggestion,
            "offered_variants": list(self.offered_variants),
        }


@dataclass(frozen=True)
class Prescription:
    date: date
    items: tuple[Item, ...]
    paused: bool = False
    see_clinician: bool = False
    notes: tuple[str, ...] = ()

    def item(self, exercise: str) -> Item | None:
        return next((i for i in self.items if i.exercise == exercise), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "date": self.date.isoformat(),
            "paused": self.paused,
            "see_clinician": self.see_clinician,
            "notes": list(self.notes),
            "items": [i.to_dict() for i in self.items],
        }


# --- the replay ---------------------------------------------------------------------------------


@dataclass
class _Track:
    """What the replay knows about one stretch."""

    stretch: Stretch
    floor: float
    ceiling: float
    reps: int
    level: float
    begun: bool = False
    change: str = "start"  # how the level last changed; kept until the stretch is next done
    why_down: str = ""
    good_days: set[date] = field(default_factory=set)  # since the level last changed
    all_good_days: set[date] = field(default_factory=set)
    last_outcome: str = ""  # "good", "short" or "flagged"
    last_variant: str | None = None
    no_stretch: bool = False  # most answered holds last time: no stretch felt

    @property
    def step(self) -> float:
        return float(self.stretch.dose.hold_step_s.value)

    def clamp(self, hold: float) -> float:
        return min(max(hold, self.floor), self.ceiling)

    def new_day(self, day: date) -> None:
        if len(self.good_days) >= GOOD_DAYS_TO_STEP and self.level < self.ceiling:
            self.level = self.clamp(self.level + self.step)
            self.change = "up"
            self.good_days = set()

    def step_back(self, why: str) -> None:
        self.good_days = set()
        if not self.begun:
            return
        lower = self.clamp(self.level - self.step)
        if lower < self.level:
            self.level = lower
            self.change = "down"
            self.why_down = why

    def done(self, session: SessionRecord, holds: Sequence[HoldRecord], flagged: bool) -> None:
        self.begun = True
        logged = self.clamp(max(h.target_s for h in holds))
        if logged != self.level:
            self.level = logged
            self.good_days = set()
        self.change = "same"
        self.last_variant = holds[-1].variant
        answers = [h.stretch_felt for h in holds if h.stretch_felt is not None]
        self.no_stretch = bool(answers) and answers.count(False) * 2 > len(answers)
        if flagged:
            self.last_outcome = "flagged"
        elif self._complete(session, holds):
            self.last_outcome = "good"
            self.good_days.add(session.day)
            self.all_good_days.add(session.day)
        else:
            self.last_outcome = "short"

    def _complete(self, session: SessionRecord, holds: Sequence[HoldRecord]) -> bool:
        if session.finished_at is None:
            return False
        if any(h.held_s < COMPLETE_FRACTION * h.target_s for h in holds):
            return False
        return all(sum(h.side == side for h in holds) >= self.reps for side in self.stretch.sides)


def _track(stretch: Stretch, cap: Caps) -> _Track:
    dose = stretch.dose
    ceiling = float(dose.hold_goal_s.value)
    if cap.max_hold_s is not None:
        ceiling = min(ceiling, cap.max_hold_s)
    floor = float(cap.start_hold_s if cap.start_hold_s is not None else dose.hold_start_s.value)
    floor = min(floor, ceiling)
    reps = int(dose.reps_per_side.value)
    if cap.reps_per_side is not None:
        reps = min(reps, cap.reps_per_side)
    return _Track(stretch, floor, ceiling, reps, level=floor)


def _check_caps(library: Library, caps: Mapping[str, Caps]) -> None:
    for slug, cap in caps.items():
        if slug in library and cap.variant is not None:
            library[slug].variant(cap.variant)  # KeyError names the unknown variant


def prescribe(
    library: Library,
    history: Iterable[SessionRecord],
    today: date,
    caps: Mapping[str, Caps] | None = None,
) -> Prescription:
    """Today's prescription from the sessions so far (any order) and a clinician's caps."""
    caps = dict(caps or {})
    try:
        _check_caps(library, caps)
    except KeyError as e:
        raise ValueError(f"clinician caps name an unknown variant: {e.args[0]}") from None
    tracks = {slug: _track(s, caps.get(slug, Caps())) for slug, s in library.items()}
    sessions = sorted((s for s in history if s.day <= today), key=lambda s: s.started_at)

    last_flag = ""  # why the latest flagged session paused progression, with its date
    flags_in_a_row = 0
    good_days_since_flag: set[date] = set()
    days = sorted({s.day for s in sessions} | {today})
    for day in days:
        if last_flag == "" or len(good_days_since_flag) >= GOOD_DAYS_TO_STEP:
            for t in tracks.values():
                t.new_day(day)
        for session in (s for s in sessions if s.day == day):
            why = session.flag()
            by_stretch: dict[str, list[HoldRecord]] = {}
            for h in session.holds:
                if h.exercise in tracks:
                    by_stretch.setdefault(h.exercise, []).append(h)
            for slug, holds in by_stretch.items():
                tracks[slug].done(session, holds, bool(why))
            if why:
                last_flag = f"{why} {_when(day, today)}"
                flags_in_a_row += 1
                good_days_since_flag = set()
                for t in tracks.values():
                    t.step_back(last_flag)
            elif session.finished_at is not None and by_stretch:
                flags_in_a_row = 0
                if any(tracks[slug].last_outcome == "good" for slug in by_stretch):
                    good_days_since_flag.add(day)

    paused = last_flag != "" and len(good_days_since_flag) < GOOD_DAYS_TO_STEP
    return _prescription(library, tracks, caps, today, paused, last_flag, flags_in_a_row)


def _when(day: date, today: date) -> str:
    if day == today:
        return "today"
    if (today - day).days == 1:
        return "yesterday"
    return f"on {day:%a} {day.day} {day:%b}"


# --- today's prescription and its words ---------------------------------------------------------


def _prescription(
    library: Library,
    tracks: Mapping[str, _Track],
    caps: Mapping[str, Caps],
    today: date,
    paused: bool,
    last_flag: str,
    flags_in_a_row: int,
) -> Prescription:
    notes: list[str] = []
    see_clinician = paused and flags_in_a_row >= FLAGS_FOR_CLINICIAN
    active = [t for slug, t in tracks.items() if not caps.get(slug, Caps()).excluded]
    lying = [t for t in active if t.stretch.position == "lying"]
    others = [t for t in active if t.stretch.position != "lying"]
    gentlest = min(active, key=lambda t: t.stretch.gentleness).stretch if active else None

    if paused:
        notes.append(
            f"Progression is paused: {last_flag}. Holds are one step shorter and will not grow "
            f"until {GOOD_DAYS_TO_STEP} sessions on different days go well."
        )
        if gentlest is not None:
            notes.append(
                f"Go gently: if a stretch hurts, stop it and do only the {gentlest.name.lower()}. "
                "If pain keeps rising or spreads down your leg, talk to a clinician."
            )
    if see_clinician:
        notes.insert(
            0,
            f"Pain has gone up in your last {flags_in_a_row} sessions in a row. "
            "Please check with a clinician before stretching further.",
        )

    chosen = list(lying)
    waiting = [t for t in lying if len(t.all_good_days) < LYING_GOOD_DAYS]
    for t in others:
        if paused:
            notes.append(
                f"The {t.stretch.name.lower()} is left out while progression is paused: "
                "stretches lying on your back are gentler."
            )
        elif waiting:
            done = ", ".join(
                f"{w.stretch.name.lower()} {len(w.all_good_days)} of {LYING_GOOD_DAYS}"
                for w in waiting
            )
            notes.append(
                f"The {t.stretch.name.lower()} joins once the lying stretches have gone well "
                f"on {LYING_GOOD_DAYS} days each (so far: {done})."
            )
        else:
            chosen.append(t)
            if not t.begun:
                notes.append(
                    f"New today: the {t.stretch.name.lower()}. The lying stretches went well, and "
                    "sitting is a little less gentle, so start slowly."
                )
    excluded = [s.name.lower() for slug, s in library.items() if caps.get(slug, Caps()).excluded]
    if excluded:
        notes.append("Left out by your clinician: " + ", ".join(excluded) + ".")

    items = tuple(_item(t, caps.get(t.stretch.slug, Caps()), paused) for t in chosen)
    return Prescription(today, items, paused, see_clinician, tuple(notes))


def _variant(t: _Track, cap: Caps) -> tuple[Variant, str]:
    s = t.stretch
    stool = next((v for v in s.variants if "stool" in v.props), None)
    wants_stool = t.no_stretch and stool is not None and t.last_variant != stool.slug
    if cap.variant is not None:
        suggestion = ""
        if wants_stool and stool is not None and cap.variant != stool.slug:
            suggestion = (
                f"You felt no stretch last time. Ask your clinician about '{stool.name.lower()}'."
            )
        return s.variant(cap.variant), suggestion
    if wants_stool and stool is not None:
        return stool, (
            f"You felt no stretch last time, so today: {stool.name.lower()}. Flexible people "
            "may need the foot raised to feel the stretch."
        )
    if t.last_variant is not None and any(v.slug == t.last_variant for v in s.variants):
        return s.variant(t.last_variant), ""
    return s.default_variant, ""


def _item(t: _Track, cap: Caps, paused: bool) -> Item:
    s = t.stretch
    variant, suggestion = _variant(t, cap)
    return Item(
        exercise=s.slug,
        name=s.name,
        variant=variant.slug,
        variant_name=variant.name,
        sides=s.sides,
        hold_s=t.level,
        goal_s=t.ceiling,
        reps_per_side=t.reps,
        rest_s=float(s.dose.rest_s.value),
        change=t.change,
        reason=_reason(t, cap, paused),
        suggestion=suggestion,
        offered_variants=tuple(v.slug for v in s.variants),
    )


def _reason(t: _Track, cap: Caps, paused: bool) -> str:
    hold = _s(t.level)
    if t.change == "start":
        return (
            f"{hold} today: the first hold for this stretch. A stretch should be felt, not painful."
        )
    if t.change == "up":
        return f"{hold} today, up one step: your last {GOOD_DAYS_TO_STEP} sessions went well."
    if t.change == "down":
        return f"{hold} today, one step shorter: {t.why_down}."
    if t.level >= t.ceiling:
        capped = cap.max_hold_s is not None and cap.max_hold_s < float(
            t.stretch.dose.hold_goal_s.value
        )
        limit = "your clinician's limit" if capped else "the goal for this stretch"
        return f"Holding {hold} today: that is {limit}."
    if paused:
        return (
            f"Holding {hold} today: progression is paused ({len(t.good_days)} of "
            f"{GOOD_DAYS_TO_STEP} good sessions since the pain went up)."
        )
    if t.last_outcome == "short":
        return f"Holding {hold} today: last time not every hold was finished."
    if t.last_outcome == "flagged":
        return f"Holding {hold} today: last session was painful, so no step up."
    good = len(t.good_days)
    if good >= GOOD_DAYS_TO_STEP:
        return f"Holding {hold} today: {good} good sessions at this hold; one step up tomorrow."
    left = GOOD_DAYS_TO_STEP - good
    return (
        f"Holding {hold} today: the last session went well; {left} more good "
        f"day{'s' if left > 1 else ''} before the next step."
        if t.last_outcome == "good"
        else f"Holding {hold} today."
    )
