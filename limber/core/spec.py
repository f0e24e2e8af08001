"""The exercise spec: one TOML file per stretch, the single source of truth.

Everything else in Limber (drawings, the session script, the form check, the pages and the
API) reads the objects defined here. Loading validates every field and refuses a bad file with
one line that names the file, the field and what was expected, so a typo in a spec never
reaches a person doing the stretch.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

__all__ = [
    "DEFAULT_DIR",
    "JOINTS",
    "CheckRule",
    "Cues",
    "Dose",
    "Library",
    "Number",
    "Pose",
    "SpecError",
    "Stretch",
    "Text",
    "Variant",
    "load_library",
    "load_stretch",
]

DEFAULT_DIR = Path(__file__).resolve().parent.parent / "exercises"

POSITIONS = ("lying", "sitting")
SIDES = ("left", "right")
ORIGINS = ("source", "default")
PROPS = ("floor", "wall", "chair", "stool", "towel")
HANDS = ("floor", "thigh", "towel", "towel_thigh", "seat", "hips")

# The joint angles a key pose gives, all interior angles in degrees (180 = straight).
# trunk_incline: the trunk's angle up from the floor (0 lying flat on the back, 90 upright).
JOINTS = (
    "trunk_incline",
    "hip",
    "knee",
    "ankle",
    "other_hip",
    "other_knee",
    "other_ankle",
)

# What a form check can measure; the camera check and the drawings measure the same things.
MEASURES = {
    "working_knee": "the working leg's knee angle (180 = straight)",
    "legs_angle": "the angle between the two legs at the hips",
    "trunk_incline": "the trunk's angle up from the floor (90 = upright)",
    "leg_raise": "the working leg's angle up from the floor (90 = pointing at the ceiling)",
    "heel_lift": "the working heel's height above its support, in percent of body height",
    "other_knee": "the resting leg's knee angle",
}


class SpecError(ValueError):
    """A spec file is wrong. The message is one line: file, field, what was expected."""

    def __init__(self, source: str, path: str, expected: str, got: object = None) -> None:
        where = f"{source}: {path}" if path else source
        message = f"{where}: expected {expected}"
        if got is not None:
            shown = repr(got)
            message += f", got {shown if len(shown) <= 60 else shown[:57] + '...'}"
        super().__init__(message)
        self.source = source
        self.field = path


@dataclass(frozen=True)
class Number:
    """A number with where it comes from: the source article, or a default Limber chose."""

    value: int | float
    origin: str
    quote: str = ""
    note: str = ""

    @property
    def from_source(self) -> bool:
        return self.origin == "source"


@dataclass(frozen=True)
class Text:
    text: str
    origin: str
    quote: str = ""


@dataclass(frozen=True)
class Cues:
    """What the session says at the turns of a stretch, in this stretch's own words."""

    start: Text  # as a hold starts: what to move
    release: Text  # as a hold ends: how to come out of it
    switch: Text  # how to change to the other leg (the wall stretch: the other side of the door)


@dataclass(frozen=True)
class Dose:
    hold_start_s: Number
    hold_goal_s: Number
    reps_per_side: Number
    rest_s: Number
    hold_step_s: Number


@dataclass(frozen=True)
class Pose:
    trunk_incline: float
    hip: float
    knee: float
    ankle: float
    other_hip: float
    other_knee: float
    other_ankle: float
    hands: str

    def angles(self) -> dict[str, float]:
        return {name: getattr(self, name) for name in JOINTS}


@dataclass(frozen=True)
class CheckRule:
    """One form criterion: a measure that must lie within [min_deg, max_deg] at the end pose.

    Its limits are a clinical rule like any number in the file, so they carry their reason:
    origin, the article's words it follows (quote) and why these limits (note). A variant
    that changes them says why too (variant_note).
    """

    name: str
    label: str
    measure: str
    min: float
    max: float
    target: float
    cue_low: str
    cue_high: str
    origin: str
    quote: str
    note: str
    variant_note: str = ""


@dataclass(frozen=True)
class Variant:
    slug: str
    name: str
    description: str
    origin: str
    quote: str
    props: tuple[str, ...]
    start: Pose
    end: Pose
    checks: tuple[CheckRule, ...]  # the stretch's checks, with this variant's tolerances
    gentler: bool = False  # offered when the stretch hurt last time
    note: str = ""  # why Limber chose it, when origin is "default"


@dataclass(frozen=True)
class Stretch:
    slug: str
    name: str
    summary: str
    position: str
    gentleness: int
    sides: tuple[str, ...]
    one_side_at_a_time: bool
    related: tuple[str, ...]
    dose: Dose
    steps: tuple[Text, ...]
    cautions: tuple[Text, ...]
    variants: tuple[Variant, ...]
    checks: tuple[CheckRule, ...]
    cues: Cues
    file: str = field(compare=False, default="")

    @property
    def default_variant(self) -> Variant:
        return self.variants[0]

    def variant(self, slug: str | None) -> Variant:
        if slug is None:
            return self.default_variant
        for v in self.variants:
            if v.slug == slug:
                return v
        raise KeyError(slug)

    def summary_dict(self) -> dict[str, Any]:
        """The public shape used by `limber exercises --json` and the API."""
        d = self.dose
        return {
            "slug": self.slug,
            "name": self.name,
            "summary": self.summary,
            "position": self.position,
            "gentleness": self.gentleness,
            "sides": list(self.sides),
            "dose": {
                "hold_start_s": d.hold_start_s.value,
                "hold_goal_s": d.hold_goal_s.value,
                "reps_per_side": d.reps_per_side.value,
                "rest_s": d.rest_s.value,
                "hold_step_s": d.hold_step_s.value,
            },
            "variants": [{"slug": v.slug, "name": v.name} for v in self.variants],
        }


class Library(Mapping[str, Stretch]):
    """All stretches, ordered gentlest first (then by name)."""

    def __init__(self, stretches: Iterable[Stretch]) -> None:
        ordered = sorted(stretches, key=lambda s: (s.gentleness, s.name))
        self._by_slug = {s.slug: s for s in ordered}

    def __getitem__(self, slug: str) -> Stretch:
        return self._by_slug[slug]

    def __iter__(self) -> Any:
        return iter(self._by_slug)

    def __len__(self) -> int:
        return len(self._by_slug)

    def by_position(self) -> list[tuple[str, list[Stretch]]]:
        return [
            (pos, [s for s in self.values() if s.position == pos])
            for pos in POSITIONS
            if any(s.position == pos for s in self.values())
        ]


# --- validation -------------------------------------------------------------------------------


class _Reader:
    """Takes fields out of a TOML table, checking each and remembering the path for errors."""

    def __init__(self, source: str, table: Mapping[str, Any], path: str = "") -> None:
        self.source = source
        self.table = table
        self.path = path
        self.used: set[str] = set()

    def _p(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def fail(self, key: str, expected: str, got: object = None) -> SpecError:
        return SpecError(self.source, self._p(key), expected, got)

    def raw(self, key: str, default: Any = ...) -> Any:
        self.used.add(key)
        if key not in self.table:
            if default is ...:
                raise self.fail(key, "this field (it is missing)")
            return default
        return self.table[key]

    def text(self, key: str, default: Any = ..., choices: tuple[str, ...] = ()) -> str:
        value = self.raw(key, default)
        if not isinstance(value, str) or (default is ... and not value.strip()):
            raise self.fail(key, "a non-empty string", value)
        if choices and value not in choices:
            raise self.fail(key, "one of " + ", ".join(repr(c) for c in choices), value)
        return value

    def number(self, key: str, lo: float, hi: float, default: Any = ...) -> float:
        value = self.raw(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(key, "a number", value)
        if not lo <= value <= hi:
            raise self.fail(key, f"a number from {lo:g} to {hi:g}", value)
        return value

    def integer(self, key: str, lo: int, hi: int) -> int:
        value = self.raw(key)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(key, "a whole number", value)
        if not lo <= value <= hi:
            raise self.fail(key, f"a whole number from {lo} to {hi}", value)
        return value

    def boolean(self, key: str) -> bool:
        value = self.raw(key)
        if not isinstance(value, bool):
            raise self.fail(key, "true or false", value)
        return value

    def texts(self, key: str, choices: tuple[str, ...] = (), default: Any = ...) -> tuple[str, ...]:
        value = self.raw(key, default)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(key, "a list of strings", value)
        for v in value:
            if choices and v not in choices:
                raise self.fail(key, "items from " + ", ".join(repr(c) for c in choices), v)
        if len(set(value)) != len(value):
            raise self.fail(key, "no repeated items", value)
        return tuple(value)

    def sub(self, key: str, default: Any = ...) -> _Reader:
        value = self.raw(key, default)
        if not isinstance(value, dict):
            raise self.fail(key, "a table", value)
        return _Reader(self.source, value, self._p(key))

    def subs(self, key: str) -> list[_Reader]:
        value = self.raw(key)
        if not isinstance(value, list) or not value or not all(isinstance(v, dict) for v in value):
            raise self.fail(key, "a non-empty array of tables ([[" + self._p(key) + "]])", value)
        return [_Reader(self.source, v, f"{self._p(key)}[{i}]") for i, v in enumerate(value)]

    def done(self) -> None:
        unknown = sorted(set(self.table) - self.used)
        if unknown:
            raise self.fail(unknown[0], "no such field (unknown field)")


def _origin(r: _Reader) -> tuple[str, str, str]:
    origin = r.text("origin", choices=ORIGINS)
    quote = r.text("quote", default="")
    note = r.text("note", default="")
    if origin == "source" and not quote.strip():
        raise r.fail("quote", "the words of the source this comes from, when origin is 'source'")
    if origin == "default" and not note.strip():
        raise r.fail("note", "a note on why Limber chose this default, when origin is 'default'")
    return origin, quote, note


def _number(r: _Reader, lo: float, hi: float) -> Number:
    value = r.number("value", lo, hi)
    origin, quote, note = _origin(r)
    r.done()
    return Number(value, origin, quote, note)


def _text(r: _Reader) -> Text:
    text = r.text("text")
    origin, quote, _ = _origin(r)
    r.done()
    return Text(text, origin, quote)


def _pose(r: _Reader, base: Pose | None) -> Pose:
    values: dict[str, Any] = {}
    for name in JOINTS:
        default = ... if base is None else getattr(base, name)
        values[name] = r.number(f"{name}_deg", 0, 180, default)
    default_hands = ... if base is None else base.hands
    values["hands"] = r.text("hands", default_hands, choices=HANDS)
    r.done()
    return Pose(**values)


def _dose(r: _Reader) -> Dose:
    dose = Dose(
        hold_start_s=_number(r.sub("hold_start_s"), 1, 600),
        hold_goal_s=_number(r.sub("hold_goal_s"), 1, 600),
        reps_per_side=_number(r.sub("reps_per_side"), 1, 20),
        rest_s=_number(r.sub("rest_s"), 0, 600),
        hold_step_s=_number(r.sub("hold_step_s"), 1, 60),
    )
    r.done()
    if dose.hold_goal_s.value < dose.hold_start_s.value:
        raise r.fail(
            "hold_goal_s.value",
            f"a goal at least the starting hold ({dose.hold_start_s.value:g} s)",
            dose.hold_goal_s.value,
        )
    for name in ("reps_per_side",):
        if int(getattr(dose, name).value) != getattr(dose, name).value:
            raise r.fail(f"{name}.value", "a whole number", getattr(dose, name).value)
    return dose


def _check(r: _Reader) -> CheckRule:
    origin, quote, note = _origin(r)
    rule = CheckRule(
        name=r.text("name"),
        label=r.text("label"),
        measure=r.text("measure", choices=tuple(MEASURES)),
        min=r.number("min", 0, 180),
        max=r.number("max", 0, 180),
        target=r.number("target", 0, 180),
        cue_low=r.text("cue_low"),
        cue_high=r.text("cue_high"),
        origin=origin,
        quote=quote,
        note=note,
    )
    r.done()
    if not rule.note.strip():  # the article gives no angles: the limits are always Limber's
        raise r.fail("note", "a note on why these limits (the article gives no angles)")
    if not rule.min <= rule.target <= rule.max:
        raise r.fail(
            "target", f"a target between min ({rule.min:g}) and max ({rule.max:g})", rule.target
        )
    return rule


def _check_overrides(r: _Reader, checks: tuple[CheckRule, ...]) -> tuple[CheckRule, ...]:
    """A variant may change a check's tolerance (a gentler variant accepts a softer knee)."""
    by_name = {c.name: c for c in checks}
    changed = dict(by_name)
    for name in r.table:
        if name not in by_name:
            raise r.fail(name, "the name of one of this stretch's [[checks]]", name)
        c = r.sub(name)
        base = by_name[name]
        rule = replace(
            base,
            min=c.number("min", 0, 180, base.min),
            max=c.number("max", 0, 180, base.max),
            target=c.number("target", 0, 180, base.target),
            variant_note=c.text("note"),
        )
        c.done()
        if not rule.min <= rule.target <= rule.max:
            raise c.fail(
                "target", f"a target between min ({rule.min:g}) and max ({rule.max:g})", rule.target
            )
        changed[name] = rule
    return tuple(changed.values())


def _variant(r: _Reader, start: Pose, end: Pose, checks: tuple[CheckRule, ...]) -> Variant:
    slug = r.text("slug")
    name = r.text("name")
    description = r.text("description")
    origin, quote, note = _origin(r)
    gentler = r.raw("gentler", False)
    if not isinstance(gentler, bool):
        raise r.fail("gentler", "true or false", gentler)
    props = r.texts("props", choices=PROPS)
    v_start = _pose(r.sub("start", {}), start)
    v_end = _pose(r.sub("end", {}), end)
    v_checks = _check_overrides(r.sub("checks", {}), checks)
    r.done()
    return Variant(
        slug, name, description, origin, quote, props, v_start, v_end, v_checks, gentler, note
    )


def _parse(source: str, data: Mapping[str, Any]) -> Stretch:
    r = _Reader(source, data)
    slug = r.text("slug")
    if not slug.replace("-", "").isalnum() or slug != slug.lower():
        raise r.fail("slug", "lowercase letters, digits and hyphens", slug)
    name = r.text("name")
    summary = r.text("summary")
    position = r.text("position", choices=POSITIONS)
    gentleness = r.integer("gentleness", 1, 5)
    sides = r.texts("sides", choices=SIDES)
    if not sides:
        raise r.fail("sides", "at least one side", [])
    one_side = r.boolean("one_side_at_a_time")
    related = r.texts("related", default=[])
    dose = _dose(r.sub("dose"))
    steps = tuple(_text(t) for t in r.subs("steps"))
    cautions = tuple(_text(t) for t in r.subs("cautions"))
    c = r.sub("cues")
    cues = Cues(_text(c.sub("start")), _text(c.sub("release")), _text(c.sub("switch")))
    c.done()
    poses = r.sub("poses")
    start = _pose(poses.sub("start"), None)
    end = _pose(poses.sub("end"), None)
    poses.done()
    checks = tuple(_check(c) for c in r.subs("checks"))
    names = [c.name for c in checks]
    if len(set(names)) != len(names):
        raise r.fail("checks", "each check name used once", names)
    variants = tuple(_variant(v, start, end, checks) for v in r.subs("variants"))
    seen: set[str] = set()
    for i, v in enumerate(variants):
        if v.slug in seen:
            raise SpecError(source, f"variants[{i}].slug", "a slug used once in this file", v.slug)
        seen.add(v.slug)
    r.done()
    return Stretch(
        slug, name, summary, position, gentleness, sides, one_side, related,
        dose, steps, cautions, variants, checks, cues, file=source,
    )  # fmt: skip


def load_stretch(path: Path) -> Stretch:
    """Read and validate one spec file."""
    name = path.name
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise SpecError(name, "", "a readable file", e.strerror) from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise SpecError(name, "", "UTF-8 text") from None
    except tomllib.TOMLDecodeError as e:
        raise SpecError(name, "", f"valid TOML ({e})") from None
    except RecursionError:  # tomllib parses nested arrays and tables by recursion
        raise SpecError(name, "", "TOML nested a few levels deep, not thousands") from None
    return replace(_parse(name, data), file=name)


def load_library(directory: Path | None = None) -> Library:
    """Read every *.toml file in a folder; refuse duplicates and links to unknown stretches."""
    folder = directory or DEFAULT_DIR
    if not folder.is_dir():
        raise SpecError(str(folder), "", "a folder of exercise files")
    stretches: list[Stretch] = []
    seen: dict[str, str] = {}
    for path in sorted(folder.glob("*.toml")):
        s = load_stretch(path)
        if s.slug in seen:
            raise SpecError(path.name, "slug", f"a slug not already used by {seen[s.slug]}", s.slug)
        seen[s.slug] = path.name
        stretches.append(s)
    if not stretches:
        raise SpecError(str(folder), "", "at least one exercise file (*.toml)")
    for s in stretches:
        for i, other in enumerate(s.related):
            if other not in seen:
                raise SpecError(
                    s.file, f"related[{i}]", "the slug of a stretch in the library", other
                )
    return Library(stretches)
