"""The drawings: true to the spec's angles and contacts, and usable SVG documents.

Geometry is measured on the same points the SVG is drawn from (`draw.scene`), with the body
model's own `measure` and `angle_at`, so a drawing that shows the wrong angle or a heel in the
air fails here.
"""

import math
import re
import xml.etree.ElementTree as ET

import pytest

from limber.core import draw
from limber.core.body import LIMB_RADIUS, SEGMENTS, TRUNK_RADIUS, angle_at, measure
from limber.core.spec import load_library

LIBRARY = load_library()
SVG = "{http://www.w3.org/2000/svg}"
CASES = [(s.slug, v.slug) for s in LIBRARY.values() for v in s.variants]
POSES = ("start", "end")
CLOSE = 0.01  # body heights: about 1.7 cm on a grown-up
FRAMES = [i / 20 for i in range(21)]


def _scene(slug, variant, pose):
    return draw.scene(LIBRARY[slug], variant, pose)


def _dist_to_segment(p, a, b):
    ax, ay = b[0] - a[0], b[1] - a[1]
    t = max(0.0, min(1.0, ((p[0] - a[0]) * ax + (p[1] - a[1]) * ay) / (ax * ax + ay * ay)))
    return math.dist(p, (a[0] + t * ax, a[1] + t * ay))


# --- geometry ---------------------------------------------------------------------------------


@pytest.mark.parametrize("pose", POSES)
@pytest.mark.parametrize("slug,variant", CASES)
def test_drawn_joint_angles_are_the_spec_angles(slug, variant, pose):
    s = _scene(slug, variant, pose)
    spec = getattr(LIBRARY[slug].variant(variant), pose)
    f = s.figure
    m = measure(f)
    assert m["working_knee"] == pytest.approx(spec.knee, abs=0.5)
    assert m["other_knee"] == pytest.approx(spec.other_knee, abs=0.5)
    assert m["working_hip"] == pytest.approx(spec.hip, abs=0.5)
    assert angle_at(f["shoulder"], f["hip"], f["other_knee"]) == pytest.approx(
        spec.other_hip, abs=0.5
    )
    assert m["trunk_incline"] == pytest.approx(spec.trunk_incline, abs=0.5)


@pytest.mark.parametrize("slug,variant", CASES)
def test_end_pose_passes_every_form_check_of_its_variant(slug, variant):
    s = _scene(slug, variant, "end")
    m = s.measure()
    for rule in LIBRARY[slug].variant(variant).checks:
        assert rule.min - 0.5 <= m[rule.measure] <= rule.max + 0.5, (rule.name, m[rule.measure])
        assert m[rule.measure] == pytest.approx(rule.target, abs=5), rule.name


@pytest.mark.parametrize("variant", ["heel-on-floor", "heel-closer", "foot-on-stool"])
def test_seated_end_tips_forward_from_the_hips_with_the_heel_down_and_the_other_foot_flat(variant):
    s = _scene("seated-hamstring-stretch", variant, "end")
    f, p = s.figure, s.props
    # The pelvis tips forward about 10° with a straight back (one straight trunk line): the navel
    # comes toward the thigh without the trunk folding forward.
    assert measure(f)["trunk_incline"] == pytest.approx(100, abs=2)
    start = _scene("seated-hamstring-stretch", variant, "start").figure
    assert measure(start)["trunk_incline"] == pytest.approx(90, abs=2)
    support = p.stool_top_y if variant == "foot-on-stool" else 0.0
    assert f["heel"][1] == pytest.approx(support, abs=CLOSE)
    assert f["other_heel"][1] == pytest.approx(0, abs=CLOSE)
    assert f["other_toe"][1] == pytest.approx(0, abs=CLOSE)
    assert f["hip"][1] - TRUNK_RADIUS == pytest.approx(p.seat_y, abs=CLOSE)
    assert p.seat_back_x < f["hip"][0] - TRUNK_RADIUS, "the backrest is behind the hips"


@pytest.mark.parametrize("variant", ["heel-on-floor", "heel-closer", "foot-on-stool"])
def test_seated_start_has_both_feet_flat_on_the_floor(variant):
    f = _scene("seated-hamstring-stretch", variant, "start").figure
    for name in ("heel", "toe", "other_heel", "other_toe"):
        assert f[name][1] == pytest.approx(0, abs=CLOSE), name


def test_foot_on_stool_puts_the_heel_on_the_stool_top():
    s = _scene("seated-hamstring-stretch", "foot-on-stool", "end")
    lo, hi = s.props.stool_x
    heel = s.figure["heel"]
    assert lo < heel[0] < hi
    assert heel[1] == pytest.approx(s.props.stool_top_y, abs=CLOSE)
    assert s.props.stool_top_y > 0.05, "a stool, not a mat"
    assert s.measure()["heel_lift"] == pytest.approx(0, abs=1)


@pytest.mark.parametrize("variant", ["at-the-wall", "away-from-the-wall"])
def test_wall_end_has_the_legs_at_the_spec_angle_and_the_leg_against_the_wall(variant):
    v = LIBRARY["wall-hamstring-stretch"].variant(variant)
    s = _scene("wall-hamstring-stretch", variant, "end")
    f = s.figure
    target = next(c.target for c in v.checks if c.measure == "legs_angle")
    assert angle_at(f["ankle"], f["hip"], f["other_ankle"]) == pytest.approx(target, abs=2)
    back_of_leg = max(f["heel"][0], f["ankle"][0]) + LIMB_RADIUS
    assert s.props.wall_x - back_of_leg == pytest.approx(0, abs=CLOSE)


def test_wall_stretch_at_the_wall_is_a_right_angle():
    f = _scene("wall-hamstring-stretch", "at-the-wall", "end").figure
    assert measure(f)["legs_angle"] == pytest.approx(90, abs=2)
    assert f["other_ankle"][1] == pytest.approx(f["hip"][1], abs=CLOSE), "other leg flat"


@pytest.mark.parametrize("variant", ["at-the-wall", "away-from-the-wall"])
def test_wall_start_has_the_foot_on_the_wall_and_the_wall_stays_put(variant):
    stretch = LIBRARY["wall-hamstring-stretch"]
    start = _scene(stretch.slug, variant, "start")
    end = _scene(stretch.slug, variant, "end")
    assert start.props == end.props
    assert start.figure["heel"][0] == pytest.approx(start.props.wall_x, abs=CLOSE)
    for t in FRAMES:
        f = draw.scene_at(stretch, variant, t).figure
        for name in ("knee", "ankle", "heel", "toe"):
            assert f[name][0] <= start.props.wall_x + CLOSE, (t, name)


def test_hips_are_nearer_the_wall_in_the_full_stretch():
    def gap(variant):
        s = _scene("wall-hamstring-stretch", variant, "end")
        return s.props.wall_x - s.figure["hip"][0]

    assert gap("at-the-wall") < 0.06 < gap("away-from-the-wall")


@pytest.mark.parametrize("pose", POSES)
def test_the_source_towel_wraps_the_back_of_the_thigh(pose):
    s = _scene("towel-hamstring-stretch", "towel", pose)
    f = s.figure
    assert s.towel[0] == f["hand"] and s.towel[-1] == f["hand"]
    around = s.towel[1:-1]
    assert len(around) >= 2
    for p in around:
        # Just outside the thigh's surface, in its upper part near the knee, not at the foot.
        assert 0.03 < _dist_to_segment(p, f["hip"], f["knee"]) < 0.07
        assert _dist_to_segment(p, f["heel"], f["toe"]) > 0.15


@pytest.mark.parametrize("pose", POSES)
def test_limbers_sole_variant_loops_from_the_hands_around_the_sole(pose):
    s = _scene("towel-hamstring-stretch", "towel-at-the-sole", pose)
    f = s.figure
    assert s.towel[0] == f["hand"] and s.towel[-1] == f["hand"]
    sole = (f["heel"], f["toe"])
    around = [p for p in s.towel[1:-1]]
    assert len(around) >= 2
    for p in around:
        assert _dist_to_segment(p, *sole) < 0.02
    assert s.variant.origin == "default" and "Not in the article" in s.variant.note


def test_the_floor_leg_of_the_wall_stretch_passes_through_the_doorway(svgs):
    for side in ("right", "left"):
        svg = svgs[("wall-hamstring-stretch", "at-the-wall", side, "end")]
        root = ET.fromstring(svg)
        texts = [t.text for t in root.iter(SVG + "text")]
        assert "door frame" in texts and "through the doorway" in texts
        # The frame is drawn again after the figure, over the leg on the floor.
        assert svg.rindex('fill-opacity="0.82"') > svg.rindex("far-thigh")
        assert "through the doorway" in root.find(SVG + "desc").text


def test_towel_only_where_the_variant_has_one():
    assert not _scene("towel-hamstring-stretch", "hands", "end").towel
    hands = _scene("towel-hamstring-stretch", "hands", "end").figure
    # hands on the back of the thigh, near the knee
    assert _dist_to_segment(hands["hand"], hands["hip"], hands["knee"]) < 0.01


@pytest.mark.parametrize("slug,variant", CASES)
def test_nothing_sinks_into_the_floor_or_the_stool_while_moving(slug, variant):
    stretch = LIBRARY[slug]
    for t in FRAMES:
        s = draw.scene_at(stretch, variant, t)
        f = s.figure
        for name in ("hip", "shoulder"):
            assert f[name][1] - TRUNK_RADIUS >= -0.005, (t, name)
        assert f["head"][1] - SEGMENTS["head_radius"] >= -0.005, t
        for name in ("heel", "toe", "other_heel", "other_toe"):
            assert f[name][1] >= s.support_y(f[name][0]) - 0.005, (t, name)


@pytest.mark.parametrize("slug,variant", CASES)
def test_the_movement_goes_from_start_to_end(slug, variant):
    stretch = LIBRARY[slug]
    v = stretch.variant(variant)
    first = measure(draw.scene_at(stretch, variant, 0).figure)
    last = measure(draw.scene_at(stretch, variant, 1).figure)
    assert first["working_knee"] == pytest.approx(v.start.knee, abs=0.5)
    assert last["working_knee"] == pytest.approx(v.end.knee, abs=0.5)
    knees = [measure(draw.scene_at(stretch, variant, t).figure)["working_knee"] for t in FRAMES]
    assert knees == sorted(knees) or knees == sorted(knees, reverse=True), "smooth, one way"


# --- the SVG documents ------------------------------------------------------------------------

ALL = [
    (s.slug, v.slug, side, pose)
    for s in LIBRARY.values()
    for v in s.variants
    for side in s.sides
    for pose in ("start", "end", "animated")
]


@pytest.fixture(scope="module")
def svgs():
    return {key: draw.render(LIBRARY[key[0]], key[1], key[2], key[3]) for key in ALL}


def _contrast(a: str, b: str) -> float:
    """WCAG's contrast ratio of two #rrggbb colours."""

    def lum(h: str) -> float:
        c = [int(h[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        c = [x / 12.92 if x <= 0.03928 else ((x + 0.055) / 1.055) ** 2.4 for x in c]
        return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]

    hi, lo = sorted((lum(a), lum(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_the_person_and_the_props_stand_out_from_the_card(svgs):
    # WCAG 1.4.11: the parts needed to see the pose (the far leg, the towel, a stool's or the
    # wall's edge) at 3:1 or more against the white card they are shown on. The white outline
    # between parts, and the fills of the floor and the props inside their edges, are surfaces.
    surfaces = {draw.OUTLINE, draw.FLOOR_FILL, draw.PROP_FILL}
    used = {
        c for svg in svgs.values() for c in re.findall(r'(?:fill|stroke)="(#[0-9a-f]{6})"', svg)
    }
    assert {draw.FAR, draw.TOWEL, draw.PROP_EDGE, draw.INK, draw.WORK} <= used
    for colour in used - surfaces:
        assert _contrast(colour, "#ffffff") >= 3, colour


def _numbers(d):
    """Every end point of a path (M, L and arc end points), in SVG units."""
    points = []
    for _cmd, args in re.findall(r"([MLA])([^MLAZ]*)", d):
        nums = [float(n) for n in args.replace(",", " ").split()]
        points.append((nums[-2], nums[-1]))
    return points


@pytest.mark.parametrize("key", ALL, ids=["/".join(k) for k in ALL])
def test_svg_is_a_complete_accessible_document(svgs, key):
    slug, variant, side, pose = key
    text = svgs[key]
    root = ET.fromstring(text)
    assert root.tag == SVG + "svg"
    assert root.get("viewBox") and root.get("role") == "img"
    title = root.find(SVG + "title").text
    desc = root.find(SVG + "desc").text
    name = LIBRARY[slug].name
    for words in (title, desc):
        assert name in words and f"{side} leg" in words
    assert {"start": "start position", "end": "end position", "animated": "animation"}[
        pose
    ] in title
    ids = [el.get("id") for el in root.iter() if el.get("id")]
    assert len(ids) == len(set(ids))
    # Named by its short title; the long description describes it (a screen reader reads the
    # name first and the description on request, not 300-700 characters as the name).
    (title_id,) = root.get("aria-labelledby").split()
    assert title_id in ids and root.get("aria-describedby") in ids
    assert title_id.endswith("-title") and root.get("aria-describedby").endswith("-desc")
    for use in root.iter(SVG + "use"):
        assert use.get("href").removeprefix("#") in ids


@pytest.mark.parametrize("key", ALL, ids=["/".join(k) for k in ALL])
def test_nothing_is_cut_off_by_the_view_box(svgs, key):
    root = ET.fromstring(svgs[key])
    _, _, w, h = (float(n) for n in root.get("viewBox").split())
    shapes = []
    for path in root.iter(SVG + "path"):
        shapes.append(path.get("d"))
        for anim in path.iter(SVG + "animate"):
            shapes += anim.get("values").split(";")
    assert shapes
    for d in shapes:
        for x, y in _numbers(d):
            assert 0 <= x <= w and 0 <= y <= h, (x, y)


def test_ids_are_unique_across_all_drawings_on_one_page(svgs):
    ids = [el.get("id") for text in svgs.values() for el in ET.fromstring(text).iter()]
    ids = [i for i in ids if i]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("slug,variant", CASES)
def test_left_and_right_are_mirror_images(svgs, slug, variant):
    right = ET.fromstring(svgs[(slug, variant, "right", "end")])
    left = ET.fromstring(svgs[(slug, variant, "left", "end")])
    assert "right leg" in right.find(SVG + "title").text
    assert "left leg" in left.find(SVG + "title").text
    mirrored = [g for g in left.iter(SVG + "g") if "matrix(-1" in (g.get("transform") or "")]
    assert len(mirrored) == 1
    assert not [g for g in right.iter(SVG + "g") if g.get("transform")]


@pytest.mark.parametrize("slug,variant", CASES)
def test_start_and_end_drawings_differ(svgs, slug, variant):
    start = svgs[(slug, variant, "right", "start")]
    end = svgs[(slug, variant, "right", "end")]
    shins = [
        next(p.get("d") for p in ET.fromstring(t).iter(SVG + "path") if "work-shin" in p.get("id"))
        for t in (start, end)
    ]
    assert shins[0] != shins[1]


@pytest.mark.parametrize("slug,variant", CASES)
def test_animated_moves_slowly_and_respects_reduced_motion(svgs, slug, variant):
    text = svgs[(slug, variant, "right", "animated")]
    root = ET.fromstring(text)
    anims = list(root.iter(SVG + "animate"))
    assert anims, "something moves"
    for a in anims:
        assert a.get("repeatCount") == "indefinite"
        assert float(a.get("dur").removesuffix("s")) >= 8, "slow, like the source's videos"
        key_times = [float(k) for k in a.get("keyTimes").split(";")]
        assert len(key_times) == len(a.get("values").split(";"))
        assert key_times[0] == 0 and key_times[-1] == 1 and key_times == sorted(key_times)
        assert len(key_times) >= 20, "many keyframes, not a jump"
    style = root.find(SVG + "style").text
    assert "prefers-reduced-motion: reduce" in style
    moving = f"{slug}-{variant}-right-animated-moving"
    still = f"{slug}-{variant}-right-animated-still"
    assert re.search(rf"reduce\)\s*{{\s*\.{moving}\s*{{\s*display:\s*none", style)
    classes = [g.get("class") for g in root.iter(SVG + "g")]
    assert moving in classes and still in classes
    # the still figure people with reduced motion see is the end position
    end = svgs[(slug, variant, "right", "end")]
    end_paths = ET.fromstring(end).iter(SVG + "path")
    end_shin = next(p for p in end_paths if p.get("id").endswith("-work-shin"))
    still_shin = next(p for p in root.iter(SVG + "path") if p.get("id") == f"{still}-work-shin")
    assert still_shin.get("d") == end_shin.get("d")


def test_still_drawings_do_not_animate(svgs):
    for key, text in svgs.items():
        if key[3] != "animated":
            assert "<animate" not in text


def test_descriptions_say_what_the_position_is():
    towel = LIBRARY["towel-hamstring-stretch"]
    seated = LIBRARY["seated-hamstring-stretch"]
    wall = LIBRARY["wall-hamstring-stretch"]

    def desc(stretch, variant, side="right", pose="end"):
        return ET.fromstring(draw.render(stretch, variant, side, pose)).find(SVG + "desc").text

    assert "towel wrapped around the back of the right thigh" in desc(towel, "towel")
    assert "towel looped around the sole of the right foot" in desc(towel, "towel-at-the-sole")
    assert "flat on the floor, through the doorway" in desc(LIBRARY["wall-hamstring-stretch"], None)
    assert "back of the left thigh" in desc(towel, "hands", "left")
    assert "heel resting on the floor" in desc(seated, "heel-on-floor")
    assert "tipping forward from the hips with a straight back" in desc(seated, "heel-on-floor")
    assert "sitting up straight" in desc(seated, "heel-on-floor", pose="start").lower()
    assert "heel resting on a stool" in desc(seated, "foot-on-stool")
    assert "about 90°" in desc(wall, "at-the-wall")
    assert "knee bent" in desc(wall, "at-the-wall", pose="start")
    assert "Start:" in desc(seated, "heel-closer", pose="animated")


def test_default_variant_and_side():
    s = LIBRARY["towel-hamstring-stretch"]
    title = ET.fromstring(draw.render(s)).find(SVG + "title").text
    assert (
        title == "Towel hamstring stretch, with a towel around the thigh, right leg: end position"
    )


@pytest.mark.parametrize(
    "kwargs,words",
    [
        ({"variant": "standing"}, ["standing", "towel", "hands"]),
        ({"side": "both"}, ["left", "right", "both"]),
        ({"pose": "middle"}, ["start", "end", "animated"]),
    ],
)
def test_bad_choices_are_refused_in_one_line(kwargs, words):
    with pytest.raises(ValueError) as e:
        draw.render(LIBRARY["towel-hamstring-stretch"], **kwargs)
    message = str(e.value)
    assert "\n" not in message
    for w in words:
        assert w in message


def test_figure_for_is_what_is_drawn():
    s = LIBRARY["wall-hamstring-stretch"]
    f = draw.figure_for(s, "at-the-wall", "end")
    assert f.points == draw.scene(s, "at-the-wall", "end").figure.points
    with pytest.raises(ValueError):
        draw.figure_for(s, "at-the-wall", "animated")
