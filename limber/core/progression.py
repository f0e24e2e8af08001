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
   ``FLAGS_FOR_CLINICIAN`` (2) flagged sessions in a row set ``see_clinician``. A pause starts at
   once (the rest of the day is gentler) but ends, like a step up, only when a new day starts.
7. Order. Lying stretches first, in library order (gentlest first). Any other stretch joins once
   every lying stretch has had ``LYING_GOOD_DAYS`` (2) good days in all, and not while paused;
   like a step up, it joins on the day after the good day that earned it, so a session just
   finished is never followed, the same day, by a longer plan with a stretch it did not have.
8. Variant. A clinician's variant if set; otherwise, when in the last session of a stretch most
   answered holds said no stretch was felt, the variant that uses a stool (the source: flexible
   people "may need to elevate the foot on a stool"); otherwise the variant last used; otherwise
   the spec's first.
9. Clinician caps also limit reps per side and may exclude a stretch.

Every item carries a reason a person can read; notes explain the session as a whole. Time is
passed in (``today``); sessions that start after ``today`` are ignored.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from statistics import median
from typing import Any

from limber.core.spec import Library, Stretch, Variant

__all__ = [
    "AFFECTED_SIDE_STEPS",
    "BASELINE_DAYS",
    "BASELINE_SESSIONS",
    "COMPLETE_FRACTION",
    "FLAGS_FOR_CLINICIAN",
    "FREQUENCY",
    "GENTLER_PAIN",
    "GOOD_DAYS_TO_STEP",
    "LYING_GOOD_DAYS",
    "PAIN_BANDS",
    "PAIN_RISE_FLAG",
    "RISES_TO_PAUSE",
    "RISE_WINDOW",
    "RULES",
    "SEVERE_PAIN",
    "Caps",
    "HoldRecord",
    "Item",
    "Prescription",
    "Rule",
    "SessionRecord",
    "held_in_full",
    "pain_band",
    "prescribe",
    "replay",
    "rules_dicts",
]

# --- the rules, each with where it comes from ---------------------------------------------------

NRS_BANDS = (
    "Serlin et al. 1995, 'When is cancer pain mild, moderate or severe?', Pain 61:277-284; "
    "the 0-10 numeric rating scale cut-points used by the WHO and most pain services"
)
MCID = (
    "Farrar et al. 2001, Pain 94:149-158: on the 0-10 scale a change of about 2 points (30 %) "
    "is the smallest that matters to patients"
)
PAIN_MONITORING = (
    "Thomée 1997 / Silbernagel et al. 2007, the pain-monitoring model: pain up to 5/10 during "
    "exercise is acceptable, above it is not"
)
ACSM = (
    "ACSM's Guidelines for Exercise Testing and Prescription: flexibility exercise at least "
    "2-3 days a week, daily being most effective; hold 10-30 s, 2-4 times"
)

PAIN_BANDS = (("mild", 1, 3), ("moderate", 4, 6), ("severe", 7, 10))  # NRS_BANDS
SEVERE_PAIN = 7  # NRS_BANDS: 7-10 is severe pain: stop growing, step back, see a clinician
PAIN_RISE_FLAG = 2  # MCID: the smallest change a person notices as real
BASELINE_SESSIONS = 3  # the person's own usual pain: the median of their first sessions...
BASELINE_DAYS = 14  # ...or of the last two weeks, whichever is lower (so creeping pain shows)
RISE_WINDOW = 3  # a rise over the baseline on RISES_TO_PAUSE of the last RISE_WINDOW sessions
RISES_TO_PAUSE = 2  # one bad day can be anything; two out of three is a trend
GENTLER_PAIN = 5  # PAIN_MONITORING: a hold at 5/10 or more is too strong: offer a gentler variant
COMPLETE_FRACTION = 0.9  # a hold cut short by a second or two in ten still counts as held
GOOD_DAYS_TO_STEP = 2  # the issue: "last two sessions went well"
LYING_GOOD_DAYS = 2  # lying stretches "tolerated": two good days each
FLAGS_FOR_CLINICIAN = 2  # a flag twice in a row is for a clinician, not for an app
AFFECTED_SIDE_STEPS = 1  # the leg with sciatica holds one step less than the other
FREQUENCY = {"per_day": 1, "max_per_day": 2}  # ACSM: daily; twice at most is Limber's default

CHANGES = ("start", "up", "same", "down")


def held_in_full(held_s: float, target_s: float) -> bool:
    """A hold done, not skipped or cut short: held for COMPLETE_FRACTION of its time."""
    return held_s >= COMPLETE_FRACTION * target_s


@dataclass(frozen=True)
class Rule:
    """One clinical rule as a page shows it: what, how much, and where it comes from."""

    name: str
    label: str
    value: str
    origin: str  # "source" (the article), "guideline" (a published source), "default" (Limber's)
    source: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {
            "name": self.name,
            "label": self.label,
            "value": self.value,
            "origin": self.origin,
            "source": self.source,
            "reason": self.reason,
        }


RULES = (
    Rule(
        "pain_bands", "Pain bands", "mild 1-3, moderate 4-6, severe 7-10", "guideline", NRS_BANDS,
        "The usual meaning of numbers on the 0-10 pain scale.",
    ),
    Rule(
        "severe_pain", "Severe pain", f"{SEVERE_PAIN}/10 or more, before, during or after",
        "guideline", NRS_BANDS,
        "Holds do not grow, the next session is one step shorter, and you are asked to "
        "contact your clinician.",
    ),
    Rule(
        "pain_rise", "Pain rising in a session", f"{PAIN_RISE_FLAG} points or more", "guideline",
        MCID, "A rise you would notice: progression pauses and holds step back.",
    ),
    Rule(
        "baseline", "Your usual pain",
        f"median of your first {BASELINE_SESSIONS} sessions or of the last {BASELINE_DAYS} days, "
        "whichever is lower",
        "default", "",
        "Your own starting point, so slowly creeping pain is noticed; the lower of the two "
        "keeps a slow rise from becoming the new normal.",
    ),
    Rule(
        "creeping_pain", "Pain above your usual",
        f"{PAIN_RISE_FLAG}+ points above it in {RISES_TO_PAUSE} of your last {RISE_WINDOW} "
        "sessions",
        "default", MCID,
        "One bad day can be anything; two out of three is a trend: progression pauses and "
        "you are asked to see a clinician.",
    ),
    Rule(
        "spreading", "Pain spreading down the leg", "any session", "guideline",
        "NHS, Sciatica; DESIGN.md §6",
        "Pain moving further down the leg is a sign the nerve is more irritated: pause and step "
        "back.",
    ),
    Rule(
        "see_clinician", "See a clinician", "until a clear symptoms check afterwards", "default",
        "",
        "Holds do not grow until you have answered the symptoms check again after the pain "
        "that caused it.",
    ),
    Rule(
        "gentler", "A stretch that hurts", f"pain {GENTLER_PAIN}/10 or more in a hold, or "
        "'too strong'", "guideline", PAIN_MONITORING,
        "The gentler variant of that stretch is offered next time.",
    ),
    Rule(
        "good_days", "Holds grow", f"one step after {GOOD_DAYS_TO_STEP} good days", "default", "",
        "Slow enough that the body can adapt; a good day means every hold done, pain answered, "
        "not above your usual and not higher than last time. A skipped answer never counts.",
    ),
    Rule(
        "hold_step", "Step size", "5 s (from each stretch's file)", "default", "",
        "Small steps from the first hold to the goal the article gives.",
    ),
    Rule(
        "complete", "A hold counts as done", f"{int(COMPLETE_FRACTION * 100)} % of its time",
        "default", "", "A hold ended a second early still counts.",
    ),
    Rule(
        "lying_first", "Sitting stretch joins later",
        f"after {LYING_GOOD_DAYS} good days of each lying stretch", "source",
        "The article: lying on the back is 'the least stressful'; sitting is 'less gentle'",
        "Start with the gentlest; the number of days is Limber's default.",
    ),
    Rule(
        "affected_side", "The leg with sciatica",
        f"done second, {AFFECTED_SIDE_STEPS} step shorter than the other", "default",
        "Clinical examination tests the unaffected side first (straight-leg raise)",
        "You learn what 'a stretch is felt' means on the calmer leg first, and the sciatic "
        "nerve of the painful leg is stretched a little less.",
    ),
    Rule(
        "frequency", "How often", "once a day, at most twice", "guideline", ACSM,
        "Daily stretching works best; holds grow by days, so more sessions do not go faster.",
    ),
)  # fmt: skip


def rules_dicts() -> list[dict[str, str]]:
    """Every rule a page shows: the pain and progression rules, then the session's timings."""
    from limber.core.script import TIMING_RULES  # the script imports this module

    return [r.to_dict() for r in (*RULES, *TIMING_RULES)]


def pain_band(pain: int | None) -> str | None:
    """ "none", "mild", "moderate" or "severe" (NRS_BANDS); None when not answered."""
    if pain is None:
        return None
    for name, lo, hi in PAIN_BANDS:
        if lo <= pain <= hi:
            return name
    return "none"


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
    too_strong: bool | None = None  # "the stretch felt too strong"

    def __post_init__(self) -> None:
        if self.target_s <= 0 or self.held_s < 0:
            raise ValueError("target_s must be above 0 and held_s not below 0")
        if self.pain is not None and not 0 <= self.pain <= 10:
            raise ValueError("pain must be from 0 to 10")


@dataclass(frozen=True)
class SessionRecord:
    """One logged session, as the API stores it. ``finished_at`` is None if it never finished.

    ``pain_spread`` None means the question was skipped: never a good day.
    """

    id: str
    started_at: datetime
    finished_at: datetime | None
    pain_before: int | None
    pain_after: int | None
    pain_spread: bool | None
    holds: tuple[HoldRecord, ...] = ()

    def __post_init__(self) -> None:
        for pain in (self.pain_before, self.pain_after):
            if pain is not None and not 0 <= pain <= 10:
                raise ValueError("pain must be from 0 to 10")

    @property
    def day(self) -> date:
        return self.started_at.date()

    @property
    def pain(self) -> int | None:
        """The session's pain for the baseline: the higher of before and after, if answered."""
        known = [p for p in (self.pain_before, self.pain_after) if p is not None]
        return max(known) if known else None

    def peak(self) -> int | None:
        known = [h.pain for h in self.holds if h.pain is not None]
        known += [p for p in (self.pain_before, self.pain_after) if p is not None]
        return max(known) if known else None

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
        """Why this session alone pauses progression (past tense, no date), or ""."""
        return self._flag()[1]

    def _flag(self) -> tuple[str, str]:
        peak = self.peak()
        if peak is not None and peak >= SEVERE_PAIN:
            return "severe_pain", f"pain reached {peak}/10"
        if self.pain_spread:
            return "pain_spread", "pain spread further down your leg"
        rise = self.pain_rise()
        if rise is not None and rise[1] - rise[0] >= PAIN_RISE_FLAG:
            return "rise_in_session", f"pain rose from {rise[0]} to {rise[1]}"
        return "", ""


@dataclass(frozen=True)
class Caps:
    """A clinician's limits for one stretch. None means no limit."""

    max_hold_s: float | None = None
    start_hold_s: float | None = None
    reps_per_side: int | None = None
    variant: str | None = None
    excluded: bool = False
    # A clinician who writes down why (the patient sees the reason) may let max_hold_s pass the
    # article's goal; without that, a cap can only lower the goal.
    beyond_goal: bool = False

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
    hold_by_side: tuple[tuple[str, float], ...] = ()  # empty: every side holds hold_s
    gentler: tuple[str, str, str] | None = None  # (variant slug, its name, why)

    def side_hold(self, side: str | None) -> float:
        return dict(self.hold_by_side).get(side or "", self.hold_s)

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
            "hold_by_side": {side: _num(self.side_hold(side)) for side in self.sides},
            "gentler": (
                None
                if self.gentler is None
                else dict(zip(("variant", "name", "reason"), self.gentler, strict=True))
            ),
        }


@dataclass(frozen=True)
class Cause:
    """Why progression is paused or a clinician is suggested: one session and its numbers."""

    code: str  # severe_pain, pain_rise, pain_spread, rise_in_session
    session: str
    at: datetime  # when that session started
    text: str  # past tense, without the date: "pain reached 8/10"

    @property
    def day(self) -> date:
        return self.at.date()

    def to_dict(self, today: date) -> dict[str, Any]:
        return {
            "code": self.code,
            "session": self.session,
            "date": self.day.isoformat(),
            "text": f"{self.text} {_when(self.day, today)}",
        }


@dataclass(frozen=True)
class Prescription:
    date: date
    items: tuple[Item, ...]
    paused: bool = False
    see_clinician: bool = False
    notes: tuple[str, ...] = ()
    causes: tuple[Cause, ...] = ()
    baseline: float | None = None
    baseline_from: str | None = None
    last_pain: int | None = None
    affected_side: str | None = None

    def item(self, exercise: str) -> Item | None:
        return next((i for i in self.items if i.exercise == exercise), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "date": self.date.isoformat(),
            "paused": self.paused,
            "see_clinician": self.see_clinician,
            "notes": list(self.notes),
            "items": [i.to_dict() for i in self.items],
            "pain": {
                "baseline": None if self.baseline is None else _num(self.baseline),
                "baseline_from": self.baseline_from,
                "last": self.last_pain,
                "band": pain_band(self.last_pain),
            },
            "reasons": [c.to_dict(self.date) for c in reversed(self.causes)],
            "frequency": {
                **FREQUENCY,
                "text": "Once a day; at most twice.",
                "origin": "guideline",
                "source": ACSM,
                "reason": "Daily stretching works best; holds grow by days, so a second session "
                "does not go faster.",
            },
            "affected_side": self.affected_side,
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
    why_down: Cause | None = None
    good_days: set[date] = field(default_factory=set)  # since the level last changed
    all_good_days: int = 0  # days with a good session, up to LYING_GOOD_DAYS
    last_good_day: date | None = None
    last_outcome: str = ""  # "good", "short" or "flagged"
    last_variant: str | None = None
    no_stretch: bool = False  # most answered holds last time: no stretch felt
    hurt: str = ""  # last time a hold hurt: why, for the gentler variant

    @property
    def step(self) -> float:
        return float(self.stretch.dose.hold_step_s.value)

    def clamp(self, hold: float) -> float:
        return min(max(hold, self.floor), self.ceiling)

    def new_day(self) -> None:
        if len(self.good_days) >= GOOD_DAYS_TO_STEP and self.level < self.ceiling:
            self.level = self.clamp(self.level + self.step)
            self.change = "up"
            self.good_days = set()

    def step_back(self, why: Cause) -> None:
        self.good_days = set()
        if not self.begun:
            return
        lower = self.clamp(self.level - self.step)
        if lower < self.level:
            self.level = lower
            self.change = "down"
            self.why_down = why

    def done(self, session: SessionRecord, holds: Sequence[HoldRecord], outcome: str) -> None:
        self.begun = True
        logged = self.clamp(max(h.target_s for h in holds))
        if logged != self.level:
            self.level = logged
            self.good_days = set()
        self.change = "same"
        self.last_variant = holds[-1].variant
        answers = [h.stretch_felt for h in holds if h.stretch_felt is not None]
        self.no_stretch = bool(answers) and answers.count(False) * 2 > len(answers)
        sore = [h.pain for h in holds if h.pain is not None and h.pain >= GENTLER_PAIN]
        if sore:
            self.hurt = f"a hold hurt ({max(sore)}/10)"
        elif any(h.too_strong for h in holds):
            self.hurt = "the stretch felt too strong"
        else:
            self.hurt = ""
        if outcome == "good" and not self._complete(session, holds):
            outcome = "short"
        self.last_outcome = outcome
        if outcome == "good":
            self.good_days.add(session.day)
            if self.last_good_day != session.day:
                self.all_good_days += 1
                self.last_good_day = session.day

    def good_days_before(self, day: date) -> int:
        """Days with a good session before ``day``: what ``day``'s plan may count on."""
        return self.all_good_days - (self.last_good_day == day)

    def _complete(self, session: SessionRecord, holds: Sequence[HoldRecord]) -> bool:
        if session.finished_at is None:
            return False
        if not all(held_in_full(h.held_s, h.target_s) for h in holds):
            return False
        return all(sum(h.side == side for h in holds) >= self.reps for side in self.stretch.sides)


def _track(stretch: Stretch, cap: Caps) -> _Track:
    dose = stretch.dose
    ceiling = float(dose.hold_goal_s.value)
    if cap.max_hold_s is not None:
        ceiling = float(cap.max_hold_s) if cap.beyond_goal else min(ceiling, cap.max_hold_s)
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


def _when(day: date, today: date) -> str:
    if day == today:
        return "today"
    if (today - day).days == 1:
        return "yesterday"
    return f"on {day:%a} {day.day} {day:%b}"


class _Replay:
    """The history, one session at a time, oldest first; each step costs the same.

    Nothing here looks back over the whole history: the baseline keeps the first pains and a
    deque of the last BASELINE_DAYS, and the rise check a deque of the last RISE_WINDOW sessions,
    so a replay is linear in the number of sessions.
    """

    def __init__(
        self,
        library: Library,
        caps: Mapping[str, Caps],
        first_pains: Sequence[int] | None,
        clear_at: datetime | None,
    ) -> None:
        self.library = library
        self.caps = caps
        self.tracks = {slug: _track(s, caps.get(slug, Caps())) for slug, s in library.items()}
        self.day: date | None = None
        self.first_pains: list[int] = list(first_pains or [])[:BASELINE_SESSIONS]
        self.fixed_first = first_pains is not None
        self.recent: deque[tuple[datetime, int]] = deque()  # answered pains, last BASELINE_DAYS
        self.rises: deque[int | None] = deque(maxlen=RISE_WINDOW)  # pain when above usual
        self.causes: list[Cause] = []  # since progression last resumed, oldest first
        self.good_days_since_flag: set[date] = set()
        self.flags_in_a_row = 0
        self.run: list[str] = []  # the codes of those flagged sessions in a row, oldest first
        self.see: Cause | None = None  # what asked for a clinician, until a clear screening
        self.see_run: tuple[str, ...] = ()  # the run of flags as it stood when `see` was set
        self.clear_at = clear_at
        self.last_pain: int | None = None
        self.last_answered: int | None = None

    @property
    def paused(self) -> bool:
        return bool(self.causes) and len(self.good_days_since_flag) < GOOD_DAYS_TO_STEP

    def paused_on(self, day: date) -> bool:
        """Paused for ``day``'s plan: the good days that may lift a pause are the days before."""
        earlier = sum(d < day for d in self.good_days_since_flag)
        return bool(self.causes) and earlier < GOOD_DAYS_TO_STEP

    def advance(self, day: date) -> None:
        """A new day starts: holds may step up (not while paused or waiting for a clinician)."""
        if self.day == day:
            return
        self.day = day
        if not self.causes or not self.paused:
            self.causes = []
            if self.see is None:
                for t in self.tracks.values():
                    t.new_day()

    def baseline(self, at: datetime) -> tuple[float | None, str | None]:
        while self.recent and (at - self.recent[0][0]).days >= BASELINE_DAYS:
            self.recent.popleft()
        first = median(self.first_pains) if self.first_pains else None
        recent = median(p for _, p in self.recent) if self.recent else None
        if first is None and recent is None:
            return None, None
        if recent is None or (first is not None and first <= recent):
            return first, f"your first {len(self.first_pains)} sessions"
        return recent, f"the last {BASELINE_DAYS} days"

    def feed(self, session: SessionRecord) -> None:
        self.advance(session.day)
        if (
            self.see is not None
            and self.clear_at is not None
            and self.see.at < self.clear_at
            and session.started_at > self.clear_at
        ):
            self._cleared()
        code, text = session._flag()
        pain = session.pain
        base, _ = self.baseline(session.started_at)
        rise = pain is not None and base is not None and pain - base >= PAIN_RISE_FLAG
        self.rises.append(pain if rise else None)
        creeping = [p for p in self.rises if p is not None]
        cause: Cause | None = None
        if code:
            cause = Cause(code, session.id, session.started_at, text)
        elif len(creeping) >= RISES_TO_PAUSE:
            cause = Cause(
                "pain_rise", session.id, session.started_at,
                # Ends so that the date said after it reads right ("..., the last of them
                # yesterday"), not as the date of the usual pain ("your usual 2 yesterday").
                f"pain was {' and '.join(f'{p}/10' for p in creeping)} in {len(creeping)} of "
                f"your last {len(self.rises)} sessions, {PAIN_RISE_FLAG} or more above your "
                f"usual {_num(base or 0)}/10, the last of them",
            )  # fmt: skip
        # A good day needs answers: pain known, spreading answered "no", no rise since last time.
        steady = (
            pain is not None
            and session.pain_spread is False
            and not rise
            and (self.last_answered is None or pain <= self.last_answered)
        )
        by_stretch: dict[str, list[HoldRecord]] = {}
        for h in session.holds:
            if h.exercise in self.tracks:
                by_stretch.setdefault(h.exercise, []).append(h)
        outcome = "flagged" if cause else ("good" if steady else "unsteady")
        for slug, holds in by_stretch.items():
            self.tracks[slug].done(session, holds, outcome)
        if cause is not None:
            self.causes.append(cause)
            self.flags_in_a_row += 1
            self.run.append(cause.code)
            self.good_days_since_flag = set()
            for t in self.tracks.values():
                t.step_back(cause)
            clinician = cause.code == "severe_pain" or (
                cause.code == "pain_rise" and len(creeping) >= RISES_TO_PAUSE
            )
            if clinician or self.flags_in_a_row >= FLAGS_FOR_CLINICIAN:
                self.see = cause
                self.see_run = tuple(self.run)
        elif session.finished_at is not None and by_stretch:
            self.flags_in_a_row = 0
            self.run = []
            if any(self.tracks[slug].last_outcome == "good" for slug in by_stretch):
                self.good_days_since_flag.add(session.day)
        if pain is not None:
            self.recent.append((session.started_at, pain))
            if not self.fixed_first and len(self.first_pains) < BASELINE_SESSIONS:
                self.first_pains.append(pain)
            self.last_answered = pain
        self.last_pain = pain

    def _cleared(self) -> None:
        """A clear symptoms check after the cause: a fresh start for the pain-rise count."""
        self.see = None
        self.rises.clear()
        self.flags_in_a_row = 0
        self.run = []

    def prescription(
        self, today: date, affected_side: str | None, now: datetime | None
    ) -> Prescription:
        if (
            self.see is not None
            and self.clear_at is not None
            and self.see.at < self.clear_at
            and (now is None or self.clear_at <= now)
        ):
            self._cleared()
        at = now or datetime.combine(today, time.max, tzinfo=UTC)
        base, base_from = self.baseline(at)
        return _prescription(self, today, affected_side, base, base_from)


def _ordered(history: Iterable[SessionRecord], today: date) -> list[SessionRecord]:
    return sorted((s for s in history if s.day <= today), key=lambda s: s.started_at)


def _start(
    library: Library,
    caps: Mapping[str, Caps] | None,
    first_pains: Sequence[int] | None,
    clear_at: datetime | None,
) -> _Replay:
    caps = dict(caps or {})
    try:
        _check_caps(library, caps)
    except KeyError as e:
        raise ValueError(f"clinician caps name an unknown variant: {e.args[0]}") from None
    return _Replay(library, caps, first_pains, clear_at)


def prescribe(
    library: Library,
    history: Iterable[SessionRecord],
    today: date,
    caps: Mapping[str, Caps] | None = None,
    *,
    affected_side: str | None = None,
    first_pains: Sequence[int] | None = None,
    clear_at: datetime | None = None,
) -> Prescription:
    """Today's prescription from the sessions so far (any order) and a clinician's caps.

    ``affected_side``: the leg with sciatica (from the screening); it goes second and holds one
    step less. ``first_pains``: the pains of the person's first sessions when ``history`` is only
    a recent window. ``clear_at``: the latest clear symptoms check, which lifts see_clinician.
    """
    state = _start(library, caps, first_pains, clear_at)
    for session in _ordered(history, today):
        state.feed(session)
    state.advance(today)
    return state.prescription(today, affected_side, None)


def replay(
    library: Library,
    history: Iterable[SessionRecord],
    today: date,
    caps: Mapping[str, Caps] | None = None,
    *,
    wanted: Iterable[str] = (),
    affected_side: str | None = None,
    first_pains: Sequence[int] | None = None,
    clear_at: datetime | None = None,
) -> tuple[dict[str, Prescription], Prescription]:
    """One pass over the history: the plan as it stood before each ``wanted`` session (for its
    day), and today's prescription. The same as calling ``prescribe`` once per session."""
    want = set(wanted)
    state = _start(library, caps, first_pains, clear_at)
    before: dict[str, Prescription] = {}
    for session in _ordered(history, today):
        state.advance(session.day)
        if session.id in want:
            before[session.id] = state.prescription(session.day, affected_side, session.started_at)
        state.feed(session)
    state.advance(today)
    return before, state.prescription(today, affected_side, None)


# --- today's prescription and its words ---------------------------------------------------------


def _prescription(
    state: _Replay,
    today: date,
    affected_side: str | None,
    baseline: float | None,
    baseline_from: str | None,
) -> Prescription:
    library, tracks, caps = state.library, state.tracks, state.caps
    notes: list[str] = []
    paused = state.paused_on(today)
    see = state.see
    active = [t for slug, t in tracks.items() if not caps.get(slug, Caps()).excluded]
    lying = [t for t in active if t.stretch.position == "lying"]
    others = [t for t in active if t.stretch.position != "lying"]
    gentlest = min(active, key=lambda t: t.stretch.gentleness).stretch if active else None
    causes = tuple(state.causes)
    if see is not None and see not in causes:
        causes = (see, *causes)  # the clinician question outlives the pause that came with it

    if paused and causes:
        last = causes[-1]
        if any(t.change == "down" for t in lying):
            what = "Holds are one step shorter"
        elif all(t.level <= t.floor for t in lying):
            what = "Holds stay at the first hold for each stretch"
        else:  # stepped back earlier, and done since at the shorter hold
            what = "Holds stay as they are"
        notes.append(
            f"Progression is paused: {last.text} {_when(last.day, today)}. {what} and will not "
            f"grow until {GOOD_DAYS_TO_STEP} sessions on different days go well."
        )
        # The gentlest stretch is no refuge when it is the one that hurt last time.
        hurt = gentlest is not None and tracks[gentlest.slug].hurt
        if gentlest is not None and not hurt:
            notes.append(
                f"Go gently: if a stretch hurts, stop it and do only the {gentlest.name.lower()}. "
                "If pain keeps rising or spreads down your leg, talk to a clinician."
            )
        elif gentlest is not None:
            notes.append(
                "Go gently: if a stretch hurts, stop it and rest. If pain keeps rising or "
                "spreads down your leg, talk to a clinician."
            )
    if see is not None:
        when = _when(see.day, today)
        # The run of flagged sessions that asked for a clinician, said as it was: a tester read
        # "pain spread ... in your last 4 sessions in a row" when it had spread once.
        n = len(state.see_run)
        spread = state.see_run.count("pain_spread")
        if see.code == "severe_pain":
            first = (
                f"Severe pain: {see.text} in the session {when} ({SEVERE_PAIN}/10 or more is "
                "severe)."
            )
        elif see.code == "pain_rise":
            first = f"Your pain is above your usual: {see.text} ({when})."
        elif see.code == "pain_spread" and spread == n:
            first = (
                f"Pain spread further down your leg in {n} sessions in a row, the last {when}."
                if n > 1
                else f"Pain spread further down your leg in the session {when}."
            )
        elif spread == 0:
            first = f"Pain has gone up in {n} sessions in a row ({see.text} {when})."
        else:
            first = (
                f"Pain went up or spread further down your leg in {n} sessions in a row "
                f"({see.text} {when})."
            )
        notes.insert(
            0,
            f"{first} Please contact your clinician before stretching further. Holds will not "
            "grow until you have answered the symptoms check again.",
        )

    chosen = list(lying)
    waiting = [t for t in lying if t.good_days_before(today) < LYING_GOOD_DAYS]
    for t in others:
        if paused or see is not None:
            notes.append(
                f"The {t.stretch.name.lower()} is left out while progression is paused: "
                "stretches lying on your back are gentler."
            )
        elif waiting and all(w.all_good_days >= LYING_GOOD_DAYS for w in waiting):
            notes.append(
                f"The {t.stretch.name.lower()} joins tomorrow: the lying stretches have now gone "
                f"well on {LYING_GOOD_DAYS} days each."
            )
        elif waiting:
            done = ", ".join(
                f"{w.stretch.name.lower()} {min(w.all_good_days, LYING_GOOD_DAYS)} of "
                f"{LYING_GOOD_DAYS}"
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
    side = affected_side if affected_side in ("left", "right") else None
    if side is not None:
        other = "right" if side == "left" else "left"
        notes.append(
            f"Your {side} leg has the sciatica: each stretch starts with the {other} leg, and "
            f"the {side} leg holds {AFFECTED_SIDE_STEPS} step less once holds have grown."
        )

    items = tuple(
        _item(t, caps.get(t.stretch.slug, Caps()), paused or see is not None, side, today)
        for t in chosen
    )
    return Prescription(
        today, items, paused or see is not None, see is not None, tuple(notes), causes,
        baseline, baseline_from, state.last_pain, side,
    )  # fmt: skip


def _gentler(s: Stretch) -> Variant | None:
    return next((v for v in s.variants if v.gentler), None)


def _variant(t: _Track, cap: Caps) -> tuple[Variant, str, tuple[str, str, str] | None]:
    s = t.stretch
    stool = next((v for v in s.variants if "stool" in v.props), None)
    gentle = _gentler(s)
    wants_gentle = bool(t.hurt) and gentle is not None and t.last_variant != gentle.slug
    offer = None
    if wants_gentle and gentle is not None:
        offer = (
            gentle.slug,
            gentle.name,
            f"Last time {t.hurt}: '{gentle.name.lower()}' is gentler. A stretch should be felt, "
            "not painful.",
        )
    wants_stool = not t.hurt and t.no_stretch and stool is not None and t.last_variant != stool.slug
    if cap.variant is not None:
        suggestion = ""
        if offer is not None and cap.variant != offer[0]:
            suggestion = f"Last time {t.hurt}. Ask your clinician about '{offer[1].lower()}'."
        elif wants_stool and stool is not None and cap.variant != stool.slug:
            suggestion = (
                f"You felt no stretch last time. Ask your clinician about '{stool.name.lower()}'."
            )
        return s.variant(cap.variant), suggestion, offer
    if offer is not None and gentle is not None:
        return (
            gentle,
            f"Last time {t.hurt}, so today: {gentle.name.lower()}, which is gentler.",
            offer,
        )
    if wants_stool and stool is not None:
        return (
            stool,
            (
                f"You felt no stretch last time, so today: {stool.name.lower()}. Flexible people "
                "may need the foot raised to feel the stretch."
            ),
            None,
        )
    if t.last_variant is not None and any(v.slug == t.last_variant for v in s.variants):
        return s.variant(t.last_variant), "", None
    return s.default_variant, "", None


def _item(t: _Track, cap: Caps, paused: bool, affected: str | None, today: date) -> Item:
    s = t.stretch
    variant, suggestion, offer = _variant(t, cap)
    sides = s.sides
    by_side: tuple[tuple[str, float], ...] = ()
    if affected in sides:
        sides = tuple(x for x in sides if x != affected) + (affected,)
        lower = t.clamp(t.level - AFFECTED_SIDE_STEPS * t.step)
        by_side = tuple((x, lower if x == affected else t.level) for x in sides)
    return Item(
        exercise=s.slug,
        name=s.name,
        variant=variant.slug,
        variant_name=variant.name,
        sides=sides,
        hold_s=t.level,
        goal_s=t.ceiling,
        reps_per_side=t.reps,
        rest_s=float(s.dose.rest_s.value),
        change=t.change,
        reason=_reason(t, cap, paused, today),
        suggestion=suggestion,
        offered_variants=tuple(v.slug for v in s.variants),
        hold_by_side=by_side,
        gentler=offer,
    )


def _reason(t: _Track, cap: Caps, paused: bool, today: date) -> str:
    hold = _s(t.level)
    if t.change == "start":
        return (
            f"{hold} today: the first hold for this stretch. A stretch should be felt, not painful."
        )
    if t.change == "up":
        return f"{hold} today, up one step: your last {GOOD_DAYS_TO_STEP} sessions went well."
    if t.change == "down" and t.why_down is not None:
        why = t.why_down
        return f"{hold} today, one step shorter: {why.text} {_when(why.day, today)}."
    if t.level >= t.ceiling and not paused:
        capped = t.ceiling != float(t.stretch.dose.hold_goal_s.value)
        limit = "your clinician's limit" if capped else "the goal for this stretch"
        return f"Holding {hold} today: that is {limit}."
    if paused:
        at_start = " (the first hold)" if t.level <= t.floor else ""
        return (
            f"Holding {hold}{at_start} today: progression is paused ({len(t.good_days)} of "
            f"{GOOD_DAYS_TO_STEP} good sessions since it was paused)."
        )
    if t.last_outcome == "short":
        return f"Holding {hold} today: last time not every hold was finished."
    if t.last_outcome == "flagged":
        return f"Holding {hold} today: last session was painful, so no step up."
    if t.last_outcome == "unsteady":
        return (
            f"Holding {hold} today: last time a pain answer was skipped or pain was higher than "
            "the time before, so that day does not count toward a step up."
        )
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
