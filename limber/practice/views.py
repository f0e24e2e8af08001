import csv
import io
import json

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseRedirect, StreamingHttpResponse
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
    if request.method == "POST":
        answers = {}
        for q in questions:
            value = request.POST.get(q.id)
            if value not in ("yes", "no"):
                errors.append(q.id)
            answers[q.id] = value == "yes"
        if not errors:
            result = red_flags.evaluate(answers)
            Screening.objects.create(user=request.user, answers=answers, flagged=result.flagged)
            if not result.flagged:
                return HttpResponseRedirect(reverse("practice"))
            return render(request, "practice/screening_flagged.html", {"result": result})
    ctx = {"questions": questions, "errors": errors, "latest": store.latest_screening(request.user)}
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
    stamp = timezone.now().strftime("%Y-%m-%d")
    response["Content-Disposition"] = f'attachment; filename="limber-{stamp}.{fmt}"'
    return response


def _json_export(user, sessions):
    screenings = [
        {"created": s.created.isoformat(), "answers": s.answers, "flagged": s.flagged}
        for s in Screening.objects.filter(user=user)
    ]
    head = {"account": {"email": user.email}, "screenings": screenings}
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
