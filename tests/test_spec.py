"""The exercise library: the numbers of the source article, and refusing malformed files."""

import re
import shutil
from pathlib import Path

import pytest

from limber.core.spec import SpecError, load_library, load_stretch
from tests.conftest import EXERCISES


def test_library_has_the_three_stretches_of_the_source_gentlest_first(library):
    assert list(library) == [
        "towel-hamstring-stretch",
        "wall-hamstring-stretch",
        "seated-hamstring-stretch",
    ]
    assert [s.position for s in library.values()] == ["lying", "lying", "sitting"]
    groups = library.by_position()
    assert [g[0] for g in groups] == ["lying", "sitting"]


@pytest.mark.parametrize(
    "slug, start, goal, reps",
    [
        ("towel-hamstring-stretch", 10, 30, None),  # 10 s at first, up to 20-30 s
        ("wall-hamstring-stretch", 10, 20, None),  # 10 to 20 s
        ("seated-hamstring-stretch", 30, 30, 3),  # 30 s, 3 times each leg
    ],
)
def test_dose_numbers_equal_the_source(library, article, slug, start, goal, reps):
    dose = library[slug].dose
    assert dose.hold_start_s.value == start and dose.hold_start_s.from_source
    assert dose.hold_goal_s.value == goal and dose.hold_goal_s.from_source
    if reps is not None:
        assert dose.reps_per_side.value == reps and dose.reps_per_side.from_source
    # Every number said to come from the source appears, with its words, in the article.
    for number in (dose.hold_start_s, dose.hold_goal_s, dose.reps_per_side):
        if number.from_source:
            assert number.quote in article
            assert re.search(rf"\b{number.value:g}\b", number.quote)


def test_numbers_limber_adds_are_marked_as_defaults_with_a_reason(library):
    towel = library["towel-hamstring-stretch"].dose
    assert towel.reps_per_side.origin == "default" and "source" in towel.reps_per_side.note
    for stretch in library.values():
        assert stretch.dose.rest_s.origin == "default"
        assert stretch.dose.rest_s.note


def test_every_source_quote_is_really_in_the_article(library, article):
    quotes = []
    for s in library.values():
        cues = (s.cues.start, s.cues.release, s.cues.switch)
        quotes += [t.quote for t in (*s.steps, *s.cautions, *cues) if t.origin == "source"]
        quotes += [v.quote for v in s.variants if v.origin == "source"]
        quotes += [c.quote for c in s.checks if c.quote]  # the words a camera check follows
    assert len(quotes) > 15
    missing = [q for q in quotes if q not in article]
    assert missing == []


def test_source_cautions_and_variants_are_there(library):
    towel, wall, seated = (library[s] for s in library)
    text = " ".join(t.text.lower() for s in library.values() for t in (*s.steps, *s.cautions))
    for phrase in ("slowly", "one leg at a time", "until you feel a stretch", "gently"):
        assert phrase in text
    assert {v.slug for v in towel.variants} == {"towel", "hands", "towel-at-the-sole"}
    assert towel.default_variant.origin == "source" and "thigh" in towel.default_variant.name
    assert len(wall.variants) >= 2  # "can be modified depending on ability level"
    stool = seated.variant("foot-on-stool")
    assert "stool" in stool.props and "stool" in stool.quote
    assert all(s.one_side_at_a_time and s.sides == ("left", "right") for s in library.values())


def test_gentleness_follows_the_source(library):
    towel, wall, seated = (library[s] for s in library)
    assert towel.gentleness < seated.gentleness and wall.gentleness < seated.gentleness


# --- malformed files ---------------------------------------------------------------------------

GOOD = (EXERCISES / "towel-hamstring-stretch.toml").read_text()


def _write(tmp_path: Path, text: str, name: str = "towel-hamstring-stretch.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    "change, field, expected",
    [
        (("gentleness = 1", 'gentleness = "one"'), "gentleness", "a whole number"),
        (('position = "lying"', 'position = "standing"'), "position", "one of 'lying', 'sitting'"),
        (("gentleness = 1\n", 'gentleness = 1\ncolour = "red"\n'), "colour", "unknown field"),
        (("summary = ", "# summary = "), "summary", "missing"),
        (("knee_deg = 178", "knee_deg = 195"), "poses.end.knee_deg", "from 0 to 180"),
        (
            ("hip_deg = 90\nknee_deg = 90", "hip_deg = -5\nknee_deg = 90"),
            "poses.start.hip_deg",
            "from 0 to 180",
        ),
        (("value = 30\n", "value = 5\n"), "dose.hold_goal_s.value", "at least the starting hold"),
        (
            ('sides = ["left", "right"]', 'sides = ["left", "middle"]'),
            "sides",
            "items from 'left', 'right'",
        ),
        (('slug = "hands"', 'slug = "towel"'), "variants[1].slug", "used once"),
        (('quote = "one leg at a time"', 'quote = ""'), "steps[4].quote", "words of the source"),
        (
            (
                'origin = "default"\nnote = "The source gives',
                'origin = "maybe"\nnote = "The source gives',
            ),
            "dose.reps_per_side.origin",
            "one of 'source', 'default'",
        ),
        # A camera check's limits are a clinical rule: they say why, as every number does.
        (('target = 180\norigin = "default"\n', "target = 180\n"), "checks[0].origin", "missing"),
        (
            (
                'origin = "default"\nquote = "slowly straighten the knee until a stretch is felt in '
                'the back of the thigh"\nnote = ',
                'origin = "source"\nquote = "slowly straighten the knee until a stretch is felt in '
                'the back of the thigh"\n# note = ',
            ),
            "checks[0].note",
            "why these limits",
        ),
    ],
)
def test_a_malformed_spec_is_refused_naming_file_field_and_expectation(
    tmp_path, change, field, expected
):
    old, new = change
    assert old in GOOD
    path = _write(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(SpecError) as e:
        load_stretch(path)
    message = str(e.value)
    assert "\n" not in message
    assert message.startswith(f"towel-hamstring-stretch.toml: {field}: expected ")
    assert expected in message


def test_broken_toml_is_refused_with_the_file_name(tmp_path):
    path = _write(tmp_path, GOOD + "\n[dose\n")
    with pytest.raises(SpecError, match=r"^towel-hamstring-stretch.toml: expected valid TOML"):
        load_stretch(path)


def test_a_duplicate_slug_across_files_is_refused(tmp_path):
    shutil.copy(EXERCISES / "towel-hamstring-stretch.toml", tmp_path / "a.toml")
    shutil.copy(EXERCISES / "towel-hamstring-stretch.toml", tmp_path / "b.toml")
    with pytest.raises(
        SpecError, match=r"^b.toml: slug: expected a slug not already used by a.toml"
    ):
        load_library(tmp_path)


def test_a_link_to_an_unknown_stretch_is_refused(tmp_path):
    _write(tmp_path, GOOD)
    with pytest.raises(SpecError, match=r"related\[0\]: expected the slug of a stretch"):
        load_library(tmp_path)


def test_adding_a_stretch_is_adding_one_file(tmp_path):
    for f in EXERCISES.glob("*.toml"):
        shutil.copy(f, tmp_path)
    extra = GOOD.replace('slug = "towel-hamstring-stretch"', 'slug = "strap-hamstring-stretch"')
    extra = extra.replace('name = "Towel hamstring stretch"', 'name = "Strap hamstring stretch"')
    _write(tmp_path, extra, "strap-hamstring-stretch.toml")
    library = load_library(tmp_path)
    assert "strap-hamstring-stretch" in library
    assert len(library) == 4


def test_interpretations_are_limbers_defaults_with_a_reason(library):
    """Only the article's own words are 'source': readings of it are Limber's, with why."""
    wall, seated = library["wall-hamstring-stretch"], library["seated-hamstring-stretch"]
    for variant in (wall.variant("away-from-the-wall"), seated.variant("heel-closer")):
        assert variant.origin == "default" and variant.note and variant.gentler
    hips = next(c for c in wall.cautions if "further from the wall" in c.text)
    assert hips.origin == "default"
    sole = library["towel-hamstring-stretch"].variant("towel-at-the-sole")
    assert sole.origin == "default" and "Limber" in sole.name
    for s in library.values():
        # Each stretch says its own turns; how to come out of it is Limber's (the article is silent).
        assert s.cues.release.origin == "default" and s.cues.switch.origin == "default"
    assert "door frame" in wall.cues.switch.text
    assert len({s.cues.release.text for s in library.values()}) == len(library)


def test_a_spec_without_cues_is_refused(tmp_path):
    start = GOOD.index("[cues.start]")
    end = GOOD.index("[poses.start]")
    path = _write(tmp_path, GOOD[:start] + GOOD[end:])
    with pytest.raises(
        SpecError, match=r"^towel-hamstring-stretch.toml: cues: expected this field"
    ):
        load_stretch(path)


# The cue given when the measure is low moves the person further into the stretch: knee
# straighter, leg higher, pelvis tipped further. DESIGN.md §6: never past "a stretch is felt".
FURTHER_WHEN_LOW = {
    "towel-hamstring-stretch": ("knee_straight", "leg_raised"),
    "wall-hamstring-stretch": ("knee_straight", "legs_at_90"),
    "seated-hamstring-stretch": ("knee_straight", "trunk_upright"),
}


def test_every_cue_that_deepens_the_stretch_says_only_as_far_as_a_stretch_is_felt():
    """Found by a tester: "Bring the leg up so the sole of your foot faces the ceiling" had no
    "only as far as you feel a gentle stretch", said to someone who had stopped where they felt
    it, as the article asks."""
    library = load_library()
    for slug, names in FURTHER_WHEN_LOW.items():
        checks = {c.name: c for c in library[slug].checks}
        for name in names:
            assert "only as far as you feel a gentle stretch" in checks[name].cue_low, (slug, name)


def test_a_variant_that_changes_a_camera_limit_must_say_why(tmp_path):
    seated = (EXERCISES / "seated-hamstring-stretch.toml").read_text()
    reason = next(line for line in seated.splitlines() if "The gentler placement" in line)
    path = _write(tmp_path, seated.replace(reason + "\n", ""), "seated-hamstring-stretch.toml")
    with pytest.raises(SpecError) as e:
        load_stretch(path)
    assert str(e.value).startswith(
        "seated-hamstring-stretch.toml: variants[1].checks.knee_straight.note: expected "
    )
