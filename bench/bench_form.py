"""How often the camera check agrees with labelled photos of real people, fitted and held out.

    .venv/bin/python bench/bench_form.py          # eval-form over ../shared/data/poses-wide and poses
    .venv/bin/python bench/bench_form.py --cv     # and 5-fold cross-validation of form.py's thresholds
    .venv/bin/python bench/bench_form.py --live   # and each photo as the camera check sees it live
    .venv/bin/python bench/bench_form.py --live-band  # and live at JPEG qualities 60-80 (range)
    .venv/bin/python bench/bench_form.py --sizes  # and eval-form on the photos at 360-4000 px
    .venv/bin/python bench/bench_form.py --mirrored --cv  # all of it on the photos turned left to right
    .venv/bin/python bench/bench_form.py --tilt 10  # ... or tilted 10 degrees
    .venv/bin/python bench/bench_form.py --tilt 10 --level --live  # ... the live path told the
                                                    # tilt, as the player's level tells it
    .venv/bin/python bench/bench_form.py --dim      # ... or as a dim room shows them
    .venv/bin/python bench/bench_form.py --far 4    # ... or a quarter of a picture 4 times as wide
                                                    # (a camera across the room)
    .venv/bin/python bench/bench_form.py --blur 2   # ... or out of focus (Gaussian, sigma 2 px)
    .venv/bin/python bench/bench_form.py --beside --live --live-frames 150  # ... or beside a man
                                                    # sitting on a chair, 10 s on the live path
                                                    # (any of these together)

The photo sets live beside the repository (../shared/data); they are not shipped (most of the
wider set's photos carry no licence). When a set is missing this says so and skips it.

--cv runs the landmark model once per photo (every person in it), then, for each of 5 folds
split by photo, fits the thresholds named in GRID on the other 4 folds (coordinate search from
form.py's values; ties keep the current value) and measures agreement on the held-out fold:
on its photos, and with --live on its live looks too (fitted on photos alone).
The held-out figures are the ones to quote; the fit on all rows is printed for comparison.

--live plays each photo to the live path as the player sends it (480 px on the longer side,
JPEG at quality 70, 15 frames a second for 2 s, tracked, smoothed) and judges the last frame:
eval-form measures the still-photo path, which looks harder (every orientation, several crops);
the camera in the player does not.
--live-band plays them again at other JPEG qualities and prints the range of the live figures.
The live path is also counted frame by frame: every frame of a hold counts toward its seconds.
--live-side 640 plays them larger than the player sends them (over qualities 60-80 that read no
better: in position 461 against 467 of 500, knee straight 122 against 121 of 135).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# A checkout keeps the pose models in ./var/models (as `make run` does); LIMBER_MODELS_DIR wins.
os.environ.setdefault("LIMBER_MODELS_DIR", str(ROOT / "var" / "models"))
sys.path.insert(0, str(ROOT))
SETS = [ROOT.parent / "shared" / "data" / "poses-wide", ROOT.parent / "shared" / "data" / "poses"]
BOOL = {"true": True, "false": False, "-": None, "": None}

# Each threshold's values are tried in order, finely enough that a flat stretch of equal
# agreement shows as a run of values (the fit takes its middle: see fit()).
GRID: dict[str, list[Any]] = {
    "LYING_TRUNK": list(range(10, 41)),
    "SIT_THIGH": list(range(15, 56)),
    "STAND_THIGH": list(range(30, 71)),
    "LEG_RAISED": list(range(10, 46)),
    "OTHER_DOWN": list(range(5, 46)),
    "BRIDGE": list(range(4, 36)),
    "TUCK_KNEE": list(range(80, 161, 5)),
    "TUCK_THIGH": list(range(90, 146, 5)),
    "SUPINE_FOLD": [x / 20 for x in range(2, 21)],
    "SUPINE": [x / 20 for x in range(0, 20)],
    "LEG_EXTENDED": list(range(105, 151)),
    "SEATED_LEG_UP": list(range(10, 56)),
    "MARGIN_DEG": [x / 2 for x in range(0, 21)],
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


# Photos of people come at every size; --sizes runs eval-form again on copies resized to these
# longer sides (the wider set's photos are 226-800 px): a phone's thumbnail, a small web
# picture, and a phone photo scaled down by half.
SIZES = (360, 640, 1600)
# ... and as a phone camera's own photo: 4,000 px on the longer side, with the fine grain a
# full-size photo has and the set's web pictures (already scaled down) lost: Gaussian noise of
# this many levels of 255 per pixel (a stand-in for sensor noise and texture; seeded), saved as
# JPEG at quality 92. Enlarged without it, a photo holds no detail to spoil the crop.
PHONE_SIDE, PHONE_NOISE = 4000, 8.0


def show_sizes(folder: Path) -> None:
    """eval-form on temporary copies of the folder's photos at each of SIZES (longer side), and
    as phone photos (PHONE_SIDE)."""
    import cv2
    import numpy as np

    from limber.vision.analyze import read_image

    for side in (*SIZES, PHONE_SIDE):
        phone = side == PHONE_SIDE
        noise = np.random.default_rng(0)
        with tempfile.TemporaryDirectory() as tmp:
            shutil.copy(folder / "labels.tsv", tmp)
            for name in sorted({r["file"] for r in read_rows(folder)}):
                img = read_image(folder / name)
                s = side / max(img.shape[:2])
                size = (max(1, round(img.shape[1] * s)), max(1, round(img.shape[0] * s)))
                how = cv2.INTER_AREA if s < 1 else cv2.INTER_CUBIC
                img = cv2.resize(img, size, interpolation=how)
                if phone:
                    grain = noise.normal(0, PHONE_NOISE, img.shape)
                    img = np.clip(img + grain, 0, 255).astype(np.uint8)
                    cv2.imwrite(str(Path(tmp) / f"{name}.phone.jpg"), img,
                                [cv2.IMWRITE_JPEG_QUALITY, 92])  # fmt: skip
                else:
                    cv2.imwrite(str(Path(tmp) / f"{name}.png"), img)
            rows = read_rows(folder)
            with (Path(tmp) / "labels.tsv").open("w", encoding="utf-8", newline="") as f:
                w = csv.DictWriter(f, fieldnames=list(rows[0]), delimiter="\t")
                w.writeheader()
                w.writerows({**r, "file": r["file"] + (".phone.jpg" if phone else ".png")}
                            for r in rows)  # fmt: skip
            o = run_eval(Path(tmp))["overall"]
        p, k = o["in_position"], o["knee_straight"]
        what = f"as phone photos ({side} px, grain {PHONE_NOISE:g})" if phone else f"at {side} px"
        print(f"  photos {what} on the longer side: {o['agree']} of {o['rows']} rows agree; "
              f"in position {p['agree']}/{p['n']}, knee straight {k['agree']}/{k['n']}")  # fmt: skip


# --- cross-validation -------------------------------------------------------------------------


def read_rows(folder: Path) -> list[dict[str, str]]:
    with (folder / "labels.tsv").open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def people_of(folder: Path) -> tuple[list[dict[str, str]], dict[str, Any]]:
    from limber.vision.analyze import read_image
    from limber.vision.engine import BlazePose

    rows = read_rows(folder)
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


def _choose(values: list[Any], scores: list[int], current: Any, ties: str) -> Any:
    """The value to keep among those that score best. The current value, when it is among them
    (ties="keep"); or, for a number, the middle of the longest run of neighbouring values that
    tie (ties="middle": a threshold on the edge of its flat range is crossed by a few degrees
    of landmark wobble, and the live camera judges one wobbling look per frame). Measured
    held out (`--cv --live`): "middle" moves most thresholds and agrees on 2 fewer photos and
    no more live looks than "keep", which stays the default."""
    top = max(scores)
    best = [v for v, sc in zip(values, scores, strict=True) if sc == top]
    if current in best and (ties == "keep" or isinstance(current, bool | str)):
        return current
    if isinstance(current, bool | str):
        return best[0]
    runs: list[list[Any]] = []
    for i, (v, sc) in enumerate(zip(values, scores, strict=True)):
        if sc == top:
            if i > 0 and scores[i - 1] == top:
                runs[-1].append(v)
            else:
                runs.append([v])
    run = max(runs, key=lambda r: (len(r), current in r))
    return run[(len(run) - 1) // 2]


def fit(
    rows: list[dict[str, str]], people: dict[str, Any], start: dict[str, Any], ties: str = "keep"
) -> dict[str, Any]:
    """Coordinate search from form.py's values: each threshold in turn over its GRID values,
    the others fixed, keeping _choose() of the best; twice over, or until nothing moves."""
    params = dict(start)
    for _ in range(2):
        changed = False
        for name, values in GRID.items():
            scores = []
            for value in values:
                _set({**params, name: value})
                p, _, k, _ = evaluate(rows, people)
                scores.append(p + k)
            value = _choose(values, scores, params[name], ties)
            changed = changed or value != params[name]
            params[name] = value
            _set(params)
        if not changed:
            break
    return params


def cross_validate(
    folder: Path, folds: int, seed: int, looks: dict[tuple[str, str], Any] | None, ties: str
) -> None:
    """Fit on all folds but one, measure on that one, for each fold in turn; with the live
    looks, the held-out fold is measured on the live path too (fitted on photos alone)."""
    from limber.core import form

    rows, people = people_of(folder)
    start = {k: getattr(form, k) for k in GRID}
    files = sorted({r["file"] for r in rows})
    random.Random(seed).shuffle(files)
    fold_of = {f: i % folds for i, f in enumerate(files)}
    total, live = [0, 0, 0, 0], [0, 0, 0, 0]
    print(f"\n{folder}: {folds}-fold cross-validation split by photo (seed {seed}, ties {ties})")
    for k in range(folds):
        train = [r for r in rows if fold_of[r["file"]] != k]
        test = [r for r in rows if fold_of[r["file"]] == k]
        chosen = fit(train, people, start, ties)
        _set(chosen)
        res = evaluate(test, people)
        total = [a + b for a, b in zip(total, res, strict=True)]
        seen = ""
        if looks is not None:
            lr = agreement(test, live_verdicts(test, looks))
            live = [a + b for a, b in zip(live, lr, strict=True)]
            seen = f" (live {lr[0]}/{lr[1]}, {lr[2]}/{lr[3]})"
        moved = {n: v for n, v in chosen.items() if v != start[n]}
        print(f"  fold {k + 1}: in position {res[0]}/{res[1]}, knee straight {res[2]}/{res[3]}"
              f"{seen}; thresholds moved: {moved or 'none'}")  # fmt: skip
        _set(start)
    print(f"  held out: in position {total[0]}/{total[1]} ({100 * total[0] / total[1]:.0f} %), "
          f"knee straight {total[2]}/{total[3]} ({100 * total[2] / max(total[3], 1):.0f} %)")  # fmt: skip
    if looks is not None:
        print(f"  held out, live path: in position {live[0]}/{live[1]}, knee straight "
              f"{live[2]}/{live[3]}")  # fmt: skip
    p, n, kn, kt = evaluate(rows, people)
    print(f"  form.py as it stands, all rows (training fit): in position {p}/{n}, knee {kn}/{kt}")


# --- the live path ------------------------------------------------------------------------------

LIVE_SIDE = 480  # the longer side of the player's frames, never enlarged (FRAME_SIDE in camera.js)
LIVE_FRAMES = 30  # 2 s at 15 frames a second: tracking and smoothing have settled
LIVE_QUALITY = 70  # JPEG quality of the player's frames (QUALITY in camera.js)
# --live-band plays the photos again at these qualities: frames that differ by the codec's
# rounding alone move the live figures by a few rows (a tracked crop amplifies small
# differences), so one quality's figure is one sample of a band.
BAND_QUALITIES = (60, 65, 75, 80)
# --level: the tilt the live path is told, as the player tells it from the phone's gravity
# sensor (camera.js); 0 is a camera taken to be level.
TILT_KNOWN = 0.0


def live_looks(
    folder: Path,
    rows: list[dict[str, str]],
    quality: int = LIVE_QUALITY,
    follow_first: bool = False,
    frames: dict[tuple[str, str], list[Any]] | None = None,
) -> dict[tuple[str, str], Any]:
    """Each photo played to the live path for each stretch it is labelled for, the engine told
    which stretch is checked as the camera socket tells it (follow_first: told nothing, so it
    follows the first person it finds): the smoothed landmarks of its last frame, by (file,
    exercise); and in frames, when given, those of every frame from the first third on."""
    import cv2

    from limber.core.form import wanting
    from limber.core.smoothing import LandmarkSmoother
    from limber.core.spec import load_library
    from limber.vision.analyze import read_image
    from limber.vision.engine import BlazePose

    engine, looks, lib = BlazePose(), {}, load_library()
    for name, exercise in dict.fromkeys((r["file"], r["exercise"]) for r in rows):
        img = read_image(folder / name)
        h, w = img.shape[:2]
        scale = min(1.0, LIVE_SIDE / max(h, w))
        img = cv2.resize(img, (max(1, round(w * scale)), max(1, round(h * scale))))
        img = cv2.imdecode(cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, quality])[1], 1)
        engine.reset()
        engine.wanted = None if follow_first else wanting(lib[exercise], tilt_deg=TILT_KNOWN)
        smoother = LandmarkSmoother()
        for i in range(LIVE_FRAMES):
            lm = smoother(engine.process(img), i / 15)
            looks[name, exercise] = lm if lm is None else lm.levelled(TILT_KNOWN)
            if frames is not None and i >= LIVE_FRAMES // 3:
                frames.setdefault((name, exercise), []).append(looks[name, exercise])
    return looks


def frame_agreement(
    rows: list[dict[str, str]], frames: dict[tuple[str, str], list[Any]]
) -> tuple[int, int, int, int]:
    """agreement() counted frame by frame: every frame of a hold counts, not only the last."""
    from limber.core.form import check_form
    from limber.core.spec import load_library

    lib, total = load_library(), [0, 0, 0, 0]
    for r in rows:
        for lm in frames[r["file"], r["exercise"]]:
            v = check_form(lm, lib[r["exercise"]])
            total = [a + b for a, b in zip(total, agreement([r], [v]), strict=True)]
    return total[0], total[1], total[2], total[3]


def print_frames(q: int, figures: tuple[int, int, int, int]) -> None:
    p, n, k, kt = figures
    print(f"  live path at JPEG quality {q}, frame by frame (the last {LIVE_FRAMES - LIVE_FRAMES // 3}"
          f" of each): in position {p}/{n}, knee straight {k}/{kt}")  # fmt: skip


def live_verdicts(rows: list[dict[str, str]], looks: dict[tuple[str, str], Any]) -> list[Any]:
    from limber.core.form import check_form
    from limber.core.spec import load_library

    lib = load_library()
    return [check_form(looks[r["file"], r["exercise"]], lib[r["exercise"]]) for r in rows]


def live_band(folder: Path, first: tuple[int, int, int, int], follow_first: bool = False) -> None:
    """The live figures again at other JPEG qualities: how far one figure is to be trusted."""
    rows = read_rows(folder)
    figures = {LIVE_QUALITY: first}
    for q in BAND_QUALITIES:
        frames: dict[tuple[str, str], list[Any]] = {}
        looks = live_looks(folder, rows, q, follow_first, frames)
        figures[q] = agreement(rows, live_verdicts(rows, looks))
        print_frames(q, frame_agreement(rows, frames))
    for q, (p, n, k, kt) in sorted(figures.items()):
        print(f"  live path at JPEG quality {q}: in position {p}/{n}, knee straight {k}/{kt}")
    ps, ks = [f[0] for f in figures.values()], [f[2] for f in figures.values()]
    print(f"  live path over JPEG quality {min(figures)}-{max(figures)}: in position "
          f"{min(ps)}-{max(ps)}/{first[1]}, knee straight {min(ks)}-{max(ks)}/{first[3]}")  # fmt: skip


def live_agreement(folder: Path, looks: dict[tuple[str, str], Any]) -> tuple[int, int, int, int]:
    """(in-position agreements, rows, knee agreements, rows with a knee label) on the live path.

    Prints, as eval-form does for photos, the tables per stretch and per note keyword and the
    rows the live path gets wrong (with the knee angle it read).
    """
    from limber.vision.cli import _print_tables, judged_row, summarize

    rows = read_rows(folder)
    verdicts = live_verdicts(rows, looks)
    results = []
    for r, v in zip(rows, verdicts, strict=True):
        knee = next((c for c in v.checks if c.name == "knee_straight"), None)
        deg = None if knee is None or knee.measured is None else round(knee.measured)
        results.append(judged_row(r, v.in_position, knee.ok if knee else None, deg))
    print(f"\n  the live path ({LIVE_SIDE} px JPEG q{LIVE_QUALITY}, {LIVE_FRAMES} tracked frames):")
    _print_tables(summarize(results))
    for x in results:
        if not x["agree"]:
            p, k = x["in_position"], x["knee_straight"]
            print(f"  live miss: {x['file']} ({x['exercise']}): in position {p['got']} "
                  f"(label {p['label']}), knee {k['got']} at {k['measured_deg']} deg "
                  f"(label {k['label']})")  # fmt: skip
    return agreement(rows, verdicts)


def main() -> None:
    global LIVE_FRAMES, LIVE_SIDE, TILT_KNOWN  # --live-frames, --live-side, --level: whole run
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cv", action="store_true", help="cross-validate the thresholds too")
    ap.add_argument("--live", action="store_true", help="and each photo on the live path")
    ap.add_argument(
        "--sizes",
        action="store_true",
        help=f"and eval-form on the photos resized to {', '.join(map(str, SIZES))} px, and "
        f"as {PHONE_SIDE} px phone photos",
    )
    ap.add_argument(
        "--live-band",
        action="store_true",
        help=f"and the live path at JPEG qualities {', '.join(map(str, BAND_QUALITIES))} too",
    )
    ap.add_argument(
        "--mirrored", action="store_true", help="all of it on the photos turned left to right"
    )
    ap.add_argument(
        "--tilt", type=float, default=0.0, metavar="DEG",
        help="all of it on the photos tilted this many degrees (a camera propped up crooked)",
    )  # fmt: skip
    ap.add_argument(
        "--level", action="store_true",
        help="with --tilt: the live path told the tilt, as the player's level tells it from a "
        "phone's gravity sensor (still photos carry no such reading)",
    )  # fmt: skip
    ap.add_argument("--dim", action="store_true", help="all of it on the photos dimmed, with grain")
    ap.add_argument(
        "--far", type=float, default=1.0, metavar="K",
        help="all of it on each photo placed in a picture K times as wide and high (a camera "
        "across the room: the person fills 1/K of it)",
    )  # fmt: skip
    ap.add_argument(
        "--blur", type=float, default=0.0, metavar="SIGMA",
        help="all of it on the photos out of focus (a Gaussian blur of SIGMA pixels)",
    )  # fmt: skip
    ap.add_argument(
        "--beside", action="store_true",
        help="all of it on each photo beside a man sitting on a chair (a partner in view; "
        "the repository's chair-sitting.jpg, as high as the photo, left and right in turn)",
    )  # fmt: skip
    ap.add_argument(
        "--follow-first", action="store_true",
        help="the live path's engine told nothing of the stretch checked: it follows the first "
        "person it finds, as before it chose whom to follow",
    )  # fmt: skip
    ap.add_argument(
        "--live-frames", type=int, default=LIVE_FRAMES, metavar="N",
        help=f"frames each photo is played to the live path (default {LIVE_FRAMES}, 2 s; the "
        "engine looks again for someone doing the stretch once a second)",
    )  # fmt: skip
    ap.add_argument(
        "--live-side", type=int, default=LIVE_SIDE, metavar="PX",
        help=f"the longer side of the frames the live path is played (default {LIVE_SIDE}, as "
        "the player sends them; never enlarged)",
    )  # fmt: skip
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--ties",
        choices=("keep", "middle"),
        default="keep",
        help="which of the values that fit equally well the fit keeps (see _choose)",
    )
    args = ap.parse_args()
    LIVE_FRAMES = max(1, args.live_frames)
    LIVE_SIDE = max(1, args.live_side)
    if args.level:
        TILT_KNOWN = args.tilt
    with tempfile.TemporaryDirectory() as tmp:
        for folder in SETS:
            if not (folder / "labels.tsv").is_file():
                print(f"\n{folder}: not here (it lives beside the repository, not in it); skipped")
                continue
            if args.mirrored or args.tilt or args.dim or args.far > 1 or args.blur or args.beside:
                folder = altered(
                    folder, Path(tmp), args.mirrored, args.tilt, args.dim, args.far, args.blur,
                    args.beside,
                )  # fmt: skip
            run_set(folder, args)


# --beside: the partner placed beside each photo (Unlicense, in the repository).
SITTING = ROOT / "tests" / "data" / "photos" / "chair-sitting.jpg"

# --dim: the photos as a dim room shows them, at this fraction of their brightness, with
# Gaussian grain of this many levels of 255 (seeded).
DIM_BRIGHTNESS, DIM_GRAIN = 0.3, 3.0


def altered(
    folder: Path,
    into: Path,
    mirror: bool,
    tilt: float,
    dim: bool,
    far: float = 1.0,
    blur: float = 0.0,
    beside: bool = False,
) -> Path:
    """Copies of the folder's photos turned left to right and/or tilted by `tilt` degrees
    (counter-clockwise; the canvas grows to hold the whole photo, its edges repeated) and/or
    dimmed (DIM_BRIGHTNESS) and/or placed somewhere (seeded) in a picture `far` times as wide
    and high, of the photo's mean edge colour, and/or blurred by a Gaussian of `blur` pixels
    (first, as a lens does), and/or beside a man sitting on a chair (SITTING, as high as the
    photo, on its right for every other photo and on its left for the rest); lossless PNG, with
    the folder's labels. A person and their mirror image do the same stretch; so does one seen
    by a camera propped up a little crooked, in a dim room, from across the room, out of focus,
    or with someone sitting beside them (who is in position for none of the stretches): the
    check should say so."""
    import cv2
    import numpy as np

    from limber.vision.analyze import read_image

    out = into / folder.name  # the same name: cross-validation runs on the wider set only
    out.mkdir()
    rows = read_rows(folder)
    grain = np.random.default_rng(0)
    partner = read_image(SITTING) if beside else None
    for i, name in enumerate(sorted({r["file"] for r in rows})):
        img = read_image(folder / name)
        if partner is not None:
            h = img.shape[0]
            other = cv2.resize(partner, (round(partner.shape[1] * h / partner.shape[0]), h))
            img = cv2.hconcat([other, img] if i % 2 else [img, other])
        if blur:
            img = cv2.GaussianBlur(img, (0, 0), blur)
        if dim:
            noise = grain.normal(0, DIM_GRAIN, img.shape)
            img = np.clip(img * DIM_BRIGHTNESS + noise, 0, 255).astype(np.uint8)
        if mirror:
            img = cv2.flip(img, 1)
        if tilt:
            h, w = img.shape[:2]
            c, s = abs(math.cos(math.radians(tilt))), abs(math.sin(math.radians(tilt)))
            size = (round(w * c + h * s), round(w * s + h * c))
            m = cv2.getRotationMatrix2D((w / 2, h / 2), tilt, 1.0)
            m[:, 2] += ((size[0] - w) / 2, (size[1] - h) / 2)
            img = cv2.warpAffine(img, m, size, flags=cv2.INTER_CUBIC,
                                 borderMode=cv2.BORDER_REPLICATE)  # fmt: skip
        if far > 1:
            h, w = img.shape[:2]
            edges = np.concatenate([img[0], img[-1], img[:, 0], img[:, -1]])
            canvas = np.empty((round(h * far), round(w * far), 3), np.uint8)
            canvas[:] = edges.mean(axis=0)
            y0 = int(grain.integers(0, canvas.shape[0] - h + 1))
            x0 = int(grain.integers(0, canvas.shape[1] - w + 1))
            canvas[y0 : y0 + h, x0 : x0 + w] = img
            img = canvas
        cv2.imwrite(str(out / f"{name}.png"), img)
    with (out / "labels.tsv").open("w", encoding="utf-8", newline="") as f:
        labels = csv.DictWriter(f, fieldnames=list(rows[0]), delimiter="\t")
        labels.writeheader()
        labels.writerows({**r, "file": r["file"] + ".png"} for r in rows)
    how = ["turned left to right"] * mirror + [f"tilted {tilt:g} degrees"] * bool(tilt)
    how += [f"at {DIM_BRIGHTNESS:.0%} of its brightness with grain {DIM_GRAIN:g}"] * dim
    how += [f"placed in a picture {far:g} times as wide and high"] * (far > 1)
    how += [f"blurred (Gaussian, sigma {blur:g} px)"] * bool(blur)
    how += ["beside a man sitting on a chair"] * beside
    print(f"\n{folder}: each photo {' and '.join(how)}")
    return out


def run_set(folder: Path, args: argparse.Namespace) -> None:
    """eval-form on one set of photos, and whatever else was asked for."""
    show(folder)
    if args.sizes:
        show_sizes(folder)
    looks, frames = None, {}  # frames: see live_looks
    if args.live or args.live_band:
        rows = read_rows(folder)
        looks = live_looks(folder, rows, follow_first=args.follow_first, frames=frames)
        print_frames(LIVE_QUALITY, frame_agreement(rows, frames))
    if args.cv and folder.name == "poses-wide":
        cross_validate(folder, args.folds, args.seed, looks, args.ties)
    if looks is not None:
        p, n, k, kt = live_agreement(folder, looks)
        print(f"  live path ({LIVE_SIDE} px JPEG q{LIVE_QUALITY}, {LIVE_FRAMES} tracked frames): in position "
              f"{p}/{n} ({100 * p / n:.0f} %), knee straight {k}/{kt} "
              f"({100 * k / max(kt, 1):.0f} %)")  # fmt: skip
        if args.live_band:
            live_band(folder, (p, n, k, kt), args.follow_first)


if __name__ == "__main__":
    main()
