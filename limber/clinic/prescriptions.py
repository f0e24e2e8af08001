"""Prescriptions: validated against the exercise specs, kept with their history, and handed to
practice as the core's caps (through `limber.practice.plan.PROVIDERS`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction

from limber.clinic import care
from limber.clinic.models import Prescription, PrescriptionChange
from limber.core.progression import Caps
from limber.core.spec import Library, Stretch
from limber.core.text import visible
from limber.library import get_library
from limber.practice.plan import ClinicianPlan

MAX_REPS = 10  # Limber's default: more than ten holds per leg in one go is a typo, not a dose
# The longest hold a clinician may set, whatever the reason: ACSM's guidelines hold a static
# stretch 10-30 s for most adults and 30-60 s for older ones; past 60 s is beyond any of them.
MAX_CAP_S = 60
MAX_NOTE = 2000
# A clinician may have the camera count a knee that cannot straighten (a flexion contracture
# after surgery or with arthritis, or very tight hamstrings) as straight from a lower angle.
# Limber's default floor: tight hamstrings in the active knee extension test commonly stop
# 20-50 degrees short of straight, and a knee that cannot straighten is rarely more than 30
# short; 120 (60 short) leaves room beyond both, while lower would count a knee that is more
# bent than straight as a straight-leg stretch.
MIN_KNEE_FROM_DEG = 120


def knee_rule_min(stretch: Stretch, variant: str | None) -> float | None:
    """The angle the camera counts the stretch's working knee straight from, or None."""
    v = stretch.variant(variant)
    return next((c.min for c in v.checks if c.measure == "working_knee"), None)


class FieldError(ValueError):
    """A field refused, in the API's words; `code` says which rule, for the page's own words."""

    def __init__(self, field: str, message: str, code: str = "invalid") -> None:
        super().__init__(message)
        self.field = field
        self.code = code


def cap_problems(
    items: list[dict[str, Any]], reason: str | None, library: Library | None = None, first: int = 0
) -> list[FieldError]:
    """Every hold cap that breaks the article's rules, each with the field it is in (item
    ``first`` on): below the stretch's first hold, or above its goal with no reason given.
    Caps that are not numbers in range, and unknown stretches, are other checks' to refuse."""
    library = library or get_library()
    out = []
    for n, item in enumerate(items, start=first):
        stretch = library.get(item.get("exercise") or "")
        cap = item.get("hold_cap_s")
        if stretch is None or not isinstance(cap, int | float) or not 1 <= cap <= MAX_CAP_S:
            continue
        at = f"items[{n}].hold_cap_s"
        start, goal = stretch.dose.hold_start_s.value, stretch.dose.hold_goal_s.value
        if cap < start:
            out.append(FieldError(
                at, f"{cap:g} s is below the article's first hold for this stretch ({start:g} s)",
                "below_first",
            ))  # fmt: skip
        elif cap > goal and not visible(reason):
            out.append(FieldError(
                at, f"{cap:g} s is above the article's goal for this stretch ({goal:g} s): say "
                "why in override_reason, which the patient will see", "above_goal",
            ))  # fmt: skip
    return out


def validate(data: dict[str, Any], library: Library | None = None) -> dict[str, Any]:
    """A prescription checked against the spec files, in its stored shape (FieldError if not).

    The spec's first hold (`hold_start_s`) and goal (`hold_goal_s`) come from the article: a cap
    below the first hold is refused; a cap above the goal needs a written `override_reason`, which
    the patient sees.
    """
    library = library or get_library()
    items = data.get("items") or []
    if not items:
        raise FieldError("items", "prescribe at least one stretch")
    seen: set[str] = set()
    out_items = []
    over_goal = False
    for n, item in enumerate(items):
        at = f"items[{n}]"
        stretch = library.get(item["exercise"])
        if stretch is None:
            raise FieldError(f"{at}.exercise", f"unknown stretch {item['exercise']!r}")
        if stretch.slug in seen:
            raise FieldError(f"{at}.exercise", f"{stretch.slug} is listed twice")
        seen.add(stretch.slug)
        variant = item.get("variant")
        if variant is not None and variant not in {v.slug for v in stretch.variants}:
            raise FieldError(f"{at}.variant", f"{stretch.slug} has no variant {variant!r}")
        sides = list(item.get("sides") or stretch.sides)
        for side in sides:
            if side not in stretch.sides:
                raise FieldError(f"{at}.sides", f"{stretch.slug} is not done with side {side!r}")
        if len(set(sides)) != len(sides):
            raise FieldError(f"{at}.sides", "a side is listed twice")
        reps = item.get("reps_per_side")
        if reps is None:
            reps = int(stretch.dose.reps_per_side.value)
        if not 1 <= reps <= MAX_REPS:
            raise FieldError(f"{at}.reps_per_side", f"reps_per_side must be from 1 to {MAX_REPS}")
        cap = item.get("hold_cap_s")
        if isinstance(cap, float) and cap.is_integer():
            cap = int(cap)  # "15 s", as the specs write it, not "15.0 s"
        problems = cap_problems([item], data.get("override_reason"), library, first=n)
        if problems:
            raise problems[0]
        over_goal = over_goal or (cap is not None and cap > stretch.dose.hold_goal_s.value)
        knee = item.get("knee_from_deg")
        if knee is not None:
            own = knee_rule_min(stretch, variant)
            if own is None:
                raise FieldError(f"{at}.knee_from_deg", f"{stretch.slug} has no knee check")
            if not MIN_KNEE_FROM_DEG <= knee <= own:
                raise FieldError(
                    f"{at}.knee_from_deg",
                    f"the knee angle must be from {MIN_KNEE_FROM_DEG}° to {own:g}°, where the "
                    "camera already counts this stretch's knee straight (180° is straight)",
                    "knee_from",
                )
        out_items.append(
            {"exercise": stretch.slug, "variant": variant, "sides": sides,
             "reps_per_side": reps, "hold_cap_s": cap, "knee_from_deg": knee}
        )  # fmt: skip
    times = data.get("times_per_week", 7)
    if not 1 <= times <= 7:
        raise FieldError("times_per_week", "times_per_week must be from 1 to 7")
    affected = data.get("affected_side")
    if affected not in (None, "left", "right"):
        raise FieldError("affected_side", "affected_side must be left, right or null")
    note = visible(data.get("note"))
    if len(note) > MAX_NOTE:
        raise FieldError("note", f"the note is longer than {MAX_NOTE} characters")
    return {
        "items": out_items,
        "times_per_week": times,
        "affected_side": affected,
        "note": note,
        # Kept only while some cap is above the goal, so the patient never reads a stale reason.
        "override_reason": visible(data.get("override_reason")) if over_goal else "",
    }


def _fmt(value: Any) -> str:
    if value is None or value == "":
        return "none"
    if isinstance(value, list):
        return ", ".join(value) or "none"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


ITEM_FIELDS = {
    "variant": "variant",
    "sides": "sides",
    "reps_per_side": "reps per side",
    "hold_cap_s": "hold cap (s)",
    "knee_from_deg": "knee counted straight from (°)",
}
TOP_FIELDS = {
    "times_per_week": "times per week",
    "affected_side": "affected side",
    "note": "note",
    "override_reason": "reason for going past the goal",
}


def describe_changes(
    old: dict[str, Any] | None, new: dict[str, Any], library: Library
) -> list[str]:
    """What changed, as sentences for the patient page's history."""

    def name(slug: str) -> str:
        return library[slug].name if slug in library else slug

    if old is None:
        return ["First prescription: " + ", ".join(name(i["exercise"]) for i in new["items"]) + "."]
    out = []
    before = {i["exercise"]: i for i in old["items"]}
    after = {i["exercise"]: i for i in new["items"]}
    for slug in after.keys() - before.keys():
        out.append(f"Added {name(slug)}.")
    for slug in before.keys() - after.keys():
        out.append(f"Removed {name(slug)}.")
    for slug in after.keys() & before.keys():
        for key, label in ITEM_FIELDS.items():
            if before[slug].get(key) != after[slug].get(key):
                out.append(
                    _changed(f"{name(slug)}: {label}", before[slug].get(key), after[slug].get(key))
                )
    for key, label in TOP_FIELDS.items():
        if old.get(key) != new.get(key):
            out.append(_changed(label.capitalize() + ":", old.get(key), new.get(key)))
    return sorted(out) if out else ["No change."]


def _changed(what: str, old: Any, new: Any) -> str:
    """One change as a sentence ("Note: Slowly. → Call us."): a text that ends a sentence gets
    no second full stop, and a value taken away reads "(removed)", not an empty "→ ."."""
    if new is None or new == "" or new == []:
        return f"{what} {_fmt(old)} → (removed)"
    return sentence(f"{what} {_fmt(old)} → {_fmt(new)}")


def sentence(words: str) -> str:
    """``words`` ending as a sentence: a full stop, unless they already end one."""
    return words if words.endswith((".", "!", "?")) else words + "."


def save(patient, clinician, data: dict[str, Any], now: datetime) -> PrescriptionChange:
    """Store a validated prescription and record the change, all or nothing; the change.

    A CareError (404) when the clinician no longer sees the patient."""
    library = get_library()
    with transaction.atomic():
        # The patient's own row is the lock: before a first prescription there is no row of
        # its own to lock, and two first saves at once would both insert. Under it the
        # clinician must still see the patient: the link may have ended meanwhile.
        care.lock_patient(patient)
        care.still_sees(clinician, patient)
        current = Prescription.objects.filter(patient=patient).first()
        # Saves take turns under the lock, but each read the clock before it: the record
        # keeps their order (the latest change is the prescription in force).
        last = PrescriptionChange.objects.filter(patient=patient).first()
        now = max(now, last.created) if last else now
        if current is not None and current.data == data and last is not None:
            return last  # saved again as it was: nothing to record ("No change." rows)
        changes = describe_changes(current.data if current else None, data, library)
        if current is None:
            current = Prescription(patient=patient)
        current.data, current.updated_by, current.updated = data, clinician, now
        current.save()
        return PrescriptionChange.objects.create(
            patient=patient, changed_by=clinician, created=now, changes=changes, data=data
        )


def as_plan(data: dict[str, Any], library: Library) -> ClinicianPlan:
    """A stored prescription in the core's terms: every stretch not prescribed is excluded."""
    items = {i["exercise"]: i for i in data["items"]}
    caps = {
        slug: Caps(
            max_hold_s=items[slug]["hold_cap_s"],
            reps_per_side=items[slug]["reps_per_side"],
            variant=items[slug]["variant"],
            # validate() keeps a cap above the goal only with a written override_reason.
            beyond_goal=bool(data.get("override_reason")),
        )
        if slug in items
        else Caps(excluded=True)
        for slug in library
    }
    return ClinicianPlan(
        caps=caps,
        sides={slug: tuple(i["sides"]) for slug, i in items.items()},
        reps_per_side={slug: i["reps_per_side"] for slug, i in items.items()},
        knee_from={slug: i["knee_from_deg"] for slug, i in items.items() if i.get("knee_from_deg")},
        affected_side=data.get("affected_side"),
        times_per_week=data.get("times_per_week"),
        clinician_note=data.get("note", ""),
        override_reason=data.get("override_reason", ""),
    )


def clinician_plan(user) -> ClinicianPlan | None:
    """The provider registered with practice: the prescription while the patient is in care."""
    # Ending care deletes the prescription (care.end); the link is asked too, so that a link
    # gone some other way can never leave a prescription nobody may change in force.
    row = (
        Prescription.objects.filter(patient=user, patient__care_links__ended=None)
        .only("data")
        .first()
    )
    return as_plan(row.data, get_library()) if row else None
