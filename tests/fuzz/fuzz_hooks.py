"""Schemathesis hooks: the rules that no JSON Schema keyword can state, applied to the cases
that are meant to be valid (the schema's descriptions say them; the API answers 422 otherwise).

- a session's dates lie from 2000 to a day from now, and it lasts at most 12 hours;
- a hold's variant is one of that stretch's variants, and each hold's id appears once;
- good_form_s is at most held_s;
- a prescription lists each stretch once, with one of its variants and each side once, and a
  hold cap from the stretch's first hold to its goal (above it only with an override_reason),
  and a knee angle no higher than the one its variant's knee check counts from;
- run as the clinician (FUZZ_PATIENT_ID set), three in four patient-id paths name their patient,
  so the clinic's operations are reached past their 404; the fourth keeps the generated id.

Cases meant to be invalid are sent as generated.
"""

from __future__ import annotations

import itertools
import os
import uuid
from datetime import UTC, datetime, timedelta

import schemathesis

from limber.core.spec import load_library

# The server runs the library shipped with Limber, as this does.
LIBRARY = load_library()
VARIANTS = {s.slug: [v.slug for v in s.variants] for s in LIBRARY.values()}
# Ids made in order, not at random, so that a run with the same seed sends the same requests.
_ids = (uuid.UUID(int=n) for n in itertools.count(1))
PATIENT_ID = os.environ.get("FUZZ_PATIENT_ID")
_patient_paths = itertools.count()


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive:
        return
    params = case.path_parameters
    if PATIENT_ID and params and "patient_id" in params and next(_patient_paths) % 4:
        params["patient_id"] = int(PATIENT_ID)
    if not isinstance(case.body, dict):
        return
    if case.operation.path == "/api/v1/sessions":
        _session(case.body)
    elif case.operation.path.endswith("/prescription"):
        _prescription(case.body)


def _session(body):
    start = datetime(2026, 1, 1, tzinfo=UTC)
    if "started_at" in body:
        body["started_at"] = start.isoformat()
    if body.get("finished_at") is not None:
        body["finished_at"] = (start + timedelta(minutes=10)).isoformat()
    for hold in body.get("holds") or []:
        if not isinstance(hold, dict):
            continue
        hold["id"] = str(next(_ids))
        choices = VARIANTS.get(hold.get("exercise"))
        if choices and hold.get("variant") not in choices:
            hold["variant"] = choices[0]
        if hold.get("good_form_s") is not None and "held_s" in hold:
            hold["good_form_s"] = min(hold["good_form_s"], hold["held_s"])


def _prescription(body):
    items, seen = [], set()
    for item in body.get("items") or []:
        stretch = LIBRARY.get(item.get("exercise")) if isinstance(item, dict) else None
        if stretch is None or stretch.slug in seen:
            continue
        seen.add(stretch.slug)
        if item.get("variant") is not None and item["variant"] not in VARIANTS[stretch.slug]:
            item["variant"] = VARIANTS[stretch.slug][0]
        if item.get("sides"):
            item["sides"] = sorted(set(item["sides"]))
        cap = item.get("hold_cap_s")
        if cap is not None:
            first, goal = stretch.dose.hold_start_s.value, stretch.dose.hold_goal_s.value
            over = (body.get("override_reason") or "").strip()
            item["hold_cap_s"] = float(max(first, cap if over else min(cap, goal)))
        knee = item.get("knee_from_deg")
        if knee is not None:
            v = stretch.variant(item.get("variant"))
            own = next((c.min for c in v.checks if c.measure == "working_knee"), knee)
            item["knee_from_deg"] = int(min(knee, own))
        items.append(item)
    if items:
        body["items"] = items
