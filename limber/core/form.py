"""The form rules: body landmarks -> joint angles -> a verdict on the stretch, with cues.

Pure Python and deterministic. The landmarks come from a pose engine (BlazePose's 33 points,
in image pixels, y pointing down); the rules measure the same things as `body.measure` does on
a drawn figure, so the drawings, the spec and the camera check agree on what "a straight knee"
is. Angles are taken in pixel space: on a 16:9 frame, normalised coordinates would squash them.

A landmark the engine is not sure it sees (low visibility) makes every criterion that needs it
unknown (ok = None). A guess presented as a judgement would tell someone with sciatica to push
a knee that is already straight.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cached_property, lru_cache
from typing import Any, NamedTuple, Protocol

from .body import angle_at
from .spec import MEASURES, CheckRule, Stretch, Variant

__all__ = [
    "LANDMARK_NAMES",
    "VISIBLE",
    "CheckResult",
    "Landmark",
    "Landmarks",
    "Measurement",
    "PoseEngine",
    "Verdict",
    "check_form",
    "fit",
    "judge",
    "judge_rule",
    "measure",
    "wanting",
]

# BlazePose's 33 landmarks, in the model's order. "left" is the person's own left.
LANDMARK_NAMES = (
    "nose", "left_eye_inner", "left_eye", "left_eye_outer", "right_eye_inner", "right_eye",
    "right_eye_outer", "left_ear", "right_ear", "mouth_left", "mouth_right", "left_shoulder",
    "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_pinky",
    "right_pinky", "left_index", "right_index", "left_thumb", "right_thumb", "left_hip",
    "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle", "left_heel",
    "right_heel", "left_foot_index", "right_foot_index",
)  # fmt: skip
INDEX = {name: i for i, name in enumerate(LANDMARK_NAMES)}

# BlazePose's visibility is a probability; below this the point is as likely hidden as seen.
VISIBLE = 0.5

# How far the body is turned from the camera, from the depth difference of the two shoulders
# and of the two hips: 90 degrees seen exactly from the side, 0 from the front. From SIDE_YAW
# the joint angles in the image are the body's; from FRONT_YAW they are still close (a
# three-quarter view); below it a bent knee pointing at the camera can look straight.
SIDE_YAW = 70.0
FRONT_YAW = 35.0
# Engines that give no depth: shoulder (or hip) width over trunk length instead (about 0.8
# seen from the front, near 0 from the side).
SIDE_ON = 0.45
ANGLED = 0.8

# How far off the camera's measurements can be: BlazePose's joint angles, side-on, are good to
# about 5 degrees, and heel heights to a percent or two of body height. A check is only called
# wrong when the value is beyond its limit by more than this, so nobody is told to push a knee
# further into a stretch on the strength of landmark jitter.
MARGIN = {"heel_lift": 1.5}
MARGIN_DEG = 5.0

# The thresholds below were fitted by 5-fold cross-validation split by photo on the wider set
# of 80 photos of other people (shared/data/poses-wide, 100 rows; `bench/bench_form.py --cv`):
# held-out agreement 95 % in position and 85 % knee straight (from 69 % and 44 % before).
# Agreement is flat over a range of each threshold; the value kept is inside that range, and
# reads plainly as a rule. "CV" below names that range (on all 100 rows, the others fixed).
# Angles and the posture come from the world landmarks (3-D, metres) when the engine gives
# them: posture from depth agreed on 13 more rows than from pixels, knee angles on 3 more.
ANGLES_3D = True
POSTURE_3D = True
# The knee check takes the straighter of the 3-D and the pixel reading: a straight leg reads
# bent in one of them far more often than a bent one reads straight in both (CV: +2 rows).
KNEE_FROM = "max"
# Whether the seated stretch's leg is extended is read the same way. On the photos 3-D alone
# agreed on 2 more rows of 105; but with one look per video frame (the live camera) the 3-D knee
# of a leg pointing toward the camera read 50-114 degrees where the picture showed 150-158:
# the straighter reading keeps the live check from refusing a stretch that is plainly there.
EXTENDED_FROM = "max"
# Lying: the trunk within this many degrees of the floor, not folded over the legs; CV 15-20
# (25 and up let "propped on the forearms, legs raised" pass as lying).
LYING_TRUNK = 20.0
# Sitting: a thigh within this many degrees of level (hips at about knee height); CV 20-50.
SIT_THIGH = 35.0
# Standing, kneeling or lunging: a thigh pointing more than this far down; CV 35-65.
STAND_THIGH = 50.0
# Lying stretches need the working leg raised: the hip-to-ankle line this far up from the
# floor (Limber's default, a third of the way to upright; CV 15-35).
LEG_RAISED = 30.0
# ... with the other leg down: its hip-to-ankle line at most this far up (flat, or knee bent
# with the foot on the floor; not both legs raised); CV 10-40.
OTHER_DOWN = 20.0
# A trunk sloping down to the shoulders by up to HIPS_UP is lying with the hips lifted (Limber's
# default: a bridge rises about 20-40 degrees; steeper is a forward bend or a shoulder stand).
HIPS_UP = 45.0
# ... the hips on the floor (not a bridge): the trunk rises at most this far from the floor,
# which is the line under the shoulders and the other foot (flat, or the knee bent with the
# foot down), not the picture's level, so a camera propped up crooked does not lift the hips.
# CV 10-30. On the wider set the stretch's own rows rise at most 11 degrees from that line and
# the bridge 27; tilted 10 degrees (bench/bench_form.py --tilt -10), at most 10 and 25, where
# from the picture's level they rose up to 17 and 5 rows of the stretch read as a bridge
# (in position 86 -> 91 of 100 there; as given, and tilted +10 or +-5, unchanged).
BRIDGE = 15.0
# ... the leg raised, not the knee hugged in: a knee bent under TUCK_KNEE with the thigh past
# TUCK_THIGH from the floor on the feet's side (90 = upright) is a hug; CV 90-150 and 95-130.
# Within that range the thigh's line sits between the two it tells apart, on the live path:
# hugs read 140-150; the towel stretch's start (thigh about upright, knee bent) 76-110, and
# 91-121 with every other frame looked at mirrored (lying-band-knee-bent.jpg).
TUCK_KNEE = 125.0
TUCK_THIGH = 130.0
# ... on the back: the chest facing at least this much toward the ceiling (cosine; 0.5 is 60
# degrees from straight up, so lying on the side fails); CV 0.5-0.8.
SUPINE = 0.5
# A trunk along the floor is folded over the legs, not lying, when the chest faces down this
# much (cosine); CV 0.3-0.9.
SUPINE_FOLD = 0.5
# The seated stretch needs the working leg extended forward: a knee at least this open
# (Limber's default, between the start pose's bent knee and the stretch's 145-160; CV 125-130)...
LEG_EXTENDED = 125.0
# ... and resting low, not lifted toward the ceiling: hip-to-ankle at most this far up; CV 15-50.
SEATED_LEG_UP = 30.0
# Summed joint-angle differences (degrees) below which the two legs fit the stretch alike.
SAME_FIT = 30.0
# Standing: both hips and both knees nearly straight, with an upright trunk.
STRAIGHT = 150.0


class Landmark(NamedTuple):
    """One body point. A named tuple, not a dataclass: a video frame makes 66 of them (99 with
    smoothing), and a tuple is built in C (a quarter of a frozen dataclass's time)."""

    x: float  # pixels from the left edge
    y: float  # pixels from the top edge (down is +y)
    z: float = 0.0  # depth, roughly in x's scale; smaller is nearer the camera
    visibility: float = 1.0  # 0..1: how likely the point is in view and not hidden


@dataclass(frozen=True)
class Landmarks:
    """One person's 33 landmarks in one frame, in pixels of a width x height image."""

    points: tuple[Landmark, ...]
    width: int
    height: int
    score: float = 1.0  # how sure the engine is there is a person at all
    # The same 33 points in metres (origin between the hips, y down as in the picture), when the
    # engine knows depth: angles between them do not depend on where the camera stands.
    world: tuple[Landmark, ...] | None = None

    def __post_init__(self) -> None:
        if len(self.points) != len(LANDMARK_NAMES):
            raise ValueError(f"expected {len(LANDMARK_NAMES)} landmarks, got {len(self.points)}")
        if self.world is not None and len(self.world) != len(self.points):
            raise ValueError(f"expected {len(self.points)} world landmarks, got {len(self.world)}")

    def __getitem__(self, name: str) -> Landmark:
        return self.points[INDEX[name]]

    def visible(self, *names: str) -> bool:
        seen = self._seen
        return all(seen[INDEX[n]] for n in names)

    # Worked out once per frame on first use (the rules ask for each point many times).
    @cached_property
    def _seen(self) -> tuple[bool, ...]:
        return tuple(p.visibility >= VISIBLE for p in self.points)

    @cached_property
    def _up(self) -> tuple[tuple[float, float], ...]:
        return tuple((p.x, -p.y) for p in self.points)

    def levelled(self, tilt_deg: float) -> Landmarks:
        """The same body as a level camera would show it, given how far the picture is tilted:
        tilt_deg is the angle from the picture's "down" to the true down (gravity, from a phone's
        sensor), positive toward the picture's right. The rules read lying, sitting and a raised
        leg from the picture's level; angles between joints do not change. Points turn about the
        picture's centre, world landmarks about the hips (both have y pointing down)."""
        if not tilt_deg:
            return self
        c, s = math.cos(math.radians(tilt_deg)), math.sin(math.radians(tilt_deg))
        cx, cy = self.width / 2, self.height / 2

        def turn(points: tuple[Landmark, ...], ox: float, oy: float) -> tuple[Landmark, ...]:
            return tuple(
                p._replace(
                    x=ox + (p.x - ox) * c - (p.y - oy) * s, y=oy + (p.x - ox) * s + (p.y - oy) * c
                )
                for p in points
            )

        world = None if self.world is None else turn(self.world, 0.0, 0.0)
        return replace(self, points=turn(self.points, cx, cy), world=world)


class PoseEngine(Protocol):
    """Camera frame in, one person's landmarks out (None when nobody is in view).

    A frame is whatever the engine reads (limber.vision: an H x W x 3 BGR numpy array).
    Engines may track between calls; frames are expected in time order.
    """

    def process(self, frame: Any) -> Landmarks | None: ...


# --- measuring --------------------------------------------------------------------------------

Vec = tuple[float, float]


@dataclass(frozen=True)
class Measurement:
    """What the camera sees, before any judgement against a stretch."""

    posture: str | None  # "lying", "sitting", "standing", or None when it cannot be told
    side: str | None  # the working leg: "left" or "right"
    view: str  # "side", "angled" or "front": how the camera sees the body
    values: dict[str, float | None]  # spec.MEASURES name -> value; None = not visible enough
    leg_placed: bool | None  # the working leg is raised (lying) / extended forward (sitting)
    facing: int = 1  # +1 when the legs point to the image's right, -1 to its left
    body_px: float = 0.0  # estimated body height in pixels
    problem: str | None = None  # the cue for what keeps the body out of the position, if known
    folded: bool = False  # the trunk is folded forward over the legs
    depth: bool = False  # angles measured in 3-D (world landmarks): good from any viewpoint


def _mid(a: Vec, b: Vec) -> Vec:
    return ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2)


def _dist(a: Vec, b: Vec) -> float:
    return math.hypot(a[0] - b[0], a[1] - b[1])


def _direction(frm: Vec, to: Vec, facing: int) -> float:
    """The angle of frm->to up from the floor, forward = 0, in degrees (-180, 180]."""
    return math.degrees(math.atan2(to[1] - frm[1], (to[0] - frm[0]) * facing))


class _Leg(NamedTuple):
    hip: Vec
    knee: Vec
    ankle: Vec
    heel: Vec
    toe: Vec


_LEG_POINTS = {
    s: tuple(INDEX[f"{s}_{j}"] for j in ("hip", "knee", "ankle", "heel", "foot_index"))
    for s in ("left", "right")
}


def _leg(lm: Landmarks, side: str) -> _Leg:
    up = lm._up
    return _Leg._make([up[i] for i in _LEG_POINTS[side]])


def _pt(lm: Landmarks, name: str) -> Vec:
    """One landmark in y-up coordinates (image pixels, y negated), so angles read like the
    body model's."""
    return lm._up[INDEX[name]]


def _body_px(lm: Landmarks) -> float:
    """Body height in pixels, from the segment lengths the body model uses.

    Foreshortening only ever shortens a segment, so the longest estimate is the best one.
    """
    from .body import SEGMENTS

    sh = _mid(_pt(lm, "left_shoulder"), _pt(lm, "right_shoulder"))
    hp = _mid(_pt(lm, "left_hip"), _pt(lm, "right_hip"))
    estimates = [_dist(sh, hp) / SEGMENTS["trunk"]]
    for s in ("left", "right"):
        leg = _leg(lm, s)
        thigh, shin = _dist(leg.hip, leg.knee), _dist(leg.knee, leg.ankle)
        estimates.append((thigh + shin) / (SEGMENTS["thigh"] + SEGMENTS["shin"]))
    return max(estimates)


def _view(lm: Landmarks) -> str:
    """ "side", "angled" or "front": how the camera sees the body."""
    pairs = (("left_shoulder", "right_shoulder"), ("left_hip", "right_hip"))
    if any(p.z != 0 for p in lm.points):
        yaws = []
        for a, b in pairs:
            p, q = lm[a], lm[b]
            yaws.append(math.degrees(math.atan2(abs(p.z - q.z), math.hypot(p.x - q.x, p.y - q.y))))
        yaw = sum(yaws) / len(yaws)
        return "side" if yaw >= SIDE_YAW else "angled" if yaw >= FRONT_YAW else "front"
    ls, rs = _pt(lm, "left_shoulder"), _pt(lm, "right_shoulder")
    lh, rh = _pt(lm, "left_hip"), _pt(lm, "right_hip")
    trunk = _dist(_mid(ls, rs), _mid(lh, rh))
    if trunk <= 0:
        return "front"
    # Hips are narrower than shoulders (about 0.7 of them), hence the factor.
    width = max(_dist(ls, rs), _dist(lh, rh) / 0.7) / trunk
    return "side" if width < SIDE_ON else "angled" if width < ANGLED else "front"


def _elevation(frm: Vec, to: Vec) -> float:
    """How far frm->to points up from the horizontal (-90..90), whichever way the body faces."""
    return math.degrees(math.atan2(to[1] - frm[1], abs(to[0] - frm[0])))


_SHAPE = ("hip", "knee", "other_hip", "other_knee", "rise", "other_rise")


def _shape(sh: Vec, w: _Leg, o: _Leg) -> tuple[float, ...]:
    """Joint angles and how far each leg rises (in _SHAPE's order): what tells the working leg
    from the other."""
    return (
        angle_at(sh, w.hip, w.knee),
        angle_at(w.hip, w.knee, w.ankle),
        angle_at(sh, o.hip, o.knee),
        angle_at(o.hip, o.knee, o.ankle),
        _elevation(w.hip, w.ankle),
        _elevation(o.hip, o.ankle),
    )


@lru_cache(maxsize=64)
def _movement(variant: Variant, position: str, steps: int = 4) -> tuple[tuple[float, ...], ...]:
    """The leg shapes along the stretch's movement, start to end, from the body model (each in
    _SHAPE's order)."""
    from .body import figure, interpolate

    shapes = []
    for i in range(steps + 1):
        pose = interpolate(variant.start, variant.end, i / steps)
        f = figure(pose, position)
        shapes.append(
            {
                "hip": pose.hip,
                "knee": pose.knee,
                "other_hip": pose.other_hip,
                "other_knee": pose.other_knee,
                "rise": _elevation(f["hip"], f["ankle"]),
                "other_rise": _elevation(f["hip"], f["other_ankle"]),
            }
        )
    return tuple(tuple(s[k] for k in _SHAPE) for s in shapes)


_LEG_JOINTS = ("hip", "knee", "ankle")
# The working leg's (W_) and the other leg's (O_) landmark indices, by which leg works.
_ROLES = {
    side: {
        f"{role}_{j}": INDEX[f"{s}_{j}"]
        for role, s in (("W", side), ("O", other))
        for j in ("hip", "knee", "ankle", "heel", "foot_index")
    }
    for side, other in (("left", "right"), ("right", "left"))
}


def _working_side(lm: Landmarks, variant: Variant, position: str, prefer: str | None) -> str:
    """The leg whose shape (with the other leg's) fits the stretch's movement better.

    When both legs fit about equally (at the start of the seated stretch they are alike), the
    preferred leg (the one asked for, or the one watched a moment ago) is kept. This uses
    positions even where visibility is low: choosing which leg to judge is not a judgement, and
    the checks of a hidden leg come out unknown anyway.
    """
    shapes = _movement(variant, position)
    sh = _mid(_pt(lm, "left_shoulder"), _pt(lm, "right_shoulder"))
    left, right = _leg(lm, "left"), _leg(lm, "right")
    costs = {}
    for side, w, o in (("left", left, right), ("right", right, left)):
        h, k, oh, ok, r, orise = _shape(sh, w, o)
        costs[side] = min(
            abs(h - x[0]) + abs(k - x[1]) + abs(oh - x[2]) + abs(ok - x[3]) + abs(r - x[4])
            + abs(orise - x[5])
            for x in shapes
        )  # fmt: skip
    if prefer in costs and abs(costs["left"] - costs["right"]) < SAME_FIT:
        return prefer
    return min(costs, key=lambda s: costs[s])


def _facing(lm: Landmarks, lying: bool) -> int:
    """+1 when the person's legs (lying) or knees and face (sitting) point to the image's right."""
    sh = _mid(_pt(lm, "left_shoulder"), _pt(lm, "right_shoulder"))
    hp = _mid(_pt(lm, "left_hip"), _pt(lm, "right_hip"))
    if lying:
        toward = hp[0] - sh[0]
    else:
        knees = _mid(_pt(lm, "left_knee"), _pt(lm, "right_knee"))
        ears = _mid(_pt(lm, "left_ear"), _pt(lm, "right_ear"))
        scale = max(_dist(sh, hp), 1e-9)
        # The knees say it most plainly; the nose in front of the ears settles upright cases.
        toward = (knees[0] - hp[0]) / scale + 0.5 * (_pt(lm, "nose")[0] - ears[0]) / scale
    return 1 if toward >= 0 else -1


Vec3 = tuple[float, float, float]


def _points3(lm: Landmarks, world: bool) -> dict[str, Vec3]:
    """Landmarks as y-up 3-D points: metres from the world landmarks, or pixels with depth 0."""
    src = lm.world if world and lm.world is not None else lm.points
    if src is lm.points:
        return {n: (src[i].x, -src[i].y, 0.0) for n, i in _BODY}
    return {n: (src[i].x, -src[i].y, src[i].z) for n, i in _BODY}


# The points the posture and the angles use (no face or hands): fewer to convert each frame.
_BODY = tuple(
    (f"{s}_{j}", INDEX[f"{s}_{j}"])
    for s in ("left", "right")
    for j in ("shoulder", "hip", "knee", "ankle")
)


def _sub(a: Vec3, b: Vec3) -> Vec3:
    return (a[0] - b[0], a[1] - b[1], a[2] - b[2])


def _mid3(a: Vec3, b: Vec3) -> Vec3:
    return ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2, (a[2] + b[2]) / 2)


def _angle3(a: Vec3, vertex: Vec3, b: Vec3) -> float:
    """The interior angle a-vertex-b in degrees (0 to 180), in 3-D."""
    ux, uy, uz = a[0] - vertex[0], a[1] - vertex[1], a[2] - vertex[2]
    vx, vy, vz = b[0] - vertex[0], b[1] - vertex[1], b[2] - vertex[2]
    n = math.sqrt((ux * ux + uy * uy + uz * uz) * (vx * vx + vy * vy + vz * vz))
    if n == 0:
        return float("nan")
    cos = (ux * vx + uy * vy + uz * vz) / n
    return math.degrees(math.acos(max(-1.0, min(1.0, cos))))


def _elev3(frm: Vec3, to: Vec3) -> float:
    """How far frm->to points up from the floor's plane (-90..90), whichever way it faces."""
    d = _sub(to, frm)
    return math.degrees(math.atan2(d[1], math.hypot(d[0], d[2])))


def _same_way(a: Vec3, b: Vec3) -> bool:
    """a and b point the same way along the floor (their horizontal parts agree)."""
    return a[0] * b[0] + a[2] * b[2] > 0


def _from_feet(hip: Vec3, knee: Vec3, shoulders: Vec3, hips: Vec3) -> float:
    """The thigh's angle up from the floor on the feet's side (0 flat, 90 upright, more: drawn
    toward the chest), lying down."""
    t = _sub(shoulders, hips)
    n = math.hypot(t[0], t[2]) or 1.0
    d = _sub(knee, hip)
    return math.degrees(math.atan2(d[1], -(d[0] * t[0] + d[2] * t[2]) / n))


def _chest_up(pts: dict[str, Vec3]) -> float:
    """How much the chest faces the ceiling: +1 lying on the back, -1 face down, 0 on the side.

    The front of the body is the person's right-to-left shoulder line crossed with the
    hips-to-shoulders line (y up, z away from the camera).
    """
    a = _sub(pts["left_shoulder"], pts["right_shoulder"])
    b = _sub(
        _mid3(pts["left_shoulder"], pts["right_shoulder"]),
        _mid3(pts["left_hip"], pts["right_hip"]),
    )
    n = (a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0])
    size = math.sqrt(sum(x * x for x in n))
    # The y axis points up and z away from the camera: a left-handed frame, hence the minus.
    return -n[1] / size if size > 0 else 0.0


def measure(lm: Landmarks, variant: Variant, prefer: str | None = None) -> Measurement:
    """Measure everything a check can ask for (spec.MEASURES), for the given variant's movement.

    prefer: the leg to watch when the two legs cannot be told apart (the one the session asked
    for, or the one watched in the last frame).

    The posture is read from the legs and hips, not the trunk: sitting is the hips at about
    knee height with a thigh roughly level, whatever the trunk does (a forward fold is still
    sitting); lying is the trunk along the floor and not folded over the legs. Angles come
    from the world landmarks when the engine gives them (ANGLES_3D), else from the pixels.
    """
    sh_l, sh_r = _pt(lm, "left_shoulder"), _pt(lm, "right_shoulder")
    hp_l, hp_r = _pt(lm, "left_hip"), _pt(lm, "right_hip")
    sh, hp = _mid(sh_l, sh_r), _mid(hp_l, hp_r)
    trunk_seen = (lm.visible("left_shoulder") or lm.visible("right_shoulder")) and (
        lm.visible("left_hip") or lm.visible("right_hip")
    )
    legs = [s for s in ("left", "right") if lm.visible(f"{s}_hip", f"{s}_knee")]
    view = _view(lm)
    body_px = _body_px(lm)
    p3 = _points3(lm, POSTURE_3D)
    a3 = p3 if ANGLES_3D == POSTURE_3D else _points3(lm, ANGLES_3D)
    px3 = _points3(lm, False)
    use3d = ANGLES_3D and lm.world is not None
    sh3 = _mid3(p3["left_shoulder"], p3["right_shoulder"])
    hp3 = _mid3(p3["left_hip"], p3["right_hip"])
    trunk_elev = _elev3(hp3, sh3)  # + shoulders above the hips, - below
    chest = _chest_up(p3) if lm.world is not None and POSTURE_3D else None
    elev = abs(trunk_elev)

    def thigh(s: str) -> float:
        return _elev3(p3[f"{s}_hip"], p3[f"{s}_knee"])

    posture: str | None = None
    folded = False
    if trunk_seen and legs:
        # Judged on the legs that are seen: side-on, the far leg is often hidden.
        thighs = {s: thigh(s) for s in legs}
        level = min(legs, key=lambda s: abs(thighs[s]))
        # Folded over the legs: the shoulders lie the same way along the floor as the knees.
        folded = _same_way(_sub(sh3, hp3), _sub(p3[f"{level}_knee"], p3[f"{level}_hip"]))
        # ... or the chest faces the floor over level thighs (depth alone can miss a deep fold).
        folded = folded or (chest is not None and chest < -SUPINE_FOLD)
        knees = [
            _angle3(p3[f"{s}_hip"], p3[f"{s}_knee"], p3[f"{s}_ankle"])
            for s in legs
            if lm.visible(f"{s}_ankle")
        ]
        # Hips lifted off the floor with the shoulders down (a bridge) is still lying on the
        # back, so the cue can be "hips down" rather than "lie down".
        bridged = -HIPS_UP <= trunk_elev < 0
        if (elev <= LYING_TRUNK or bridged) and not (folded and abs(thighs[level]) <= SIT_THIGH):
            posture = "lying"
        elif min(thighs.values()) < -STAND_THIGH:
            # A thigh pointing down to the floor: standing, kneeling or lunging, not sitting.
            hips = [_angle3(sh3, p3[f"{s}_hip"], p3[f"{s}_knee"]) for s in legs]
            straight = min(hips) >= STRAIGHT and min(knees or [0.0]) >= STRAIGHT
            posture = "standing" if straight or trunk_elev < 0 else "kneeling"
        elif abs(thighs[level]) <= SIT_THIGH:
            posture = "sitting"
        else:
            posture = "reclining"
    elif trunk_seen and elev <= LYING_TRUNK:
        posture = "lying"

    position = "lying" if variant.end.trunk_incline < 45 else "sitting"
    side = _working_side(lm, variant, position, prefer)
    other = "right" if side == "left" else "left"
    if prefer is None and not lm.visible(*(f"{side}_{j}" for j in _LEG_JOINTS)):
        if lm.visible(*(f"{other}_{j}" for j in _LEG_JOINTS)):
            # The leg that fits best is hidden and the other is seen: judge the one seen
            # rather than nothing (nobody asked for a leg).
            side, other = other, side
    facing = _facing(lm, lying=posture == "lying" or (posture is None and elev <= LYING_TRUNK))
    w, o = _leg(lm, side), _leg(lm, other)

    vis, roles = lm._seen, _ROLES[side]

    def seen(*joints: str) -> bool:
        return all(vis[roles[j]] for j in joints)

    def knee(leg: str, how: str = KNEE_FROM) -> float:
        hip, kn, ankle = (f"{leg}_{j}" for j in _LEG_JOINTS)
        flat = _angle3(px3[hip], px3[kn], px3[ankle])
        if not use3d:
            return flat
        deep = _angle3(a3[hip], a3[kn], a3[ankle])
        if how == "view":
            # Side-on the picture shows the knee's own angle; turned, only depth does.
            return flat if view == "side" else deep
        return max(flat, deep) if how == "max" else deep

    values: dict[str, float | None] = dict.fromkeys(MEASURES)
    if seen("W_hip", "W_knee", "W_ankle"):
        values["working_knee"] = knee(side)
    if seen("O_hip", "O_knee", "O_ankle"):
        values["other_knee"] = knee(other)
    if seen("W_hip", "W_ankle", "O_hip", "O_ankle"):
        a = (w.ankle[0] - w.hip[0], w.ankle[1] - w.hip[1])
        b = (o.ankle[0] - o.hip[0], o.ankle[1] - o.hip[1])
        values["legs_angle"] = angle_at(a, (0.0, 0.0), b)
    if trunk_seen:
        tilt = _direction(hp, sh, facing)  # 180 lying flat, 90 upright
        values["trunk_incline"] = 180.0 - (tilt if tilt >= -90 else tilt + 360)
    if seen("W_hip", "W_ankle"):
        values["leg_raise"] = _direction(w.hip, w.ankle, facing)
    feet = ("O_heel", "O_foot_index")
    # On a stool the heel's support is higher than the resting foot by a height the camera
    # cannot know: whether the heel rests on it is left unknown rather than guessed.
    if seen("W_heel", *feet) and body_px > 0 and "stool" not in variant.props:
        support = min(o.heel[1], o.toe[1])  # the resting foot is on the floor
        # A heel cannot be below the floor it rests on; below is camera perspective.
        values["heel_lift"] = max(0.0, 100.0 * (w.heel[1] - support) / body_px)

    placed: bool | None = None
    problem: str | None = None
    if posture == "lying" or (posture is None and elev <= LYING_TRUNK):
        rise = None
        if seen("W_hip", "W_ankle"):
            rise = _elev3(p3[f"{side}_hip"], p3[f"{side}_ankle"])
        elif seen("W_hip", "W_knee"):
            rise = thigh(side)
        placed = None if rise is None else rise >= LEG_RAISED
        if placed and seen("O_hip", "O_ankle"):
            if _elev3(p3[f"{other}_hip"], p3[f"{other}_ankle"]) > OTHER_DOWN:
                placed, problem = False, CUE_OTHER_DOWN
        elif placed:
            # The other leg out of sight is not taken for down. Side-on, a leg down on the floor
            # shows below the raised one; a leg hidden is most often raised behind it: with
            # both legs raised straight (lying-both-legs-raised-straight-02 in the wider set)
            # the far ankle's visibility is 0.52, and 0.30-0.39 when the crop is mirrored.
            # Demanding the leg seen changed no row of the wider set's photos (bench_form.py
            # --cv --live) and lifted the live path over JPEG qualities 60-80 (--live-band):
            # in position 467 -> 470 of 500.
            placed, problem = False, CUE_OTHER_SEEN
        # The floor runs under the shoulders and the other foot (BRIDGE); without that foot in
        # view, the picture's level stands in for it.
        floor = _elev3(sh3, p3[f"{other}_ankle"]) if seen("O_ankle") else 0.0
        if placed and trunk_seen and -trunk_elev - floor > BRIDGE:
            placed, problem = False, CUE_HIPS_DOWN  # the hips well above the shoulders
        knee_w = values["working_knee"]
        if placed and knee_w is not None and trunk_seen and knee_w < TUCK_KNEE:
            # A bent knee drawn past upright toward the chest is hugged in, not raised. The
            # thigh is measured from the floor on the feet's side, so lifting the head and
            # shoulders toward a straight raised leg does not count as hugging it.
            if _from_feet(p3[f"{side}_hip"], p3[f"{side}_knee"], sh3, hp3) > TUCK_THIGH:
                placed, problem = False, CUE_NOT_TUCKED
        if placed and chest is not None and chest < SUPINE:
            placed, problem = False, CUE_ON_BACK
    elif values["working_knee"] is not None and posture == "sitting":
        rise = _elev3(p3[f"{side}_hip"], p3[f"{side}_ankle"]) if seen("W_ankle") else 0.0
        extended = knee(side, EXTENDED_FROM) >= LEG_EXTENDED
        placed = extended and rise <= SEATED_LEG_UP
    elif values["working_knee"] is not None:
        placed = False
    depth = ANGLES_3D and lm.world is not None
    return Measurement(posture, side, view, values, placed, facing, body_px, problem, folded, depth)


# --- judging ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckResult:
    name: str
    label: str
    ok: bool | None  # None: not visible enough to tell
    measured: float | None
    rule: CheckRule
    judged: bool = True  # False: the camera cannot judge this check in this variant at all

    def to_dict(self) -> dict[str, Any]:
        unit = "%" if self.rule.measure == "heel_lift" else "deg"
        return {
            "name": self.name,
            "label": self.label,
            "ok": self.ok,
            "measured_deg": None if self.measured is None else round(self.measured, 1),
            "target": self.rule.target,
            "min": self.rule.min,
            "max": self.rule.max,
            "unit": unit,
            "judged": self.judged,
        }


@dataclass(frozen=True)
class Verdict:
    """The per-frame answer: is the person in the stretch, on which leg, and how is the form."""

    exercise: str
    variant: str
    person_found: bool
    in_position: bool
    side: str | None  # the working leg seen
    side_ok: bool | None  # the working leg is the one the session asked for (None: not asked)
    posture: str | None
    view: str
    checks: tuple[CheckResult, ...] = ()
    cues: tuple[str, ...] = ()
    measurement: Measurement | None = field(default=None, compare=False)

    @property
    def good_form(self) -> bool:
        """In position, on the right leg, and every check the camera can judge seen right.

        A check not seen (ok None) does not count as right: a hold is only counted on what
        the camera actually saw.
        """
        judged = [c.ok for c in self.checks if c.judged]
        return (
            self.in_position
            and self.side_ok is not False
            and bool(judged)
            and all(ok is True for ok in judged)
        )

    def check(self, name: str) -> CheckResult:
        return next(c for c in self.checks if c.name == name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "exercise": self.exercise,
            "variant": self.variant,
            "person_found": self.person_found,
            "in_position": self.in_position,
            "side": self.side,
            "side_ok": self.side_ok,
            "posture": self.posture,
            "view": self.view,
            "good_form": self.good_form,
            "checks": [c.to_dict() for c in self.checks],
            "cues": list(self.cues),
        }


PLACE_CUES = {
    "lying": "Lie on your back with one leg raised toward the ceiling.",
    "sitting": "Sit at the edge of the chair with one leg straight out in front of you.",
}
POSTURE_CUES = {
    "lying": "Lie down on your back for this stretch.",
    "sitting": "Sit on the edge of a chair for this stretch.",
}
CUE_OTHER_DOWN = "Keep your other leg down: foot flat on the floor, or the leg resting straight."
CUE_OTHER_SEEN = "Keep your other leg down on the floor where the camera can see it."
CUE_HIPS_DOWN = "Rest your hips on the floor."
CUE_NOT_TUCKED = "Raise the leg toward the ceiling rather than hugging the knee in."
CUE_ON_BACK = "Turn onto your back for this stretch."
CUE_NOT_SEEN = "Move so the camera can see your whole body."
CUE_TURN = "Turn side-on to the camera so it can see your legs from the side."
FELT_LABEL = "(as far as you feel the stretch)"
CLINICIAN_LABEL = "(from {deg}°, as your clinician set)"


def judge_rule(rule: CheckRule, value: float | None) -> tuple[bool | None, str | None]:
    """(ok, cue) for one measured value, with the camera's margin; (None, None) unmeasured."""
    if value is None:
        return None, None
    margin = MARGIN.get(rule.measure, MARGIN_DEG)
    if value < rule.min - margin:
        return False, rule.cue_low
    if value > rule.max + margin:
        return False, rule.cue_high
    return True, None


def _felt(
    rule: CheckRule, felt_knee: float | None, knee_from: float | None = None
) -> tuple[CheckRule, str]:
    """The rule as it stands for this person: a working knee that is not yet straight is right
    from the angle at which they said the stretch is felt, or from the angle their clinician set
    for a knee that cannot straighten (knee_from), whichever is lower. The article's instruction
    is to "straighten the knee until a stretch is felt", not to straighten it whatever it takes;
    and a stretch should be felt, not forced. Only ever lower: never a straighter knee than the
    stretch's own."""
    if rule.measure != "working_knee":
        return rule, rule.label
    low = min((x for x in (felt_knee, knee_from) if x is not None), default=None)
    if low is None or low >= rule.min:
        return rule, rule.label
    if felt_knee is not None and felt_knee <= low:
        return replace(rule, min=felt_knee), f"{rule.label} {FELT_LABEL}"
    return replace(rule, min=low), f"{rule.label} {CLINICIAN_LABEL.format(deg=round(low))}"


def judge(
    m: Measurement | None,
    stretch: Stretch,
    variant: Variant | None = None,
    side: str | None = None,
    felt_knee: float | None = None,
    knee_from: float | None = None,
) -> Verdict:
    """Judge a measurement against a stretch (its variant's tolerances) and the asked-for leg.

    felt_knee: the working knee's angle at which this person said they feel the stretch (the
    player's "I feel the stretch here"); knee_from: the angle their clinician counts the knee
    straight from (a prescription's knee_from_deg). The knee check is right from the lower
    (_felt)."""
    v = variant or stretch.default_variant
    if m is None:
        return Verdict(
            stretch.slug, v.slug, False, False, None, None, None, "unknown",
            tuple(CheckResult(r.name, r.label, None, None, r) for r in v.checks),
            (CUE_NOT_SEEN,),
        )  # fmt: skip
    cues: list[str] = []
    # Pixel angles of a body facing the camera are not its joints' angles; 3-D ones are.
    trust = m.view != "front" or m.depth
    checks = []
    for rule in v.checks:
        rule, label = _felt(rule, felt_knee, knee_from)
        value = m.values.get(rule.measure)
        ok, cue = judge_rule(rule, value) if trust else (None, None)
        judged = not (rule.measure == "heel_lift" and "stool" in v.props)
        checks.append(CheckResult(rule.name, label, ok, value, rule, judged))
        if cue and cue not in cues:
            cues.append(cue)
    in_position = m.posture == stretch.position and m.leg_placed is True
    side_ok = None if side is None or m.side is None else m.side == side
    first: list[str] = []
    if m.posture is None:
        first.append(CUE_NOT_SEEN)
    elif not trust:
        first.append(CUE_TURN)
    if m.posture is not None and m.posture != stretch.position:
        first.append(POSTURE_CUES.get(stretch.position, PLACE_CUES.get(stretch.position, "")))
    elif m.posture == stretch.position and m.leg_placed is False:
        first.append(m.problem or PLACE_CUES.get(stretch.position, ""))
    if side_ok is False and side is not None:
        first.append(f"Switch legs: stretch your {side} leg.")
    if not in_position:
        cues = []  # straightening a knee means nothing until the body is in the stretch
    return Verdict(
        stretch.slug, v.slug, True, in_position, m.side, side_ok, m.posture, m.view,
        tuple(checks), tuple(c for c in first + cues if c), m,
    )  # fmt: skip


def check_form(
    lm: Landmarks | None,
    stretch: Stretch,
    variant: Variant | None = None,
    side: str | None = None,
    prefer: str | None = None,
    felt_knee: float | None = None,
    knee_from: float | None = None,
) -> Verdict:
    """Landmarks (or None: nobody seen) to a verdict.

    side: the leg the session asked for. prefer: the leg to keep watching when the legs cannot
    be told apart (pass the last verdict's side, so the judged leg does not flicker); defaults
    to side. felt_knee, knee_from: see judge().
    """
    v = variant or stretch.default_variant
    m = None if lm is None else measure(lm, v, prefer or side)
    return judge(m, stretch, v, side, felt_knee, knee_from)


def fit(verdict: Verdict, stretch: Stretch) -> tuple[bool, bool, int]:
    """How well one person's pose fits the stretch, to choose the one doing it among several
    in a picture (a partner, a therapist or a class beside them): in position first, then in
    the stretch's posture, then the most checks seen right. Compared as tuples; larger fits
    better."""
    return (
        verdict.in_position,
        verdict.posture == stretch.position,
        sum(c.ok is True for c in verdict.checks),
    )


def wanting(
    stretch: Stretch, variant: Variant | None = None, side: str | None = None, tilt_deg: float = 0.0
) -> Callable[[Landmarks], tuple[bool, bool, int]]:
    """fit() for a pose engine that follows one person (video, the live camera): whom to
    follow when it sees several. tilt_deg: see Landmarks.levelled."""
    return lambda lm: fit(check_form(lm.levelled(tilt_deg), stretch, variant, side), stretch)
