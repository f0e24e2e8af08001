"""What the API accepts. Strict types: "4" is not a pain score, and 11 is not either."""

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from ninja import Schema
from pydantic import AwareDatetime, Field, StrictBool, StrictFloat, StrictInt, model_validator

MAX_HOLD_S = 3600  # a hold longer than an hour is a stuck timer, not a stretch
MAX_HOLDS = 200

Pain = Annotated[StrictInt, Field(ge=0, le=10)]
Seconds = Annotated[StrictFloat | StrictInt, Field(ge=0, le=MAX_HOLD_S)]


class HoldIn(Schema):
    id: UUID
    exercise: Annotated[str, Field(min_length=1, max_length=100)]
    variant: Annotated[str, Field(min_length=1, max_length=100)]
    side: Literal["left", "right"]
    rep: Annotated[StrictInt, Field(ge=1, le=50)]
    target_s: Annotated[StrictFloat | StrictInt, Field(gt=0, le=MAX_HOLD_S)]
    held_s: Seconds
    good_form_s: Seconds | None = None
    stretch_felt: StrictBool | None = None
    pain: Pain | None = None

    @model_validator(mode="after")
    def _good_form_within_hold(self) -> "HoldIn":
        if self.good_form_s is not None and self.good_form_s > self.held_s + 0.5:
            raise ValueError("good_form_s cannot be longer than held_s")
        return self


class SessionIn(Schema):
    id: UUID
    started_at: AwareDatetime
    finished_at: AwareDatetime | None = None
    pain_before: Pain | None = None
    pain_after: Pain | None = None
    pain_spread: StrictBool | None = None
    holds: Annotated[list[HoldIn], Field(max_length=MAX_HOLDS)] = []

    @model_validator(mode="after")
    def _finish_after_start(self) -> "SessionIn":
        if self.finished_at is not None and self.finished_at < self.started_at:
            raise ValueError("finished_at is before started_at")
        ids = [h.id for h in self.holds]
        if len(set(ids)) != len(ids):
            raise ValueError("two holds share an id")
        return self


class ScreeningIn(Schema):
    answers: dict[str, StrictBool]
    # Which leg has the sciatica; "both" is itself a red flag. Left out: the earlier answer stands.
    affected_side: Literal["left", "right", "both"] | None = None
    # "A clinician has seen me about this": needed, with a clear answer, to lift an earlier flag.
    seen_clinician: StrictBool = False


class ErrorDetail(Schema):
    status: int
    code: str
    message: str
    field: str | None = None


class ErrorOut(Schema):
    error: ErrorDetail


class HoldOut(Schema):
    id: UUID
    exercise: str
    variant: str
    side: str
    rep: int
    target_s: float
    held_s: float
    good_form_s: float | None
    stretch_felt: bool | None
    pain: int | None


class SessionOut(Schema):
    id: UUID
    started_at: datetime
    finished_at: datetime | None
    pain_before: int | None
    pain_after: int | None
    pain_spread: bool | None
    holds: list[HoldOut]


class QuestionOut(Schema):
    id: str
    text: str


class ScreeningOut(Schema):
    questions: list[QuestionOut]
    latest: dict | None = None


class ScreeningResultOut(Schema):
    flagged: bool
    flags: list[str]
    message: str
    created: datetime
