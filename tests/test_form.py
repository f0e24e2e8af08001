"""The form rules on synthetic people: the body model's figure at known angles, drawn into
BlazePose's 33 landmarks in pixels (any image size, facing either way, either leg), with noise.

No numpy, no camera: this is what the rules must get right whatever the engine.
"""

from __future__ import annotations

import math
import random
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from limber.core import form
from limber.core.body import figure, interpolate, measure
from limber.core.form import CUE_NOT_SEEN, CUE_TURN, Landmark, Landmarks, check_form
from limber.core.smoothing import LandmarkSmoother, OneEuro
from limber.core.spec import load_library

LIB = load_library()
TOWEL = LIB["towel-hamstring-stretch"]
WALL = LIB["wall-hamstring-stretch"]
SEATED = LIB["seated-hamstring-stretch"]
SIZES = [(640, 480), (1920, 1080), (480, 640), (850, 567), (1000, 1000)]


def synth(
    pose,
    position: str,
    side: str = "right",
    facing: int = 1,
    size: tuple[int, int] = (640, 480),
    noise_px: float = 0.0,
    seed: int = 0,
    hidden: tuple[str, ...] = (),
    yaw_deg: float = 85.0,
) -> Landmarks:
    """A figure seen from the side (yaw 90) or turned toward the camera, in pixels (y down)."""
    f = figure(pose, position)
    rng = random.Random(seed)
    w, h = size
    xs = [x for x, _ in f.points.values()]
    ys = [y for _, y in f.points.values()]
    span = max(max(xs) - min(xs), max(ys) - min(ys), 0.3)
    scale = 0.8 * min(w, h) / span
    cx = (max(xs) + min(xs)) / 2
    cy = (max(ys) + min(ys)) / 2
    other = "left" if side == "right" else "right"
    # The near side is toward the camera (smaller z); the far side sits half a shoulder width
    # away in depth and, when the body turns toward the camera, shows some width in the image.
    half = 0.1
    turn = math.cos(math.radians(yaw_deg))
    depth = math.sin(math.radians(yaw_deg))

    def px(p: tuple[float, float], lateral: float) -> tuple[float, float, float]:
        x = (p[0] - cx) * facing * scale + w / 2 + lateral * turn * scale
        y = -(p[1] - cy) * scale + h / 2
        return (x + rng.gauss(0, noise_px), y + rng.gauss(0, noise_px), lateral * depth * scale)

    lat = {side: -half, other: half}
    head = f["head"]
    face = (0.0, 0.05) if position == "lying" else (0.05, 0.0)
    nose = (head[0] + face[0], head[1] + face[1])
    pts: dict[str, tuple[float, float, float]] = {}
    for name in form.LANDMARK_NAMES:
        s = "left" if name.startswith("left") else "right" if name.startswith("right") else None
        lateral = lat[s] * 0.3 if s and ("eye" in name or "ear" in name or "mouth" in name) else 0
        if s and not lateral:
            lateral = lat[s]
        joint = name.split("_", 1)[1] if s else name
        prefix = "" if s == side else "other_"
        if joint in ("shoulder",):
            p = f["shoulder"]
        elif joint == "hip":
            p = f["hip"]
        elif joint in ("knee", "ankle", "heel"):
            p = f[prefix + joint]
        elif joint == "foot_index":
            p = f[prefix + "toe"]
        elif joint == "elbow":
            p = f["elbow"]
        elif joint in ("wrist", "pinky", "index", "thumb"):
            p = f["hand"]
        elif joint in ("ear",):
            p = head
        else:  # nose, eyes, mouth
            p = nose
        pts[name] = px(p, lateral)
    points = tuple(
        Landmark(*pts[n], visibility=0.1 if n in hidden else 0.95) for n in form.LANDMARK_NAMES
    )
    return Landmarks(points, w, h)


def truth(pose, position: str) -> dict[str, float]:
    return measure(figure(pose, position))


def cases():
    for stretch in (TOWEL, WALL, SEATED):
        for variant in stretch.variants:
            for side in ("left", "right"):
                for facing in (1, -1):
                    yield stretch, variant, side, facing


@pytest.mark.parametrize(("stretch", "variant", "side", "facing"), list(cases()))
def test_end_pose_is_judged_good_on_any_frame(stretch, variant, side, facing):
    for i, size in enumerate(SIZES):
        lm = synth(variant.end, stretch.position, side, facing, size, noise_px=1.0, seed=i)
        v = check_form(lm, stretch, variant, side)
        assert v.person_found and v.in_position, (size, v.to_dict())
        assert v.side == side and v.side_ok is True
        assert v.posture == stretch.position and v.view == "side"
        known = [c for c in v.checks if c.ok is not None]
        assert all(c.ok for c in known), (size, v.to_dict())
        assert v.good_form
        assert v.cues == ()


@pytest.mark.parametrize(("stretch", "variant", "side", "facing"), list(cases()))
def test_measured_angles_match_the_body_model(stretch, variant, side, facing):
    """The camera measures what body.measure measures on the drawing, in any frame shape."""
    want = truth(variant.end, stretch.position)
    for i, size in enumerate(SIZES):
        lm = synth(variant.end, stretch.position, side, facing, size, noise_px=0.5, seed=i)
        got = form.measure(lm, variant).values
        for name in ("working_knee", "other_knee", "legs_angle", "trunk_incline", "leg_raise"):
            assert got[name] == pytest.approx(want[name], abs=3.0), (name, size)


def test_the_foot_on_a_stool_has_no_heel_judgement():
    """The camera cannot see how high the stool is, so 'heel down' there is unknown."""
    stool = SEATED.variant("foot-on-stool")
    v = check_form(synth(stool.end, "sitting", "left"), SEATED, stool, "left")
    assert v.check("heel_down").ok is None and not v.check("heel_down").judged
    assert v.check("knee_straight").ok is True
    assert v.good_form  # what cannot be judged does not stop the hold being counted


def test_heel_lifted_off_the_floor_is_seen():
    v0 = SEATED.default_variant
    lifted = replace(v0.end, hip=v0.end.hip - 20)  # the straight leg swings up off the floor
    v = check_form(synth(lifted, "sitting", "right"), SEATED, v0, "right")
    assert v.check("heel_down").ok is False
    assert "Keep your heel on the floor." in v.cues


@given(
    t=st.floats(0, 1),
    side=st.sampled_from(["left", "right"]),
    facing=st.sampled_from([1, -1]),
    size=st.sampled_from(SIZES),
    seed=st.integers(0, 10_000),
    which=st.sampled_from(["towel", "wall", "seated"]),
)
@settings(max_examples=150, deadline=None)
def test_knee_angle_within_tolerance_through_the_movement(t, side, facing, size, seed, which):
    stretch = {"towel": TOWEL, "wall": WALL, "seated": SEATED}[which]
    variant = stretch.default_variant
    pose = interpolate(variant.start, variant.end, t)
    # One pixel of noise on a 640 x 480 frame moves a knee angle by about 1.5 degrees (sd).
    lm = synth(pose, stretch.position, side, facing, size, noise_px=1.0, seed=seed)
    m = form.measure(lm, variant, prefer=side)
    assert m.side == side
    assert m.values["working_knee"] == pytest.approx(pose.knee, abs=6.0)
    v = form.judge(m, stretch, variant, side)
    knee = v.check("knee_straight")
    rule = knee.rule
    if pose.knee < rule.min - form.MARGIN_DEG - 5:
        assert knee.ok is False
        assert rule.cue_low in v.cues or not v.in_position
    if pose.knee >= rule.min + 5:
        assert knee.ok is True


def test_bent_knee_at_the_start_of_the_towel_stretch():
    v = check_form(synth(TOWEL.default_variant.start, "lying", "left"), TOWEL, side="left")
    assert v.in_position  # lying with the leg raised: the stretch has begun
    assert v.check("knee_straight").ok is False
    assert v.cues[0] == "Straighten the knee slowly, only as far as you feel a gentle stretch."
    assert not v.good_form


@pytest.mark.parametrize("stretch", [TOWEL, WALL, SEATED], ids=lambda s: s.slug)
def test_a_knee_short_of_straight_counts_from_where_the_stretch_is_felt(stretch):
    """The article: straighten the knee "until a stretch is felt". A person with tight hamstrings
    who feels it at 145 degrees is doing the stretch; once they say so, the knee check is right
    from there, and a knee bent further than that is still not."""
    v = stretch.default_variant
    there = synth(replace(v.end, knee=145), stretch.position, "right")
    before = check_form(there, stretch, side="right")
    assert before.in_position and before.check("knee_straight").ok is False
    assert not before.good_form
    felt = before.check("knee_straight").measured
    after = check_form(there, stretch, side="right", felt_knee=felt)
    assert after.good_form and after.cues == ()
    assert after.check("knee_straight").label == f"Knee straight {form.FELT_LABEL}"
    more_bent = synth(replace(v.end, knee=120), stretch.position, "right")
    assert (
        check_form(more_bent, stretch, side="right", felt_knee=felt).check("knee_straight").ok
        is not True
    )
    # Never a straighter knee than the stretch's own: a "felt" angle above it changes nothing.
    straight = synth(v.end, stretch.position, "right")
    same = check_form(straight, stretch, side="right", felt_knee=179.0)
    assert same.good_form and same.check("knee_straight").label == "Knee straight"
    assert same.check("knee_straight").rule.min == 160


@pytest.mark.parametrize("stretch", [TOWEL, WALL, SEATED], ids=lambda s: s.slug)
def test_a_knee_that_cannot_straighten_counts_from_the_clinicians_angle(stretch):
    """A clinician who knows a knee cannot straighten (arthritis, after surgery) sets the angle
    the camera counts it straight from: the hold counts from the first frame, says why, and a
    knee bent further still does not count. Where the person feels the stretch even sooner,
    that lower angle counts."""
    v = stretch.default_variant
    there = synth(replace(v.end, knee=148), stretch.position, "right")
    assert check_form(there, stretch, side="right").good_form is False
    set_ = check_form(there, stretch, side="right", knee_from=150)
    knee = set_.check("knee_straight")
    assert set_.good_form and knee.ok is True and knee.rule.min == 150
    assert knee.label == "Knee straight (from 150°, as your clinician set)"
    more_bent = synth(replace(v.end, knee=125), stretch.position, "right")
    assert check_form(more_bent, stretch, side="right", knee_from=150).good_form is False
    # The person felt the stretch with the knee at 130: theirs is lower, and counts.
    felt = check_form(more_bent, stretch, side="right", felt_knee=130, knee_from=150)
    assert felt.check("knee_straight").rule.min == 130
    assert felt.check("knee_straight").label == f"Knee straight {form.FELT_LABEL}"
    # A felt angle above the clinician's does not undo it.
    both = check_form(there, stretch, side="right", felt_knee=158, knee_from=150)
    assert both.good_form and both.check("knee_straight").rule.min == 150


def test_sitting_with_both_knees_bent_is_not_yet_the_seated_stretch():
    v = check_form(synth(SEATED.default_variant.start, "sitting"), SEATED)
    assert v.posture == "sitting"
    assert not v.in_position
    assert v.cues == (form.PLACE_CUES["sitting"],)


def test_legs_alike_watch_the_leg_asked_for():
    start = SEATED.default_variant.start  # both knees bent alike
    for side in ("left", "right"):
        assert check_form(synth(start, "sitting", "right"), SEATED, side=side).side == side


def test_wrong_leg_says_switch():
    v = check_form(synth(TOWEL.default_variant.end, "lying", "left"), TOWEL, side="right")
    assert v.side == "left" and v.side_ok is False
    assert "Switch legs: stretch your right leg." in v.cues
    assert not v.good_form


def test_standing_is_not_lying():
    standing = replace(TOWEL.default_variant.end, trunk_incline=90, hip=180, knee=180,
                       other_hip=180, other_knee=180)  # fmt: skip
    v = check_form(synth(standing, "sitting"), TOWEL)
    assert v.posture == "standing" and not v.in_position
    assert v.cues[0] == "Lie down on your back for this stretch."


def test_sitting_for_a_lying_stretch_asks_to_lie_down():
    v = check_form(synth(SEATED.default_variant.end, "sitting"), WALL)
    assert not v.in_position
    assert v.cues[0] == "Lie down on your back for this stretch."


def test_hidden_knee_is_unknown_never_a_guess():
    end = TOWEL.default_variant.end
    lm = synth(end, "lying", "right", hidden=("right_knee",))
    v = check_form(lm, TOWEL, side="right")
    knee = v.check("knee_straight")
    assert knee.ok is None and knee.measured is None
    assert knee.to_dict()["ok"] is None and knee.to_dict()["measured_deg"] is None
    # the leg's rise needs only hip and ankle: still judged
    assert v.check("leg_raised").ok is True
    # A hidden bent knee gives no cue to straighten it either.
    bent = synth(TOWEL.default_variant.start, "lying", "right", hidden=("right_knee",))
    assert (
        "Straighten the knee slowly, only as far as you feel a gentle stretch."
        not in check_form(bent, TOWEL).cues
    )


def test_an_unseen_check_does_not_count_as_good_form():
    lm = synth(TOWEL.default_variant.end, "lying", "right", hidden=("right_knee",))
    v = check_form(lm, TOWEL, side="right")
    assert v.in_position and v.check("leg_raised").ok is True
    assert not v.good_form


def test_nothing_visible_asks_to_be_seen():
    lm = synth(TOWEL.default_variant.end, "lying", hidden=form.LANDMARK_NAMES)
    v = check_form(lm, TOWEL)
    assert v.person_found and not v.in_position
    assert all(c.ok is None for c in v.checks)
    assert v.cues == (CUE_NOT_SEEN,)


def test_nobody():
    v = check_form(None, SEATED)
    assert not v.person_found and not v.in_position
    assert [c["ok"] for c in v.to_dict()["checks"]] == [None, None, None]


def test_camera_facing_the_person_says_turn_side_on():
    lm = synth(SEATED.default_variant.end, "sitting", yaw_deg=10)
    v = check_form(lm, SEATED)
    assert v.view == "front"
    assert all(c.ok is None for c in v.checks)
    assert v.cues[0] == CUE_TURN
    # a three-quarter view is still judged
    assert check_form(synth(SEATED.default_variant.end, "sitting", yaw_deg=55), SEATED).good_form


def test_angles_are_taken_in_pixels_not_normalised_coordinates():
    """On a wide frame, normalising x and y separately would bend a straight leg."""
    end = WALL.default_variant.end
    square = form.measure(synth(end, "lying", size=(1000, 1000)), WALL.default_variant)
    wide = form.measure(synth(end, "lying", size=(2400, 600)), WALL.default_variant)
    for name in ("legs_angle", "leg_raise", "working_knee"):
        assert wide.values[name] == pytest.approx(square.values[name], abs=0.5)
    assert wide.values["legs_angle"] == pytest.approx(90, abs=2)


def test_verdict_dict_shape():
    d = check_form(synth(SEATED.default_variant.end, "sitting"), SEATED, side="right").to_dict()
    assert set(d) >= {"exercise", "person_found", "in_position", "side", "checks", "cues"}
    assert d["exercise"] == "seated-hamstring-stretch"
    c = d["checks"][0]
    assert set(c) >= {"name", "label", "ok", "measured_deg", "target"}
    assert c["name"] == "knee_straight" and c["target"] == 180


# --- smoothing --------------------------------------------------------------------------------


def test_one_euro_steadies_a_still_point_and_follows_a_move():
    rng = random.Random(1)
    f = OneEuro(min_cutoff=1.5, beta=5.0 / 640)
    out = [f(100 + rng.gauss(0, 3), i / 30) for i in range(120)]
    raw_spread = 3.0
    tail = out[30:]
    mean = sum(tail) / len(tail)
    spread = math.sqrt(sum((x - mean) ** 2 for x in tail) / len(tail))
    assert spread < raw_spread / 2.5
    # a fast move of 200 px within a third of a second is followed within a few frames
    f = OneEuro(min_cutoff=1.5, beta=5.0 / 640)
    for i in range(30):
        f(100.0, i / 30)
    xs = [f(300.0, 1 + i / 30) for i in range(10)]
    assert xs[-1] > 290


def test_smoother_keeps_a_held_knee_steady():
    """Jitter of a few pixels must not make a held knee's angle flicker."""
    variant = TOWEL.default_variant
    pose = replace(variant.end, knee=160)  # right at the limit: raw jitter crosses it
    smoother = LandmarkSmoother()
    knees_raw, knees = [], []
    for i in range(90):
        lm = synth(pose, "lying", size=(640, 480), noise_px=2.0, seed=i)
        knees_raw.append(form.measure(lm, variant).values["working_knee"])
        knees.append(form.measure(smoother(lm, i / 30), variant).values["working_knee"])
    raw_range = max(knees_raw[30:]) - min(knees_raw[30:])
    smooth_range = max(knees[30:]) - min(knees[30:])
    assert smooth_range < raw_range / 2
    assert all(abs(k - 160) < 4 for k in knees[30:])


def test_smoother_starts_afresh_after_losing_the_person():
    smoother = LandmarkSmoother()
    a = synth(TOWEL.default_variant.end, "lying", size=(640, 480))
    b = synth(TOWEL.default_variant.end, "lying", size=(640, 480), facing=-1)
    smoother(a, 0.0)
    assert smoother(None, 0.1) is None
    after_gap = smoother(b, 2.0)
    assert after_gap["left_knee"].x == pytest.approx(b["left_knee"].x)


def test_smoother_keeps_the_legs_names_when_the_engine_swaps_them():
    """BlazePose may call the raised leg 'right' in one frame and 'left' in the next."""
    end = TOWEL.default_variant.end
    smoother = LandmarkSmoother()
    sides = []
    for i in range(20):
        lm = synth(end, "lying", "left", noise_px=0.5, seed=i)
        if i >= 10:  # the engine flips the legs' names half way
            swap = {f"{a}_{j}": f"{b}_{j}" for j in ("hip", "knee", "ankle", "heel", "foot_index")
                    for a, b in (("left", "right"), ("right", "left"))}  # fmt: skip
            names = [swap.get(n, n) for n in form.LANDMARK_NAMES]
            lm = Landmarks(tuple(lm[n] for n in names), lm.width, lm.height)
        sides.append(check_form(smoother(lm, i / 30), TOWEL).side)
    assert sides == ["left"] * 20


# --- lying poses that are not the stretch, and a forward lean that is -------------------------


def with_world(lm: Landmarks, chest_down: bool = False) -> Landmarks:
    """The same body with world landmarks (metres, y down), as the real engine gives them;
    chest_down mirrors the depth so the chest faces the floor instead of the ceiling."""
    k = 1 / max(lm.width, lm.height)
    sign = -1 if chest_down else 1
    world = tuple(Landmark(p.x * k, p.y * k, sign * p.z * k, p.visibility) for p in lm.points)
    return replace(lm, world=world)


def test_both_legs_raised_is_not_the_lying_stretch():
    end = TOWEL.default_variant.end
    both = replace(end, other_hip=end.hip, other_knee=end.knee)
    v = check_form(synth(both, "lying"), TOWEL)
    assert v.posture == "lying" and not v.in_position
    assert v.cues[0] == form.CUE_OTHER_DOWN
    assert check_form(synth(end, "lying"), TOWEL).in_position  # the other leg down: in


def test_both_legs_raised_with_the_far_leg_hidden_is_not_the_lying_stretch():
    """Side-on, a leg raised behind the raised leg is hidden: a leg out of sight is not
    taken for a leg down; seen down, the stretch is in position."""
    end = TOWEL.default_variant.end
    both = synth(replace(end, other_hip=end.hip, other_knee=end.knee), "lying")
    far = "right" if check_form(both, TOWEL).side == "left" else "left"
    hidden = {form.INDEX[f"{far}_{j}"] for j in ("knee", "ankle", "heel", "foot_index")}
    points = tuple(
        p._replace(visibility=0.3) if i in hidden else p for i, p in enumerate(both.points)
    )
    v = check_form(replace(both, points=points), TOWEL)
    assert v.posture == "lying" and not v.in_position
    assert v.cues[0] == form.CUE_OTHER_SEEN
    down = synth(end, "lying")
    assert check_form(down, TOWEL).in_position


def test_hips_lifted_in_a_bridge_is_not_the_lying_stretch():
    lm = synth(TOWEL.default_variant.end, "lying", size=(1000, 1000))
    sh = lm["right_shoulder"]
    lift = 0.6 * math.hypot(lm["right_hip"].x - sh.x, lm["right_hip"].y - sh.y)
    up = {form.INDEX[n] for n in ("left_hip", "right_hip")}
    points = tuple(p._replace(y=p.y - lift) if i in up else p for i, p in enumerate(lm.points))
    v = check_form(replace(lm, points=points), TOWEL)
    assert v.posture == "lying" and not v.in_position
    assert v.cues[0] == form.CUE_HIPS_DOWN


def tilted(lm: Landmarks, deg: float) -> Landmarks:
    """The same body seen by a camera rolled `deg` degrees (the picture turned about its centre,
    the world landmarks, when there are any, about the hips)."""
    c, s = math.cos(math.radians(deg)), math.sin(math.radians(deg))

    def turn(points, cx, cy):
        return tuple(
            p._replace(
                x=cx + (p.x - cx) * c - (p.y - cy) * s, y=cy + (p.x - cx) * s + (p.y - cy) * c
            )
            for p in points
        )

    world = None if lm.world is None else turn(lm.world, 0, 0)
    return replace(lm, points=turn(lm.points, lm.width / 2, lm.height / 2), world=world)


@pytest.mark.parametrize("deg", [-17, -10, 10, 17])
def test_a_camera_propped_up_crooked_does_not_lift_the_hips(deg):
    """The hips are measured from the floor under the shoulders and the other foot, not from
    the picture's edges: tilted 17 degrees one way, the stretch read as a bridge."""
    lm = synth(TOWEL.default_variant.end, "lying", size=(1000, 1000))
    v = check_form(with_world(tilted(lm, deg)), TOWEL)
    assert v.posture == "lying" and v.in_position, v.cues
    sh = lm["right_shoulder"]
    lift = 0.6 * math.hypot(lm["right_hip"].x - sh.x, lm["right_hip"].y - sh.y)
    up = {form.INDEX[n] for n in ("left_hip", "right_hip")}
    points = tuple(p._replace(y=p.y - lift) if i in up else p for i, p in enumerate(lm.points))
    if abs(deg) <= 10:  # a bridge is still a bridge, tilted
        v = check_form(with_world(tilted(replace(lm, points=points), deg)), TOWEL)
        assert not v.in_position and v.cues[0] == form.CUE_HIPS_DOWN


@pytest.mark.parametrize("deg", [-30, 30])
def test_a_tilted_camera_whose_tilt_is_known_is_judged_as_if_level(deg):
    """A phone propped up crooked by 30 degrees: lying reads as sloping, out of position. Told
    the tilt (the player's level, from the phone's gravity sensor), the body is judged as a
    level camera would show it, and the joint angles are the same either way."""
    lm = with_world(synth(TOWEL.default_variant.end, "lying", size=(1000, 1000)))
    seen = tilted(lm, deg)
    assert not check_form(seen, TOWEL).in_position
    levelled = seen.levelled(-deg)  # gravity turned by -deg from the picture's down
    for a, b in zip(levelled.points + levelled.world, lm.points + lm.world, strict=True):
        assert a.x == pytest.approx(b.x, abs=1e-6) and a.y == pytest.approx(b.y, abs=1e-6)
    assert check_form(levelled, TOWEL).in_position
    assert not check_form(seen.levelled(deg), TOWEL).in_position  # the wrong way: worse
    knee = check_form(seen, TOWEL).measurement.values["working_knee"]
    assert check_form(levelled, TOWEL).measurement.values["working_knee"] == pytest.approx(knee)


def test_face_down_with_a_leg_lifted_is_not_the_lying_stretch():
    lm = synth(TOWEL.default_variant.end, "lying")
    assert check_form(with_world(lm), TOWEL).in_position
    v = check_form(with_world(lm, chest_down=True), TOWEL)
    assert not v.in_position


def test_hugging_a_knee_is_not_raising_the_leg():
    end = TOWEL.default_variant.end
    hug = replace(end, hip=45, knee=40)
    v = check_form(synth(hug, "lying"), TOWEL)
    assert not v.in_position and v.cues[0] == form.CUE_NOT_TUCKED
    # A straight leg pulled past upright (or the head lifted toward it) is still raised.
    assert check_form(synth(replace(end, hip=75), "lying"), TOWEL).in_position
    # The stretch's start: the thigh drawn 25 degrees past upright, the knee bent to be
    # straightened; in position, and the cue is the knee's.
    start = check_form(synth(replace(end, hip=65, knee=90), "lying"), TOWEL)
    assert start.in_position and start.check("knee_straight").ok is False
    assert form.CUE_NOT_TUCKED not in start.cues


def test_sitting_folded_forward_is_sitting_and_the_lean_is_a_cue():
    end = SEATED.default_variant.end
    # The trunk leant 60 degrees forward from upright, both thighs level on the seat.
    fold = replace(end, trunk_incline=150, hip=30, other_hip=30)
    v = check_form(synth(fold, "sitting"), SEATED)
    assert v.posture == "sitting" and v.in_position
    trunk = v.check("trunk_upright")
    assert trunk.ok is False and trunk.rule.cue_high in v.cues
