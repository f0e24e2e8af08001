"""Storing and reading practice: sessions and holds kept once however often they are sent."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q

from limber.library import get_library
from limber.practice import quotas
from limber.practice.models import Hold, PracticeSession, Screening, totals_of

HOLD_FIELDS = (
    "exercise", "variant", "side", "rep", "target_s", "held_s", "good_form_s", "stretch_felt", "pain",
    "too_strong", "knee_felt_deg",
)  # fmt: skip
# Fields a later send may fill in but never change: what was recorded first stands. The player
# sends each hold as it ends and its answers (felt a stretch? too strong? pain?) after the stretch.
LATE_FIELDS = ("finished_at", "pain_before", "pain_after", "pain_spread")
LATE_HOLD_FIELDS = ("good_form_s", "stretch_felt", "pain", "too_strong", "knee_felt_deg")
FLOAT_FIELDS = ("target_s", "held_s", "good_form_s", "knee_felt_deg")
# Limber's default: where a stretch was felt (the camera's "I feel the stretch here") is carried
# into the next sessions for a fortnight; after two weeks away the hamstrings may have changed,
# and the person says it afresh.
FELT_DAYS = 14


class FieldError(ValueError):
    def __init__(self, field: str, message: str, status: int = 422, code: str = "invalid") -> None:
        super().__init__(message)
        self.field = field
        self.status = status
        self.code = code


class QuotaError(FieldError):
    """Over a quota: 429, and when it is worth trying again."""

    def __init__(self, field: str, message: str, retry_after: int) -> None:
        super().__init__(field, message, status=429, code="quota")
        self.retry_after = retry_after


def check_holds(holds: Iterable[Any]) -> None:
    """Every hold names a stretch, variant and side that the library has."""
    library = get_library()
    for i, h in enumerate(holds):
        stretch = library.get(h.exercise)
        if stretch is None:
            raise FieldError(f"holds[{i}].exercise", f"unknown stretch {h.exercise!r}")
        if h.variant not in {v.slug for v in stretch.variants}:
            raise FieldError(f"holds[{i}].variant", f"{h.exercise} has no variant {h.variant!r}")
        if h.side not in stretch.sides:
            raise FieldError(f"holds[{i}].side", f"{h.exercise} is not done with side {h.side!r}")


def save_session(user, data: Any) -> dict[str, Any]:
    """Store a session and any holds not stored yet, all or nothing; replays change nothing.

    A new session is one transaction of two inserts; only when its id (or a hold's) is already
    stored does it take the slower path that merges into what is there. Returns the session as
    stored, in the shape of `session_dict`.
    """
    check_holds(data.holds)
    try:
        with transaction.atomic():
            return _insert(user, data)
    except IntegrityError:
        pass  # a replay, two sends at once, or a hold id already used: merge, or say which
    for attempt in range(2):
        try:
            with transaction.atomic():
                return _save(user, data)
        except IntegrityError:
            # Two sends of the same new session raced; the other one won, so merge into it.
            if attempt:
                raise
    raise AssertionError("unreachable")


def _insert(user, data: Any) -> dict[str, Any]:
    session = PracticeSession.objects.create(
        id=data.id,
        user=user,
        started_at=data.started_at,
        **{f: getattr(data, f) for f in LATE_FIELDS},
        **totals_of(data.holds),
    )
    # Only now is it known to be new (a replay fails the insert above): a refusal rolls it back.
    _within_quota(user)
    rows = Hold.objects.bulk_create_counted(
        Hold(id=h.id, session=session, position=n, **{f: getattr(h, f) for f in HOLD_FIELDS})
        for n, h in enumerate(data.holds)
    )
    return session_dict(session, rows)


def _save(user, data: Any) -> dict[str, Any]:
    session = PracticeSession.objects.select_for_update().filter(pk=data.id).first()
    created = session is None
    if session is not None and session.user_id != user.pk:
        raise FieldError("id", "this session id is already used", status=409, code="conflict")
    # Refused before anything is made or counted: a session refused here costs no quota.
    stored = {h.id: h for h in Hold.objects.filter(pk__in=[h.id for h in data.holds])}
    foreign = [
        i for i, h in enumerate(data.holds) if h.id in stored and stored[h.id].session_id != data.id
    ]
    if foreign:
        raise FieldError(
            f"holds[{foreign[0]}].id", "this hold id belongs to another session", 409, "conflict"
        )
    if session is None:
        _within_quota(user)
        session = PracticeSession.objects.create(
            id=data.id,
            user=user,
            started_at=data.started_at,
            **{f: getattr(data, f) for f in LATE_FIELDS},
        )
    else:
        # The start recorded first stands, so a late finish is checked against it, not against
        # the start this send says (a replay could otherwise store a finish before the start).
        if session.finished_at is None and data.finished_at is not None:
            if problem := quotas.finish_problem(session.started_at, data.finished_at):
                raise FieldError("finished_at", problem)
        _fill_in(session, data, LATE_FIELDS)
    filled, fields = [], set()
    for h in data.holds:
        if h.id in stored and (changed := _fill(stored[h.id], h, LATE_HOLD_FIELDS)):
            filled.append(stored[h.id])
            fields.update(changed)
    if filled:
        # One UPDATE (and one recount of the totals) for all the late answers, not one per hold.
        Hold.objects.bulk_update(filled, sorted(fields))
    # A new session's holds are exactly those sent: no need to count or read them back.
    start = 0 if created else Hold.objects.filter(session=session).count()
    new = [h for h in data.holds if h.id not in stored]
    if start + len(new) > quotas.MAX_HOLDS:
        # Valid on its own, but not with what is stored; sending it again cannot help (no 429),
        # so the player sets the record aside and says so.
        raise FieldError("holds", quotas.HOLDS_MESSAGE, status=409, code="quota")
    rows = Hold.objects.bulk_create(
        Hold(
            id=h.id, session=session, position=start + n, **{f: getattr(h, f) for f in HOLD_FIELDS}
        )
        for n, h in enumerate(new)
    )
    return session_dict(session, rows if created else None)


def _within_quota(user) -> None:
    """Count a new session against the user's daily quota, or refuse it (429)."""
    retry_after = quotas.take_session(user.pk)
    if retry_after:
        raise QuotaError("id", quotas.SESSIONS_MESSAGE, retry_after)


def _fill(row, incoming: Any, fields: tuple[str, ...]) -> list[str]:
    """Set the fields that are still empty on a stored row (never change a recorded value);
    answers which were set."""
    changed = [f for f in fields if getattr(row, f) is None and getattr(incoming, f) is not None]
    for f in changed:
        setattr(row, f, getattr(incoming, f))
    return changed


def _fill_in(row, incoming: Any, fields: tuple[str, ...]) -> None:
    """_fill, then save what changed."""
    if changed := _fill(row, incoming, fields):
        row.save(update_fields=changed)


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat() if moment else None


def _hold_value(hold: Hold, name: str) -> Any:
    value = getattr(hold, name)
    # As the database gives them back, so a first answer and its replay read the same.
    return float(value) if name in FLOAT_FIELDS and value is not None else value


def session_dict(session: PracticeSession, holds: Iterable[Hold] | None = None) -> dict[str, Any]:
    rows = session.holds.all() if holds is None else holds
    return {
        "id": str(session.id),
        "started_at": _iso(session.started_at),
        "finished_at": _iso(session.finished_at),
        "pain_before": session.pain_before,
        "pain_after": session.pain_after,
        "pain_spread": session.pain_spread,
        "holds": [{"id": str(h.id), **{f: _hold_value(h, f) for f in HOLD_FIELDS}} for h in rows],
    }


SESSION_FIELDS = ("id", "started_at", "finished_at", "pain_before", "pain_after", "pain_spread")


def sessions_before(user, before: Any = None):
    """The user's sessions newest first, all of them or those after `before` (the id of the last
    session of the page before); a FieldError (404) when `before` is none of the user's."""
    qs = PracticeSession.objects.filter(user=user)
    if before is not None:
        cursor = qs.filter(pk=before).values_list("started_at", flat=True).first()
        if cursor is None:
            raise FieldError("before", "no session of yours has this id", 404, "not_found")
        # (started_at, id) orders the sessions fully, even those that started at the same time.
        qs = qs.filter(Q(started_at__lt=cursor) | Q(started_at=cursor, id__lt=before))
    return qs.order_by("-started_at", "-id")


def page_of(user, limit: int, before: Any = None) -> tuple[list[dict[str, Any]], bool]:
    """A page of the user's sessions as `session_dict`s, newest first, and whether older ones
    follow. `before` is the id of the last session of the page before.

    Two queries of plain values (no model objects: building them was most of the time)."""
    rows = list(sessions_before(user, before).values_list(*SESSION_FIELDS)[: limit + 1])
    more = len(rows) > limit
    sessions = {}
    for sid, started, finished, before_pain, after_pain, spread in rows[:limit]:
        sessions[sid] = {
            "id": str(sid), "started_at": _iso(started), "finished_at": _iso(finished),
            "pain_before": before_pain, "pain_after": after_pain, "pain_spread": spread,
            "holds": [],
        }  # fmt: skip
    holds = Hold.objects.filter(session_id__in=list(sessions)).order_by("session", "position")
    floats = [HOLD_FIELDS.index(f) for f in FLOAT_FIELDS]
    for sid, hid, *values in holds.values_list("session_id", "id", *HOLD_FIELDS):
        for i in floats:  # as session_dict gives them: whole seconds are still floats
            values[i] = None if values[i] is None else float(values[i])
        sessions[sid]["holds"].append(
            {"id": str(hid), **dict(zip(HOLD_FIELDS, values, strict=True))}
        )
    return list(sessions.values()), more


def iter_sessions(user, chunk: int = 200) -> Iterator[dict[str, Any]]:
    """All the user's sessions as `session_dict`s, newest first, read a page at a time (the
    memory used stays flat however long the history)."""
    before = None
    while True:
        page, more = page_of(user, chunk, before)
        yield from page
        if not more:
            return
        before = page[-1]["id"]


def felt_knees(user, now: datetime) -> dict[str, float]:
    """The knee angle each stretch was last felt at, on each leg, in the last FELT_DAYS: keyed
    "exercise|variant|side", as the player's camera check sends it at the start of a hold."""
    rows = (
        Hold.objects.filter(
            session__user=user,
            session__started_at__gte=now - timedelta(days=FELT_DAYS),
            knee_felt_deg__isnull=False,
        )
        .order_by("session__started_at", "position")
        .values_list("exercise", "variant", "side", "knee_felt_deg")
    )
    return {f"{e}|{v}|{s}": deg for e, v, s, deg in rows}  # the latest of each stands


def latest_screening(user) -> Screening | None:
    return Screening.objects.filter(user=user).order_by("-created", "-id").first()


def clear_screening(patient, clinician, now: datetime) -> Screening:
    """A clinician lifts the patient's latest flagged screening: practice may start again.

    Raises FieldError (404) when the patient has no flagged screening to clear.
    """
    row = Screening.objects.filter(user=patient, flagged=True).order_by("-created", "-id").first()
    if row is None:
        raise FieldError("screening", "no flagged screening to clear", 404, "not_found")
    row.cleared_by = clinician
    row.cleared_at = now
    row.save(update_fields=["cleared_by", "cleared_at"])
    return row


def screenings_since_flag(user) -> tuple[Screening | None, list[Screening]]:
    """The latest flagged screening (or None) and every screening after it, newest first.

    When nothing was ever flagged, the list is the latest screening alone (or empty).
    """
    flagged = Screening.objects.filter(user=user, flagged=True).order_by("-created", "-id").first()
    qs = Screening.objects.filter(user=user).order_by("-created", "-id")
    if flagged is None:
        return None, list(qs[:1])
    return flagged, list(qs.filter(created__gte=flagged.created).exclude(pk=flagged.pk))


def affected_side_of(user) -> str | None:
    """The leg with the sciatica, as last said in a screening (a later one may leave it out)."""
    return (
        Screening.objects.filter(user=user, affected_side__isnull=False)
        .order_by("-created", "-id")
        .values_list("affected_side", flat=True)
        .first()
    )
