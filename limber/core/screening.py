"""Red-flag screening (DESIGN.md §6): questions, and what a flagged answer means.

These are the symptoms for which sciatica needs urgent medical care rather than stretches at
home. A "yes" to any of them stops practice until the person answers again without one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["QUESTIONS", "Question", "ScreeningResult", "evaluate"]


@dataclass(frozen=True)
class Question:
    id: str
    text: str


QUESTIONS = (
    Question("both_legs", "Do you have sciatica (pain, tingling or numbness) in both legs?"),
    Question(
        "weakness",
        "Do you have severe or worsening weakness or numbness in both legs?",
    ),
    Question(
        "saddle_numbness",
        "Do you have numbness around your genitals or back passage (the parts you would sit "
        "on in a saddle)?",
    ),
    Question(
        "bladder",
        "Have you had new trouble starting to pass urine, or controlling it?",
    ),
    Question("bowel", "Have you lost control of your bowels?"),
)

URGENT = (
    "Please do not stretch now. These symptoms can mean pressure on the nerves at the base "
    "of the spine, which needs urgent medical care: call your doctor or emergency services "
    "today, or go to an emergency department."
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


class ScreeningError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def evaluate(answers: Mapping[str, object]) -> ScreeningResult:
    """Judge a complete set of yes/no answers (True = the red flag is present)."""
    ids = [q.id for q in QUESTIONS]
    for key in answers:
        if key not in ids:
            raise ScreeningError(f"answers.{key}", f"unknown question {key!r}")
    for qid in ids:
        if qid not in answers:
            raise ScreeningError(f"answers.{qid}", f"question {qid!r} is not answered")
        if not isinstance(answers[qid], bool):
            raise ScreeningError(f"answers.{qid}", "each answer must be true or false")
    flags = tuple(qid for qid in ids if answers[qid])
    return ScreeningResult(bool(flags), flags, URGENT if flags else CLEAR)
