"""Analyze a photo or a video file of someone doing a stretch: landmarks -> verdicts -> a report.

The report is a plain dict (the CLI prints it as JSON). For a video, every frame goes through
the same path as the live camera: pose engine (tracking), One Euro smoothing, the form rules
and the hold counter, on the video's own clock.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from limber.core.form import (
    LANDMARK_NAMES,
    Landmarks,
    Measurement,
    PoseEngine,
    Verdict,
    check_form,
    fit,
    judge,
    wanting,
)
from limber.core.holdcounter import HoldCounter
from limber.core.smoothing import LandmarkSmoother
from limber.core.spec import Library, Stretch, Variant, load_library
from limber.errors import UserError

from .imagesize import image_size

__all__ = [
    "IMAGE_SUFFIXES",
    "MAX_PIXELS",
    "VIDEO_SUFFIXES",
    "analyze",
    "analyze_image",
    "analyze_video",
    "annotate",
    "choose",
    "judge_people",
    "read_image",
]

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}
VIDEO_SUFFIXES = {".mp4", ".avi"}  # what an annotated video can be written as
Progress = Callable[[int, int], None]
# Videos are looked at 15 times a second by default: the landmark model alone caps analysis
# near 4.5x real time at 30 fps, and a hold's good-form seconds at 15 fps are exact to 0.07 s.
DEFAULT_FPS = 15.0

# Skeleton drawn on annotated output: pairs of landmark names.
BONES = [
    ("left_shoulder", "right_shoulder"), ("left_hip", "right_hip"),
    ("left_shoulder", "left_hip"), ("right_shoulder", "right_hip"),
    ("left_shoulder", "left_elbow"), ("left_elbow", "left_wrist"),
    ("right_shoulder", "right_elbow"), ("right_elbow", "right_wrist"),
    ("left_hip", "left_knee"), ("left_knee", "left_ankle"), ("left_ankle", "left_heel"),
    ("left_heel", "left_foot_index"), ("right_hip", "right_knee"), ("right_knee", "right_ankle"),
    ("right_ankle", "right_heel"), ("right_heel", "right_foot_index"),
]  # fmt: skip
GREEN, RED, AMBER, GREY, WHITE = (
    (60, 180, 60),
    (40, 40, 220),
    (0, 170, 240),
    (170, 170, 170),
    (255,) * 3,
)


def choose(
    exercise: str,
    variant: str | None = None,
    side: str | None = None,
    library: Library | None = None,
) -> tuple[Stretch, Variant]:
    """The stretch and variant named, or a UserError that lists the choices."""
    library = library if library is not None else load_library()
    if exercise not in library:
        raise UserError(f"no stretch {exercise!r}; choose one of: {', '.join(library)}")
    stretch = library[exercise]
    try:
        v = stretch.variant(variant)
    except KeyError:
        names = ", ".join(x.slug for x in stretch.variants)
        raise UserError(f"{exercise} has no variant {variant!r}; choose one of: {names}") from None
    if side is not None and side not in stretch.sides:
        raise UserError(f"{exercise} is done with {' or '.join(stretch.sides)}, not {side!r}")
    return stretch, v


def _engine(engine: Any) -> Any:
    if engine is not None:
        return engine
    from .engine import BlazePose

    return BlazePose()


def _is_image(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES


MAX_PIXELS = 40_000_000  # ~40 megapixels: any camera photo fits; a decompression bomb does not


def _check_file(path: Path) -> None:
    if path.is_dir():
        raise UserError(f"{path}: is a folder; give one photo or video (eval-form takes a folder)")
    if not path.is_file():
        raise UserError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise UserError(f"{path}: the file is empty")


def _complete(data: bytes) -> bool:
    """False for a JPEG or PNG cut short (OpenCV would decode its missing part as grey)."""
    if data[:2] == b"\xff\xd8":
        # The end-of-image marker must come after the last start of scan.
        return data.rfind(b"\xff\xd9") > data.rfind(b"\xff\xda") >= 0
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return b"IEND" in data[-64:]
    return True


def read_image(path: Path) -> Any:
    """A photo as a BGR array, or a UserError: too large (checked before decoding), cut short,
    or not an image at all."""
    from .engine import require_vision

    np, cv2, _ = require_vision()
    _check_file(path)
    try:
        data = path.read_bytes() if path.stat().st_size < 512 * 2**20 else b""
    except OSError as e:
        raise UserError(f"{path}: cannot read it ({e.strerror})") from None
    if not data:
        raise UserError(f"{path}: over 512 MB; too large a file for a photo")
    size = image_size(data[:65536])
    if size is not None and size[0] * size[1] > MAX_PIXELS:
        raise UserError(
            f"{path}: {size[0]} x {size[1]} pixels is over the {MAX_PIXELS // 1_000_000} "
            "megapixel limit; make it smaller first"
        )
    if not _complete(data):
        raise UserError(f"{path}: the image is cut short (truncated); copy it again")
    frame = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if frame is None:
        raise UserError(f"{path}: not an image OpenCV can read")
    if frame.shape[0] * frame.shape[1] > MAX_PIXELS:
        raise UserError(f"{path}: over the {MAX_PIXELS // 1_000_000} megapixel limit")
    return frame


def _report(verdict: Verdict) -> dict[str, Any]:
    d = verdict.to_dict()
    d.pop("variant", None)
    return {"variant": verdict.variant, **d}


# --- drawing ----------------------------------------------------------------------------------


def _colour(ok: bool | None) -> tuple[int, int, int]:
    return GREY if ok is None else GREEN if ok else RED


def annotate(frame: Any, lm: Landmarks | None, verdict: Verdict, hold: Any = None) -> Any:
    """Draw the skeleton and the verdict on a copy of a BGR frame."""
    from .engine import require_vision

    _, cv2, _ = require_vision()
    img = frame.copy()
    h, w = img.shape[:2]
    unit = max(h, w) / 900
    thick = max(1, round(3 * unit))
    if lm is not None:
        work = verdict.side

        def pt(name: str) -> tuple[int, int]:
            p = lm[name]
            return round(p.x), round(p.y)

        for a, b in BONES:
            seen = lm.visible(a, b)
            colour = WHITE if seen else GREY
            if work and a.startswith(work) and b.startswith(work) and ("knee" in a + b):
                knee = next(
                    (c.ok for c in verdict.checks if c.rule.measure == "working_knee"), None
                )
                colour = _colour(knee) if seen else GREY
            cv2.line(img, pt(a), pt(b), (0, 0, 0), thick + 2, cv2.LINE_AA)
            cv2.line(img, pt(a), pt(b), colour, thick, cv2.LINE_AA)
        for name in LANDMARK_NAMES[11:]:
            colour = WHITE if lm.visible(name) else GREY
            cv2.circle(img, pt(name), thick + 1, colour, -1, cv2.LINE_AA)
        if work:
            cv2.putText(img, work[0].upper(), pt(f"{work}_knee"), cv2.FONT_HERSHEY_SIMPLEX,
                        0.7 * unit, AMBER, thick, cv2.LINE_AA)  # fmt: skip

    lines: list[tuple[str, tuple[int, int, int]]] = []
    if not verdict.person_found:
        lines.append(("nobody found", RED))
    else:
        pos = "in position" if verdict.in_position else "not in position"
        lines.append((f"{pos} ({verdict.posture or '?'}, {verdict.view} view)",
                      GREEN if verdict.in_position else RED))  # fmt: skip
        if not verdict.in_position and verdict.cues:
            lines.append((verdict.cues[0], AMBER))  # what keeps the body out of the stretch
        if verdict.side:
            ok = verdict.side_ok
            lines.append((f"working leg: {verdict.side}", AMBER if ok is False else WHITE))
        for c in verdict.checks:
            mark = "?" if c.ok is None else "OK" if c.ok else "NO"
            value = "-" if c.measured is None else f"{c.measured:.0f}"
            unit_s = "%" if c.rule.measure == "heel_lift" else " deg"
            rng = f"{c.rule.min:g}-{c.rule.max:g}"
            lines.append((f"{mark}  {c.label}: {value}{unit_s} ({rng})", _colour(c.ok)))
    if hold is not None:
        lines.append((f"held {hold.held_s:.1f} s" + (" - slowly!" if hold.too_fast else ""),
                      AMBER if hold.too_fast else WHITE))  # fmt: skip
    scale = 0.6 * unit
    step = round(26 * unit)
    box_w = round(min(w - 10, 560 * unit))
    overlay = img.copy()
    cv2.rectangle(overlay, (0, 0), (box_w, step * len(lines) + step // 2), (0, 0, 0), -1)
    img = cv2.addWeighted(overlay, 0.55, img, 0.45, 0)
    for i, (text, colour) in enumerate(lines):
        y = step * (i + 1)
        cv2.putText(img, text, (8, y), cv2.FONT_HERSHEY_SIMPLEX, scale, colour,
                    max(1, round(1.5 * unit)), cv2.LINE_AA)  # fmt: skip
    return img


def _write_image(path: Path, img: Any) -> None:
    from .engine import require_vision

    _, cv2, _ = require_vision()
    suffix = path.suffix.lower()
    if suffix not in IMAGE_SUFFIXES:
        raise UserError(f"{path}: an annotated image needs an image name (.png, .jpg)")
    try:
        ok, data = cv2.imencode(suffix, img)
    except cv2.error:
        ok = False
    if not ok:
        raise UserError(f"{path}: cannot write a {suffix} image here; use .png or .jpg")
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_bytes(data.tobytes())
        tmp.replace(path)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise UserError(f"cannot write {path}: {e.strerror}") from None


# --- analysis ---------------------------------------------------------------------------------


def analyze_image(
    path: Path,
    stretch: Stretch,
    variant: Variant,
    side: str | None = None,
    engine: Any = None,
    out: Path | None = None,
) -> dict[str, Any]:
    frame = read_image(path)
    eng = _engine(engine)
    h, w = frame.shape[:2]
    if hasattr(eng, "people"):
        people = [(p.box, p.landmarks) for p in eng.people(frame)]
    else:
        lm = getattr(eng, "process_image", eng.process)(frame)
        people = [] if lm is None else [(_box_of(lm), lm)]
    box, lm, verdict = judge_people(people, stretch, variant, side, (w, h))
    if out is not None:
        _write_image(out, annotate(frame, lm, verdict))
    report = {"file": str(path), "kind": "image", **_report(verdict)}
    report["people"] = len(people)
    report["judged_box"] = None if box is None else [round(v) for v in box]
    return report


Box = tuple[float, float, float, float]


def _box_of(lm: Landmarks) -> Box:
    xs = [p.x for p in lm.points]
    ys = [p.y for p in lm.points]
    return (min(xs), min(ys), max(xs), max(ys))


def judge_people(
    people: list[tuple[Box, Landmarks]],
    stretch: Stretch,
    variant: Variant,
    side: str | None,
    size: tuple[int, int],
) -> tuple[Box | None, Landmarks | None, Verdict]:
    """Judge the person whose pose best fits the stretch: in position first, then in the
    stretch's posture, then with the most checks passing, then the largest, then the most
    central (a helper, a therapist or a class in the background is not the one stretching)."""
    best: tuple[tuple[Any, ...], Box | None, Landmarks | None, Verdict] | None = None
    for box, lm in people:
        v = check_form(lm, stretch, variant, side)
        span = max(box[2] - box[0], box[3] - box[1])
        dx = (box[0] + box[2]) / 2 / size[0] - 0.5
        dy = (box[1] + box[3]) / 2 / size[1] - 0.5
        key = (*fit(v, stretch), span, -(dx * dx + dy * dy))
        if best is None or key > best[0]:
            best = (key, box, lm, v)
    if best is None:
        return None, None, check_form(None, stretch, variant, side)
    return best[1], best[2], best[3]


def _median_measurement(ms: list[Measurement]) -> Measurement:
    """One measurement standing for many frames: median values, the most common labels."""
    values: dict[str, float | None] = {}
    for name in ms[0].values:
        seen = [v for m in ms if (v := m.values.get(name)) is not None]
        # Known in at most half the frames: too patchy to call either way.
        values[name] = statistics.median(seen) if len(seen) * 2 > len(ms) else None

    def common(get: Callable[[Measurement], Any]) -> Any:
        return Counter(get(m) for m in ms).most_common(1)[0][0]

    return Measurement(
        posture=common(lambda m: m.posture),
        side=common(lambda m: m.side),
        view=common(lambda m: m.view),
        values=values,
        leg_placed=common(lambda m: m.leg_placed),
        facing=common(lambda m: m.facing),
        body_px=statistics.median(m.body_px for m in ms),
    )


def analyze_video(
    path: Path,
    stretch: Stretch,
    variant: Variant,
    side: str | None = None,
    engine: PoseEngine | None = None,
    out: Path | None = None,
    progress: Progress | None = None,
    sample_fps: float | None = DEFAULT_FPS,
) -> dict[str, Any]:
    """sample_fps: look at this many frames a second (the nearest whole step through the
    video's own frames); None looks at every frame."""
    from .engine import require_vision

    _, cv2, _ = require_vision()
    _check_file(path)
    # Decoded in this thread, one frame when asked: FFmpeg's own decoding threads (one per
    # core by default) take turns with the landmark model's two on the same cores. Measured on
    # bench/make_clip.py's 900 frames, every frame, medians of 6 interleaved pairs: 10.50 s
    # against 10.58 s and 3 % less CPU on a quiet machine; 11.4 s against 13.0 s with other
    # work on both cores.
    cap = cv2.VideoCapture(str(path), cv2.CAP_ANY, [cv2.CAP_PROP_N_THREADS, 1])
    if not cap.isOpened():
        raise UserError(f"{path}: not a video or image OpenCV can read")
    fps = cap.get(cv2.CAP_PROP_FPS)
    fps = fps if 1 <= fps <= 240 else 30.0
    total = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
    step = 1 if sample_fps is None else max(1, round(fps / sample_fps))
    rate = fps / step  # the rate frames are really looked at
    eng = _engine(engine)
    if hasattr(eng, "reset"):
        eng.reset()
    if hasattr(eng, "wanted"):
        # With several people in view, the one doing the stretch is followed.
        eng.wanted = wanting(stretch, variant, side)
    now = [0.0]
    smoother = LandmarkSmoother()
    counter = HoldCounter(float("inf"), clock=lambda: now[0])
    writer = None
    tmp_out = None if out is None else out.with_name(f".tmp-{out.name}")
    seconds: dict[int, dict[str, Any]] = {}
    placed: list[Measurement] = []
    seen: list[Measurement] = []
    in_position_frames = 0
    jerks: list[float] = []
    last_side: str | None = None
    frames = looked = 0
    try:
        while True:
            if frames % step:
                # A skipped frame is only stepped over, never decoded.
                if not cap.grab():
                    break
                frames += 1
                continue
            ok, frame = cap.read()
            if not ok or frame is None:
                break
            t = frames / fps
            now[0] = t
            frames += 1
            looked += 1
            raw = eng.process(frame)
            if getattr(eng, "switched", False):  # someone else from here: not one body moving
                smoother.reset()
                counter.new_body()
            lm = smoother(raw, t)
            if lm is None:
                smoother.reset()
            # When the legs cannot be told apart, keep watching the leg watched a moment ago.
            verdict = check_form(lm, stretch, variant, side, prefer=last_side or side)
            last_side = verdict.side or last_side
            hold = counter.update(verdict)
            if hold.too_fast and (not jerks or t - jerks[-1] > counter.warn_s):
                jerks.append(round(t, 2))
            if verdict.measurement is not None:
                seen.append(verdict.measurement)
                if verdict.in_position:
                    placed.append(verdict.measurement)
                    in_position_frames += 1
            sec = seconds.setdefault(int(t), {"frames": 0, "person": 0, "in_position": 0,
                                              "good": 0, "knee": []})  # fmt: skip
            sec["frames"] += 1
            sec["person"] += verdict.person_found
            sec["in_position"] += verdict.in_position
            sec["good"] += hold.counting
            knee = verdict.measurement.values.get("working_knee") if verdict.measurement else None
            if knee is not None:
                sec["knee"].append(knee)
            if out is not None and tmp_out is not None:
                if writer is None:
                    h, w = frame.shape[:2]
                    fourcc = cv2.VideoWriter_fourcc(*("MJPG" if out.suffix.lower() == ".avi"
                                                      else "mp4v"))  # fmt: skip
                    writer = cv2.VideoWriter(str(tmp_out), fourcc, rate, (w, h))
                    if not writer.isOpened():
                        raise UserError(f"cannot write a video to {out}")
                writer.write(annotate(frame, lm, verdict, hold))
            if progress is not None:
                progress(frames, total)
    finally:
        cap.release()
        if writer is not None:
            writer.release()
    if looked == 0:
        if tmp_out is not None:
            tmp_out.unlink(missing_ok=True)
        raise UserError(f"{path}: no frames could be read from this video")
    if tmp_out is not None and tmp_out.exists():
        tmp_out.replace(out)  # type: ignore[arg-type]

    duration = frames / fps
    basis = placed or seen
    summary = judge(_median_measurement(basis) if basis else None, stretch, variant, side)
    report = _report(summary)
    in_position_s = in_position_frames / rate
    report["person_found"] = bool(seen)
    report["in_position"] = in_position_s >= min(1.0, duration / 2)
    timeline = []
    for i in sorted(seconds):
        s = seconds[i]
        n = s["frames"]
        timeline.append(
            {
                "t": i,
                "person": s["person"] * 2 > n,
                "in_position": s["in_position"] * 2 > n,
                "good_form": s["good"] * 2 > n,
                "working_knee_deg": round(statistics.median(s["knee"]), 1) if s["knee"] else None,
            }
        )
    return {
        "file": str(path),
        "kind": "video",
        **report,
        "frames": frames,
        "fps": round(fps, 3),
        "analysed_fps": round(rate, 3),
        "frames_analysed": looked,
        "seconds": round(duration, 2),
        "in_position_s": round(in_position_s, 2),
        "good_form_s": round(counter.held_s, 2),
        "too_fast_at_s": jerks,
        "timeline": timeline,
    }


def analyze(
    path: Path | str,
    exercise: str,
    side: str | None = None,
    variant: str | None = None,
    engine: Any = None,
    out: Path | str | None = None,
    progress: Progress | None = None,
    library: Library | None = None,
    sample_fps: float | None = DEFAULT_FPS,
) -> dict[str, Any]:
    """Analyze an image or a video file against a stretch; see the module docstring."""
    stretch, v = choose(exercise, variant, side, library)
    path = Path(path)
    out_path = None if out is None else Path(out)
    if _is_image(path):
        return analyze_image(path, stretch, v, side, engine, out_path)
    if out_path is not None and out_path.suffix.lower() not in VIDEO_SUFFIXES:
        raise UserError(f"{out_path}: an annotated video needs a video name (.mp4, .avi)")
    return analyze_video(path, stretch, v, side, engine, out_path, progress, sample_fps)
