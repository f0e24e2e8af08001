import csv
import io
import json
import uuid
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db.models import Count, F, Q
from django.http import Http404, HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_GET, require_http_methods

from limber.accounts.device import local, storage_key
from limber.core import draw, progression
from limber.core import screening as red_flags
from limber.core.script import NEW_SYMPTOMS_FIRST
from limber.library import get_library
from limber.practice import history as charts
from limber.practice import plan, quotas, store
from limber.practice.models import PracticeSession, Screening


@login_required
@require_http_methods(["GET", "POST"])
def screening(request):
    questions = red_flags.QUESTIONS
    errors: list[str] = []
    known_side = store.affected_side_of(request.user)
    given: dict[str, str] = {}  # sent back with a question left out, the answers stay chosen
    if request.method == "POST":
        answers = {}
        for q in questions:
            value = request.POST.get(q.id)
            if value not in ("yes", "no"):
                errors.append(q.id)
            else:
                given[q.id] = value
            answers[q.id] = value == "yes"
        # Which leg hurts: asked every time, optional (not sure, or back pain only); a check
        # that leaves it out keeps the earlier answer.
        side = request.POST.get("affected_side") or None
        if side is not None and side not in red_flags.SIDES:
            errors.append("affected_side")
        else:
            known_side = side  # as chosen on the page, "not sure" included
        if not errors:
            result = red_flags.evaluate(answers, side)
            Screening.objects.create(
                user=request.user,
                answers=answers,
                flagged=result.flagged,
                affected_side=side,
                seen_clinician=request.POST.get("seen_clinician") == "yes",
            )
            blocked = plan.screening_block(request.user)
            if not blocked:
                return HttpResponseRedirect(reverse("practice"))
            ctx = {"result": result, "blocked": blocked, "questions": questions}
            return render(request, "practice/screening_flagged.html", ctx)
    status = plan.screening_status(request.user)
    ctx = {
        "questions": questions,
        "asked": [(q, given.get(q.id, ""), q.id in errors) for q in questions],
        "missing": [q for q in questions if q.id in errors],
        "seen_clinician": request.POST.get("seen_clinician") == "yes",
        "errors": errors,
        "latest": status["latest"],
        "blocked": status["blocked"],
        "pending_flag": status["flagged"] is not None and status["flagged"].cleared_by_id is None,
        "known_side": known_side,
        "sides": red_flags.SIDES,
        "max_age_days": red_flags.MAX_AGE_DAYS,
        # Sent here by "yes" to new or worse symptoms before a session: say why.
        "after_new_symptoms": request.GET.get("after") == "new-symptoms",
    }
    return render(request, "practice/screening.html", ctx, status=400 if errors else 200)


# Which still drawing each kind of step shows: the movement is demonstrated before the stretch,
# and during a hold the figure stays still, so nothing on screen suggests bouncing.
POSES = ("animated", "start", "end")


def fast_playback_allowed() -> bool:
    """`?speed=` plays sessions faster for automated runs: never in production."""
    return settings.DEBUG or getattr(settings, "LIMBER_FAST_PLAYBACK", False)


def _legs(item: dict) -> str:
    """Which leg goes first, and each leg's hold when the leg with sciatica holds less."""
    holds = item.get("hold_by_side") or {}
    sides = item["sides"]
    if len(sides) < 2:
        return ""
    if len(set(holds.values())) > 1:
        return ", then ".join(f"{side} leg {holds[side]:g} s" for side in sides)
    return _("%(side)s leg first") % {"side": sides[0]}


def _today_so_far(user, now, planned: int) -> tuple[str, str, bool]:
    """(done for today, earlier today, done twice): what the person already did today, in
    words, and whether today's session was done in full twice (the most a day: FREQUENCY)."""
    # A hold skipped or cut short is not a hold done: held for progression's share of its time
    # (COMPLETE_FRACTION), as the player's own done screen counts.
    held = Q(holds__held_s__gte=F("holds__target_s") * progression.COMPLETE_FRACTION)
    # Today on the person's own clock, from their midnight to the next.
    midnight = local(user, now).replace(hour=0, minute=0, second=0, microsecond=0)
    done = (
        PracticeSession.objects.filter(
            user=user,
            started_at__gte=midnight,
            started_at__lt=midnight + timedelta(days=1),
            finished_at__isnull=False,
        )
        .annotate(n=Count("holds"), full=Count("holds", filter=held))
        .order_by("-full", "-n", "-finished_at")  # the fullest, and of those the latest
        .values_list("n", "full", "finished_at")[: quotas.SESSIONS_PER_DAY]
    )
    if not done:
        return "", "", False
    holds, full, finished = done[0]
    at = local(user, finished).strftime("%H:%M")
    if full >= planned:
        twice = sum(f >= planned for _n, f, _at in done) >= 2
        return _("You finished today's session at %(at)s: all %(n)s holds.") % {
            "at": at, "n": full
        }, "", twice  # fmt: skip
    if full < holds:
        return "", _("Earlier today you held %(n)s of %(of)s holds in full.") % {
            "n": full, "of": planned
        }, False  # fmt: skip
    return "", _("Earlier today you stopped after %(n)s of %(of)s holds.") % {
        "n": holds, "of": planned
    }, False  # fmt: skip


@login_required
@require_GET
def practice(request):
    blocked = plan.screening_block(request.user)
    if blocked:
        return HttpResponseRedirect(reverse("screening"))
    now = timezone.now()
    today = plan.today(request.user, now)
    library = get_library()
    figures = [
        {
            "exercise": item["exercise"],
            "side": side,
            "pose": pose,
            "svg": mark_safe(
                draw.render(library[item["exercise"]], item["variant"], side=side, pose=pose)
            ),
        }
        for item in today["prescription"]["items"]
        for side in item["sides"]
        for pose in POSES
    ]
    planned = sum(1 for step in today["script"]["steps"] if step["kind"] == "hold")
    done_today, earlier_today, done_twice = _today_so_far(request.user, now, planned)
    ctx = {
        "today": today,
        "figures": figures,
        "plan_items": [(item, _legs(item)) for item in today["prescription"]["items"]],
        "rules": progression.rules_dicts(),
        "script_asks_pain_before": any(
            "pain_before" in step.get("asks", ()) for step in today["script"]["steps"]
        ),
        "done_today": done_today,
        "done_twice": done_twice,
        "earlier_today": earlier_today,
        "notices": plan.notices(request.user),
        # The first session asks as the script (and the voice) does: there is no last time yet.
        **(
            {"new_symptoms_legend": _("Any new or worse symptoms since your symptoms check?")}
            if today["script"]["steps"] and today["script"]["steps"][0]["say"] == NEW_SYMPTOMS_FIRST
            else {}
        ),
        "player": {
            "fast_playback": fast_playback_allowed(),
            "planned_holds": planned,
            "storage": storage_key(request.user),
            "complete_fraction": progression.COMPLETE_FRACTION,
            "severe_pain": progression.SEVERE_PAIN,
            "felt_knees": store.felt_knees(request.user, now),
        },
    }
    return render(request, "practice/player.html", {**QUESTIONS, **ctx})


QUESTIONS = {
    "pain_scale": range(11),
    "pain_before_legend": _lazy("How much pain do you have right now? (0 = none, 10 = worst)"),
    "pain_now_legend": _lazy("Pain now (0 = none, 10 = worst)"),
    "felt_legend": _lazy("How did the back of your thigh feel?"),
    "spread_legend": _lazy("Did pain spread further down your leg?"),
    "new_symptoms_legend": _lazy("Any new or worse symptoms since last time?"),
    "yes_no": [("yes", _lazy("Yes")), ("no", _lazy("No"))],
    "no_yes": [("no", _lazy("No")), ("yes", _lazy("Yes"))],
    # The article: a stretch should be felt, not painful; "too strong" offers the gentler variant.
    "felt_choices": [
        ("no", _lazy("No stretch")),
        ("yes", _lazy("A gentle stretch")),
        ("strong", _lazy("Too strong")),
    ],
}


@login_required
@require_GET
def history(request):
    now = timezone.now()
    try:
        # ?before=<id of the last session of the page before> for older sessions
        before = request.GET.get("before")
        ctx = charts.page_context(request.user, now, uuid.UUID(before) if before else None)
    except (ValueError, store.FieldError):
        raise Http404("no such page of your history") from None
    return render(request, "practice/history.html", ctx)


@login_required
@require_GET
def export(request, fmt):
    """Everything Limber keeps about the user, streamed: a page of sessions at a time, so a long
    history costs neither the server's memory nor a wait before the first byte."""
    if fmt not in ("json", "csv"):
        raise Http404("Export as json or csv")
    user = request.user
    sessions = store.iter_sessions(user)
    if fmt == "json":
        body = _json_export(user, sessions)
        content_type = "application/json"
    else:
        body = _csv_export(sessions)
        content_type = "text/csv; charset=utf-8"
    response = StreamingHttpResponse(body, content_type=content_type)
    stamp = local(request.user, timezone.now()).strftime("%Y-%m-%d")
    response["Content-Disposition"] = f'attachment; filename="limber-{stamp}.{fmt}"'
    return response


def _json_export(user, sessions):
    # Everything the person answered, and whether a clinician lifted a flag (when, not who).
    screenings = [
        {
            "created": s.created.isoformat(),
            "answers": s.answers,
            "affected_side": s.affected_side,
            "seen_clinician": s.seen_clinician,
            "flagged": s.flagged,
            "cleared_at": s.cleared_at.isoformat() if s.cleared_at else None,
        }
        for s in Screening.objects.filter(user=user)
    ]
    account = {"email": user.email, "given_name": user.first_name, "family_name": user.last_name}
    head = {"account": account, "screenings": screenings}
    # The same document as json.dumps of the whole, written a session at a time.
    yield json.dumps(head, indent=2)[:-2] + ',\n  "sessions": ['
    for n, s in enumerate(sessions):
        yield ("," if n else "") + "\n    " + json.dumps(s)
    yield "\n  ]\n}\n"


def _csv_export(sessions):
    out = io.StringIO()
    writer = csv.writer(out)

    def flush() -> str:
        text = out.getvalue()
        out.seek(0)
        out.truncate()
        return text

    writer.writerow(["session_id", "started_at", "finished_at", "pain_before", "pain_after",
                     "pain_spread", "hold_id", *store.HOLD_FIELDS])  # fmt: skip
    for s in sessions:
        head = [s["id"], s["started_at"], s["finished_at"], s["pain_before"], s["pain_after"],
                s["pain_spread"]]  # fmt: skip
        for h in s["holds"] or [{}]:
            writer.writerow([*head, h.get("id"), *(h.get(f) for f in store.HOLD_FIELDS)])
        yield flush()
    yield flush()
