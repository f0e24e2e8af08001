import csv
import io
import json

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_http_methods

from limber.core import draw
from limber.core import screening as red_flags
from limber.library import get_library
from limber.practice import history as charts
from limber.practice import plan, store
from limber.practice.models import Screening


@login_required
@require_http_methods(["GET", "POST"])
def screening(request):
    questions = red_flags.QUESTIONS
    errors: list[str] = []
    known_side = store.affected_side_of(request.user)
    if request.method == "POST":
        answers = {}
        for q in questions:
            value = request.POST.get(q.id)
            if value not in ("yes", "no"):
                errors.append(q.id)
            answers[q.id] = value == "yes"
        # Which leg hurts: asked every time, optional (not sure, or back pain only); a check
        # that leaves it out keeps the earlier answer.
        side = request.POST.get("affected_side") or None
        if side is not None and side not in red_flags.SIDES:
            errors.append("affected_side")
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
        "errors": errors,
        "latest": status["latest"],
        "blocked": status["blocked"],
        "pending_flag": status["flagged"] is not None and status["flagged"].cleared_by_id is None,
        "known_side": known_side,
        "sides": red_flags.SIDES,
        "max_age_days": red_flags.MAX_AGE_DAYS,
    }
    return render(request, "practice/screening.html", ctx, status=400 if errors else 200)


@login_required
@require_GET
def practice(request):
    blocked = plan.screening_block(request.user)
    if blocked:
        return HttpResponseRedirect(reverse("screening"))
    today = plan.today(request.user, timezone.now())
    library = get_library()
    figures = [
        {
            "exercise": item["exercise"],
            "side": side,
            "svg": mark_safe(
                draw.render(library[item["exercise"]], item["variant"], side=side, pose="animated")
            ),
        }
        for item in today["prescription"]["items"]
        for side in item["sides"]
    ]
    ctx = {"today": today, "figures": figures, "pain_scale": range(11)}
    return render(request, "practice/player.html", ctx)


@login_required
@require_GET
def history(request):
    ctx = charts.page_context(request.user, timezone.now())
    return render(request, "practice/history.html", ctx)


@login_required
@require_GET
def export(request, fmt):
    sessions = [store.session_dict(s) for s in store.sessions_of(request.user)]
    stamp = timezone.now().strftime("%Y-%m-%d")
    if fmt == "json":
        screenings = [
            {"created": s.created.isoformat(), "answers": s.answers, "flagged": s.flagged}
            for s in Screening.objects.filter(user=request.user)
        ]
        body = {
            "account": {"email": request.user.email},
            "screenings": screenings,
            "sessions": sessions,
        }
        response = HttpResponse(json.dumps(body, indent=2), content_type="application/json")
    elif fmt == "csv":
        out = io.StringIO()
        columns = ["session_id", "started_at", "finished_at", "pain_before", "pain_after",
                   "pain_spread", "hold_id", *store.HOLD_FIELDS]  # fmt: skip
        writer = csv.writer(out)
        writer.writerow(columns)
        for s in sessions:
            head = [s["id"], s["started_at"], s["finished_at"], s["pain_before"], s["pain_after"],
                    s["pain_spread"]]  # fmt: skip
            for h in s["holds"] or [{}]:
                writer.writerow([*head, h.get("id"), *(h.get(f) for f in store.HOLD_FIELDS)])
        response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    else:
        raise Http404("Export as json or csv")
    response["Content-Disposition"] = f'attachment; filename="limber-{stamp}.{fmt}"'
    return response
