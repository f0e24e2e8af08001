"""How often the camera check agrees with labelled photos of real people, fitted and held out.

    .venv/bin/python bench/bench_form.py          # eval-form over ../shared/data/poses-wide and poses
    .venv/bin/python bench/bench_form.py --cv     # and 5-fold cross-validation of form.py's thresholds
    .venv/bin/python bench/bench_form.py --live   # and each photo as the camera check sees it live

The photo sets live beside the repository (../shared/data); they are not shipped (most of the
wider set's photos carry no licence). When a set is missing this says so and skips it.

--cv runs the landmark model once per photo (every person in it), then, for each of 5 folds
split by photo, fits the thresholds named in GRID on the other 4 folds (coordinate search from
form.py's values; ties keep the current value) and measures agreement on the held-out fold.
The held-out figures are the ones to quote; the fit on all rows is printed for comparison.

--live plays each photo to the live path as the player sends it (480 px wide, JPEG, 15 frames a
second for 2 s, tracked, smoothed) and judges the last frame: eval-form measures the still-photo
path, which looks harder (every orientation, several crops); the camera in the player does not.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# A checkout keeps the pose models in ./var/models (as `make run` does); LIMBER_MODELS_DIR wins.
os.environ.setdefault("LIMBER_MODELS_DIR", str(ROOT / "var" / "models"))
sys.path.insert(0, str(ROOT))
SETS = [ROOT.parent / "shared" / "data" / "poses-wide", ROOT.parent / "shared" / "data" / "poses"]
BOOL = {"true": True, "false": False, "-": None, "": None}

GRID: dict[str, list[Any]] = {
    "LYING_TRUNK": [15, 20, 25, 30, 35, 40, 45, 50],
    "SIT_THIGH": [20, 25, 30, 35, 40, 45, 50],
    "STAND_THIGH": [35, 40, 45, 50, 55, 60, 65],
    "LEG_RAISED": [15, 20, 25, 30, 35, 40],
    "OTHER_DOWN": [10, 15, 20, 25, 30, 35, 40],
    "BRIDGE": [5, 10, 15, 20, 25, 30],
    "TUCK_KNEE": [0, 90, 110, 125, 140, 150],
    "TUCK_THIGH": [95, 100, 110, 120, 130, 140],
    "SUPINE_FOLD": [0.3, 0.5, 0.7, 0.9, 2.0],
    "SUPINE": [-0.3, 0.0, 0.3, 0.5, 0.6, 0.7, 0.8],
    "LEG_EXTENDED": [110, 115, 120, 125, 130, 135, 140, 145],
    "SEATED_LEG_UP": [15, 20, 25, 30, 35, 40, 50],
    "MARGIN_DEG": [0, 2.5, 5, 7.5, 10],
    "ANGLES_3D": [True, False],
    "KNEE_FROM": ["3d", "view", "max"],
    "POSTURE_3D": [True, False],
}


def run_eval(folder: Path) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "limber.cli", "eval-form", "--json", str(folder)]
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if out.returncode not in (0, 1):
        raise SystemExit(f"eval-form failed: {out.stderr.strip()}")
    return json.loads(out.stdout)


def show(folder: Path) -> None:
    from limber.vision.cli import _print_tables

    data = run_eval(folder)
    o = data["overall"]
    print(f"\n{folder}: {o['agree']} of {o['rows']} rows agree")
    _print_tables(data)


# --- cross-validation -------------------------------------------------------------------------


def people_of(folder: Path) -> tuple[list[dict[str, str]], dict[str, Any]]:
    from limber.vision.analyze import read_image
    from limber.vision.engine import BlazePose

    with (folder / "labels.tsv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    engine = BlazePose()
    people: dict[str, Any] = {}
    for r in rows:
        if r["file"] not in people:
            frame = read_image(folder / r["file"])
            people[r["file"]] = ([(p.box, p.landmarks) for p in engine.people(frame)],
                                 frame.shape[1], frame.shape[0])  # fmt: skip
    return rows, people


def evaluate(rows: list[dict[str, str]], people: dict[str, Any]) -> tuple[int, int, int, int]:
    """(in-position agreements, rows, knee agreements, rows with a knee label)."""
    from limber.core.spec import load_library
    from limber.vision.analyze import judge_people

    lib = load_library()
    verdicts = []
    for r in rows:
        stretch = lib[r["exercise"]]
        found, w, h = people[r["file"]]
        verdicts.append(judge_people(found, stretch, stretch.default_variant, None, (w, h))[2])
    return agreement(rows, verdicts)


def agreement(rows: list[dict[str, str]], verdicts: list[Any]) -> tuple[int, int, int, int]:
    """(in-position agreements, rows, knee agreements, rows with a knee label)."""
    pos = knee = knees = 0
    for r, v in zip(rows, verdicts, strict=True):
        pos += BOOL[r["in_position"]] == v.in_position
        want = BOOL[r["knee_straight"]]
        if want is not None:
            knees += 1
            got = next((c.ok for c in v.checks if c.name == "knee_straight"), None)
            knee += want == got
    return pos, len(rows), knee, knees


def _set(params: dict[str, Any]) -> None:
    from limber.core import form

    for k, v in params.items():
        setattr(form, k, v)
    form._movement.cache_clear()


def fit(
    rows: list[dict[str, str]], people: dict[str, Any], start: dict[str, Any]
) -> dict[str, Any]:
    params = dict(start)
    _set(params)
    p, _, k, _ = evaluate(rows, people)
    best = p + k
    for _ in range(2):
        changed = False
        for name, values in GRID.items():
            for value in values:
                trial = {**params, name: value}
                _set(trial)
                p, _, k, _ = evaluate(rows, people)
                if p + k > best:
                    best, params, changed = p + k, trial, True
            _set(params)
        if not changed:
            break
    return params


def cross_validate(folder: Path, folds: int, seed: int) -> None:
    from limber.core import form

    rows, people = people_of(folder)
    start = {k: getattr(form, k) for k in GRID}
    files = sorted({r["file"] for r in rows})
    random.Random(seed).shuffle(files)
    fold_of = {f: i % folds for i, f in enumerate(files)}
    total = [0, 0, 0, 0]
    print(f"\n{folder}: {folds}-fold cross-validation split by photo (seed {seed})")
    for k in range(folds):
        train = [r for r in rows if fold_of[r["file"]] != k]
        test = [r for r in rows if fold_of[r["file"]] == k]
        chosen = fit(train, people, start)
        _set(chosen)
        res = evaluate(test, people)
        total = [a + b for a, b in zip(total, res, strict=True)]
        moved = {n: v for n, v in chosen.items() if v != start[n]}
        print(f"  fold {k + 1}: in position {res[0]}/{res[1]}, knee straight {res[2]}/{res[3]}"
              f"; thresholds moved: {moved or 'none'}")  # fmt: skip
        _set(start)
    print(f"  held out: in position {total[0]}/{total[1]} ({100 * total[0] / total[1]:.0f} %), "
          f"knee straight {total[2]}/{total[3]} ({100 * total[2] / max(total[3], 1):.0f} %)")  # fmt: skip
    p, n, kn, kt = evaluate(rows, people)
    print(f"  form.py as it stands, all rows (training fit): in position {p}/{n}, knee {kn}/{kt}")


# --- the live path ------------------------------------------------------------------------------

LIVE_WIDTH = 480  # the player's frames (practice/static/practice/camera.js)
LIVE_FRAMES = 30  # 2 s at 15 frames a second: tracking and smoothing have settled


def live_agreement(folder: Path) -> tuple[int, int, int, int]:
    """(in-position agreements, rows, knee agreements, rows with a knee label) on the live path.

    Prints, as eval-form does for photos, the tables per stretch and per note keyword and the
    rows the live path gets wrong (with the knee angle it read).
    """
    import cv2

    from limber.core.form import check_form
    from limber.core.smoothing import LandmarkSmoother
    from limber.core.spec import load_library
    from limber.vision.analyze import read_image
    from limber.vision.cli import _print_tables, judged_row, summarize
    from limber.vision.engine import BlazePose

    with (folder / "labels.tsv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    lib, engine = load_library(), BlazePose()
    verdicts = []
    for r in rows:
        img = read_image(folder / r["file"])
        h, w = img.shape[:2]
        img = cv2.resize(img, (LIVE_WIDTH, max(1, round(h * LIVE_WIDTH / w))))
        img = cv2.imdecode(cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 80])[1], 1)
        stretch = lib[r["exercise"]]
        engine.reset()
        smoother = LandmarkSmoother()
        for i in range(LIVE_FRAMES):
            verdict = check_form(smoother(engine.process(img), i / 15), stretch)
        verdicts.append(verdict)
    results = []
    for r, v in zip(rows, verdicts, strict=True):
        knee = next((c for c in v.checks if c.name == "knee_straight"), None)
        deg = None if knee is None or knee.measured is None else round(knee.measured)
        results.append(judged_row(r, v.in_position, knee.ok if knee else None, deg))
    print(f"\n  the live path ({LIVE_WIDTH} px JPEG, {LIVE_FRAMES} tracked frames):")
    _print_tables(summarize(results))
    for x in results:
        if not x["agree"]:
            p, k = x["in_position"], x["knee_straight"]
            print(f"  live miss: {x['file']} ({x['exercise']}): in position {p['got']} "
                  f"(label {p['label']}), knee {k['got']} at {k['measured_deg']} deg "
                  f"(label {k['label']})")  # fmt: skip
    return agreement(rows, verdicts)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cv", action="store_true", help="cross-validate the thresholds too")
    ap.add_argument("--live", action="store_true", help="and each photo on the live path")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    for folder in SETS:
        if not (folder / "labels.tsv").is_file():
            print(f"\n{folder}: not here (it lives beside the repository, not in it); skipped")
            continue
        show(folder)
        if args.cv and folder.name == "poses-wide":
            cross_validate(folder, args.folds, args.seed)
        if args.live:
            p, n, k, kt = live_agreement(folder)
            print(f"  live path ({LIVE_WIDTH} px JPEG, {LIVE_FRAMES} tracked frames): in position "
                  f"{p}/{n} ({100 * p / n:.0f} %), knee straight {k}/{kt} "
                  f"({100 * k / max(kt, 1):.0f} %)")  # fmt: skip


if __name__ == "__main__":
    main()
