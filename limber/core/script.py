"""The session script: today's prescription as timed steps that any player can execute.

The browser (or any other player) plays the steps in order, says ``say`` (or, one by one,
``lines``), shows ``title`` and ``text``, waits ``seconds`` for a timed step and asks the questions
of a ``check_in``. It holds no dosage logic of its own: every hold, rep and rest comes from here.
Everything a person needs is spoken, so a session can be followed lying on the floor.

- ``pre_check`` (untimed): "Any new or worse symptoms since last time?"; yes leads to the full
  symptoms check (``if_yes``) instead of the session. Then a ``check_in`` for ``pain_before``.
- For each stretch, in the prescription's order: ``intro`` speaks each of the stretch's own set-up
  steps (its spec's ``steps``), and for a lying stretch the warning to ease off at tingling or
  pain below the knee; it waits for "I'm ready" (``wait_for_ready``), starting by itself after
  ``seconds`` (``SETUP_AUTO_S``, stated in ``text``).
- One leg at a time, as the source says ("one leg at a time", "3 times for each leg"): all reps
  of the first side (the unaffected leg when one has sciatica), then ``switch_side`` with the
  stretch's own instructions (the wall stretch: the other side of the door frame), waiting for
  ready too (``SWITCH_AUTO_S``), then the other side. Each rep is a ``get_ready`` countdown of
  ``GET_READY_S`` and a ``hold``: its ``say`` starts with the stretch's start cue, and holds of
  ``CUE_MIN_HOLD_S`` or more carry calm ``cues`` (halfway, "5 more seconds"), and every hold
  carries the stretch's own ``release`` cue for the player to say as the hold ends.
- ``check_in`` (untimed): did you feel a stretch, and pain now (0-10); every question may be
  skipped (``skippable``), which stores null.

Then a final ``check_in`` (``final`` is true): pain now and whether it spread down the leg (the
session's ``pain_after`` and ``pain_spread``), and ``done``. Never past "a stretch is felt":
every start cue ends with ``GENTLE`` and the first hold says ``FELT_NOT_PAINFUL`` (DESIGN.md §6).

``seconds_scale`` shortens every timed step for automated runs; hold steps keep the prescribed
hold in ``target_s`` so a player logs the prescription, not the scaled time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from limber.core.progression import Item, Prescription, Rule
from limber.core.spec import Library

__all__ = [
    "CUE_MIN_HOLD_S",
    "EASE_OFF",
    "FELT_NOT_PAINFUL",
    "GENTLE",
    "GET_READY_S",
    "KINDS",
    "NEW_SYMPTOMS",
    "SETUP_AUTO_S",
    "SETUP_S",
    "SWITCH_AUTO_S",
    "SWITCH_MIN_S",
    "Script",
    "Step",
    "build_script",
]

KINDS = ("pre_check", "intro", "get_ready", "hold", "rest", "switch_side", "check_in", "done")
# Limber's defaults for the timings, with why:
GET_READY_S = 5  # a countdown long enough to breathe out and start moving slowly
# Set-up and changing legs wait for "I'm ready"; these are the stated auto-start times. Getting
# down to the floor with a towel, or round a door frame, takes a minute for someone in pain.
SETUP_AUTO_S = 60
SWITCH_AUTO_S = 45
SETUP_S = SETUP_AUTO_S  # the name older players and tests use
SWITCH_MIN_S = SWITCH_AUTO_S  # the name older players and tests use
CUE_MIN_HOLD_S = 20  # the issue: holds of 20 s or more get a halfway and a "5 more seconds" cue
LAST_SECONDS = 5
FELT_NOT_PAINFUL = "A stretch should be felt, not painful."
# DESIGN.md §6: never past "a stretch is felt"; tingling or pain below the knee means ease off.
GENTLE = "Only as far as you feel a gentle stretch."
EASE_OFF = "Ease off if you feel tingling or pain below the knee."
NEW_SYMPTOMS = "Any new or worse symptoms since last time?"
# The first session follows the first symptoms check: there is no "last time" yet.
NEW_SYMPTOMS_FIRST = "Any new or worse symptoms since your symptoms check?"
# Where "yes" to new or worse symptoms leads: the symptoms check, which then says why it is asked.
NEW_SYMPTOMS_URL = "/screening/?after=new-symptoms"

TIMING_RULES = (
    Rule(
        "get_ready", "Get ready before each hold", f"{GET_READY_S} s", "default", "",
        "Long enough to breathe out and start moving slowly.",
    ),
    Rule(
        "set_up", "Getting into position", f"waits for 'I'm ready'; starts by itself after "
        f"{SETUP_AUTO_S} s", "default", "",
        "Getting down to the floor with a towel takes a while when you are in pain; the "
        "session waits for you.",
    ),
    Rule(
        "change_legs", "Changing legs", f"waits for 'I'm ready'; starts by itself after "
        f"{SWITCH_AUTO_S} s", "default", "",
        "Moving round a door frame or changing position takes time.",
    ),
    Rule(
        "hold_cues", "Cues during a hold", f"halfway and {LAST_SECONDS} s before the end, for "
        f"holds of {CUE_MIN_HOLD_S} s or more", "default", "",
        "So you can keep your eyes closed and still know where you are.",
    ),
    Rule(
        "gentle", "How far to stretch", "only until a gentle stretch is felt", "source",
        "The article: 'until a stretch is felt in the back of the thigh'",
        "Never further: tingling or pain below the knee means ease off.",
    ),
)  # fmt: skip

LEG = {"left": "left leg", "right": "right leg"}


@dataclass(frozen=True)
class Step:
    kind: str
    seconds: float  # 0 for check_in and done: the player waits for the person
    title: str
    say: str
    text: str
    exercise: str | None = None
    variant: str | None = None
    side: str | None = None
    rep: int | None = None
    of: int | None = None
    target_s: float | None = None  # hold steps: the prescribed hold, unscaled
    asks: tuple[str, ...] = ()  # check_in steps: the record fields the answers fill
    final: bool = False
    lines: tuple[str, ...] = ()  # what to say, one line at a time (``say`` is them joined)
    wait_for_ready: bool = False  # show "I'm ready"; ``seconds`` is then the auto-start time
    cues: tuple[tuple[float, str], ...] = ()  # hold steps: (seconds into the hold, what to say)
    start_cue: str = ""  # hold steps: what to move as the hold starts
    release: str = ""  # hold steps: the stretch's own release cue, said as the hold ends
    caution: str = ""
    skippable: bool = False  # check-ins: each answer may be skipped, stored as null
    if_yes: str = ""  # pre_check: where "yes" leads

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "seconds": _num(self.seconds),
            "title": self.title,
            "say": self.say,
            "text": self.text,
            "exercise": self.exercise,
            "variant": self.variant,
            "side": self.side,
            "rep": self.rep,
            "of": self.of,
            "target_s": None if self.target_s is None else _num(self.target_s),
            "asks": list(self.asks),
            "final": self.final,
            "lines": list(self.lines) or [self.say],
            "wait_for_ready": self.wait_for_ready,
            "auto_start_s": _num(self.seconds) if self.wait_for_ready else None,
            "cues": [{"at_s": _num(at), "say": say} for at, say in self.cues],
            "start_cue": self.start_cue,
            "release": self.release,
            "caution": self.caution,
            "skippable": self.skippable,
            "if_yes": self.if_yes,
        }


@dataclass(frozen=True)
class Script:
    date: str
    steps: tuple[Step, ...]
    seconds_scale: float = 1.0

    @property
    def total_s(self) -> float:
        """Timed seconds from the first step to the last; check-ins add whatever they take."""
        return round(sum(s.seconds for s in self.steps), 3)

    def to_dict(self) -> dict[str, Any]:
        return {
            "date": self.date,
            "seconds_scale": _num(self.seconds_scale),
            "total_s": _num(self.total_s),
            "steps": [s.to_dict() for s in self.steps],
        }


def _num(x: float) -> int | float:
    return int(x) if float(x).is_integer() else x


def _leg(side: str | None) -> str:
    return LEG.get(side, side) if side else "both legs"


def build_script(
    prescription: Prescription, library: Library, seconds_scale: float = 1.0
) -> Script:
    """The steps that play ``prescription``; ``seconds_scale`` < 1 for fast automated runs."""
    if not seconds_scale > 0:
        raise ValueError("seconds_scale must be above 0")

    def t(seconds: float) -> float:
        return round(seconds * seconds_scale, 3)

    steps: list[Step] = []
    if prescription.items:
        # No stretch begun yet: the first session.
        ask = (
            NEW_SYMPTOMS_FIRST
            if all(i.change == "start" for i in prescription.items)
            else NEW_SYMPTOMS
        )
        steps.append(
            Step(
                "pre_check",
                0,
                "Before you start",
                ask,
                f"{ask} If yes, answer the symptoms check first.",
                asks=("new_symptoms",),
                if_yes=NEW_SYMPTOMS_URL,
            )  # fmt: skip
        )
        steps.append(
            Step(
                "check_in",
                0,
                "Pain before you start",
                "How much pain do you have now, from 0 to 10?",
                "Pain now (0 = none, 10 = worst).",
                asks=("pain_before",),
                skippable=True,
            )  # fmt: skip
        )
    for item in prescription.items:
        steps.extend(_stretch_steps(item, library, t))
    if prescription.items:
        steps.append(
            Step(
                "check_in",
                0,
                "How are you now?",
                "Well done. How much pain do you have now, from 0 to 10? "
                "And did any pain spread further down your leg?",
                "Pain now (0 = none, 10 = worst). Did pain spread further down your leg?",
                asks=("pain_after", "pain_spread"),
                final=True,
                skippable=True,
            )
        )
    steps.append(Step("done", 0, "Done", "That's today's session.", "That's today's session."))
    return Script(prescription.date.isoformat(), tuple(steps), seconds_scale)


def _joined(lines: tuple[str, ...]) -> str:
    return " ".join(line for line in lines if line)


def _hold_cues(hold_s: float, t: Callable[[float], float]) -> tuple[tuple[float, str], ...]:
    if hold_s < CUE_MIN_HOLD_S:
        return ()
    return (
        (t(hold_s / 2), f"Halfway. Keep breathing easily. {GENTLE}"),
        (t(hold_s - LAST_SECONDS), f"{LAST_SECONDS} more seconds."),
    )


def _stretch_steps(item: Item, library: Library, t: Callable[[float], float]) -> list[Step]:
    stretch = library[item.exercise]
    variant = stretch.variant(item.variant)
    sides: tuple[str | None, ...] = item.sides if stretch.one_side_at_a_time else (None,)
    reps = item.reps_per_side
    cues = stretch.cues
    release = cues.release.text
    how = " ".join(step.text for step in stretch.steps)
    caution = EASE_OFF if stretch.position == "lying" else ""

    def step(
        kind: str,
        seconds: float,
        title: str,
        say: str,
        text: str,
        side: str | None = None,
        rep: int | None = None,
        target_s: float | None = None,
        asks: tuple[str, ...] = (),
        **more: Any,
    ) -> Step:
        of = reps if rep is not None else None
        return Step(
            kind, seconds, title, say, text, item.exercise, item.variant, side, rep, of,
            target_s, asks, **more,
        )  # fmt: skip

    holds = {side: _num(item.side_hold(side)) for side in sides}
    dose = (
        " ".join(f"{reps} × {hold} s for the {_leg(side)}." for side, hold in holds.items())
        if len(set(holds.values())) > 1
        else f"{reps} × {next(iter(holds.values()))} s for each leg."
    )
    setup = (
        f"{stretch.name}, {variant.name.lower()}.",
        *(s.text for s in stretch.steps),
        *((caution,) if caution else ()),
        "Get into position, and tell me when you are ready.",
    )
    steps = [
        step(
            "intro",
            t(SETUP_AUTO_S),
            stretch.name,
            _joined(setup),
            f"{variant.name}: {how} {dose} Starts by itself after {SETUP_AUTO_S} s.",
            lines=setup,
            wait_for_ready=True,
            caution=caution,
        )
    ]
    first = True
    for n, side in enumerate(sides):
        leg = _leg(side)
        hold_s = item.side_hold(side)
        hold = _num(hold_s)
        if n > 0:
            lines = (cues.switch.text, f"Now the {leg}. Tell me when you are ready.")
            steps.append(
                step(
                    "switch_side",
                    t(SWITCH_AUTO_S),
                    "Change legs",
                    _joined(lines),
                    f"Change to the {leg}: {cues.switch.text} Starts by itself after "
                    f"{SWITCH_AUTO_S} s.",
                    side,
                    lines=lines,
                    wait_for_ready=True,
                )
            )
        for rep in range(1, reps + 1):
            steps.append(
                step(
                    "get_ready",
                    t(GET_READY_S),
                    "Get ready",
                    f"{leg.capitalize()}, {rep} of {reps}. Get ready, and move slowly.",
                    f"{leg.capitalize()}, hold {rep} of {reps}: starting in {GET_READY_S} s.",
                    side,
                    rep,
                )
            )
            felt = f" {FELT_NOT_PAINFUL}" if first else ""
            start = f"{cues.start.text} {GENTLE}"
            steps.append(
                step(
                    "hold",
                    t(hold_s),
                    stretch.name,
                    f"{start} Hold for {hold} seconds, breathing easily.{felt}",
                    f"Hold {hold} s.{felt}",
                    side,
                    rep,
                    target_s=hold_s,
                    cues=_hold_cues(hold_s, t),
                    start_cue=start,
                    release=release,
                )
            )
            first = False
            if rep < reps and item.rest_s > 0:
                rest = f"Rest {_num(item.rest_s)} s."
                steps.append(step("rest", t(item.rest_s), "Rest", "Rest.", rest, side, rep))
    steps.append(
        step(
            "check_in",
            0,
            f"How was the {stretch.name.lower()}?",
            "How did the back of your thigh feel: no stretch, a gentle stretch, or too strong? "
            "And how much pain do you have, from 0 to 10?",
            "No stretch, a gentle stretch, or too strong? Pain now (0 = none, 10 = worst).",
            # One question fills both: "too strong" is a stretch felt, and one that was too much.
            asks=("stretch_felt", "too_strong", "pain"),
            skippable=True,
        )
    )
    return steps
