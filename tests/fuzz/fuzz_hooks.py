"""Schemathesis hooks: the rules that no JSON Schema keyword can state, applied to the cases
that are meant to be valid (the schema's descriptions say them; the API answers 422 otherwise).

- a session's dates lie from 2000 to a day from now, and it lasts at most 12 hours;
- a hold's variant is one of that stretch's variants, and each hold's id appears once;
- good_form_s is at most held_s.

Cases meant to be invalid are sent as generated.
"""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, timedelta

import schemathesis

from limber.core.spec import load_library

# The server runs the library shipped with Limber, as this does.
VARIANTS = {s.slug: [v.slug for v in s.variants] for s in load_library().values()}
# Ids made in order, not at random, so that a run with the same seed sends the same requests.
_ids = (uuid.UUID(int=n) for n in itertools.count(1))


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive:
        return
    if case.operation.path != "/api/v1/sessions" or not isinstance(case.body, dict):
        return
    body = case.body
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
