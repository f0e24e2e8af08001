"""Red-flag screening (DESIGN.md §6): questions, why each is asked, and what a flagged answer means.

Two kinds of red flag. *Urgent* ones are the NHS signs of cauda equina syndrome (pressure on the
nerves at the base of the spine): the person must go to an emergency department or call the
emergency number now. *Doctor* ones are what a physiotherapist asks before any exercise programme
(signs of infection, cancer, fracture, a worsening nerve, or surgery): see a doctor before starting.

A flagged answer blocks practice. A later clear answer lifts it only together with "a clinician has
seen me about this", or when the person's clinician clears it (``store.clear_screening``). A full
screening older than ``MAX_AGE_DAYS`` is asked again, and every session starts with the short
``PRE_SESSION`` question; "yes" leads back to the full screening.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

__all__ = [
    "CLEAR",
    "DOCTOR",
    "MAX_AGE_DAYS",
    "PRE_SESSION",
    "QUESTIONS",
    "SIDES",
    "URGENT",
    "Question",
    "ScreeningError",
    "ScreeningResult",
    "evaluate",
    "evaluate_stored",
]

# Limber's default, from DESIGN.md §6 ("at least monthly"): symptoms of sciatica change over
# weeks, and a month is the usual interval between physiotherapy reviews of a home programme.
MAX_AGE_DAYS = 30
SIDES = ("left", "right", "both")
PRE_SESSION = "Any new or worse symptoms since last time?"

NHS_SCIATICA = "NHS, Sciatica: 'Call 999 or go to A&E if you have…' (nhs.uk/conditions/sciatica)"
RED_FLAGS = (
    "NICE CKS, Sciatica (lumbar radiculopathy): red flags for serious causes; "
    "NHS, Back pain: 'See a GP if…'"
)


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    reason: str  # plain words: why this is asked
    urgency: str  # "urgent" (emergency now) or "doctor" (see a doctor before starting)
    source: str = NHS_SCIATICA


QUESTIONS = (
    Question(
        "both_legs",
        "Do you have sciatica (pain, tingling or numbness) in both legs?",
        "Sciatica in both legs at once can mean pressure on several nerves at the base of the "
        "spine, which needs checking straight away.",
        "urgent",
    ),
    Question(
        "weakness",
        "Do you have severe or worsening weakness or numbness in both legs?",
        "Weakness in both legs can mean the nerves are being squeezed hard enough to stop "
        "working, which needs treatment quickly.",
        "urgent",
    ),
    Question(
        "saddle_numbness",
        "Do you have numbness around your genitals or back passage (the parts you would sit "
        "on in a saddle)?",
        "Numbness there is a sign of pressure on the nerves at the base of the spine (cauda "
        "equina syndrome), which is an emergency.",
        "urgent",
    ),
    Question(
        "bladder",
        "Have you had new trouble starting to pass urine, or controlling it?",
        "The same nerves control the bladder; a change can be the first sign of an emergency.",
        "urgent",
    ),
    Question(
        "bowel",
        "Have you lost control of your bowels?",
        "The same nerves control the bowel; losing control is an emergency.",
        "urgent",
    ),
    Question(
        "fever",
        "Do you have a fever, or feel generally unwell, along with the back pain?",
        "Back pain with a fever can be an infection of the spine, which stretching will not help.",
        "doctor",
        RED_FLAGS,
    ),
    Question(
        "weight_loss",
        "Have you lost weight recently without trying?",
        "Unexplained weight loss with back pain needs a doctor to rule out a serious cause.",
        "doctor",
        RED_FLAGS,
    ),
    Question(
        "cancer",
        "Have you ever had cancer?",
        "Back pain after cancer needs a doctor to check that it is not the cancer coming back.",
        "doctor",
        RED_FLAGS,
    ),
    Question(
        "injury",
        "Have you had a recent fall, accident or injury to your back?",
        "After a fall or blow, a doctor should first make sure that no bone is broken.",
        "doctor",
        RED_FLAGS,
    ),
    Question(
        "one_leg_weakness",
        "Is weakness or numbness in one leg getting worse, or does your foot drop or catch "
        "when you walk?",
        "A nerve that is getting weaker needs a doctor's assessment before exercises, which "
        "could stretch it further.",
        "doctor",
        RED_FLAGS,
    ),
    Question(
        "night_pain",
        "Do you have pain at night that does not ease when you rest or change position?",
        "Pain that rest does not ease is not typical of a strained back and needs a doctor to "
        "look for another cause.",
        "doctor",
        RED_FLAGS,
    ),
    Question(
        "surgery",
        "Have you had surgery on your spine or hip in the last year?",
        "After spine or hip surgery (a hip replacement especially) bending the hip to 90°, as "
        "these stretches do, may be against your surgeon's precautions.",
        "doctor",
        "Hip replacement precautions (NHS trusts' patient leaflets): avoid bending the hip "
        "past 90° while it heals; Limber's default: ask about the spine too.",
    ),
)
URGENT_IDS = frozenset(q.id for q in QUESTIONS if q.urgency == "urgent")

URGENT = (
    "Please do not stretch. These symptoms can mean pressure on the nerves at the base of the "
    "spine, which needs urgent medical care: go to an emergency department or call the "
    "emergency number (999 in the UK, 112 in Europe, 911 in North America) now."
)
DOCTOR = (
    "Please do not start these stretches yet: see a doctor about this first. When a clinician "
    "has seen you, answer the check again and say so, or ask your clinician to clear it."
)
CLEAR = (
    "No red flags. Limber is not a medical device: if your symptoms change or get worse, "
    "answer these questions again, and stop any stretch that hurts."
)


@dataclass(frozen=True)
class ScreeningResult:
    flagged: bool
    flags: tuple[str, ...]
    message: str

    @property
    def urgent(self) -> bool:
        return any(f in URGENT_IDS for f in self.flags)

    @property
    def action(self) -> str:
        """ "emergency", "doctor" or "none"."""
        if self.urgent:
            return "emergency"
        return "doctor" if self.flagged else "none"


class ScreeningError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def evaluate_stored(answers: Mapping[str, object], affected_side: str | None) -> ScreeningResult:
    """Judge answers as stored: a check made before a question was added has no answer to it,
    and one made before a question was dropped has one too many. Only a "yes" given counts as a
    red flag; `evaluate`, for new answers, refuses both (a stored check must never make a page
    fail, as it would the day a question is added)."""
    given = {q.id: answers.get(q.id) is True for q in QUESTIONS}
    side = affected_side if affected_side in SIDES else None
    return evaluate(given, side)


def evaluate(answers: Mapping[str, object], affected_side: str | None = None) -> ScreeningResult:
    """Judge a complete set of yes/no answers (True = the red flag is present).

    ``affected_side`` "both" is the both-legs red flag, whatever ``both_legs`` says.
    """
    ids = [q.id for q in QUESTIONS]
    for key in answers:
        if key not in ids:
            raise ScreeningError(f"answers.{key}", f"unknown question {key!r}")
    for qid in ids:
        if qid not in answers:
            raise ScreeningError(f"answers.{qid}", f"question {qid!r} is not answered")
        if not isinstance(answers[qid], bool):
            raise ScreeningError(f"answers.{qid}", "each answer must be true or false")
    if affected_side is not None and affected_side not in SIDES:
        raise ScreeningError("affected_side", "affected_side must be left, right or both")
    present = {qid for qid in ids if answers[qid]}
    if affected_side == "both":
        present.add("both_legs")
    flags = tuple(qid for qid in ids if qid in present)
    if not flags:
        return ScreeningResult(False, (), CLEAR)
    urgent = any(f in URGENT_IDS for f in flags)
    return ScreeningResult(True, flags, URGENT if urgent else DOCTOR)
