"""The clinic's pages: dashboard, invites, joining, the patient page, and the patient's care page."""

from __future__ import annotations

import html
import re
import uuid
from datetime import datetime

from django.contrib import auth, messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from pydantic import ValidationError

from limber.accounts import throttle
from limber.accounts.device import zone_of
from limber.accounts.forms import SignupForm
from limber.accounts.models import Profile, role_of, sign_up
from limber.accounts.views import TOO_MANY_SIGNUPS, too_many
from limber.clinic import care, dashboard, exports, prescriptions
from limber.clinic.api import PrescriptionIn
from limber.clinic.models import Access, CalendarFeed, CareLink, Invite, Prescription
from limber.core import progression
from limber.library import get_library
from limber.practice import history as charts
from limber.security import client_ip

TAKEN = gettext_lazy(
    "This address already has a Limber account: log in with it (the link below), then join. "
    "If you have just signed up with it, open the link in the mail we sent you first."
)


@login_required
@require_GET
def home(request):
    if role_of(request.user) != Profile.CLINICIAN:
        return HttpResponseRedirect(reverse("clinic-care"))
    # Emergency red flags first, then the other red flags, then other alerts (dashboard.urgency).
    rows = dashboard.by_urgency(dashboard.rows(request.user, timezone.now()))
    base = reverse("clinic-patient", args=[0]).removesuffix("0/")
    columns = [html.escape(str(c)) for c in COLUMN_NAMES]  # in the request's language
    ctx = {
        "columns": columns,
        "rows": [_row_html(r, f"{base}{r['id']}/", columns, n) for n, r in enumerate(rows)],
        "alert_sources": dashboard.ALERT_SOURCES.values(),
    }
    return render(request, "clinic/dashboard.html", ctx)


COLUMN_NAMES = [
    gettext_lazy("Patient"),
    gettext_lazy("Alerts"),
    gettext_lazy("Last session"),
    gettext_lazy("7 days"),
    gettext_lazy("28 days"),
    gettext_lazy("Pain"),
    gettext_lazy("Good form"),
]


def _row_html(r: dict, url: str, label: list[str], place: int) -> str:
    """One patient's row, the ``place``-th by urgency. Built here with f-strings rather than
    template tags or format_html: for 200 patients those were a third of the page's time
    (bench/bench_clinic.py). Every text is escaped; the numbers are ours."""
    e = html.escape
    alerts = (
        "".join(
            f'<a class="alert alert-{e(a["kind"])}{" alert-" + e(a["urgency"]) if "urgency" in a else ""}" '
            f'title="{e(a["source"])}" '
            f'href="{url}{"#session-" + e(a["session"]) if a["session"] else "#screen-h" if a["kind"] == "red_flag" else ""}">'
            f"{e(a['reason'])}</a>"
            for a in r["alerts"]
        )
        or '<span class="note">–</span>'
    )
    last = r["last_session_at"]
    when = (
        f'<time datetime="{e(r["last_session"])}">{last:%a %-d %b}</time>'
        if last
        else e(_("never"))
    )
    share, pain = r["good_form_share"], r["latest_pain"]
    form = (
        f"{share * 100:.0f} %" if share is not None
        else f'<span class="note" title="{e(_("the camera check was not used"))}">–</span>'
    )  # fmt: skip
    notes = (
        "" if r["prescribed"] else f'<br><small class="note">{e(_("no prescription yet"))}</small>'
    )
    if r["shared_by"]:  # a colleague's patient, shared with this clinician
        shared = _("shared by %(name)s") % {"name": r["shared_by"]}
        notes = f'<br><small class="note shared">{e(shared)}</small>{notes}'
    week = f"{r['days_7']} / {r['target_7']}" if r["target_7"] else r["days_7"]
    month = f"{r['days_28']} / {r['target_28']}" if r["target_28"] else r["days_28"]
    rank = dashboard.urgency(r["alerts"])
    marked = ' class="has-alert"' if r["alerts"] else ""
    if rank < 2:
        marked += ' data-red-flag=""'  # the row's edge in the red flag's colour (clinic.css)
    # data-label: the column's name (escaped), shown beside each value where the rows stack as
    # cards (a phone: clinic.css).
    return mark_safe(
        f"<tr{marked}>"
        f'<td class="who" data-sort="{e(r["name"].lower())}"><a href="{url}">{e(r["name"])}</a>{notes}</td>'
        # Sorted by Alerts, the rows come back in the page's own order: by urgency, not by the
        # number of alerts (three pain alerts are not more urgent than one emergency).
        f'<td class="alerts" data-label="{label[1]}" data-sort="{place}">{alerts}</td>'
        f'<td data-label="{label[2]}" data-sort="{e(r["last_session"] or "")}">{when}</td>'
        f'<td data-label="{label[3]}" data-sort="{r["days_7"]}">{week}</td>'
        f'<td data-label="{label[4]}" data-sort="{r["days_28"]}">{month}</td>'
        f'<td data-label="{label[5]}" data-sort="{-1 if pain is None else pain}" class="pain">'
        f"{dashboard.sparkline(r['pain'])}<span>{'–' if pain is None else pain}</span></td>"
        f'<td data-label="{label[6]}" data-sort="{-1 if share is None else share}">{form}</td></tr>'
    )


@login_required
@require_POST
def new_invite(request):
    inv = care.invite(request.user, timezone.now())
    return HttpResponseRedirect(reverse("clinic-invite", args=[inv.code]))


@login_required
@require_GET
def invite(request, code):
    care.require_clinician(request.user)
    inv = get_object_or_404(Invite, code=code, clinician=request.user)
    info = exports.invite_dict(request, inv)
    ctx = {"invite": inv, "url": info["url"], "qr": exports.qr_data_uri(info["url"])}
    return render(request, "clinic/invite.html", ctx)


@require_http_methods(["GET", "POST"])
def join(request, code):
    """Open an invite link: sign up here (or log in) and join the clinician in one step.

    A working invite is let past the per-address sign-up limit: patients scanning the QR code
    on a clinic's Wi-Fi all come from one address, and each code comes from a clinician and
    makes one account at most (care.join uses it up in the same transaction). Everything else
    here counts against that limit, as a sign-up does: a code nobody made (what guessing codes
    looks like), a used or expired one, and an address that is taken (else a working invite
    would test addresses without limit)."""
    ip = client_ip(request)
    inv = Invite.objects.select_related("clinician").filter(code=code.upper()).first()
    if inv is None:
        if not throttle.SIGNUP_PER_ADDRESS.spend(ip):
            return too_many(request, TOO_MANY_SIGNUPS)
        raise Http404
    form = SignupForm(request.POST or None) if not request.user.is_authenticated else None
    error = ""
    status = 200
    expired = inv.used_at is not None or inv.expires <= timezone.now()
    if request.method == "POST" and expired:
        if not throttle.SIGNUP_PER_ADDRESS.spend(ip):
            return too_many(request, TOO_MANY_SIGNUPS)
        status = 400  # nothing is looked up or made with a dead code
    elif request.method == "POST":
        try:
            with transaction.atomic():
                if form is not None:
                    if not form.is_valid():
                        raise care.CareError("")
                    user = _sign_up(form, ip)
                else:
                    user = request.user
                care.join(user, code, timezone.now())
        except care.CareError as e:
            error, status = str(e), 429 if e.status == 429 else 400
        else:
            if form is not None:
                auth.login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            # Practice sends a newcomer to the symptoms check first, as signing up does.
            return HttpResponseRedirect(reverse("practice"))
    ctx = {
        "invite": inv,
        "clinician": care.display_name(inv.clinician),
        "clinic": care.clinic_name(inv.clinician),
        "form": form,
        "error": error,
        "expired": expired,
    }
    return render(request, "clinic/join.html", ctx, status=status)


def _sign_up(form, ip: str):
    """A new patient account, in use at once: the invite stands for the mailed link. An address
    that already has an account logs in first; its password is not tried here, where no login
    limit counts the tries; nor is a sign-up still waiting for its mailed link completed here
    (sign_up). Saying an address is taken counts against the sign-up limit (join's docstring)."""
    user, made = sign_up(form.cleaned_data["email"], form.cleaned_data["password"], confirmed=True)
    if not made:
        if not throttle.SIGNUP_PER_ADDRESS.spend(ip):
            raise care.CareError(str(TOO_MANY_SIGNUPS), 429)
        raise care.CareError(TAKEN)
    return user


@login_required
@require_http_methods(["GET", "POST"])
def patient(request, patient_id):
    p = care.patient_for(request.user, patient_id)
    errors: dict[str, str] = {}
    current = Prescription.objects.filter(patient=p).first()
    if request.method == "POST":
        submitted = _form_to_payload(request.POST)
        try:
            payload = PrescriptionIn.model_validate(submitted)
            data = prescriptions.validate(payload.dict())
        except ValidationError as e:
            for err in e.errors():
                name, message = _form_error(err["loc"], err["type"], err["msg"], submitted)
                errors.setdefault(name, message)
        except prescriptions.FieldError as e:
            name, message = _form_error(_loc(e.field), e.code, str(e), submitted)
            errors[name] = message
        if errors:
            # Every cap that breaks the article's rules, at once and with the other errors, not
            # one stretch a save once the rest is right.
            reason = submitted.get("override_reason")
            for problem in prescriptions.cap_problems(submitted["items"], reason):
                name, message = _form_error(
                    _loc(problem.field), problem.code, str(problem), submitted
                )
                errors.setdefault(name, message)
        else:
            try:
                prescriptions.save(p, request.user, data, timezone.now())
            except care.CareError:  # the link ended on the way
                raise Http404("no such patient") from None
            return HttpResponseRedirect(reverse("clinic-patient", args=[p.pk]) + "#prescription")
    now = timezone.now()
    # ?before=<id of the last session of the page before> for older sessions
    before = request.GET.get("before")
    try:
        facts = exports.patient_facts(p, now, uuid.UUID(before) if before else None)
    except (ValueError, care.CareError):  # CareError is a ValueError; named for the reader
        raise Http404("no such page of this patient's sessions") from None
    library = get_library()
    for s in facts["sessions"]:
        s["summary"] = _hold_summary(s["holds"], library)
    stored = current.data if current else None
    posted = request.POST if request.method == "POST" else None
    own = CareLink.objects.filter(patient=p, clinician=request.user, ended=None).exists()
    chart = charts.charts_context(p, now)
    # The chart's legend speaks about the patient here, not to the reader (practice/history.js).
    chart["chart_data"]["pain"]["baseline_label"] = _("Usual pain (baseline)")
    ctx = {
        "patient": p,
        "facts": facts,
        "red_flag": _red_flag(facts),
        "form": _form_rows(stored, posted, errors),
        "top": _form_top(stored, posted),
        "errors": errors,
        # The form's own order, for the list above it: (field name, message).
        "error_list": sorted(errors.items(), key=lambda e: _form_place(e[0])),
        "own": own,
        "colleagues": _colleagues(p) if own else [],
        **chart,
        "older_page": facts["sessions_next"],
        "newer_page": bool(before),
    }
    # Dates and times on this page are the patient's own clock, as their days are counted (the
    # dashboard, the 7 and 28 days): a session at 23:30 reads as the evening it was.
    for s in facts["sessions"]:
        s["when"] = datetime.fromisoformat(s["started_at"])
    for c in facts["changes"]:
        c["when"] = datetime.fromisoformat(c["at"])
    for k in facts["screening"]["checks"]:
        k["when"] = datetime.fromisoformat(k["at"])
        k["cleared_when"] = datetime.fromisoformat(k["cleared_at"]) if k["cleared_at"] else None
    flag = facts["screening"]["open_flag"]
    ctx["flag_when"] = datetime.fromisoformat(flag) if flag else None
    last = facts.get("last_session")
    ctx["last_when"] = datetime.fromisoformat(last) if last else None
    zone = zone_of(p)
    ctx["zone_name"] = str(zone)
    with timezone.override(zone):
        return render(request, "clinic/patient.html", ctx, status=400 if errors else 200)


def _red_flag(facts: dict) -> dict | None:
    """The open red flag's alert (dashboard.alerts_for), for the section that names it."""
    return next((a for a in facts.get("alerts", []) if a["kind"] == "red_flag"), None)


def _colleagues(patient) -> list[dict]:
    return [
        {"id": a.colleague_id, "name": care.display_name(a.colleague), "since": a.created}
        for a in Access.objects.filter(patient=patient).select_related("colleague").order_by("pk")
    ]


def _hold_summary(holds: list[dict], library) -> list[str]:
    """One line per stretch: how many holds, on which legs, how long against the target, how
    many were cut short or felt too strong, the camera's share (and the knee angle the stretch
    was felt at, when the patient said so) and the highest pain."""
    out = []
    for slug in dict.fromkeys(h["exercise"] for h in holds):
        mine = [h for h in holds if h["exercise"] == slug]
        name = library[slug].name if slug in library else slug
        sides = "/".join(dict.fromkeys(h["side"] for h in mine))
        line = (
            f"{name}: {len(mine)} × up to {max(h['held_s'] for h in mine):.0f} s "
            f"of {max(h['target_s'] for h in mine):g} s ({sides})"
        )
        # Cut short as progression counts it (a hold done is 90 % of its time).
        short = sum(not progression.held_in_full(h["held_s"], h["target_s"]) for h in mine)
        if short:
            line += f", {short} cut short"
        strong = sum(bool(h["too_strong"]) for h in mine)
        if strong:
            line += f", {strong} too strong"
        timed = [h for h in mine if h["good_form_s"] is not None]
        if timed:
            share = sum(h["good_form_s"] for h in timed) / max(sum(h["held_s"] for h in timed), 1)
            line += f", good form {share * 100:.0f} %"
        # Where the patient said the stretch is felt before the knee was straight: the good
        # form above counts from there, and the angle is their hamstrings' range that day.
        felt = {h["side"]: h["knee_felt_deg"] for h in mine if h.get("knee_felt_deg") is not None}
        if felt:
            at = ", ".join(f"{deg:.0f}° ({side})" for side, deg in felt.items())
            line += f", stretch felt with the knee at {at}"
        pains = [h["pain"] for h in mine if h["pain"] is not None]
        if pains:
            line += f", pain up to {max(pains)}"
        out.append(line)
    return out


def _form_to_payload(post) -> dict:
    """The prescription form as the API's body, so both are checked by the same code."""
    items = []
    for slug in get_library():
        if not post.get(f"include-{slug}"):
            continue
        items.append(
            {
                "exercise": slug,
                "variant": post.get(f"variant-{slug}") or None,
                "sides": post.getlist(f"sides-{slug}"),
                "reps_per_side": _number(post.get(f"reps-{slug}"), int),
                "hold_cap_s": _number(post.get(f"cap-{slug}"), float),
                "knee_from_deg": _number(post.get(f"knee-{slug}"), int),
            }
        )
    times = _number(post.get("times_per_week"), int)
    return {
        "items": items,
        # Left empty, it means daily, as the API's default; 0 or 8 is refused, never read as 7.
        "times_per_week": 7 if times is None else times,
        "affected_side": post.get("affected_side") or None,
        "note": post.get("note", "").strip(),
        "override_reason": post.get("override_reason", ""),
    }


def _number(text: str | None, kind):
    if text is None or not text.strip():
        return None
    try:
        value = float(text)
    except ValueError:
        return text  # let validation name the field
    return int(value) if kind is int and value.is_integer() else value


# The form's fields, as the API names them: each item field's input, by its name's prefix.
ITEM_INPUTS = {
    "exercise": "include",
    "variant": "variant",
    "sides": "sides",
    "reps_per_side": "reps",
    "hold_cap_s": "cap",
    "knee_from_deg": "knee",
}
# Each field's label on the page, and what it must be, in the form's own words.
LABELS = {
    "include": gettext_lazy("stretch"),
    "variant": gettext_lazy("variant"),
    "sides": gettext_lazy("legs"),
    "reps": gettext_lazy("reps per side"),
    "cap": gettext_lazy("hold cap"),
    "knee": gettext_lazy("knee counted straight from"),
    "times_per_week": gettext_lazy("Times a week"),
    "affected_side": gettext_lazy("Affected leg"),
    "note": gettext_lazy("Note to the patient"),
    "override_reason": gettext_lazy("Reason for a cap above the article's goal"),
}
RANGES = {
    "sides": gettext_lazy("tick at least one leg"),
    "reps": gettext_lazy("must be a whole number from 1 to %(max)s")
    % {"max": prescriptions.MAX_REPS},
    "times_per_week": gettext_lazy("must be a whole number from 1 to 7"),
    "affected_side": gettext_lazy("choose left, right or not set"),
}


def _loc(path: str) -> tuple:
    """ "items[1].sides[0]" as pydantic's location: ("items", 1, "sides", 0)."""
    return tuple(int(p) if p.isdigit() else p for p in re.findall(r"[^.\[\]]+", path))


def _form_place(name: str) -> int:
    """Where a field comes on the form (each stretch's boxes in library order, then the rest),
    so the error summary reads in the order of the page (a clinician tester's finding)."""
    order = [f"{kind}-{slug}" for slug in get_library() for kind in ITEM_INPUTS.values()] + [
        "times_per_week",
        "affected_side",
        "note",
        "override_reason",
    ]
    return order.index(name) if name in order else len(order)


def _form_error(loc: tuple, code: str, message: str, submitted: dict) -> tuple[str, str]:
    """An error of the API's body as (the form field's name, a sentence in the form's words
    that names the stretch): the items' indices count ticked boxes, not the boxes on the page."""
    message = message.removeprefix("Value error, ")
    if loc and loc[0] == "items" and len(loc) >= 3 and isinstance(loc[1], int):
        item = submitted["items"][loc[1]]
        library = get_library()
        slug = item["exercise"]
        stretch = library[slug]
        kind = ITEM_INPUTS.get(str(loc[2]), "include")
        if kind == "cap" and code == "above_goal":
            words = _(
                "%(cap)s s is above the article's goal for this stretch (%(goal)s s): fill in "
                "“%(reason)s”, which the patient sees"
            ) % {"cap": f"{item['hold_cap_s']:g}", "goal": f"{stretch.dose.hold_goal_s.value:g}",
                 "reason": LABELS["override_reason"]}  # fmt: skip
        elif kind == "cap" and code == "below_first":
            words = _("%(cap)s s is below the article's first hold for this stretch (%(first)s s)") % {
                "cap": f"{item['hold_cap_s']:g}", "first": f"{stretch.dose.hold_start_s.value:g}"
            }  # fmt: skip
        elif kind == "cap":
            # The whole rule, for this stretch: a bare "1 to 60" would hide the first hold and
            # the reason a cap above the goal needs.
            words = _(
                "must be a number of seconds from the article's first hold (%(first)s s) to "
                "%(max)s s; above its goal (%(goal)s s) only with a reason"
            ) % {"first": f"{stretch.dose.hold_start_s.value:g}", "max": prescriptions.MAX_CAP_S,
                 "goal": f"{stretch.dose.hold_goal_s.value:g}"}  # fmt: skip
        elif kind == "knee":
            own = prescriptions.knee_rule_min(stretch, item.get("variant"))
            words = _(
                "must be a whole number of degrees from %(min)s to %(own)s, where the camera "
                "already counts this stretch's knee straight; left empty, %(own)s"
            ) % {"min": prescriptions.MIN_KNEE_FROM_DEG, "own": f"{own or 180:g}"}
        else:
            words = str(RANGES.get(kind, message))
        return f"{kind}-{slug}", f"{stretch.name} — {LABELS[kind]}: {prescriptions.sentence(words)}"
    field = str(loc[0]) if loc else "items"
    if field == "items":  # every box left unticked
        return "items", _("Tick at least one stretch to prescribe.")
    if field == "note" and code in ("string_too_long", "invalid"):
        words = _("at most %(max)s characters, please (this one has %(n)s)") % {
            "max": prescriptions.MAX_NOTE, "n": len(submitted["note"])
        }  # fmt: skip
    elif field == "override_reason" and code == "string_too_long":
        words = _("at most 500 characters, please")
    else:
        words = str(RANGES.get(field, message))
    return field, f"{LABELS.get(field, field)}: {prescriptions.sentence(words)}"


def _form_rows(data: dict | None, post=None, errors: dict | None = None) -> list[dict]:
    """One box per stretch: what was typed when the form comes back with errors (reps 0 stays
    0, 45 stays 45, a word stays the word), the stored prescription otherwise."""
    chosen = {i["exercise"]: i for i in (data or {}).get("items", [])}
    errors = errors or {}
    rows = []
    for slug, s in get_library().items():
        if post is not None:
            included = bool(post.get(f"include-{slug}"))
            variant = post.get(f"variant-{slug}") or None
            sides = post.getlist(f"sides-{slug}")
            reps, cap = post.get(f"reps-{slug}", ""), post.get(f"cap-{slug}", "")
            knee = post.get(f"knee-{slug}", "")
        else:
            item = chosen.get(slug, {})
            included, variant = slug in chosen, item.get("variant")
            sides = item.get("sides") or list(s.sides)
            reps = item.get("reps_per_side") or ""
            cap = "" if item.get("hold_cap_s") is None else f"{item['hold_cap_s']:g}"
            knee = item.get("knee_from_deg") or ""
        rows.append(
            {
                "stretch": s,
                "included": included,
                "variant": variant,
                "sides": sides,
                "reps": reps,
                "cap": cap,
                "knee": knee,
                "knee_own": prescriptions.knee_rule_min(s, None),
                "knee_min": prescriptions.MIN_KNEE_FROM_DEG,
                "err": {k: errors.get(f"{k}-{slug}", "") for k in ITEM_INPUTS.values()},
            }
        )
    return rows


def _form_top(data: dict | None, post=None) -> dict:
    if post is not None:
        keys = ("times_per_week", "affected_side", "note", "override_reason")
        return {k: post.get(k, "") for k in keys}
    return data or {"times_per_week": 7}


@login_required
@require_POST
def clear_screening(request, patient_id):
    p = care.patient_for(request.user, patient_id)
    try:
        exports.clear_screening(p, request.user, timezone.now())
    except care.CareError:
        pass  # nothing flagged (a second click): the page shows the current state
    return HttpResponseRedirect(reverse("clinic-patient", args=[p.pk]))


@login_required
@require_POST
def grant(request, patient_id):
    """Give a colleague access, or (with `remove`) take it back. A colleague may see the patient
    and change the prescription, as the page says: they cover for the patient's own clinician,
    and every change is recorded with their name."""
    p = care.own_patient_for(request.user, patient_id)
    if "remove" in request.POST:
        gone = care.revoke(request.user, p, request.POST["remove"])
        if gone is not None:
            who = care.display_name(gone)
            messages.success(
                request, _("%(who)s no longer has access to this patient.") % {"who": who}
            )
        return HttpResponseRedirect(reverse("clinic-patient", args=[p.pk]) + "#access-h")
    try:
        access = care.grant(request.user, p, request.POST.get("email", ""), timezone.now())
    except care.CareError as e:
        messages.error(request, str(e))
    else:
        who = care.display_name(access.colleague)
        messages.success(
            request,
            _("%(who)s can now see this patient and change the prescription.") % {"who": who},
        )
    return HttpResponseRedirect(reverse("clinic-patient", args=[p.pk]) + "#access-h")


@login_required
@require_GET
def handout(request, patient_id=None):
    """The handout PDF: your own (patients), or a patient's (their clinicians)."""
    p = care.patient_for(request.user, patient_id) if patient_id is not None else request.user
    paper = request.GET.get("paper", "a4")
    if paper not in exports.PAPERS:
        raise Http404("paper must be a4 or letter")
    try:
        pdf = exports.handout_pdf(
            p, request.build_absolute_uri(reverse("practice")), paper, request.user
        )
    except care.CareError as e:  # WeasyPrint or Pango missing, or another one rendering
        response = HttpResponse(str(e), status=e.status, content_type="text/plain; charset=utf-8")
        if e.status == 429:
            response["Retry-After"] = str(exports.RETRY_AFTER_S)
        return response
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="limber-handout-{paper}.pdf"'
    return response


# --- the patient's side -----------------------------------------------------------------------


@login_required
@require_GET
def my_care(request):
    link = care.clinician_of(request.user)
    feed = CalendarFeed.objects.filter(patient=request.user).first()
    ctx = {
        "link": link,
        "closed": None if link else care.closed_link(request.user),
        "clinician": care.display_name(link.clinician) if link else "",
        "clinic": care.clinic_name(link.clinician) if link else "",
        "prescription": Prescription.objects.filter(patient=request.user).first(),
        "feed_url": request.build_absolute_uri(reverse("clinic-calendar-feed", args=[feed.secret]))
        if feed
        else "",
    }
    return render(request, "clinic/care.html", ctx)


@login_required
@require_http_methods(["GET", "POST"])
def end_care(request):
    """Ending the link asks first, saying what it does: the prescription is deleted and only a
    new invite links the patient again. A POST without the confirmation asks again."""
    link = care.clinician_of(request.user)
    if link is None:
        return HttpResponseRedirect(reverse("clinic-care"))
    if request.method == "POST" and request.POST.get("confirm") == "yes":
        care.end(request.user, timezone.now())
        messages.success(request, _("The link to your clinician has ended."))
        return HttpResponseRedirect(reverse("clinic-care"))
    ctx = {
        "clinician": care.display_name(link.clinician),
        "has_prescription": Prescription.objects.filter(patient=request.user).exists(),
    }
    return render(request, "clinic/end_care.html", ctx)


@login_required
@require_POST
def reset_calendar(request):
    care.reset_calendar(request.user)
    return HttpResponseRedirect(reverse("clinic-care") + "#reminders")


@require_GET
def calendar_feed(request, secret):
    """The private feed: no login, whoever holds the secret address; gone once it is reset."""
    feed = CalendarFeed.objects.select_related("patient").filter(secret=secret).first()
    if feed is None or not feed.patient.is_active:
        raise Http404
    body = exports.calendar_feed(
        feed.patient, request.build_absolute_uri(reverse("practice")), timezone.now()
    )
    return HttpResponse(body, content_type="text/calendar; charset=utf-8")
