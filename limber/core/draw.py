"""Drawings of the stretches: the body model's points with their props, as standalone SVG.

Everything drawn comes from the spec's key poses through `body.figure`, so measuring a drawing
(`scene(...).figure` with `body.measure`) gives the spec's angles back. The props are placed
from the end pose (the wall at the back of the raised leg, the stool under the heel) and stay
put while the figure moves.

The model is in body heights with y up and the floor at y = 0; the SVG flips y. The figure
faces +x, which shows its right side, so a right-leg drawing is drawn as is and a left-leg
drawing is mirrored.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from .body import (
    LIMB_RADIUS,
    SEGMENTS,
    THIGH_WRAP,
    TRUNK_RADIUS,
    Figure,
    figure,
    interpolate,
    measure,
)
from .spec import Pose, Stretch, Variant

__all__ = ["POSES", "Props", "Scene", "figure_for", "render", "scene", "scene_at"]

POSES = ("start", "end", "animated")

Point = tuple[float, float]

# Half-thicknesses where limbs are drawn thinner than the body model's LIMB_RADIUS: real legs
# taper to the ankle, and a full-width ankle would sink into the floor whenever the shin slopes.
THIGH_R = (LIMB_RADIUS, 0.038)
SHIN_R = (0.038, 0.024)
FOOT_R = (0.026, 0.014)
UPPER_ARM_R = (0.03, 0.025)
FOREARM_R = (0.025, 0.02)
NECK_R = 0.026
TOWEL_HALF = 0.01

SCALE = 400  # SVG units per body height
FRAME_W = 1.3  # the drawing's width and height in body heights, the same for every stretch
FRAME_TOP = 0.8
FRAME_BOTTOM = -0.07

# Every colour that draws the person, a prop's edge or the towel stands out from the white card
# by at least 3:1 (WCAG 1.4.11, non-text contrast): the far leg and the props' edges were 2.6:1.
INK = "#334155"  # slate: the body
WORK = "#0f766e"  # teal: the leg being stretched
FAR = "#7c8ba1"  # the other leg, further from the viewer: lighter than the body, 3.5:1
OUTLINE = "#ffffff"
PROP_FILL = "#e2e8f0"  # a surface inside its edge
PROP_EDGE = "#7c8ba1"
FLOOR_FILL = "#f1f5f9"  # a surface under the floor line
TOWEL = "#b08968"

# The animation: start -> end in 3 s, hold 3 s, back in 3 s, pause 1 s.
CYCLE_S = 10.0
STEPS = 18


@dataclass(frozen=True)
class Props:
    """Where the props are, in body heights (y up, floor at 0). None: not in this drawing."""

    floor_y: float = 0.0
    wall_x: float | None = None  # the wall's face, at the back of the raised leg
    wall_thickness: float = 0.07
    seat_y: float | None = None  # the top of the chair's seat
    seat_front_x: float = 0.0
    seat_back_x: float = 0.0
    backrest_top_y: float = 0.0
    stool_top_y: float | None = None
    stool_x: tuple[float, float] = (0.0, 0.0)


@dataclass(frozen=True)
class Scene:
    """One drawn moment: the placed figure, the props, and the towel's path if there is one."""

    stretch: Stretch
    variant: Variant
    pose: Pose
    figure: Figure
    props: Props
    towel: tuple[Point, ...] = ()

    def support_y(self, x: float) -> float:
        """The height of what is under the point x: the stool's top over the stool, else floor."""
        p = self.props
        if p.stool_top_y is not None and p.stool_x[0] <= x <= p.stool_x[1]:
            return p.stool_top_y
        return p.floor_y

    def measure(self) -> dict[str, float]:
        return measure(self.figure, self.support_y(self.figure["heel"][0]))


# --- choosing and placing ---------------------------------------------------------------------


def _variant(stretch: Stretch, slug: str | None) -> Variant:
    try:
        return stretch.variant(slug)
    except KeyError:
        valid = ", ".join(v.slug for v in stretch.variants)
        raise ValueError(
            f"unknown variant {slug!r} for {stretch.slug}; choose one of: {valid}"
        ) from None


def _check_side(stretch: Stretch, side: str) -> None:
    if side not in stretch.sides:
        raise ValueError(f"side must be one of: {', '.join(stretch.sides)}; got {side!r}")


def _check_pose(pose: str, allowed: Sequence[str] = POSES) -> None:
    if pose not in allowed:
        raise ValueError(f"pose must be one of: {', '.join(allowed)}; got {pose!r}")


def _place(stretch: Stretch, variant: Variant, pose: Pose) -> Figure:
    return figure(pose, stretch.position, rest_on=variant.end)


def _props(stretch: Stretch, variant: Variant) -> Props:
    end = _place(stretch, variant, variant.end)
    props = Props()
    if "wall" in variant.props:
        back = max(end["heel"][0], end["ankle"][0]) + LIMB_RADIUS
        props = replace(props, wall_x=max(back, end["hip"][0] + TRUNK_RADIUS))
    if "chair" in variant.props:
        hip_x, hip_y = end["hip"]
        seat_y = hip_y - TRUNK_RADIUS
        props = replace(
            props,
            seat_y=seat_y,
            seat_front_x=hip_x + 0.07,
            seat_back_x=hip_x - 0.2,
            backrest_top_y=seat_y + 0.3,
        )
    if "stool" in variant.props:
        heel_x, heel_y = end["heel"]
        props = replace(props, stool_top_y=heel_y, stool_x=(heel_x - 0.045, heel_x + 0.12))
    return props


def _foot_clearance(f: Figure, props: Props) -> float:
    """How far the working foot is above what is under it (negative: sunk into it)."""

    def under(x: float) -> float:
        lo, hi = props.stool_x
        if props.stool_top_y is not None and lo - 0.01 <= x <= hi + 0.01:
            return props.stool_top_y
        return props.floor_y

    ax, ay = f["ankle"]
    return min(
        f["heel"][1] - under(f["heel"][0]),
        f["toe"][1] - under(f["toe"][0]),
        ay - SHIN_R[1] - under(ax),
    )


def _pose_at(stretch: Stretch, variant: Variant, props: Props, t: float) -> Pose:
    """The pose a fraction t of the way from start to end, joint angles moving evenly.

    Sitting, evenly moving angles would sweep the heel through the floor (or the stool) on
    the way out; a person slides the heel along the floor and lifts it onto the stool, so the
    hip bends just enough to keep the foot on top of what is under it.
    """
    pose = interpolate(variant.start, variant.end, t)
    if stretch.position != "sitting" or t in (0.0, 1.0):
        return pose
    hip = pose.hip
    while hip > pose.hip - 60:
        f = _place(stretch, variant, replace(pose, hip=hip))
        if _foot_clearance(f, props) >= -1e-4:
            break
        hip -= 0.25
    return replace(pose, hip=hip)


def _towel(f: Figure, hands: str) -> tuple[Point, ...]:
    """Hands -> round the back of the thigh (the source's way) or the sole -> hands."""
    if hands == "towel_thigh":
        hip, knee = f["hip"], f["knee"]
        d = _unit(hip, knee)
        back = (d[1], -d[0])  # the hamstring side of the hip-to-knee line
        out = THIGH_R[0] * 0.95 + TOWEL_HALF
        near, far = (_lerp(hip, knee, t) for t in THIGH_WRAP)
        a = (far[0] + back[0] * out, far[1] + back[1] * out)
        b = (near[0] + back[0] * out, near[1] + back[1] * out)
        return (f["hand"], a, b, f["hand"])
    heel, toe = f["heel"], f["toe"]
    d = _unit(heel, toe)
    sole_out = (d[1], -d[0])  # the side of the heel-to-toe line that faces away from the shin
    near = _lerp(heel, toe, 0.3)
    far = _lerp(heel, toe, 0.55)
    out = TOWEL_HALF
    a = (far[0] + sole_out[0] * out, far[1] + sole_out[1] * out)
    b = (near[0] + sole_out[0] * out, near[1] + sole_out[1] * out)
    hand = f["hand"]
    return (hand, a, b, hand)


def scene_at(stretch: Stretch, variant: str | None, t: float) -> Scene:
    """The drawing a fraction t (0 start, 1 end) of the way through the movement."""
    v = _variant(stretch, variant)
    props = _props(stretch, v)
    pose = _pose_at(stretch, v, props, t)
    f = _place(stretch, v, pose)
    towel = _towel(f, pose.hands) if "towel" in v.props else ()
    return Scene(stretch, v, pose, f, props, towel)


def scene(stretch: Stretch, variant: str | None = None, pose: str = "end") -> Scene:
    """The start or end pose as drawn (before any mirroring for the left side)."""
    _check_pose(pose, ("start", "end"))
    return scene_at(stretch, variant, 0.0 if pose == "start" else 1.0)


def figure_for(stretch: Stretch, variant: str | None = None, pose: str = "end") -> Figure:
    """The placed points of exactly what is drawn for a pose (right side, y up)."""
    return scene(stretch, variant, pose).figure


# --- geometry helpers -------------------------------------------------------------------------


def _lerp(p: Point, q: Point, t: float) -> Point:
    return (p[0] + (q[0] - p[0]) * t, p[1] + (q[1] - p[1]) * t)


def _unit(p: Point, q: Point) -> Point:
    dx, dy = q[0] - p[0], q[1] - p[1]
    n = math.hypot(dx, dy) or 1e-9
    return (dx / n, dy / n)


class _Canvas:
    """Model coordinates (body heights, y up) to SVG units (y down) for one stretch variant."""

    def __init__(self, left: float) -> None:
        self.left = left
        self.width = FRAME_W * SCALE
        self.height = (FRAME_TOP - FRAME_BOTTOM) * SCALE

    def x(self, x: float) -> float:
        return (x - self.left) * SCALE

    def y(self, y: float) -> float:
        return (FRAME_TOP - y) * SCALE

    def pt(self, p: Point) -> Point:
        return (self.x(p[0]), self.y(p[1]))


def _n(v: float) -> str:
    s = f"{v:.1f}"
    return "0" if s in ("-0.0", "0.0") else s.removesuffix(".0")


def _capsule(c: _Canvas, p1: Point, r1: float, p2: Point, r2: float) -> str:
    """A limb: two circles joined by their outer tangents, as one path (the same commands for
    every pose, so SMIL can animate between them)."""
    a, b = c.pt(p1), c.pt(p2)
    r1, r2 = r1 * SCALE, r2 * SCALE
    d = max(math.hypot(b[0] - a[0], b[1] - a[1]), abs(r1 - r2) + 1e-3)
    u = ((b[0] - a[0]) / d, (b[1] - a[1]) / d) if d > 1e-3 else (1.0, 0.0)
    nrm = (-u[1], u[0])
    s = (r1 - r2) / d
    k = math.sqrt(max(0.0, 1 - s * s))
    vp = (s * u[0] + k * nrm[0], s * u[1] + k * nrm[1])
    vm = (s * u[0] - k * nrm[0], s * u[1] - k * nrm[1])
    big_far = 1 if s < 0 else 0
    pts = [
        (a[0] + r1 * vp[0], a[1] + r1 * vp[1]),
        (b[0] + r2 * vp[0], b[1] + r2 * vp[1]),
        (b[0] + r2 * vm[0], b[1] + r2 * vm[1]),
        (a[0] + r1 * vm[0], a[1] + r1 * vm[1]),
    ]
    (x0, y0), (x1, y1), (x2, y2), (x3, y3) = ((_n(x), _n(y)) for x, y in pts)
    return (
        f"M{x0} {y0}L{x1} {y1}A{_n(r2)} {_n(r2)} 0 {big_far} 0 {x2} {y2}"
        f"L{x3} {y3}A{_n(r1)} {_n(r1)} 0 {1 - big_far} 0 {x0} {y0}Z"
    )


def _foot(c: _Canvas, f: Figure, prefix: str) -> tuple[str, str]:
    """The foot as a tapering capsule whose underside is the sole line from heel to toe, and
    the heel joining it to the ankle."""
    heel, toe = f[prefix + "heel"], f[prefix + "toe"]
    d = _unit(heel, toe)
    inward = (-d[1], d[0])  # from the sole toward the instep
    h0, h1 = FOOT_R
    p1 = (heel[0] + (d[0] + inward[0]) * h0, heel[1] + (d[1] + inward[1]) * h0)
    p2 = (toe[0] + (-d[0] + inward[0]) * h1, toe[1] + (-d[1] + inward[1]) * h1)
    foot = _capsule(c, p1, h0, p2, h1)
    return foot, _capsule(c, f[prefix + "ankle"], SHIN_R[1], p1, h0)


def _polyline(c: _Canvas, pts: Iterable[Point]) -> str:
    cmds = []
    for i, p in enumerate(pts):
        x, y = c.pt(p)
        cmds.append(f"{'M' if i == 0 else 'L'}{_n(x)} {_n(y)}")
    return "".join(cmds)


# --- the shapes of one moment -----------------------------------------------------------------

# (name, layer) in drawing order, back to front. Each name is one path, except "head" (circle).
_LAYERS = ("far", "body", "work", "towel", "arm")


def _shapes(c: _Canvas, s: Scene) -> dict[str, str]:
    """Every moving shape's geometry for one moment: path data, or "cx cy r" for the head."""
    f = s.figure
    far_foot, far_heel = _foot(c, f, "other_")
    work_foot, work_heel = _foot(c, f, "")
    out = {
        "far-thigh": _capsule(c, f["hip"], THIGH_R[0], f["other_knee"], THIGH_R[1]),
        "far-shin": _capsule(c, f["other_knee"], SHIN_R[0], f["other_ankle"], SHIN_R[1]),
        "far-foot": far_foot,
        "far-heel": far_heel,
        "trunk": _capsule(c, f["hip"], TRUNK_RADIUS, f["shoulder"], TRUNK_RADIUS),
        "neck": _capsule(c, f["shoulder"], NECK_R, f["head"], NECK_R),
        "work-thigh": _capsule(c, f["hip"], THIGH_R[0], f["knee"], THIGH_R[1]),
        "work-shin": _capsule(c, f["knee"], SHIN_R[0], f["ankle"], SHIN_R[1]),
        "work-foot": work_foot,
        "work-heel": work_heel,
        "upper-arm": _capsule(c, f["shoulder"], UPPER_ARM_R[0], f["elbow"], UPPER_ARM_R[1]),
        "forearm": _capsule(c, f["elbow"], FOREARM_R[0], f["hand"], FOREARM_R[1]),
    }
    hx, hy = c.pt(f["head"])
    out["head"] = f"{_n(hx)} {_n(hy)}"
    if s.towel:
        out["towel"] = _polyline(c, s.towel)
    return out


_GROUPS: dict[str, tuple[str, ...]] = {
    "far": ("far-thigh", "far-shin", "far-heel", "far-foot"),
    "body": ("trunk", "neck", "head"),
    "work": ("work-thigh", "work-shin", "work-heel", "work-foot"),
    "towel": ("towel",),
    "arm": ("upper-arm", "forearm"),
}
_COLOURS = {"far": FAR, "body": INK, "work": WORK, "towel": TOWEL, "arm": INK}
_OUTLINE_W = 0.014 * SCALE


def _element(
    ident: str, name: str, frames: Sequence[dict[str, str]], times: Sequence[float]
) -> str:
    """One shape in <defs>, with a SMIL animation if it changes from frame to frame."""
    first = frames[0][name]
    values = [fr[name] for fr in frames]
    moving = len(frames) > 1 and any(v != first for v in values)
    key_times = ";".join(f"{t:.4f}".rstrip("0").rstrip(".") for t in times)
    if name == "head":
        x, y = first.split()
        r = _n(SEGMENTS["head_radius"] * SCALE)
        anims = ""
        if moving:
            for i, attr in enumerate(("cx", "cy")):
                vals = ";".join(v.split()[i] for v in values)
                anims += _animate(attr, vals, key_times)
        return f'<circle id="{ident}" cx="{x}" cy="{y}" r="{r}">{anims}</circle>'
    anim = _animate("d", ";".join(values), key_times) if moving else ""
    if anim:
        return f'<path id="{ident}" d="{first}">{anim}</path>'
    return f'<path id="{ident}" d="{first}"/>'


def _animate(attr: str, values: str, key_times: str) -> str:
    return (
        f'<animate attributeName="{attr}" dur="{CYCLE_S:g}s" repeatCount="indefinite" '
        f'calcMode="linear" keyTimes="{key_times}" values="{values}"/>'
    )


def _figure_layers(pfx: str, frames: Sequence[dict[str, str]], times: Sequence[float]) -> str:
    """The figure: shapes defined once, each group drawn twice, a white outline under the
    colour, so overlapping limbs stay apart on screen and on a grey print."""
    defs: list[str] = []
    body: list[str] = []
    for layer in _LAYERS:
        names = [n for n in _GROUPS[layer] if n in frames[0]]
        if not names:
            continue
        for n in names:
            defs.append(_element(f"{pfx}-{n}", n, frames, times))
        uses = "".join(f'<use href="#{pfx}-{n}"/>' for n in names)
        if layer == "towel":
            w = 2 * TOWEL_HALF * SCALE
            body.append(
                f'<g fill="none" stroke-linejoin="round" stroke-linecap="round">'
                f'<g stroke="{OUTLINE}" stroke-width="{_n(w + _OUTLINE_W)}">{uses}</g>'
                f'<g stroke="{TOWEL}" stroke-width="{_n(w)}">{uses}</g></g>'
            )
            continue
        body.append(
            f'<g fill="{OUTLINE}" stroke="{OUTLINE}" stroke-width="{_n(_OUTLINE_W)}" '
            f'stroke-linejoin="round">{uses}</g>'
            f'<g fill="{_COLOURS[layer]}">{uses}</g>'
        )
    return "<defs>" + "".join(defs) + "</defs>" + "".join(body)


# --- props ------------------------------------------------------------------------------------


def _rect(c: _Canvas, x0: float, y0: float, x1: float, y1: float, extra: str = "") -> str:
    """A rectangle between two model corners."""
    left, right = sorted((c.x(x0), c.x(x1)))
    top, bottom = sorted((c.y(y0), c.y(y1)))
    return (
        f'<rect x="{_n(left)}" y="{_n(top)}" width="{_n(right - left)}" '
        f'height="{_n(bottom - top)}"{extra}/>'
    )


def _props_svg(c: _Canvas, p: Props) -> str:
    parts: list[str] = []
    edge = f'stroke="{PROP_EDGE}" stroke-width="{_n(0.006 * SCALE)}"'
    if p.wall_x is not None:
        x0, x1 = p.wall_x, p.wall_x + p.wall_thickness
        parts.append(_rect(c, x0, FRAME_TOP + 0.1, x1, 0, f' fill="{PROP_FILL}"'))
        line = f'x1="{_n(c.x(x0))}" y1="{_n(c.y(0))}" x2="{_n(c.x(x0))}" y2="0"'
        parts.append(f"<line {line} {edge}/>")
    if p.seat_y is not None:
        sy, front, back = p.seat_y, p.seat_front_x, p.seat_back_x
        leg, thick = 0.022, 0.03
        fill = f' fill="{PROP_FILL}" {edge} rx="{_n(0.008 * SCALE)}"'
        parts.append(_rect(c, back, p.backrest_top_y, back + 0.03, sy, fill))
        parts.append(_rect(c, back + 0.005, sy - thick, back + 0.005 + leg, 0, fill))
        parts.append(_rect(c, front - 0.01 - leg, sy - thick, front - 0.01, 0, fill))
        parts.append(_rect(c, back, sy, front, sy - thick, fill))
    if p.stool_top_y is not None:
        (lo, hi), top = p.stool_x, p.stool_top_y
        fill = f' fill="{PROP_FILL}" {edge} rx="{_n(0.006 * SCALE)}"'
        leg, thick = 0.02, 0.025
        parts.append(_rect(c, lo + 0.01, top - thick, lo + 0.01 + leg, 0, fill))
        parts.append(_rect(c, hi - 0.01 - leg, top - thick, hi - 0.01, 0, fill))
        parts.append(_rect(c, lo, top, hi, top - thick, fill))
    return "".join(parts)


def _doorway_svg(c: _Canvas, p: Props, mirrored: bool) -> str:
    """The door frame again, in front of the far leg, and its two labels.

    Seen from the side of the raised leg, the frame is nearer than the leg on the floor, which
    lies beyond it through the doorway (the article: "at a corner or by a door jamb"); drawing
    the frame over that leg shows it passing through the doorway, not over the frame.
    """
    if p.wall_x is None:
        return ""
    x0, x1 = p.wall_x, p.wall_x + p.wall_thickness
    edge = f'stroke="{PROP_EDGE}" stroke-width="{_n(0.006 * SCALE)}"'

    def at(x: float) -> float:  # drawn outside the mirrored group, so mirrored here
        return c.width - c.x(x) if mirrored else c.x(x)

    left, right = sorted((at(x0), at(x1)))
    top, bottom = c.y(FRAME_TOP + 0.1), c.y(0)
    front = (
        f'<rect x="{_n(left)}" y="{_n(top)}" width="{_n(right - left)}" '
        f'height="{_n(bottom - top)}" fill="{PROP_FILL}" fill-opacity="0.82"/>'
        f'<line x1="{_n(at(x0))}" y1="{_n(bottom)}" x2="{_n(at(x0))}" y2="0" {edge}/>'
    )

    font = (
        'fill="#475569" font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif" '
        f'font-size="{_n(0.036 * SCALE)}" aria-hidden="true"'
    )
    mid = (at(x0) + at(x1)) / 2
    frame_y = c.y(0.42)
    # "through the doorway" sits in the floor band under the far leg, at the frame's far side.
    margin = 0.015 * SCALE
    anchor, beyond = ("start", margin) if mirrored else ("end", c.width - margin)
    return (
        front + f'<text x="{_n(mid)}" y="{_n(frame_y)}" {font} text-anchor="middle" '
        f'transform="rotate(-90 {_n(mid)} {_n(frame_y)})" dominant-baseline="central">'
        "door frame</text>"
        + f'<text x="{_n(beyond)}" y="{_n(c.y(-0.047))}" {font} text-anchor="{anchor}">'
        "through the doorway</text>"
    )


def _floor_svg(c: _Canvas) -> str:
    band = _rect(
        c, c.left - 1, 0, c.left + FRAME_W + 1, FRAME_BOTTOM - 0.1, f' fill="{FLOOR_FILL}"'
    )
    y = _n(c.y(0))
    line = (
        f'<line x1="0" y1="{y}" x2="{_n(c.width)}" y2="{y}" stroke="{PROP_EDGE}" '
        f'stroke-width="{_n(0.006 * SCALE)}"/>'
    )
    return band + line


def _left_edge(scenes: Sequence[Scene]) -> float:
    """Centre what is drawn (every moment of the movement, and the props) in the frame."""
    xs: list[float] = []
    for s in scenes:
        for name, (x, _) in s.figure.points.items():
            r = SEGMENTS["head_radius"] if name == "head" else LIMB_RADIUS
            xs += [x - r, x + r]
        xs += [x for x, _ in s.towel]
    p = scenes[0].props
    if p.wall_x is not None:
        xs.append(p.wall_x + p.wall_thickness)
    if p.seat_y is not None:
        xs += [p.seat_back_x, p.seat_front_x]
    if p.stool_top_y is not None:
        xs += list(p.stool_x)
    lo, hi = min(xs), max(xs)
    return (lo + hi) / 2 - FRAME_W / 2


# --- words ------------------------------------------------------------------------------------


def _about(angle: float) -> str:
    return f"about {5 * round(angle / 5):.0f}°"


def _knee_words(knee: float) -> str:
    if knee >= 170:
        return "straight"
    if knee >= 150:
        return "almost straight"
    return f"bent to {_about(knee)}"


def _position_words(s: Scene, side: str) -> str:
    """A plain sentence saying what the drawing shows, measured from the drawing itself."""
    other = "left" if side == "right" else "right"
    m = s.measure()
    knee = m["working_knee"]
    p = s.props
    parts: list[str] = []
    if s.stretch.position == "sitting":
        tipped = m["trunk_incline"] > 95
        upright = (
            "sitting tall at the edge of a chair, tipping forward from the hips with a straight "
            "back"
            if tipped
            else "sitting up straight at the edge of a chair"
        )
        parts.append(f"{upright}, the {other} foot flat on the floor")
        if knee < 120:
            parts.append(f"the {side} knee bent with the foot on the floor")
        else:
            support = "a stool" if m["heel_lift"] < 1 and s.support_y(s.figure["heel"][0]) else ""
            parts.append(
                f"the {side} leg out in front, the knee {_knee_words(knee)}, "
                f"the heel resting on {support or 'the floor'}"
            )
    else:
        where = "lying on your back on the floor"
        if p.wall_x is not None:
            gap = p.wall_x - s.figure["hip"][0] - TRUNK_RADIUS
            near = "close to" if gap < 0.05 else "a little way from"
            where += f", the buttocks {near} a wall or door frame"
        parts.append(where)
        if m["other_knee"] >= 165:
            through = ", through the doorway" if p.wall_x is not None else ""
            parts.append(f"the {other} leg straight and flat on the floor{through}")
        else:
            parts.append(f"the {other} knee bent with the foot flat on the floor")
        if p.wall_x is not None and knee >= 150:
            parts.append(
                f"the {side} leg up the wall, the knee {_knee_words(knee)}, "
                f"at {_about(m['legs_angle'])} to the other leg"
            )
        elif p.wall_x is not None:
            parts.append(f"the {side} foot against the wall, the knee bent")
        else:
            raised = f"the {side} leg raised, the knee {_knee_words(knee)}"
            if knee >= 150 and 70 <= m["leg_raise"] <= 110:
                raised += ", the sole of the foot facing the ceiling"
            parts.append(raised)
    hands = {
        "towel": f"both hands holding a towel looped around the sole of the {side} foot",
        "towel_thigh": f"both hands holding a towel wrapped around the back of the {side} thigh",
        "thigh": f"both hands holding the back of the {side} thigh",
        "seat": "the hands holding the edge of the seat",
        "hips": "the hands on the hips",
        "floor": "the arms resting on the floor",
    }
    parts.append(hands[s.pose.hands])
    text = "; ".join(parts)
    return text[0].upper() + text[1:] + "."


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _words(stretch: Stretch, variant: Variant, side: str, pose: str) -> tuple[str, str]:
    label = {"start": "start position", "end": "end position", "animated": "animation"}[pose]
    title = f"{stretch.name}, {_lower_first(variant.name)}, {side} leg: {label}"
    lead = f"{stretch.name} ({_lower_first(variant.name)}), {side} leg"
    start = _position_words(scene(stretch, variant.slug, "start"), side)
    end = _position_words(scene(stretch, variant.slug, "end"), side)
    if pose == "start":
        desc = f"{lead}, start position. {start}"
    elif pose == "end":
        desc = f"{lead}, end position, held for the stretch. {end} {variant.description}"
    else:
        desc = (
            f"{lead}, moving slowly from the start position to the end position and back. "
            f"Start: {start} End: {end}"
        )
    return title, desc


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# --- the document -----------------------------------------------------------------------------


def _timeline() -> tuple[list[float], list[float]]:
    """(movement fraction, time fraction) pairs: out in 3 s, hold 3 s, back in 3 s, pause 1 s."""

    def ease(u: float) -> float:
        return (1 - math.cos(math.pi * u)) / 2

    out = [ease(i / STEPS) for i in range(STEPS + 1)]
    out_times = [0.3 * i / STEPS for i in range(STEPS + 1)]
    back = list(reversed(out))
    back_times = [0.6 + 0.3 * i / STEPS for i in range(STEPS + 1)]
    return out + back + [0.0], out_times + back_times + [1.0]


def render(
    stretch: Stretch, variant: str | None = None, side: str = "right", pose: str = "end"
) -> str:
    """A standalone SVG document of one stretch, variant, side and pose.

    pose is "start", "end" or "animated" (start -> end -> start, slowly, for ever; people who
    ask for reduced motion see the end position standing still).
    """
    v = _variant(stretch, variant)
    _check_side(stretch, side)
    _check_pose(pose)
    pfx = f"{stretch.slug}-{v.slug}-{side}-{pose}"

    ts, times = _timeline()
    moments = sorted(set(ts))
    by_t = {t: scene_at(stretch, v.slug, t) for t in moments}
    c = _Canvas(_left_edge(list(by_t.values())))
    title, desc = _words(stretch, v, side, pose)

    def draw(frames: Sequence[Scene], frame_times: Sequence[float], tag: str) -> str:
        shapes = [_shapes(c, s) for s in frames]
        return _figure_layers(f"{pfx}-{tag}", shapes, frame_times)

    if pose == "animated":
        moving = draw([by_t[t] for t in ts], times, "moving")
        still = draw([by_t[1.0]], [0.0], "still")
        figure_svg = f'<g class="{pfx}-moving">{moving}</g><g class="{pfx}-still">{still}</g>'
    else:
        figure_svg = draw([by_t[0.0 if pose == "start" else 1.0]], [0.0], "still")

    w, h = _n(c.width), _n(c.height)
    mirror = f' transform="matrix(-1 0 0 1 {w} 0)"' if side == "left" else ""
    style = (
        f"<style>.{pfx}-still{{display:none}}"
        f"@media (prefers-reduced-motion: reduce){{.{pfx}-moving{{display:none}}"
        f".{pfx}-still{{display:inline}}}}</style>"
        if pose == "animated"
        else ""
    )
    caption = (
        f'<text x="{_n(0.03 * SCALE)}" y="{_n(0.07 * SCALE)}" fill="#475569" '
        f'font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif" '
        f'font-size="{_n(0.05 * SCALE)}" aria-hidden="true">{side.capitalize()} leg</text>'
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="100%" '
        f'role="img" aria-labelledby="{pfx}-title" aria-describedby="{pfx}-desc" id="{pfx}">'
        f'<title id="{pfx}-title">{_escape(title)}</title>'
        f'<desc id="{pfx}-desc">{_escape(desc)}</desc>'
        f"{style}"
        f'<g stroke-linecap="round">'
        f"{_floor_svg(c)}"
        f"<g{mirror}>{_props_svg(c, by_t[1.0].props)}{figure_svg}</g>"
        f"{_doorway_svg(c, by_t[1.0].props, side == 'left')}"
        f"</g>{caption}</svg>\n"
    )
