"""What the API accepts. Strict types: "4" is not a pain score, and 11 is not either.

Every bound enforced here is also stated in the OpenAPI schema (minimum, maximum, maxItems,
enum), so a generated client knows it; the rules that no JSON Schema keyword can say (a date
near today, a variant of that stretch) are stated in the field's description.
"""

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal
from uuid import UUID

from django.utils import timezone
from ninja import Schema
from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    Field,
    StrictBool,
    StrictFloat,
    ValidationInfo,
    field_validator,
    model_validator,
)

from limber.accounts.device import valid_zone, zone_names
from limber.practice import quotas

# Limber's defaults, each with its reason:
# A hold is at most 30 s in the source article; ten minutes is a stuck timer, not a stretch
# (the camera socket refuses longer targets for the same reason).
MAX_HOLD_S = 600
# The spec files allow at most 20 reps a side: three stretches x two sides x 20 is 120 holds.
# 200 holds in one session is past any prescription, and bounds what one session can cost.
MAX_HOLDS = 200
# Limber did not exist before 2000: earlier dates are typos or a clock reset to its epoch. A day
# ahead allows for any time zone and a phone's clock a little fast; more is a wrong clock.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
FUTURE_SLACK = timedelta(days=1)


def _a_number(value: Any) -> Any:
    if isinstance(value, str | bytes | bool):
        raise ValueError("Input should be a valid integer")
    return value


# A whole number as JSON Schema means it: 4 or 4.0, never "4", true or 4.5.
def whole(lo: int, hi: int) -> Any:
    # The bounds before the validator, or the schema shows them as pydantic's "ge"/"le".
    return Annotated[int, Field(ge=lo, le=hi), BeforeValidator(_a_number)]


Pain = whole(0, 10)
Rep = whole(1, 50)
# StrictFloat takes whole numbers too, but not "4" or true; the bounds show in the schema.
Seconds = Annotated[StrictFloat, Field(ge=0, le=MAX_HOLD_S)]


def _library_enum(values) -> dict[str, Any]:
    # Read when the schema is generated (the first /openapi.json), not at import: the library
    # is the one the server was started with, so a new exercise file flows in by itself.
    def extra(schema: dict[str, Any]) -> None:
        from limber.library import get_library

        schema["enum"] = sorted(values(get_library()))

    return {"json_schema_extra": extra}


ExerciseSlug = Annotated[
    str,
    Field(
        min_length=1,
        max_length=100,
        description="The slug of a stretch in the library (GET /api/v1/exercises).",
        **_library_enum(lambda lib: {s.slug for s in lib.values()}),
    ),
]
VariantSlug = Annotated[
    str,
    Field(
        min_length=1,
        max_length=100,
        description="The slug of one of that stretch's variants.",
        **_library_enum(lambda lib: {v.slug for s in lib.values() for v in s.variants}),
    ),
]


def _moment(value: datetime) -> datetime:
    """A time Limber can store: in UTC without overflowing, from 2000 to a day from now."""
    try:
        utc = value.astimezone(UTC)
    except OverflowError:
        raise ValueError("the date is out of range") from None
    if utc < EARLIEST:
        raise ValueError("the date is before 2000")
    if utc > timezone.now() + FUTURE_SLACK:
        raise ValueError("the date is more than a day in the future")
    return value


MOMENT_RULE = "From 2000-01-01 to one day after the server's current time."


# The request bodies are plain pydantic models: ninja's Schema wraps each object (a session
# and every hold) in a validator that can read Django models, which a JSON body never needs.
class HoldIn(BaseModel):
    id: UUID
    exercise: ExerciseSlug
    variant: VariantSlug
    side: Literal["left", "right"]
    rep: Rep
    target_s: Annotated[StrictFloat, Field(gt=0, le=MAX_HOLD_S)]
    held_s: Seconds
    good_form_s: Annotated[
        Seconds | None, Field(description="At most held_s (half a second of slack).")
    ] = None
    stretch_felt: StrictBool | None = None
    too_strong: StrictBool | None = None
    pain: Pain | None = None
    knee_felt_deg: Annotated[
        StrictFloat | None,
        Field(
            ge=0,
            le=180,
            description="The knee's angle (degrees, from the camera) at which the person said "
            "they feel the stretch; the camera counted good form from there.",
        ),
    ] = None

    @model_validator(mode="after")
    def _good_form_within_hold(self) -> "HoldIn":
        if self.good_form_s is not None and self.good_form_s > self.held_s + 0.5:
            raise ValueError("good_form_s cannot be longer than held_s")
        return self


class SessionIn(BaseModel):
    id: UUID
    started_at: Annotated[AwareDatetime, Field(description=MOMENT_RULE)]
    finished_at: Annotated[
        AwareDatetime | None,
        Field(description=MOMENT_RULE + " Not before started_at, at most 12 hours after it."),
    ] = None
    pain_before: Pain | None = None
    pain_after: Pain | None = None
    pain_spread: StrictBool | None = None
    holds: Annotated[
        list[HoldIn],
        Field(max_length=MAX_HOLDS, description="Each hold's id once; at most 200 per session."),
    ] = []

    @field_validator("started_at")
    @classmethod
    def _start(cls, value: datetime) -> datetime:
        return _moment(value)

    @field_validator("finished_at")
    @classmethod
    def _finish(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        if value is None:
            return None
        _moment(value)
        started = info.data.get("started_at")  # absent when it was itself invalid
        if started is not None and (problem := quotas.finish_problem(started, value)):
            raise ValueError(problem)
        return value

    @model_validator(mode="after")
    def _holds_once(self) -> "SessionIn":
        ids = [h.id for h in self.holds]
        if len(set(ids)) != len(ids):
            raise ValueError("two holds share an id")
        return self


def _question_ids() -> dict[str, Any]:
    # The red-flag questions come from the core, so a question added there is in the schema too.
    def extra(schema: dict[str, Any]) -> None:
        from limber.core.screening import QUESTIONS

        ids = [q.id for q in QUESTIONS]
        schema["propertyNames"] = {"enum": ids}
        schema["required"] = ids

    return {"json_schema_extra": extra}


class ScreeningIn(Schema):
    answers: Annotated[dict[str, StrictBool], Field(**_question_ids())]
    # Which leg has the sciatica; "both" is itself a red flag. Left out: the earlier answer stands.
    affected_side: Literal["left", "right", "both"] | None = None
    # "A clinician has seen me about this": needed, with a clear answer, to lift an earlier flag.
    seen_clinician: StrictBool = False


class TimeZoneIn(Schema):
    # An IANA time zone, as a browser's Intl.DateTimeFormat().resolvedOptions().timeZone says it.
    # The schema lists the names (an enum), so a client knows which are taken; the check is the
    # validator's, for a one-line answer instead of pydantic's list of 597 choices.
    time_zone: Annotated[
        str,
        Field(
            min_length=1,
            max_length=64,
            examples=["Europe/London"],
            json_schema_extra=lambda schema: schema.update(enum=zone_names()),
        ),
    ]

    @field_validator("time_zone")
    @classmethod
    def known(cls, value: str) -> str:
        if not valid_zone(value):
            raise ValueError("not a time zone this server knows (an IANA name: 'Europe/London')")
        return value


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
    too_strong: bool | None = None
    pain: int | None
    knee_felt_deg: float | None = None


# Sent as stored, in UTC with "+00:00": the same text in every answer and in the export.
Timestamp = Annotated[str, Field(json_schema_extra={"format": "date-time"})]


class SessionOut(Schema):
    id: UUID
    started_at: Timestamp
    finished_at: Timestamp | None
    pain_before: int | None
    pain_after: int | None
    pain_spread: bool | None
    holds: list[HoldOut]


class HistoryOut(Schema):
    sessions: list[SessionOut]
    next: str | None = Field(
        description="Pass as ?before= for the next, older page; null on the last page."
    )


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
