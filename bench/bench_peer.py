"""Limber's video analysis against mediapipe's own BlazePose pipeline, on the same clip.

    make peer                                                # a venv with mediapipe==0.10.21
    .venv/bin/python bench/bench_peer.py --peer-python var/peer/bin/python [--pairs 6]

Runs, alternately (A/B/A/B, so both see the same machine load): mediapipe's legacy Pose
solution (model_complexity=1, the same BlazePose-full model; smooth_landmarks on, as video)
on every frame of the clip, and `limber analyze --fps all` on the same clip. Each run is a
whole process (start-up, decode, every frame), timed wall-clock and in CPU seconds (user +
system of the child). Prints the medians, the ratios peer / limber and the load average
before and after: on a shared machine the ratio moves with other work, so quote both.
The clip is made by bench/make_clip.py (a slow pan and zoom over a licensed photo, 640 x 360,
30 s at 30 fps) unless --clip is given.
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

ROOT = Path(__file__).resolve().parent.parent
# A checkout keeps the pose models in ./var/models (as `make run` does); LIMBER_MODELS_DIR wins.
os.environ.setdefault("LIMBER_MODELS_DIR", str(ROOT / "var" / "models"))

PEER = r"""
import sys, cv2, mediapipe as mp
cap = cv2.VideoCapture(sys.argv[1])
n = found = 0
with mp.solutions.pose.Pose(static_image_mode=False, model_complexity=1,
                            smooth_landmarks=True) as pose:
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        r = pose.process(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
        n += 1
        found += r.pose_landmarks is not None
print(n, found)
"""


def timed(cmd: list[str]) -> tuple[float, float, str]:
    """(wall seconds, CPU seconds of the child, its stdout) for one whole process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"bench_peer: {' '.join(cmd[:3])} failed:\n{done.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done.stdout


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--peer-python", required=True, metavar="PATH",
                    help="python of a venv with mediapipe==0.10.21 (make peer)")  # fmt: skip
    ap.add_argument("--clip", help="a video (default: make one with bench/make_clip.py)")
    ap.add_argument("--pairs", type=int, default=6, help="A/B pairs to run")
    args = ap.parse_args()
    peer = Path(args.peer_python)
    if not peer.exists():
        print(f"bench_peer: no {peer}; run `make peer` first", file=sys.stderr)
        return 2
    limber = [sys.executable, "-m", "limber.cli", "analyze"]
    with tempfile.TemporaryDirectory() as tmp:
        clip = Path(args.clip) if args.clip else None
        if clip is None:
            sys.path.insert(0, str(ROOT / "bench"))
            from make_clip import make_clip

            clip = make_clip(Path(tmp) / "clip.mp4")
        script = Path(tmp) / "peer.py"
        script.write_text(PEER)
        a_cmd = [str(peer), str(script), str(clip)]
        b_cmd = [*limber, str(clip), "--exercise", "towel-hamstring-stretch", "--fps", "all",
                 "--json"]  # fmt: skip
        timed(a_cmd)  # warm the file cache and both runtimes once, untimed
        timed(b_cmd)
        load0 = os.getloadavg()
        a_runs, b_runs = [], []
        for i in range(args.pairs):
            a_runs.append(timed(a_cmd))
            b_runs.append(timed(b_cmd))
            print(f"pair {i + 1}: mediapipe {a_runs[-1][0]:.2f} s, limber {b_runs[-1][0]:.2f} s",
                  flush=True)  # fmt: skip
        load1 = os.getloadavg()
    frames, found = (int(x) for x in a_runs[0][2].split())
    import json

    report = json.loads(b_runs[0][2])
    aw = statistics.median(r[0] for r in a_runs)
    bw = statistics.median(r[0] for r in b_runs)
    ac = statistics.median(r[1] for r in a_runs)
    bc = statistics.median(r[1] for r in b_runs)
    ratios = sorted(a[0] / b[0] for a, b in zip(a_runs, b_runs, strict=True))
    print(f"\nclip: {frames} frames; mediapipe found a person in {found}, limber looked at "
          f"{report['frames_analysed']} at {report['analysed_fps']:g} fps")  # fmt: skip
    print(f"median wall: mediapipe {aw:.2f} s, limber {bw:.2f} s -> {aw / bw:.2f}x "
          f"(pairs' ratios {ratios[0]:.2f}-{ratios[-1]:.2f})")  # fmt: skip
    print(f"median CPU:  mediapipe {ac:.2f} s, limber {bc:.2f} s -> {ac / bc:.2f}x")
    print(f"load average before {load0[0]:.2f} {load0[1]:.2f}, after {load1[0]:.2f} {load1[1]:.2f} "
          f"on {os.cpu_count()} CPUs (other work on the machine slows both)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
