from typing import Annotated
from uuid import UUID

from django.http import Http404, JsonResponse
from django.utils import timezone
from ninja import Query, Status

from limber.accounts.models import Profile
from limber.api import api, error
from limber.api.schemas import (
    ErrorOut,
    HistoryOut,
    ScreeningIn,
    SessionIn,
    SessionOut,
    TimeZoneIn,
)
from limber.core import screening
from limber.library import get_library
from limber.practice import plan, store
from limber.practice.models import Screening

ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}
# Writes may also meet the rate limit or a quota (429 with Retry-After) or a body too large.
WRITE_ERRORS = {**ERRORS, 413: ErrorOut, 429: ErrorOut}
HISTORY_PAGE = 100  # 100 sessions of at most 200 holds: what one request may cost is bounded


@api.get("/exercises", auth=None, response={200: list[dict]}, tags=["library"])
def exercises(request):
    """The stretches, gentlest first: the same objects as `limber exercises --json`."""
    return [s.summary_dict() for s in get_library().values()]


@api.get("/exercises/{slug}", auth=None, response={200: dict, 404: ErrorOut}, tags=["library"])
def exercise(request, slug: str):
    stretch = get_library().get(slug)
    if stretch is None:
        raise Http404
    return stretch.summary_dict()


@api.get("/screening", response={200: dict, **ERRORS}, tags=["safety"])
def screening_questions(request):
    """The red-flag questions with why each is asked, whether a check is due, the latest answer."""
    status = plan.screening_status(request.auth, timezone.now())
    latest = status["latest"]
    return {
        "questions": [
            {"id": q.id, "text": q.text, "reason": q.reason, "urgency": q.urgency}
            for q in screening.QUESTIONS
        ],
        "side_question": SIDE_QUESTION,
        "clinician_question": CLINICIAN_QUESTION,
        "max_age_days": screening.MAX_AGE_DAYS,
        "due": status["due"],
        "blocked": status["blocked"],
        "latest": _screening_dict(latest) if latest else None,
    }


SIDE_QUESTION = {
    "id": "affected_side",
    "text": "Which leg has the sciatica?",
    "choices": list(screening.SIDES),
    "reason": "Sessions start with the other leg, and the leg with sciatica is stretched a "
    "little less. Sciatica in both legs needs a doctor first.",
}
CLINICIAN_QUESTION = {
    "id": "seen_clinician",
    "text": "A clinician has seen me about these symptoms.",
    "reason": "After a red flag, practice starts again only once a clinician has seen you.",
}


@api.post("/screening", response={201: dict, **WRITE_ERRORS}, tags=["safety"])
def screening_answer(request, payload: ScreeningIn):
    """Answer every question (true means that red flag is present), and which leg hurts."""
    try:
        result = screening.evaluate(payload.answers, payload.affected_side)
    except screening.ScreeningError as e:
        return error(request, 422, "invalid", str(e), e.field)
    row = Screening.objects.create(
        user=request.auth,
        answers=payload.answers,
        flagged=result.flagged,
        affected_side=payload.affected_side,
        seen_clinician=payload.seen_clinician,
    )
    body = _screening_dict(row)
    body["blocked"] = plan.screening_block(request.auth, timezone.now())
    return Status(201, body)


def _screening_dict(row: Screening) -> dict:
    result = screening.evaluate_stored(row.answers, row.affected_side)
    return {
        "flagged": result.flagged,
        "flags": list(result.flags),
        "urgent": result.urgent,
        "action": result.action,
        "message": result.message,
        "created": row.created.isoformat(),
        "affected_side": row.affected_side,
        "seen_clinician": row.seen_clinician,
        "cleared_by_clinician": row.cleared_by_id is not None,
        "cleared_at": row.cleared_at.isoformat() if row.cleared_at else None,
    }


@api.put("/time-zone", response={200: dict, **WRITE_ERRORS}, tags=["account"])
def put_time_zone(request, payload: TimeZoneIn):
    """Say which time zone the person lives in (an IANA name). Their days follow it: a session
    counts for the day their own clock shows, and pages show their times. The browser's pages
    send it themselves. Answers through a personal token may follow the old zone for up to
    30 s (a token's account is remembered that long)."""
    Profile.objects.update_or_create(user=request.auth, defaults={"time_zone": payload.time_zone})
    return {"time_zone": payload.time_zone}


@api.get("/today", response={200: dict, **ERRORS}, tags=["practice"])
def today(request):
    """Today's prescription and the session script that plays it (409 until screened)."""
    now = timezone.now()
    status = plan.screening_status(request.auth, now)
    if status["blocked"]:
        return error(request, 409, "screening_required", status["blocked"])
    return plan.today(request.auth, now, status)


@api.post("/sessions", response={201: SessionOut, **WRITE_ERRORS}, tags=["practice"])
def post_session(request, payload: SessionIn):
    """Log a session with its holds. Send it as often as you like: it is stored once.

    Holds are matched by their ids and kept as first received; fields that were empty
    (finished_at, pain_after, ...) are filled in by later sends. The answer is the session as
    stored. An `Idempotency-Key` header, when sent, must equal the session id.

    Limits per user: 120 writes a minute and 100 new sessions a day (over either: 429 with
    `Retry-After`; the player keeps the session and sends it again), 200 holds a session (409).
    """
    key = request.headers.get("Idempotency-Key")
    if key is not None and key != str(payload.id):
        return error(request, 422, "invalid", "Idempotency-Key must equal the session id", "id")
    try:
        stored = store.save_session(request.auth, payload)
    except store.QuotaError as e:
        return error(request, 429, e.code, str(e), e.field, retry_after=e.retry_after)
    except store.FieldError as e:
        return error(request, e.status, e.code, str(e), e.field)
    # Already plain JSON values (store.session_dict): sent as they are, not validated again
    # against SessionOut (the API's busiest write; schemathesis checks the answer's shape).
    return JsonResponse(stored, status=201)


@api.get("/history", response={200: HistoryOut, **ERRORS}, tags=["practice"])
def history(
    request,
    limit: Annotated[int, Query(ge=1, le=HISTORY_PAGE)] = 20,  # a screenful
    before: Annotated[UUID | None, Query(description="`next` of the page before")] = None,
):
    """Your sessions, newest first, each with its holds, a page at a time: follow `next`."""
    try:
        sessions, more = store.page_of(request.auth, limit, before)
    except store.FieldError as e:
        return error(request, e.status, e.code, str(e), e.field)
    # Already plain JSON values: sent as they are, not validated again against HistoryOut.
    return JsonResponse({"sessions": sessions, "next": sessions[-1]["id"] if more else None})
