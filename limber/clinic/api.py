"""The clinic's JSON endpoints, registered with the one Limber API (same auth, same error shape)."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone
from ninja import Query, Router, Schema, Status
from pydantic import AfterValidator, Field, StrictFloat

from limber.api import error
from limber.api.schemas import ErrorOut, ExerciseSlug, VariantSlug, whole
from limber.clinic import care, dashboard, exports, prescriptions
from limber.clinic.models import CalendarFeed, Prescription

router = Router(tags=["clinic"])
# 429: every write counts against the per-user write rate (limber.api), and a handout renders
# one at a time per account; 413: a body too large.
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 410: ErrorOut,
          413: ErrorOut, 422: ErrorOut, 429: ErrorOut}  # fmt: skip

Side = Literal["left", "right"]


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain the NUL character")
    return value


def text(max_length: int) -> Any:
    """Free text that is stored: PostgreSQL's text cannot hold NUL, so it is refused with a 422
    naming the field (not a 500 from the database), and the schema's pattern says so."""
    schema = {"pattern": "^[^\\x00]*$"}
    return Annotated[
        str, Field(max_length=max_length, json_schema_extra=schema), AfterValidator(_no_nul)
    ]


class ItemIn(Schema):
    exercise: ExerciseSlug
    variant: VariantSlug | None = None
    sides: (
        Annotated[list[Side], Field(min_length=1, max_length=2, description="Each side once.")]
        | None
    ) = None
    reps_per_side: whole(1, prescriptions.MAX_REPS) | None = None
    # One number type: a union of two would put the bounds beside it in the schema, not on it.
    hold_cap_s: (
        Annotated[
            StrictFloat,
            Field(
                ge=1,
                le=prescriptions.MAX_CAP_S,
                description="From the stretch's first hold to its goal (GET /api/v1/exercises); "
                "above the goal only with override_reason, and never above 60 s (ACSM).",
            ),
        ]
        | None
    ) = None
    knee_from_deg: (
        Annotated[
            whole(prescriptions.MIN_KNEE_FROM_DEG, 180),
            Field(
                description="The knee angle (degrees, 180 = straight) from which the camera "
                "counts this stretch's knee as straight, for a knee that cannot straighten: "
                f"from {prescriptions.MIN_KNEE_FROM_DEG} to the stretch's own (GET "
                "/api/v1/exercises, its knee check)."
            ),
        ]
        | None
    ) = None


class PrescriptionIn(Schema):
    items: Annotated[
        list[ItemIn], Field(min_length=1, max_length=20, description="Each stretch once.")
    ]
    times_per_week: whole(1, 7) = 7
    affected_side: Side | None = None
    note: text(prescriptions.MAX_NOTE) = ""
    override_reason: text(500) = ""


class CodeIn(Schema):
    code: Annotated[str, Field(min_length=1, max_length=40)]


class EmailIn(Schema):
    email: Annotated[str, Field(min_length=3, max_length=254)]


def _care_error(request, e: care.CareError):
    return error(request, e.status, e.code, str(e), e.field)


# --- linking --------------------------------------------------------------------------------


@router.post("/invites", response={201: dict, **ERRORS})
def create_invite(request):
    """A single-use code valid for 7 days, with the link a patient opens to join."""
    inv = care.invite(request.auth, timezone.now())
    return Status(201, exports.invite_dict(request, inv))


@router.post("/care", response={201: dict, **ERRORS})
def join(request, payload: CodeIn):
    """Link your account to the clinician who gave you the code."""
    try:
        link = care.join(request.auth, payload.code, timezone.now())
    except care.CareError as e:
        return _care_error(request, e)
    return Status(201, {"clinician": _clinician_dict(link)})


@router.get("/care", response={200: dict, **ERRORS})
def my_care(request):
    """Your clinician, if you have one: their name and clinic, nothing more."""
    link = care.clinician_of(request.auth)
    return {"clinician": _clinician_dict(link) if link else None}


@router.delete("/care", response={204: None, **ERRORS})
def end_care(request):
    """End the link to your clinician. Your history stays yours."""
    if not care.end(request.auth, timezone.now()):
        return error(request, 404, "not_found", "you are not linked to a clinician")
    return Status(204, None)


def _clinician_dict(link) -> dict:
    return {"name": care.display_name(link.clinician), "clinic": care.clinic_name(link.clinician)}


# --- patients -------------------------------------------------------------------------------


@router.get("/patients", response={200: dict, **ERRORS})
def patients(request):
    """Your patients with adherence, pain and alerts (the dashboard's facts)."""
    care.require_clinician(request.auth)
    rows = dashboard.rows(request.auth, timezone.now())
    return {"patients": [{k: v for k, v in r.items() if k != "last_session_at"} for r in rows]}


@router.get("/patients/{patient_id}", response={200: dict, **ERRORS})
def patient(
    request,
    patient_id: int,
    before: Annotated[UUID | None, Query(description="`sessions_next` of the page before")] = None,
):
    """The patient's adherence, pain, prescription and latest sessions (50, newest first;
    follow `sessions_next` for older ones)."""
    p = care.patient_for(request.auth, patient_id)
    try:
        return exports.patient_facts(p, timezone.now(), before)
    except care.CareError as e:
        return _care_error(request, e)


@router.get("/patients/{patient_id}/prescription", response={200: dict, **ERRORS})
def get_prescription(request, patient_id: int):
    p = care.patient_for(request.auth, patient_id)
    row = Prescription.objects.filter(patient=p).first()
    return {"prescription": row.data if row else None}


@router.put("/patients/{patient_id}/prescription", response={200: dict, **ERRORS})
def put_prescription(request, patient_id: int, payload: PrescriptionIn):
    """Prescribe within the article's limits; a cap above its goal needs `override_reason`."""
    p = care.patient_for(request.auth, patient_id)
    try:
        data = prescriptions.validate(payload.dict())
    except prescriptions.FieldError as e:
        return error(request, 422, "invalid", str(e), e.field)
    try:
        change = prescriptions.save(p, request.auth, data, timezone.now())
    except care.CareError as e:  # the link ended on the way
        return _care_error(request, e)
    return {"prescription": data, "changes": change.changes}


@router.post("/patients/{patient_id}/access", response={201: dict, **ERRORS})
def grant_access(request, patient_id: int, payload: EmailIn):
    """Let a colleague of your clinic see this patient and change the prescription (the
    patient's own clinician only; every change is recorded with who made it)."""
    p = care.own_patient_for(request.auth, patient_id)
    try:
        access = care.grant(request.auth, p, payload.email, timezone.now())
    except care.CareError as e:
        return _care_error(request, e)
    return Status(201, {"colleague": access.colleague.email})


@router.post("/patients/{patient_id}/screening/clear", response={200: dict, **ERRORS})
def clear_screening(request, patient_id: int):
    """After seeing the patient: clear their flagged symptoms check, on the record."""
    p = care.patient_for(request.auth, patient_id)
    try:
        row = exports.clear_screening(p, request.auth, timezone.now())
    except care.CareError as e:
        return _care_error(request, e)
    return row


def _answers(content_type: str, schema: dict) -> dict:
    # What a 200 carries when it is not the API's usual JSON, so clients know what comes back.
    return {
        "responses": {200: {"description": "OK", "content": {content_type: {"schema": schema}}}}
    }


@router.get(
    "/patients/{patient_id}/handout.pdf",
    response={200: None, **ERRORS},
    openapi_extra=_answers("application/pdf", {"type": "string", "format": "binary"}),
)
def handout(request, patient_id: int, paper: Literal["a4", "letter"] = "a4"):
    """The printable handout of this patient's prescription (paper=a4 or letter)."""
    p = care.patient_for(request.auth, patient_id)
    return exports.handout_response(request, p, paper)


@router.get(
    "/patients/{patient_id}/fhir",
    response={200: None, **ERRORS},
    openapi_extra=_answers("application/fhir+json", {"type": "object"}),
)
def fhir(request, patient_id: int):
    """An R4 Bundle: the Patient, a CarePlan of the prescribed stretches, pain and holds."""
    p = care.patient_for(request.auth, patient_id)
    response = HttpResponse(exports.fhir_json(p), content_type="application/fhir+json")
    # A file to keep or send on, not a page of JSON in the browser's tab.
    response["Content-Disposition"] = f'attachment; filename="limber-patient-{p.pk}-fhir.json"'
    return response


# --- reminders ------------------------------------------------------------------------------


@router.get("/calendar", response={200: dict, **ERRORS})
def calendar(request):
    """Your private reminder feed's address: add it to any calendar app."""
    feed, _ = CalendarFeed.objects.get_or_create(patient=request.auth)
    return {"url": _feed_url(request, feed)}


@router.post("/calendar/reset", response={200: dict, **ERRORS})
def reset_calendar(request):
    """A new secret address; the old one stops answering."""
    return {"url": _feed_url(request, care.reset_calendar(request.auth))}


def _feed_url(request, feed: CalendarFeed) -> str:
    return request.build_absolute_uri(reverse("clinic-calendar-feed", args=[feed.secret]))
