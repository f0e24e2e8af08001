"""The session script: today's prescription as timed steps that any player can execute.

The browser (or any other player) plays the steps in order, says ``say``, shows ``title`` and
``text``, waits ``seconds`` for a timed step and asks the questions of a ``check_in``. It holds no
dosage logic of its own: every hold, rep and rest comes from here.

For each stretch, in the prescription's order:

- ``intro``: the stretch, the variant and its steps, ``SETUP_S`` to get into position;
- one leg at a time, as the source says ("one leg at a time", "3 times for each leg"): all reps
  of the first side, then ``switch_side``, then all reps of the other side. Each rep is a
  ``get_ready`` countdown of ``GET_READY_S`` and a ``hold`` of the prescribed seconds; holds on
  the same leg are separated by a ``rest`` of the spec's ``rest_s``. Changing legs takes
  ``rest_s`` too, but at least ``SWITCH_MIN_S`` (moving to the other side of a door jamb is
  slower than resting a leg);
- ``check_in`` (untimed): did you feel a stretch, and pain now (0-10). The answers belong to
  that stretch's holds (``stretch_felt`` and ``pain``).

Then a final ``check_in`` (``final`` is true): pain now and whether it spread down the leg (the
session's ``pain_after`` and ``pain_spread``), and ``done``. The first hold of every stretch says
"a stretch should be felt, not painful" (DESIGN.md §6).

``seconds_scale`` shortens every timed step for automated runs; hold steps keep the prescribed
hold in ``target_s`` so a player logs the prescription, not the scaled time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from limber.core.progression import Item, Prescription
from limber.core.spec import Library

__all__ = [
    "FELT_NOT_PAINFUL",
    "GET_READY_S",
    "KINDS",
    "SETUP_S",
    "SWITCH_MIN_S",
    "Script",
    "Step",
    "build_script",
]

KINDS = ("intro", "get_ready", "hold", "rest", "switch_side", "check_in", "done")
GET_READY_S = 5  # a countdown long enough to breathe out and start moving slowly
SETUP_S = 20  # lying down or sitting at a chair, towel in hand
SWITCH_MIN_S = 10
FELT_NOT_PAINFUL = "A stretch should be felt, not painful."

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
            )
        )
    steps.append(Step("done", 0, "Done", "That's today's session.", "That's today's session."))
    return Script(prescription.date.isoformat(), tuple(steps), seconds_scale)


def _stretch_steps(item: Item, library: Library, t: Callable[[float], float]) -> list[Step]:
    stretch = library[item.exercise]
    variant = stretch.variant(item.variant)
    sides: tuple[str | None, ...] = item.sides if stretch.one_side_at_a_time else (None,)
    reps = item.reps_per_side
    hold = _num(item.hold_s)
    how = " ".join(step.text for step in stretch.steps)

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
    ) -> Step:
        of = reps if rep is not None else None
        return Step(
            kind, seconds, title, say, text, item.exercise, item.variant, side, rep, of,
            target_s, asks,
        )  # fmt: skip

    steps = [
        step(
            "intro",
            t(SETUP_S),
            stretch.name,
            f"{stretch.name}, {variant.name.lower()}. {stretch.summary} Get into position.",
            f"{variant.name}: {how} {reps} × {hold} s for each leg.",
        )
    ]
    first = True
    for n, side in enumerate(sides):
        leg = _leg(side)
        if n > 0:
            steps.append(
                step(
                    "switch_side",
                    t(max(item.rest_s, SWITCH_MIN_S)),
                    "Change legs",
                    f"Relax. Now get ready for the {leg}.",
                    f"Change to the {leg}.",
                    side,
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
            cue = f" {FELT_NOT_PAINFUL}" if first else ""
            steps.append(
                step(
                    "hold",
                    t(item.hold_s),
                    stretch.name,
                    f"Hold for {hold} seconds, breathing easily.{cue}",
                    f"Hold {hold} s.{cue}",
                    side,
                    rep,
                    target_s=item.hold_s,
                )
            )
            first = False
            if rep < reps and item.rest_s > 0:
                steps.append(
                    step(
                        "rest",
                        t(item.rest_s),
                        "Rest",
                        "Slowly let go, and rest.",
                        f"Rest {_num(item.rest_s)} s.",
                        side,
                        rep,
                    )
                )
    steps.append(
        step(
            "check_in",
            0,
            f"How was the {stretch.name.lower()}?",
            "Did you feel a stretch in the back of your thigh? And how much pain do you have, "
            "from 0 to 10?",
            "Did you feel a stretch? Pain now (0 = none, 10 = worst).",
            asks=("stretch_felt", "pain"),
        )
    )
    return steps
