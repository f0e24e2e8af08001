"""The body model: a key pose's joint angles turned into 2-D points.

The figure is seen from the side, facing +x, with y pointing up and the floor at y = 0. All
lengths are fractions of body height (anthropometric proportions after Winter's segment table),
so a drawing scales to any size and the camera check can compare proportions.

The same functions run forwards for the drawings and backwards (`angle_at`, `measure`) for the
tests and the form check, so a drawing is only "right" when measuring it gives the spec back.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from .spec import JOINTS, Pose

__all__ = ["SEGMENTS", "Figure", "angle_at", "figure", "interpolate", "measure"]

Point = tuple[float, float]

SEGMENTS = {
    "head_radius": 0.065,
    "neck": 0.115,  # shoulder to the centre of the head
    "trunk": 0.288,  # hip to shoulder
    "upper_arm": 0.186,
    "forearm": 0.19,  # elbow to the middle of the hand
    "thigh": 0.245,
    "shin": 0.246,  # knee to ankle
    "heel_drop": 0.045,  # ankle to the back of the heel, along the shin
    "foot": 0.15,  # heel to toe
}
# Half the thickness of the body at a point: what rests on the floor or a seat.
TRUNK_RADIUS = 0.05
LIMB_RADIUS = 0.045
# Where a towel wrapped round the thigh sits, as fractions of the way from hip to knee: the
# article's "supporting the thigh ... with a towel wrapped around it", just above the knee.
THIGH_WRAP = (0.7, 0.9)


@dataclass(frozen=True)
class Figure:
    """Points of one pose, placed so that the body rests on the floor (y = 0)."""

    points: dict[str, Point]
    position: str

    def __getitem__(self, name: str) -> Point:
        return self.points[name]

    def shifted(self, dx: float, dy: float) -> Figure:
        moved = {k: (x + dx, y + dy) for k, (x, y) in self.points.items()}
        return replace(self, points=moved)


def _step(p: Point, angle_deg: float, length: float) -> Point:
    a = math.radians(angle_deg)
    return (p[0] + length * math.cos(a), p[1] + length * math.sin(a))


def _leg(
    hip: Point, trunk_dir: float, hip_deg: float, knee_deg: float, ankle_deg: float
) -> dict[str, Point]:
    thigh_dir = trunk_dir - hip_deg
    shin_dir = thigh_dir - (180 - knee_deg)
    foot_dir = shin_dir + 180 - ankle_deg
    knee = _step(hip, thigh_dir, SEGMENTS["thigh"])
    ankle = _step(knee, shin_dir, SEGMENTS["shin"])
    heel = _step(ankle, shin_dir, SEGMENTS["heel_drop"])
    toe = _step(heel, foot_dir, SEGMENTS["foot"])
    return {"knee": knee, "ankle": ankle, "heel": heel, "toe": toe}


def _reach(shoulder: Point, target: Point, elbow_low: bool) -> tuple[Point, Point]:
    """Two-link arm from the shoulder toward a target: (elbow, hand)."""
    a, b = SEGMENTS["upper_arm"], SEGMENTS["forearm"]
    dx, dy = target[0] - shoulder[0], target[1] - shoulder[1]
    d = max(1e-9, math.hypot(dx, dy))
    base = math.degrees(math.atan2(dy, dx))
    if d >= a + b:  # out of reach: a straight arm pointing at it
        elbow = _step(shoulder, base, a)
        return elbow, _step(elbow, base, b)
    d = max(d, abs(a - b) + 1e-6)
    bend = math.degrees(math.acos((a * a + d * d - b * b) / (2 * a * d)))
    options = [_step(shoulder, base + bend, a), _step(shoulder, base - bend, a)]
    # Lying, the elbow drops toward the floor; sitting, it points back, away from the legs.
    elbow = min(options, key=lambda e: e[1] if elbow_low else e[0])
    return elbow, target


def _lerp(p: Point, q: Point, t: float) -> Point:
    return (p[0] + (q[0] - p[0]) * t, p[1] + (q[1] - p[1]) * t)


def _raw(pose: Pose, position: str) -> dict[str, Point]:
    hip = (0.0, 0.0)
    trunk_dir = 180 - pose.trunk_incline
    shoulder = _step(hip, trunk_dir, SEGMENTS["trunk"])
    head = _step(shoulder, trunk_dir, SEGMENTS["neck"])
    # The head is thicker than the trunk; line the back of the head up with the back, so that
    # lying down it rests on the floor instead of sinking into it.
    head = _step(head, trunk_dir - 90, SEGMENTS["head_radius"] - TRUNK_RADIUS)
    pts: dict[str, Point] = {"hip": hip, "shoulder": shoulder, "head": head}
    work = _leg(hip, trunk_dir, pose.hip, pose.knee, pose.ankle)
    rest = _leg(hip, trunk_dir, pose.other_hip, pose.other_knee, pose.other_ankle)
    pts.update(work)
    pts.update({f"other_{k}": v for k, v in rest.items()})

    if pose.hands == "thigh":
        target = _lerp(hip, work["knee"], 0.8)
    elif pose.hands == "towel":
        sole = _lerp(work["heel"], work["toe"], 0.35)
        target = _lerp(shoulder, sole, 0.5)
    elif pose.hands == "towel_thigh":  # the ends of a towel wrapped round the back of the thigh
        wrap = _lerp(hip, work["knee"], THIGH_WRAP[1])
        target = _lerp(shoulder, wrap, 0.8)
    elif pose.hands == "seat":
        target = (hip[0] + 0.06, hip[1] - TRUNK_RADIUS)
    elif pose.hands == "hips":
        target = (hip[0] + 0.03, hip[1] + 0.06)
    else:  # "floor": resting alongside the body
        target = _step(shoulder, trunk_dir + 180, SEGMENTS["upper_arm"] + SEGMENTS["forearm"])
        target = (target[0], target[1] - 0.02)
    elbow, hand = _reach(shoulder, target, elbow_low=position == "lying")
    pts["elbow"], pts["hand"] = elbow, hand
    return pts


_RADII = {"hip": TRUNK_RADIUS, "shoulder": TRUNK_RADIUS, "head": SEGMENTS["head_radius"]}


def _lowest(pts: dict[str, Point]) -> float:
    """The height of the body's lowest surface (limbs and trunk have thickness, soles do not)."""
    lows = []
    for name, (_, y) in pts.items():
        if name in ("elbow", "hand"):
            continue  # arms hold on to things; they don't carry the body
        radius = 0.0 if name.endswith(("heel", "toe")) else _RADII.get(name, LIMB_RADIUS)
        lows.append(y - radius)
    return min(lows)


def figure(pose: Pose, position: str, rest_on: Pose | None = None) -> Figure:
    """Place a pose so the body rests on the floor.

    `rest_on` fixes the placement to another pose's (the stretch's end pose), so that the hips
    stay where they are while the figure moves between start and end.
    """
    pts = _raw(pose, position)
    anchor = _raw(rest_on, position) if rest_on is not None else pts
    if position == "lying":
        # On the back: the trunk is what rests on the floor.
        lift = TRUNK_RADIUS - min(anchor["hip"][1], anchor["shoulder"][1])
    else:
        # Sitting: the feet rest on the floor (or the working foot on a stool, which is drawn
        # under it), so the resting foot sets the height of the seat.
        lift = -min(anchor["other_heel"][1], anchor["other_toe"][1])
    return Figure(pts, position).shifted(0.0, lift)


def interpolate(a: Pose, b: Pose, t: float) -> Pose:
    """A pose part-way from a to b, moving every joint angle evenly."""
    mixed = {n: getattr(a, n) + (getattr(b, n) - getattr(a, n)) * t for n in JOINTS}
    return replace(a, hands=a.hands if t < 0.5 else b.hands, **mixed)


def angle_at(a: Point, vertex: Point, b: Point) -> float:
    """The interior angle a-vertex-b in degrees (0 to 180)."""
    v1 = (a[0] - vertex[0], a[1] - vertex[1])
    v2 = (b[0] - vertex[0], b[1] - vertex[1])
    n = math.hypot(*v1) * math.hypot(*v2)
    if n == 0:
        return float("nan")
    cos = (v1[0] * v2[0] + v1[1] * v2[1]) / n
    return math.degrees(math.acos(max(-1.0, min(1.0, cos))))


def measure(f: Figure, support_y: float = 0.0) -> dict[str, float]:
    """Measure a placed figure the way the form check measures a person.

    `support_y` is the height of what the working heel should rest on (the floor, or a stool).
    """
    hip = f["hip"]
    leg = (f["ankle"][0] - hip[0], f["ankle"][1] - hip[1])
    trunk = (f["shoulder"][0] - hip[0], f["shoulder"][1] - hip[1])
    incline = 180 - math.degrees(math.atan2(trunk[1], trunk[0]))
    return {
        "working_knee": angle_at(hip, f["knee"], f["ankle"]),
        "other_knee": angle_at(hip, f["other_knee"], f["other_ankle"]),
        "legs_angle": angle_at(f["ankle"], hip, f["other_ankle"]),
        "trunk_incline": incline,
        "working_hip": angle_at(f["shoulder"], hip, f["knee"]),
        "leg_raise": math.degrees(math.atan2(leg[1], leg[0])),
        "heel_lift": 100 * (f["heel"][1] - support_y),
    }
