"""Who may see whom: invites, care links, colleagues' access. One access helper per resource.

A clinician sees a patient when the patient is linked to them, or when the patient's own clinician
gave them access (a colleague in the same clinic). Anyone else gets a 404, never a 403 that would
confirm the patient exists; a patient on a clinician's endpoint gets a 403.
"""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import Http404

from limber.accounts.models import Profile, role_of
from limber.clinic.models import (
    Access,
    CalendarFeed,
    CareLink,
    Clinic,
    Invite,
    Prescription,
    PrescriptionChange,
)
from limber.practice.models import PracticeSession


class CareError(ValueError):
    def __init__(
        self, message: str, status: int = 422, code: str = "invalid", field: str | None = None
    ):
        super().__init__(message)
        self.status = status
        self.code = code
        self.field = field


def require_clinician(user) -> None:
    if role_of(user) != Profile.CLINICIAN:
        raise PermissionDenied


def visible_patients_q(clinician) -> Q:
    """The users this clinician may see, as a filter on the user model."""
    return Q(care_links__clinician=clinician, care_links__ended=None) | Q(
        pk__in=Access.objects.filter(colleague=clinician).values("patient")
    )


def patient_for(clinician, patient_id: int):
    """The patient, if this clinician may see them; Http404 otherwise (403 for non-clinicians)."""
    require_clinician(clinician)
    patient = (
        get_user_model()
        .objects.filter(visible_patients_q(clinician), pk=patient_id, is_active=True)
        .distinct()
        .first()
    )
    if patient is None:
        raise Http404
    return patient


def own_patient_for(clinician, patient_id: int):
    """Like patient_for, but only the patient's own clinician (granting access, ...)."""
    patient = patient_for(clinician, patient_id)
    if not CareLink.objects.filter(patient=patient, clinician=clinician, ended=None).exists():
        raise PermissionDenied
    return patient


def clinician_of(patient) -> CareLink | None:
    return CareLink.objects.select_related("clinician").filter(patient=patient, ended=None).first()


def closed_link(patient) -> CareLink | None:
    """The patient's last care link when it ended because their clinician deleted their account
    (the link kept, the clinician gone); None otherwise, and once the patient links again."""
    last = CareLink.objects.filter(patient=patient).order_by("-created", "-pk").first()
    return last if last is not None and last.clinician_left else None


def closed_notice(patient) -> str | None:
    """What the practice page says of a link ended by a deleted account, until the patient's
    first session after it (registered with practice.plan.NOTICES): their stretches changed
    back to Limber's plan without anything they did."""
    link = closed_link(patient)
    if link is None:
        return None
    practised = PracticeSession.objects.filter(user=patient, started_at__gt=link.ended)
    return None if practised.exists() else CLOSED_NOTICE


CLOSED_NOTICE = (
    "Your clinician has closed their Limber account, which ended your link: they no longer see "
    "your history, and your stretches are back on Limber's plan. To link with a clinician "
    "again, ask them for an invite."
)


def display_name(user) -> str:
    return user.get_full_name() or user.email


def clinic_name(user) -> str:
    clinic = Clinic.objects.filter(members=user).order_by("pk").first()
    return clinic.name if clinic else ""


def invite(clinician, now: datetime) -> Invite:
    require_clinician(clinician)
    return Invite.objects.create(clinician=clinician, created=now)


def join(patient, code: str, now: datetime) -> CareLink:
    """Link the patient to the clinician who made the code. Single use; never twice."""
    if role_of(patient) != Profile.PATIENT:
        raise CareError("only a patient account can join a clinician", 403, "forbidden")
    with transaction.atomic():
        code = code.strip().upper()
        # PostgreSQL's text cannot hold NUL: such a code is unknown, not a database error.
        invites = Invite.objects.none() if "\x00" in code else Invite.objects.filter(code=code)
        inv = invites.select_for_update().select_related("clinician").first()
        if inv is None:
            raise CareError("unknown invite code", 404, "not_found", "code")
        if not inv.clinician.is_active:  # closed by an administrator: nobody to follow along
            raise CareError(
                "this invite code no longer works: ask your clinician for a new one",
                410, "expired", "code",
            )  # fmt: skip
        if inv.used_at is not None:
            raise CareError("this invite code has already been used", 409, "conflict", "code")
        if inv.expires <= now:
            raise CareError(
                "this invite code has expired: ask for a new one", 410, "expired", "code"
            )
        if CareLink.objects.filter(patient=patient, ended=None).exists():
            raise CareError(
                "you are already linked to a clinician: end that link first",
                409,
                "conflict",
                "code",
            )
        inv.used_by, inv.used_at = patient, now
        inv.save(update_fields=["used_by", "used_at"])
        try:
            with transaction.atomic():
                return CareLink.objects.create(
                    patient=patient, clinician=inv.clinician, created=now
                )
        except IntegrityError:  # a second join raced this one
            raise CareError(
                "you are already linked to a clinician", 409, "conflict", "code"
            ) from None


def lock_patient(patient) -> None:
    """Hold the patient's row until the transaction ends, so that changes to one patient's care
    (ending the link, a prescription, a colleague's access) happen one after another and each
    sees the last. FOR NO KEY UPDATE on PostgreSQL: rows that only refer to the patient (their
    sessions) are still written meanwhile; SQLite has one writer at a time anyway."""
    get_user_model().objects.select_for_update(no_key=True).filter(pk=patient.pk).first()


def still_sees(clinician, patient) -> None:
    """Inside lock_patient: a CareError (404) when the clinician no longer sees the patient
    (the link ended while the request was on its way)."""
    if not get_user_model().objects.filter(visible_patients_q(clinician), pk=patient.pk).exists():
        raise CareError("no such patient", 404, "not_found")


def end(patient, now: datetime, clinician_left: bool = False) -> bool:
    """The patient ends their care link (or their clinician's account is deleted: clinician_left);
    their practice history stays theirs.

    The prescription goes, its note and the record of its changes with it, as the end-care
    page promises: a clinician the patient joins later starts from the article's plan and
    never reads what an earlier one wrote.
    """
    with transaction.atomic():
        lock_patient(patient)
        ended = CareLink.objects.filter(patient=patient, ended=None).update(
            ended=now, clinician_left=clinician_left
        )
        if ended:
            Access.objects.filter(patient=patient).delete()
            Prescription.objects.filter(patient=patient).delete()
            PrescriptionChange.objects.filter(patient=patient).delete()
    return bool(ended)


def deleting_ends(user) -> list[str]:
    """What deleting this account would end on the clinic's side, said on the delete page (a
    clinician tester deleted theirs unwarned: six patients unlinked, prescriptions gone)."""
    out = []
    links = CareLink.objects.filter(clinician=user, ended=None).select_related("patient")
    names = sorted(display_name(link.patient) for link in links)
    if names:
        out.append(
            f"Your care of {len(names)} patient{'s' if len(names) != 1 else ''} "
            f"({', '.join(names)}): each link ends, and the prescriptions and notes you set for "
            "them are deleted, so they go back to Limber's plan from the article. Colleagues "
            "you gave access lose it. To hand a patient over, ask them to join a colleague "
            "first (they end your link on their care page and open the colleague's invite)."
        )
    shared = Access.objects.filter(colleague=user).count()
    if shared:
        out.append(
            f"Your access to {shared} patient{'s' if shared != 1 else ''} that colleagues "
            "shared with you."
        )
    return out


def end_all_care_given_by(clinician, now: datetime) -> None:
    """A clinician's account is deleted: each of their patients' links ends as if the patient
    had ended it (before, the links vanished with the account and the prescriptions stayed,
    with no clinician to change them and no link for the patient to end)."""
    for link in CareLink.objects.filter(clinician=clinician, ended=None).select_related("patient"):
        end(link.patient, now, clinician_left=True)


def reset_calendar(patient) -> CalendarFeed:
    """A new secret address for the patient's reminder feed; the old one stops answering.

    The one feed row is kept and given a new secret under its own lock: a double click is two
    renewals in turn, and a first look at the feed (get_or_create) at the same moment meets a
    row, not a second insert (deleting and inserting deadlocked or collided on PostgreSQL)."""
    with transaction.atomic():
        CalendarFeed.objects.get_or_create(patient=patient)
        feed = CalendarFeed.objects.select_for_update().get(patient=patient)
        feed.renew()
        return feed


def grant(clinician, patient, colleague_email: str, now: datetime) -> Access:
    """The patient's own clinician lets a colleague of the same clinic see the patient."""
    email = colleague_email.strip()
    # An address has at most 254 characters (RFC 5321): a longer one is nobody's, and is not
    # looked up (SQLite refuses a LIKE pattern of some 50,000 characters).
    users = get_user_model().objects
    looked_up = len(email) <= 254 and "\x00" not in email  # PostgreSQL's text has no NUL
    colleague = users.filter(email__iexact=email).first() if looked_up else None
    shared = (
        colleague is not None
        and role_of(colleague) == Profile.CLINICIAN
        and Clinic.objects.filter(members=clinician).filter(members=colleague).exists()
    )
    if not shared or colleague == clinician:
        # The same answer whether or not the address exists: no probing for accounts. A 404, as
        # for any other thing looked up and not found; the request itself was well formed.
        raise CareError("no colleague in your clinic has that e-mail", 404, "not_found", "email")
    with transaction.atomic():
        lock_patient(patient)
        # Still the patient's own clinician: ending the link at this moment takes access away.
        if not CareLink.objects.filter(patient=patient, clinician=clinician, ended=None).exists():
            raise CareError("no such patient", 404, "not_found")
        access, _ = Access.objects.get_or_create(
            patient=patient, colleague=colleague, defaults={"granted_by": clinician, "created": now}
        )
    return access


def revoke(clinician, patient, colleague_id: str):
    """The patient's own clinician takes a colleague's access back; the colleague, or None when
    they had none (a second click)."""
    if not (str(colleague_id).isdigit() and len(str(colleague_id)) <= 18):  # fits a bigint
        return None
    with transaction.atomic():
        lock_patient(patient)
        if not CareLink.objects.filter(patient=patient, clinician=clinician, ended=None).exists():
            raise Http404
        access = (
            Access.objects.select_related("colleague")
            .filter(patient=patient, colleague_id=int(colleague_id))
            .first()
        )
        if access is None:
            return None
        access.delete()
    return access.colleague
