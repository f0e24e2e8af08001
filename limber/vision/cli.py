"""`limber analyze`, `limber eval-form` and `limber models`: the camera check from the shell.

Importing this module needs nothing beyond the standard library: numpy, OpenCV and LiteRT are
imported inside the handlers, and their absence is one line telling how to install them.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path
from typing import Any

from limber.errors import UserError

__all__ = ["cmd_analyze", "cmd_eval_form", "cmd_models", "register"]


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("analyze", help="check the form in a photo or a video file")
    p.add_argument("path", metavar="PATH", help="an image (.jpg, .png, ...) or a video file")
    p.add_argument("--exercise", required=True, metavar="SLUG", help="the stretch being done")
    p.add_argument("--side", help="the leg the stretch is for: left or right")
    p.add_argument("--variant", help="the variant of the stretch (default: its first)")
    p.add_argument("--json", action="store_true", help="print the full report as JSON")
    p.add_argument("-o", "--output", metavar="OUT", help="write an annotated image or video")
    p.add_argument(
        "--fps", default="15", metavar="N",
        help="video frames looked at per second (default 15; 'all' for every frame)",
    )  # fmt: skip
    p.set_defaults(func=cmd_analyze)

    p = subparsers.add_parser(
        "eval-form", help="compare the form check with labelled photos (a folder with labels.tsv)"
    )
    p.add_argument("folder", metavar="DIR")
    p.add_argument("--json", action="store_true", help="print the rows and tables as JSON")
    p.set_defaults(func=cmd_eval_form)

    p = subparsers.add_parser("models", help="fetch and check the pose model files")
    p.add_argument(
        "--dir", metavar="DIR", help="where to keep them (default: $LIMBER_DATA_DIR/models)"
    )
    p.add_argument("--wheel", metavar="FILE.whl", help="take them from a mediapipe wheel on disk")
    p.add_argument("--check", action="store_true", help="only check; download nothing")
    p.set_defaults(func=cmd_models)


# --- analyze ----------------------------------------------------------------------------------


class _Bar:
    """A progress bar on stderr (only when stderr is a terminal, or forced for tests)."""

    def __init__(self, stream: Any = None, force: bool = False) -> None:
        self.stream = stream or sys.stderr
        self.on = force or self.stream.isatty()
        self.last = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if not self.on or (now - self.last < 0.2 and done != total):
            return
        self.last = now
        if total > 0:
            frac = min(1.0, done / total)
            bar = "#" * int(30 * frac)
            self.stream.write(f"\ranalyzing [{bar:<30}] {done}/{total} frames")
        else:
            self.stream.write(f"\ranalyzing {done} frames")
        self.stream.flush()

    def close(self) -> None:
        if self.on:
            self.stream.write("\n")
            self.stream.flush()


def _mark(ok: bool | None) -> str:
    return "?" if ok is None else "ok" if ok else "NO"


def _summary(r: dict[str, Any]) -> str:
    lines = [f"{r['file']}: {r['exercise']} ({r['variant']})"]
    if r["kind"] == "video":
        lines.append(
            f"  {r['frames']} frames, {r['seconds']:.1f} s, looked at {r['analysed_fps']:g} "
            f"frames a second; in position {r['in_position_s']:.1f} s, "
            f"good form held {r['good_form_s']:.1f} s"
        )
    elif r.get("people", 1) > 1:
        lines.append(f"  {r['people']} people seen; judged the one at {r['judged_box']}")
    if not r["person_found"]:
        lines.append("  nobody found in the picture")
    else:
        where = "in position" if r["in_position"] else "NOT in position"
        lines.append(f"  {where}: {r['posture'] or 'posture unclear'}, {r['view']} view")
        if r["side"]:
            asked = (
                "" if r["side_ok"] is None else (" (as asked)" if r["side_ok"] else " (wrong leg)")
            )
            lines.append(f"  working leg: {r['side']}{asked}")
        for c in r["checks"]:
            unit = "%" if c["unit"] == "%" else "°"
            value = "not seen" if c["measured_deg"] is None else f"{c['measured_deg']:.0f}{unit}"
            wanted = f"{c['min']:g}–{c['max']:g}{unit}"
            m = c["measured_deg"]
            if c["ok"] and m is not None and not c["min"] <= m <= c["max"]:
                # Passed on the camera's margin of error, not inside the range itself: say so.
                wanted += ", within the camera's margin of error"
            lines.append(f"  [{_mark(c['ok']):>2}] {c['label']}: {value} (wanted {wanted})")
    if r.get("too_fast_at_s"):
        at = ", ".join(f"{t:.0f} s" for t in r["too_fast_at_s"])
        lines.append(f"  the knee straightened too fast at {at}")
    for cue in r["cues"]:
        lines.append(f"  -> {cue}")
    return "\n".join(lines)


def _fps(text: str) -> float | None:
    if text.strip().lower() == "all":
        return None
    try:
        fps = float(text)
    except ValueError:
        fps = float("nan")
    if not 0.5 <= fps <= 240:
        raise UserError(f"--fps {text}: give a number of frames a second (0.5 to 240) or 'all'")
    return fps


def cmd_analyze(args: argparse.Namespace) -> int:
    from .analyze import IMAGE_SUFFIXES, analyze, choose

    choose(args.exercise, args.variant, args.side)  # bad names fail before any model loads
    path = Path(args.path)
    out = Path(args.output) if args.output else None
    if out is not None and not out.parent.is_dir():
        raise UserError(f"cannot write {out}: no folder {out.parent}")
    if out is not None and path.suffix.lower() in IMAGE_SUFFIXES:
        if out.suffix.lower() not in IMAGE_SUFFIXES:
            raise UserError(f"{out}: an annotated image needs an image name (.png, .jpg)")
    fps = _fps(args.fps)
    bar = _Bar()
    try:
        report = analyze(
            path, args.exercise, args.side, args.variant, out=out, progress=bar, sample_fps=fps
        )
    finally:
        if bar.last:
            bar.close()
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(_summary(report))
        if out is not None:
            print(f"wrote {out}")
    return 0


# --- eval-form --------------------------------------------------------------------------------

BOOL = {"true": True, "false": False, "-": None, "": None}


def _labels(folder: Path) -> list[dict[str, str]]:
    labels = folder / "labels.tsv"
    if not labels.is_file():
        raise UserError(
            f"{folder}: no labels.tsv (columns: file, exercise, in_position, knee_straight)"
        )
    try:
        with labels.open(encoding="utf-8", newline="") as f:
            rows = list(csv.DictReader(f, delimiter="\t"))
    except UnicodeDecodeError:
        raise UserError(f"{labels}: not UTF-8 text; save it as UTF-8") from None
    except csv.Error as e:  # a field over csv's 128 KB limit
        raise UserError(f"{labels}: not a table of labels ({e})") from None
    need = {"file", "exercise", "in_position", "knee_straight"}
    if not rows or not need <= set(rows[0]):
        raise UserError(f"{labels}: expected a header with {', '.join(sorted(need))} and rows")
    for i, row in enumerate(rows, start=2):
        if not (row["file"] or "").strip() or not (row["exercise"] or "").strip():
            raise UserError(f"{labels} line {i}: a row needs a file and an exercise")
        for col in ("in_position", "knee_straight"):
            if (row[col] or "").strip().lower() not in BOOL:
                raise UserError(f"{labels} line {i}: {col} must be true, false or -")
    return rows


def cmd_eval_form(args: argparse.Namespace) -> int:
    from .analyze import analyze, choose
    from .engine import BlazePose

    folder = Path(args.folder)
    if not folder.is_dir():
        raise UserError(f"{folder}: not a folder")
    rows = _labels(folder)
    for row in rows:
        choose(row["exercise"])
    engine = BlazePose()
    results = []
    for row in rows:
        r = analyze(folder / row["file"], row["exercise"], engine=engine)
        knee = next((c for c in r["checks"] if c["name"] == "knee_straight"), None)
        results.append(
            judged_row(
                row,
                r["in_position"],
                None if knee is None else knee["ok"],
                None if knee is None else knee["measured_deg"],
                people=r.get("people", 1),
                posture=r["posture"],
            )
        )
    tables = summarize(results)
    if args.json:
        print(json.dumps({"rows": results, **tables}, indent=2))
    else:
        _table(results)
        _print_tables(tables)
    return 0 if all(r["agree"] for r in results) else 1


def judged_row(
    row: dict[str, str],
    in_position: bool,
    knee_ok: bool | None,
    knee_deg: float | None,
    **seen: Any,
) -> dict[str, Any]:
    """One labelled row beside what the check answered, as eval-form reports and summarize()
    counts it (bench/bench_form.py --live too). A label of "-" agrees with any answer."""
    want_pos = BOOL[row["in_position"].strip().lower()]
    want_knee = BOOL[row["knee_straight"].strip().lower()]
    return {
        "file": row["file"],
        "exercise": row["exercise"],
        "note": row.get("note") or "",
        **seen,
        "in_position": {"label": want_pos, "got": in_position},
        "knee_straight": {"label": want_knee, "got": knee_ok, "measured_deg": knee_deg},
        "agree": want_pos in (None, in_position) and want_knee in (None, knee_ok),
    }


# Words of the `note` column that name the kinds of photo the check is known to find hard.
KEYWORDS = {
    "people": ("people", "therapist"),
    "blurry": ("blurry", "grayscale"),
    "small": ("small image",),
    "front/three-quarter": ("front", "three-quarter", "facing"),
    "fold/lean": ("fold", "lean", "reach"),
    "both legs": ("both legs", "both knees", "both straight"),
    "bridge": ("bridge",),
    "face down/side": ("face down", "side-lying", "on the side"),
    "kneeling": ("kneel", "half split", "child"),
    "standing/squat": ("standing", "squat", "chair pose"),
    "45 degrees": ("45 degrees",),
}


def _confusion(items: list[tuple[bool | None, bool | None]]) -> dict[str, Any]:
    """Counts of label/answer pairs: tp, fn, fp, tn, and unknown answers (None)."""
    c = {"n": 0, "tp": 0, "fn": 0, "fp": 0, "tn": 0, "unknown": 0, "agree": 0}
    for label, got in items:
        if label is None:
            continue
        c["n"] += 1
        if got is None:
            c["unknown"] += 1
            continue
        c[("t" if label == got else "f") + ("p" if got else "n")] += 1
        c["agree"] += label == got
    c["agreement"] = round(c["agree"] / c["n"], 3) if c["n"] else None
    return c


def summarize(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Agreement and confusion tables: overall, per stretch and per note keyword."""

    def block(rs: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "rows": len(rs),
            "agree": sum(r["agree"] for r in rs),
            "in_position": _confusion(
                [(r["in_position"]["label"], r["in_position"]["got"]) for r in rs]
            ),
            "knee_straight": _confusion(
                [(r["knee_straight"]["label"], r["knee_straight"]["got"]) for r in rs]
            ),
        }

    by_stretch = {ex: block([r for r in results if r["exercise"] == ex])
                  for ex in sorted({r["exercise"] for r in results})}  # fmt: skip
    by_kind = {}
    for kind, words in KEYWORDS.items():
        rs = [r for r in results if any(w in r["note"].lower() for w in words)]
        if rs:
            by_kind[kind] = block(rs)
    return {"overall": block(results), "by_stretch": by_stretch, "by_keyword": by_kind}


def _print_tables(tables: dict[str, Any]) -> None:
    head = ("", "ROWS", "IN POS tp/fn/fp/tn/?", "AGREE", "KNEE tp/fn/fp/tn/?", "AGREE")
    lines = [head]

    def row(name: str, b: dict[str, Any]) -> None:
        cells: list[str] = [name, str(b["rows"])]
        for col in ("in_position", "knee_straight"):
            c = b[col]
            cells.append(f"{c['tp']}/{c['fn']}/{c['fp']}/{c['tn']}/{c['unknown']}")
            cells.append("-" if c["agreement"] is None else f"{100 * c['agreement']:.0f}%")
        lines.append(tuple(cells))

    row("all", tables["overall"])
    for name, b in tables["by_stretch"].items():
        row(name, b)
    for name, b in tables["by_keyword"].items():
        row(f"note: {name}", b)
    widths = [max(len(x[i]) for x in lines) for i in range(len(head))]
    print()
    for x in lines:
        print("  ".join(c.ljust(w) for c, w in zip(x, widths, strict=True)).rstrip())


def _word(v: bool | None) -> str:
    return "-" if v is None else "true" if v else "false"


def _table(results: list[dict[str, Any]]) -> None:
    head = ("FILE", "EXERCISE", "IN POSITION (label/got)", "KNEE STRAIGHT (label/got)", "AGREE")
    rows = [head]
    for r in results:
        k = r["knee_straight"]
        deg = "" if k["measured_deg"] is None else f" {k['measured_deg']:.0f}°"
        rows.append(
            (
                r["file"],
                r["exercise"],
                f"{_word(r['in_position']['label'])}/{_word(r['in_position']['got'])}",
                f"{_word(k['label'])}/{_word(k['got'])}{deg}",
                "yes" if r["agree"] else "NO",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    agree = sum(r["agree"] for r in results)
    print(f"{agree} of {len(results)} agree")


# --- models -----------------------------------------------------------------------------------


def cmd_models(args: argparse.Namespace) -> int:
    from .models import ensure_models, models_dir

    directory = Path(args.dir).expanduser().resolve() if args.dir else models_dir()
    wheel = Path(args.wheel) if args.wheel else None
    paths = ensure_models(directory, fetch=not args.check, wheel=wheel)
    for p in (paths.detector, paths.landmarks):
        print(f"ok  {p}")
    return 0
