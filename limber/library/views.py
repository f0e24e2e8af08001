from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_safe

from limber.core import draw, form, progression
from limber.core.spec import Stretch
from limber.library import get_library


def _stretch(slug: str) -> Stretch:
    try:
        return get_library()[slug]
    except KeyError:
        raise Http404("No such stretch") from None


def _svg(stretch: Stretch, variant: str | None, side: str, pose: str) -> str:
    return mark_safe(draw.render(stretch, variant, side=side, pose=pose))


@require_safe
def home(request):
    """A visitor learns what Limber is; a signed-in person goes straight to today's session."""
    if request.user.is_authenticated:
        return HttpResponseRedirect(reverse("practice"))
    library = get_library()
    stretches = [(s, _svg(s, None, s.sides[-1], "end")) for s in library.values()]
    return render(request, "library/home.html", {"stretches": stretches})


@require_safe
def index(request):
    groups = [
        (position, [(s, _svg(s, None, s.sides[-1], "end")) for s in stretches])
        for position, stretches in get_library().by_position()
    ]
    return render(request, "library/index.html", {"groups": groups})


@require_safe
def detail(request, slug):
    stretch = _stretch(slug)
    side = stretch.sides[0]  # the leg sessions start with (unless the other one has the sciatica)
    variants = [
        (
            v,
            _svg(stretch, v.slug, side, "start"),
            _svg(stretch, v.slug, side, "end"),
            [c for c in v.checks if c.variant_note],  # the camera's limits this way changes
        )
        for v in stretch.variants
    ]
    library = get_library()
    rules = progression.rules_dicts()
    ctx = {
        "stretch": stretch,
        "animation": _svg(stretch, None, side, "animated"),
        "variants": variants,
        "related": [library[r] for r in stretch.related],
        "dose": stretch.dose,
        "rules": rules,
        "frequency": next(r for r in rules if r["name"] == "frequency"),
        # The leeway the camera gives every limit for its own error (form.MARGIN_DEG's reason).
        "margin_deg": form.MARGIN_DEG,
        "margin_heel": form.MARGIN["heel_lift"],
    }
    return render(request, "library/detail.html", ctx)


@require_safe
def drawing(request, slug, variant, side, pose):
    stretch = _stretch(slug)
    try:
        svg = draw.render(stretch, variant, side=side, pose=pose)
    except ValueError:
        raise Http404("No such drawing") from None
    response = HttpResponse(svg, content_type="image/svg+xml")
    response["Cache-Control"] = "public, max-age=3600"
    return response
