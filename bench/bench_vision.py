"""The camera check's speed: pose engine, our own per-frame work, and a whole video analysis.

    .venv/bin/python bench/bench_vision.py                 # all of it (about a minute)
    .venv/bin/python bench/bench_vision.py --frames 300    # more frames per engine figure

Figures are medians over frames (per-frame times) or single runs (the video). Targets, on 2
cores: tracking >= 60 frames/s and full detection >= 30 frames/s at 640 x 480; smoothing +
rules + hold counter < 0.5 ms a frame; a 60 s 30 fps 640 x 480 video analyzed at the default
15 frames a second in < 12 s (5x real time), with
a peak memory < 400 MB. The engine runs on at most two cores (CPU affinity) whatever the machine.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# A checkout keeps the pose models in ./var/models (as `make run` does); LIMBER_MODELS_DIR wins.
os.environ.setdefault("LIMBER_MODELS_DIR", str(ROOT / "var" / "models"))
sys.path.insert(0, str(ROOT))
POSES = ROOT / "tests" / "data" / "photos"  # licensed photos shipped with the tests
PHOTOS = ("lying-band-knee-bent.jpg", "lying-band-leg-straight.jpg")


def two_cores() -> None:
    if hasattr(os, "sched_setaffinity"):
        cpus = sorted(os.sched_getaffinity(0))[:2]
        os.sched_setaffinity(0, cpus)


def median_ms(fn, n: int) -> float:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000


def frames_640():
    import cv2

    return [cv2.resize(cv2.imread(str(POSES / p)), (640, 480)) for p in PHOTOS]


def bench_engine(n: int) -> None:
    from limber.vision.engine import BlazePose
    from limber.vision.models import ensure_models

    engine = BlazePose(ensure_models())
    bent, straight = frames_640()
    engine.process(straight)  # warm up

    def track():
        engine.process(straight)

    def detect_every_frame():
        engine.reset()
        engine.process(bent)

    ms = median_ms(track, n)
    print(f"tracking, 640x480:            {ms:6.2f} ms/frame  = {1000 / ms:6.1f} frames/s")
    ms = median_ms(detect_every_frame, n)
    print(f"full detection, 640x480:      {ms:6.2f} ms/frame  = {1000 / ms:6.1f} frames/s")
    ms = median_ms(lambda: engine.detect(bent), n)
    print(f"  detector alone:             {ms:6.2f} ms")
    roi = engine.detect(bent)[1]
    ms = median_ms(lambda: engine.landmarks_in(bent, roi), n)
    print(f"  landmarks in one crop:      {ms:6.2f} ms")
    # The landmark model as run (without the person mask Limber never reads) against the whole
    # file, on the same crop, interleaved; the ratio is the figure to quote on a busy machine.
    from ai_edge_litert.interpreter import Interpreter

    from limber.vision.models import landmark_model

    paths = ensure_models()
    whole = Interpreter(model_path=str(paths.landmarks), num_threads=2)
    lean = Interpreter(model_content=landmark_model(paths.landmarks), num_threads=2)
    engine._crop_input(bent, roi)
    crop = engine._lm_input()[0].copy()
    times: dict[Any, list[float]] = {whole: [], lean: []}
    for it in times:
        it.allocate_tensors()
        it.set_tensor(it.get_input_details()[0]["index"], crop[None])
    for i in range(n):
        for it in (whole, lean) if i % 2 else (lean, whole):
            t0 = time.perf_counter()
            it.invoke()
            times[it].append(time.perf_counter() - t0)
    w, lo = (statistics.median(times[it]) * 1000 for it in (whole, lean))
    print(f"    the model's whole file:   {w:6.2f} ms; as run, without its person mask: "
          f"{lo:.2f} ms ({w / lo:.2f}x)")  # fmt: skip
    ms = median_ms(lambda: engine.process_image(bent), max(10, n // 10))
    print(f"still photo (every look):     {ms:6.2f} ms")


def bench_own_work(n: int) -> None:
    from limber.core.form import check_form
    from limber.core.holdcounter import HoldCounter
    from limber.core.smoothing import LandmarkSmoother
    from limber.core.spec import load_library
    from limber.vision.engine import BlazePose

    stretch = load_library()["towel-hamstring-stretch"]
    engine = BlazePose()
    landmarks = [engine.process_image(f) for f in frames_640()]
    smoother = LandmarkSmoother()
    now = [0.0]
    counter = HoldCounter(30, clock=lambda: now[0])
    i = [0]

    def step():
        i[0] += 1
        now[0] = i[0] / 30
        lm = smoother(landmarks[(i[0] // 30) % 2], now[0])
        counter.update(check_form(lm, stretch, side="left"))

    ms = median_ms(step, n * 10)
    print(f"smoothing + rules + counter:  {ms:6.3f} ms/frame")


def bench_stages(n: int) -> None:
    """Where one tracked frame's time goes: the model, and each piece of our own work."""
    import cv2
    import numpy as np

    sys.path.insert(0, str(ROOT / "bench"))
    from make_clip import make_clip

    from limber.core.form import check_form
    from limber.core.holdcounter import HoldCounter
    from limber.core.smoothing import LandmarkSmoother
    from limber.core.spec import load_library
    from limber.vision.engine import LANDMARK_SIZE, BlazePose, _legs_matched

    stretch = load_library()["towel-hamstring-stretch"]
    engine = BlazePose()
    tmp = tempfile.TemporaryDirectory()
    clip = make_clip(Path(tmp.name) / "clip.mp4", seconds=max(2, n / 30 + 1))
    cap = cv2.VideoCapture(str(clip), cv2.CAP_ANY, [cv2.CAP_PROP_N_THREADS, 1])  # as analyze
    lm = engine.process(cap.read()[1])
    assert lm is not None, "nobody found in the clip"
    roi = engine._track
    stages: dict[str, list[float]] = {k: [] for k in (
        "decode (video frame)", "crop + input buffer", "  (before: crop + input)",
        "landmark model", "read outputs + refine", "pairing the two looks", "landmark objects",
        "smoothing", "form rules", "hold counter")}  # fmt: skip
    smoother = LandmarkSmoother()
    now = [0.0]
    counter = HoldCounter(30, clock=lambda: now[0])
    n_ = LANDMARK_SIZE
    t: list[float] = []
    cpu: list[float] = []
    cpu_stages: dict[str, list[float]] = {k: [] for k in stages}

    def lap(name: str) -> None:
        # Wall time, and this thread's own CPU time: on a busy machine the wall time of a
        # short step also counts the moments another process held the core.
        t.append(time.perf_counter())
        cpu.append(time.thread_time())
        stages[name].append(t[-1] - t[-2])
        cpu_stages[name].append(cpu[-1] - cpu[-2])

    last = None
    warm: list[float] = []  # crop, read, landmarks and rules done again at once (see below)
    for i in range(n):
        t[:] = [time.perf_counter()]
        cpu[:] = [time.thread_time()]
        # Each frame is decoded in the loop, into memory the last one freed, as `analyze`
        # does (decoding every frame first into memory kept meant fresh pages each time).
        ok, frame = cap.read()
        if not ok:
            break
        lap("decode (video frame)")

        # The engine's own steps, one at a time (BlazePose.landmarks_in is these three), and
        # the crop the way it was done before (a 3-channel warp, a float copy, set_tensor) on
        # the same frame, as a baseline. Which goes first alternates: the second finds the
        # frame in the cache. Either leaves the same input in the model's buffer.
        # Every other frame is looked at turned left to right, and each frame's look is paired
        # with the last one, as BlazePose._follow does.
        mirrored = i % 2 == 1
        a, crop_roi = engine.crop_matrix(roi, mirrored), roi  # the baseline's input the same
        for step in ("crop + input buffer", "  (before: crop + input)")[:: 1 if i % 2 else -1]:
            if step == "crop + input buffer":
                engine._crop_input(frame, roi, mirrored)
            else:
                old = cv2.warpAffine(frame, a, (n_, n_),
                                     flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                                     borderMode=cv2.BORDER_REPLICATE)  # fmt: skip
                x = cv2.cvtColor(old, cv2.COLOR_BGR2RGB).astype(np.float32) * (1 / 255.0)
                engine._landmarker.set_tensor(engine._lm_in, x[None])
            lap(step)
        engine._landmarker.invoke()
        lap("landmark model")
        presence, pts = engine._read(roi, a, mirrored)
        lap("read outputs + refine")
        roi = engine._next_roi(pts)
        last, pts = pts, pts if last is None else (pts + _legs_matched(last, pts)) / 2
        lap("pairing the two looks")
        lm = engine._result(frame, presence, pts)
        lap("landmark objects")
        now[0] = i / 30
        sm = smoother(lm, now[0])
        lap("smoothing")
        v = check_form(sm, stretch, side="left")
        lap("form rules")
        counter.update(v)
        lap("hold counter")
        # The same crop, output reading, landmark building and rules done again at once, with
        # the caches warm: what that code costs by itself. The difference from the same steps
        # above is the price of running straight after the model, which has just filled the
        # caches with its own weights.
        w0 = time.perf_counter()
        engine._crop_input(frame, crop_roi, mirrored)
        engine._read(crop_roi, a, mirrored)
        engine._result(frame, presence, pts)
        check_form(sm, stretch, side="left")
        warm.append(time.perf_counter() - w0)
    cap.release()
    tmp.cleanup()
    print(f"\nper tracked frame, 640x360 clip, median of {len(stages['form rules'])} frames "
          f"(load average {os.getloadavg()[0]:.2f}):")  # fmt: skip
    print(f"  {'':<30} {'wall':>8} {'thread CPU':>11}")
    own = own_cpu = 0.0
    for name, times in stages.items():
        ms = statistics.median(times) * 1000
        cs = [c for c in cpu_stages[name] if c >= 0]
        cms = statistics.median(cs) * 1000 if cs else ms
        if name not in ("landmark model", "  (before: crop + input)"):
            own += ms
            own_cpu += cms
        shown = "" if name == "landmark model" else f"{cms:8.3f} ms"
        if name.startswith("  ("):
            shown += "  (not counted)"
        print(f"  {name:<30} {ms:6.3f} ms {shown}")
    print(f"  {'our own work (all but the model)':<30} {own:6.3f} ms {own_cpu:8.3f} ms")
    after = sum(statistics.median(stages[k]) for k in (
        "crop + input buffer", "read outputs + refine", "landmark objects", "form rules"))  # fmt: skip
    print(
        f"  crop, read, landmarks and rules: {after * 1000:.3f} ms right after the model, "
        f"{statistics.median(warm) * 1000:.3f} ms done again at once (caches warm)"
    )


def make_video(path: Path, seconds: int = 60, fps: int = 30) -> None:
    import cv2

    bent, straight = frames_640()
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (640, 480))
    for i in range(seconds * fps):
        # Into the stretch and out again every few seconds, so the engine follows a movement.
        writer.write(straight if (i // (4 * fps)) % 3 else bent)
    writer.release()


def bench_video() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        video = Path(tmp) / "sixty-seconds.mp4"
        make_video(video)
        code = (
            "import os, sys, time, json\n"
            "if hasattr(os, 'sched_setaffinity'):\n"
            "    os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:2])\n"
            "from limber.vision.analyze import analyze\n"
            "t0 = time.perf_counter()\n"
            "r = analyze(sys.argv[1], 'towel-hamstring-stretch', side='left')\n"
            "print(json.dumps({'s': time.perf_counter() - t0, 'frames': r['frames'],\n"
            "                  'looked': r['frames_analysed'], 'fps': r['analysed_fps'],\n"
            "                  'good': r['good_form_s']}))\n"
        )
        t0 = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-c", code, str(video)],
            capture_output=True, text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
        )  # fmt: skip
        wall = time.perf_counter() - t0
        if done.returncode != 0:
            print(done.stderr)
            raise SystemExit(1)
        import json

        r = json.loads(done.stdout)
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(
            f"analyze 60 s 30 fps 640x480:  {r['s']:6.2f} s analysing ({wall:.2f} s with start-up) "
            f"= {60 / r['s']:.1f}x real time; looked at {r['looked']} of {r['frames']} frames "
            f"({r['fps']:g} fps); peak memory {peak_mb:.0f} MB; load average "
            f"{os.getloadavg()[0]:.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=200, help="frames per engine figure")
    parser.add_argument("--skip-video", action="store_true")
    args = parser.parse_args()
    two_cores()
    print(
        f"cores used: {len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else '?'}"
    )
    bench_engine(args.frames)
    bench_own_work(args.frames)
    bench_stages(args.frames)
    if not args.skip_video:
        bench_video()


if __name__ == "__main__":
    main()
